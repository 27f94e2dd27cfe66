//! `Section::parse` never panics on any text, and a section that parses renders unchanged as
//! exactly its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okscript::access::section::{Section, SectionName};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let name = SectionName::ALL[usize::from(first) % 3];
    match Section::parse(name, text) {
        Ok(section) => {
            assert!(section.is_unchanged());
            assert_eq!(section.render().as_deref(), Some(text));
            for body in section.bodies() {
                let _ = body.match_key();
            }
        }
        Err(e) => {
            assert_eq!(e.section, name.key());
            assert!(e.line >= 1, "line 0 in {e}");
        }
    }
});
