//! A whole aws-auth manifest: `Manifest::parse` never panics; a manifest that parses renders
//! unchanged as exactly its text; after a few grants and revokes (decoded from the input's
//! first bytes, naming both fixed principals and ones the manifest already maps) `render`
//! either refuses with `TooLarge` or returns text that parses again to the same entries —
//! never the internal `Verify` error, and never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okscript::access::arn::PrincipalKind;
use okscript::access::intent::Intent;
use okscript::access::manifest::{Manifest, ManifestError};
use okscript::access::model::Protected;
use okscript::access::section::Body;

const ROLES: &[&str] = &[
    "arn:aws:iam::123456789012:role/dev",
    "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef",
    "arn:aws:sts::123456789012:assumed-role/ops/someone@email.com",
    "arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F",
];
const USERS: &[&str] = &[
    "arn:aws:iam::123456789012:user/someone@email.com",
    "arn:aws:iam::123456789012:user/team/bob",
];
const GROUPS: &[&str] = &[
    "system:masters",
    "devs",
    "system:nodes",
    "{{SessionName}}-x",
];
const ACCOUNTS: &[&str] = &["123456789012", "210987654321"];

fn bodies(m: &Manifest) -> Vec<Body> {
    m.auth
        .roles
        .bodies()
        .chain(m.auth.users.bodies())
        .chain(m.auth.accounts.bodies())
        .cloned()
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(m) = Manifest::parse(text) else {
        return;
    };
    assert_eq!(m.render(&m.auth).expect("an unchanged render"), text);

    // Principals to aim at: fixed ones, and the ones already mapped.
    let mut roles: Vec<String> = ROLES.iter().map(|s| s.to_string()).collect();
    let mut users: Vec<String> = USERS.iter().map(|s| s.to_string()).collect();
    for v in m.auth.mappings() {
        match v.kind {
            "role" => roles.push(v.arn),
            "user" => users.push(v.arn),
            _ => {}
        }
    }
    let mut auth = m.auth.clone();
    for (i, &b) in data.iter().take(6).enumerate() {
        let pick = usize::from(b >> 3);
        let role = &roles[pick % roles.len()];
        let user = &users[pick % users.len()];
        let groups: Vec<String> = (0..usize::from(b & 3))
            .map(|g| GROUPS[(pick + g) % GROUPS.len()].to_string())
            .collect();
        let force = i % 2 == 0;
        let intent = match b % 7 {
            0 => Intent::grant(PrincipalKind::Role, role, &groups, None, force),
            1 => Intent::grant(
                PrincipalKind::Role,
                role,
                &groups,
                Some("x:{{SessionName}}"),
                force,
            ),
            2 => Intent::grant(PrincipalKind::User, user, &groups, Some("bob"), force),
            3 => Intent::revoke(PrincipalKind::Role, role, None, force),
            4 => Intent::revoke(PrincipalKind::Role, role, Some(groups.as_slice()), force),
            5 => Intent::revoke(
                PrincipalKind::User,
                user,
                Some(groups.as_slice()).filter(|_| b & 4 == 0),
                force,
            ),
            _ => Intent::account(ACCOUNTS[pick % 2], b & 8 == 0).map(|i| (i, None::<String>)),
        };
        // Existing ARNs may be malformed (lint territory): such intents are refused.
        let Ok((intent, _)) = intent else { continue };
        let _ = auth.apply(&intent, &Protected::default());
    }
    match m.render_checked(&auth) {
        Ok((out, back)) => {
            let again = Manifest::parse(&out).unwrap_or_else(|e| {
                panic!("the rendered manifest does not parse: {e}\n--- input\n{text}\n--- output\n{out}")
            });
            if let Some(back) = back {
                assert_eq!(bodies(&again), bodies(&back));
            }
            let staged: Vec<Body> = auth
                .roles
                .bodies()
                .chain(auth.users.bodies())
                .chain(auth.accounts.bodies())
                .cloned()
                .collect();
            assert_eq!(
                bodies(&again),
                staged,
                "--- input\n{text}\n--- output\n{out}"
            );
        }
        Err(ManifestError::TooLarge(_)) => {}
        Err(e) => panic!("render failed: {e}\n--- input\n{text}"),
    }
});
