//! ARN parsing never panics, and a canonical ARN is a fixed point: it parses again, to a
//! principal with the same canonical form and no role path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okscript::access::arn::{self, PrincipalKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let key = arn::match_key(text);
    if let Ok(p) = arn::parse_principal(text) {
        let canonical = p.canonical();
        let again = arn::parse_principal(&canonical)
            .unwrap_or_else(|e| panic!("canonical {canonical:?} of {text:?} does not parse: {e}"));
        assert_eq!(again.canonical(), canonical, "not a fixed point: {text:?}");
        assert!(!again.has_role_path(), "{canonical:?} kept a role path");
        assert_eq!(again.kind, p.kind);
        assert_eq!(arn::match_key(&canonical), key, "match key moved: {text:?}");
        assert!(arn::is_account_id(&p.account));
    }
    match arn::role_arn(text) {
        Ok(r) => {
            let p = arn::parse_principal(&r.arn).expect("a canonical role ARN parses");
            assert_eq!(p.kind, PrincipalKind::Role);
            assert_eq!(p.canonical(), r.arn);
            assert_eq!(arn::role_arn(&r.arn).expect("again").arn, r.arn);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Ok(u) = arn::user_arn(text) {
        assert_eq!(arn::user_arn(&u.canonical()).expect("again"), u);
    }
});
