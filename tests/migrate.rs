//! Issue 11, item 4: migrate-to-access-entries.rhai applied. A CONFIG_MAP cluster with a
//! realistic aws-auth (the sso-and-users fixture) steps to API_AND_CONFIG_MAP before any entry
//! is written, gets an entry per unblocked row, verified, and keeps aws-auth; a re-run is a
//! no-op; blockers stop the step to API; `--dry-run` stays a plan.

use crate::auth_mode::{block_on, parts, World, CLUSTER};
use crate::entries::{expect_admitted_as, role, ADMIN_POLICY, SSO_NAME, SSO_PATH};
use crate::support::kube_api::AuthMode;
use crate::support::{create_user_with_key, ACCOUNT};
use crate::util::{fixture_text, script, Outcome};

const NODE: &str = "eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F";

/// The data sections of an aws-auth fixture (`  KEY: |` blocks), dedented.
fn fixture_sections(name: &str) -> Vec<(String, String)> {
    let text = fixture_text(name);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_data = false;
    for line in text.lines() {
        if line == "data:" {
            in_data = true;
        } else if !in_data {
            continue;
        } else if let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(": |")) {
            out.push((key.to_string(), String::new()));
        } else if let (Some(body), Some(last)) = (line.strip_prefix("    "), out.last_mut()) {
            last.1.push_str(body);
            last.1.push('\n');
        } else if !line.starts_with(' ') {
            in_data = false;
        }
    }
    out
}

/// A CONFIG_MAP cluster whose aws-auth is the sso-and-users fixture plus the caller `ops`
/// (system:masters), with every principal in IAM (the SSO role under its real path).
fn realistic() -> World {
    let w = World::new(AuthMode::ConfigMap);
    role(&w, NODE, None);
    role(&w, SSO_NAME, Some(SSO_PATH));
    block_on(create_user_with_key(
        &w.eks.moto,
        "someone@email.com",
        None,
        false,
    ));
    let mut sections = fixture_sections("sso-and-users");
    for (key, body) in sections.iter_mut() {
        if key == "mapUsers" {
            body.push_str(&format!(
                "- userarn: arn:aws:iam::{ACCOUNT}:user/ops\n  username: ops\n  groups:\n  - system:masters\n"
            ));
        }
    }
    let data: Vec<(&str, &str)> = sections
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    w.eks.kube.seed_aws_auth(&data);
    w
}

fn migrate(w: &World, args: &[&str]) -> Outcome {
    w.okscript()
        .arg("run")
        .arg(script("migrate-to-access-entries.rhai"))
        .args(["--cluster", CLUSTER])
        .args(args)
        .run()
}

/// The EKS write operations in the fake's request log, in order.
pub(crate) fn writes(w: &World) -> Vec<&'static str> {
    w.eks
        .eks
        .requests()
        .iter()
        .filter(|r| r.status < 300)
        .map(|r| r.operation)
        .filter(|o| {
            [
                "UpdateClusterConfig",
                "CreateAccessEntry",
                "UpdateAccessEntry",
                "DeleteAccessEntry",
                "AssociateAccessPolicy",
                "DisassociateAccessPolicy",
            ]
            .contains(o)
        })
        .collect()
}

#[test]
fn a_config_map_cluster_migrates_mode_first_verified_and_a_re_run_is_a_no_op() {
    let w = realistic();
    let before = w.aws_auth();
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(migrate(&w, &["--set", "apply=true"]));
    assert_eq!(code, 0, "{out}\n{err}");
    let sso = format!("arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_NAME}");
    let someone = format!("arn:aws:iam::{ACCOUNT}:user/someone@email.com");
    let ops = format!("arn:aws:iam::{ACCOUNT}:user/ops");
    let node = format!("arn:aws:iam::{ACCOUNT}:role/{NODE}");
    for needle in [
        "Stepping the authentication mode CONFIG_MAP -> API_AND_CONFIG_MAP".to_string(),
        "Mode: API_AND_CONFIG_MAP".into(),
        "Entries: 3 added, 0 changed, 0 removed".into(),
        format!("verified: {sso} (STANDARD)"),
        format!("verified: {someone} (STANDARD)"),
        format!("verified: you ({ops}) reach the cluster through your entry as ops"),
        format!("MISSING: {node} has no EC2_LINUX entry"),
        format!("aws-auth rows now shadowed (EKS uses the entry; the row may be removed by hand):\n  arn:aws:iam::{ACCOUNT}:role/{SSO_NAME}\n  {someone}\n  {ops}\n"),
    ] {
        assert!(out.contains(&needle), "{needle}\n---\n{out}");
    }
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ApiAndConfigMap));
    let admin = w.entry(&sso).expect("the SSO role's entry, with its path");
    assert_eq!(admin.username, "admin:{{SessionName}}");
    assert_eq!(admin.policies, [format!("{ADMIN_POLICY}@cluster")]);
    assert_eq!(w.entry(&someone).unwrap().username, "someone@email.com");
    assert!(w.entry(&node).is_none(), "node entries are EKS's to make");
    assert_eq!(
        w.aws_auth()["data"],
        before["data"],
        "aws-auth is kept as it was"
    );
    // The mode was stepped (and waited out) before the first entry was written.
    let log = writes(&w);
    assert_eq!(log.first(), Some(&"UpdateClusterConfig"), "{log:?}");
    assert_eq!(
        log.iter().filter(|o| **o == "CreateAccessEntry").count(),
        3,
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|o| **o == "UpdateClusterConfig").count(),
        1
    );

    w.eks.eks.clear_requests();
    let (code, out, err) = parts(migrate(&w, &["--set", "apply=true"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("Entries: 0 added, 0 changed, 0 removed"),
        "{out}"
    );
    assert!(!out.contains("Stepping"), "{out}");
    assert_eq!(writes(&w), Vec::<&str>::new(), "a re-run writes nothing");
}

#[test]
fn blockers_stop_the_step_to_api_and_without_them_the_cluster_ends_in_api() {
    let w = realistic();
    // The node row has no EC2_LINUX entry: the cluster must not step to API.
    let (code, out, err) = parts(migrate(&w, &["--set", "apply=true", "--set", "to=API"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("not stepping to API: 0 mappings are blocked and 1 entries are not verified"),
        "{err}"
    );
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ApiAndConfigMap));

    // A cluster whose rows all migrate ends in API, and its admin still gets in.
    let w = World::new(AuthMode::ConfigMap);
    let before = w.aws_auth();
    let (code, out, err) = parts(migrate(&w, &["--set", "apply=true", "--set", "to=API"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Mode: API\n"), "{out}");
    assert!(out.contains("kube-system/aws-auth was kept"), "{out}");
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::Api));
    assert_eq!(w.aws_auth()["data"], before["data"]);
    expect_admitted_as(&w, "ops");

    // A row IAM does not know is a blocker: named, and no step to API.
    let w = World::new(AuthMode::ConfigMap);
    let data = format!(
        "- userarn: arn:aws:iam::{ACCOUNT}:user/ops\n  username: ops\n  groups:\n  - system:masters\n- userarn: arn:aws:iam::{ACCOUNT}:user/gone\n  groups:\n  - devs\n"
    );
    w.eks.kube.seed_aws_auth(&[("mapUsers", &data)]);
    let (code, out, err) = parts(migrate(&w, &["--set", "apply=true", "--set", "to=API"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("BLOCKED: IAM has no such user"), "{out}");
    assert!(
        err.contains("not stepping to API: 1 mappings are blocked"),
        "{err}"
    );
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ApiAndConfigMap));
}

#[test]
fn apply_under_dry_run_and_the_default_stay_a_plan() {
    let w = realistic();
    w.eks.eks.clear_requests();
    for args in [&["--set", "apply=true", "--dry-run"][..], &[][..]] {
        let (code, out, err) = parts(migrate(&w, args));
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("nothing is written."), "{out}");
    }
    assert_eq!(writes(&w), Vec::<&str>::new());
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ConfigMap));
}
