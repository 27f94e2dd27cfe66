//! `parse_cluster_declaration` never panics, and what it accepts has a name, a region and a
//! twelve-digit account.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okscript::aws::parse_cluster_declaration;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_cluster_declaration(text) {
        assert!(!d.name.is_empty() && !d.region.is_empty());
        assert!(d.account_id.len() == 12 && d.account_id.bytes().all(|b| b.is_ascii_digit()));
    }
});
