//! Issue 11, the scripts that know both mechanisms: verify.rhai explains a 401 on an
//! access-entry cluster with the real ARN, and migrate-to-access-entries.rhai plans the move
//! off aws-auth, blockers named, writing nothing.

use crate::auth_mode::{block_on, parts, World, CLUSTER};
use crate::entries::{as_sso_role, role, SSO_NAME, SSO_PATH};
use crate::support::kube_api::AuthMode;
use crate::support::{create_user_with_key, ACCOUNT};
use crate::util::script;

#[test]
fn verify_explains_a_401_on_an_entries_cluster_with_the_real_arn_and_the_right_grant() {
    for (mode, words) in [
        (
            AuthMode::Api,
            "only through EKS access entries (authenticationMode API): aws-auth is ignored",
        ),
        (
            AuthMode::ApiAndConfigMap,
            "access entry first and then in aws-auth (authenticationMode API_AND_CONFIG_MAP)",
        ),
    ] {
        let w = World::new(mode);
        let (key, secret) = block_on(create_user_with_key(
            &w.eks.moto,
            "newcomer",
            Some("/team/"),
            false,
        ));
        let arn = format!("arn:aws:iam::{ACCOUNT}:user/team/newcomer");
        let out = w
            .okscript_as(&key, &secret)
            .arg("run")
            .arg(script("verify.rhai"))
            .args(["--cluster", CLUSTER])
            .run();
        out.expect_code(1).expect_stdout(&[
            "does not know who you are (401 Unauthorized)",
            words,
            &format!("okscript run grant-user --cluster {CLUSTER} --set arn={arn} --set groups=viewers\n"),
            &format!("aws eks associate-access-policy --cluster-name {CLUSTER} --principal-arn {arn} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=cluster"),
            "or as cluster admin (system:masters, which becomes AmazonEKSClusterAdminPolicy)",
        ]);
        // The suggested grant works: the newcomer is then admitted through the entry.
        w.okscript()
            .arg("run")
            .arg(script("grant-user.rhai"))
            .args(["--cluster", CLUSTER])
            .set("arn", &arn)
            .set("groups", "system:masters")
            .run()
            .expect_code(0);
        w.okscript_as(&key, &secret)
            .arg("run")
            .arg(script("verify.rhai"))
            .args(["--cluster", CLUSTER])
            .run()
            .expect_code(0)
            .expect_stdout(&["No resources found in default namespace."]);
    }
}

#[test]
fn verify_names_a_roles_real_arn_with_its_path_for_the_entry() {
    let w = World::new(AuthMode::Api);
    let (real, okscript) = as_sso_role(&w);
    let run = okscript()
        .arg("run")
        .arg(script("verify.rhai"))
        .args(["--cluster", CLUSTER])
        .run();
    run.expect_code(1).expect_stdout(&[
        "does not know who you are (401 Unauthorized)",
        &format!(
            "okscript run grant-role --cluster {CLUSTER} --set arn={real} --set groups=viewers\n"
        ),
        &format!("aws eks create-access-entry --cluster-name {CLUSTER} --principal-arn {real}\n"),
    ]);
}

#[test]
fn the_migration_plan_maps_every_row_names_the_blockers_and_writes_nothing() {
    let w = World::new(AuthMode::ConfigMap);
    let node = role(&w, "eks-nodes", None);
    let sso = role(&w, SSO_NAME, Some(SSO_PATH));
    block_on(create_user_with_key(&w.eks.moto, "bob", None, false));
    w.eks.kube.seed_aws_auth(&[
        (
            "mapRoles",
            &format!(
                "- rolearn: {node}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n\
                 - rolearn: arn:aws:iam::{ACCOUNT}:role/{SSO_NAME}\n  username: admin:{{{{SessionName}}}}\n  groups:\n  - system:masters\n  - ops\n\
                 - rolearn: arn:aws:iam::{ACCOUNT}:role/gone\n  groups:\n  - devs\n"
            ),
        ),
        (
            "mapUsers",
            &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/bob\n  username: bob\n  groups:\n  - system:monitoring\n- userarn: arn:aws:iam::{ACCOUNT}:user/ops\n  username: ops\n  groups:\n  - system:masters\n"),
        ),
        ("mapAccounts", "- \"210987654321\"\n"),
    ]);
    let before = w.aws_auth();
    let run = |args: &[&str]| {
        parts(
            w.okscript()
                .arg("run")
                .arg(script("migrate-to-access-entries.rhai"))
                .args(["--cluster", CLUSTER])
                .args(args)
                .run(),
        )
    };
    let (code, out, err) = run(&[]);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "Plan: 6 aws-auth mappings -> access entries (cluster mode CONFIG_MAP); nothing is written.".to_string(),
        format!("{node}\n  entry: type=EC2_LINUX username=- groups=[] policies=[]"),
        format!("{sso}\n  entry: type=STANDARD username=admin:{{{{SessionName}}}} groups=[ops] policies=[AmazonEKSClusterAdminPolicy (cluster)]"),
        "{{SessionNameRaw}} keeps the e-mail address".into(),
        format!("arn:aws:iam::{ACCOUNT}:role/gone\n  BLOCKED: IAM has no such role"),
        "BLOCKED: the group system:monitoring: EKS refuses system: groups".into(),
        "mapAccounts 210987654321\n  BLOCKED: access entries have no account-wide form".into(),
        "3 of 6 mappings block the move to API".into(),
    ] {
        assert!(out.contains(&needle), "{needle}\n---\n{out}");
    }
    let (code, _, err) = run(&["--set", "strict=true"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("3 mappings block the move to access entries"),
        "{err}"
    );
    assert_eq!(w.aws_auth(), before);
    assert_eq!(w.aws_auth_writes(), 0);
    assert_eq!(w.eks_writes(), 0);
}

/// SelfSubjectReview's `extra` is the same for both mechanisms on EKS, so
/// `cluster_whoami().admitted_by` follows EKS's precedence: the mode, then the entry.
#[test]
fn cluster_whoami_names_the_mechanism_that_admitted_you_by_the_mode_and_the_entry() {
    let show = |w: &World| {
        let s = w.dir.write(
            "who.rhai",
            "let me = cluster_whoami(); print(`${me.username} via ${me.admitted_by}: ${me.admitted_why}`);",
        );
        let (code, out, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
        assert_eq!(code, 0, "{err}");
        out
    };
    let ops = format!("arn:aws:iam::{ACCOUNT}:user/ops");
    let w = World::new(AuthMode::ConfigMap);
    assert!(
        show(&w).contains("ops via aws-auth: authenticationMode CONFIG_MAP"),
        "{}",
        show(&w)
    );
    let w = World::new(AuthMode::ApiAndConfigMap);
    let out = show(&w);
    assert!(
        out.contains(&format!(
            "ops via aws-auth: authenticationMode API_AND_CONFIG_MAP and {ops} has no access entry"
        )),
        "{out}"
    );
    let s = w.dir.write(
        "me.rhai",
        format!("grant_user(\"{ops}\", \"ops-entry\", [\"system:masters\"]);"),
    );
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0);
    let out = show(&w);
    assert!(
        out.contains(&format!("ops-entry via access-entry: authenticationMode API_AND_CONFIG_MAP and {ops} has an access entry")),
        "{out}"
    );
}
