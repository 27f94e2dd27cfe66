//! Issue 11, item 6: `okscript rescue` after a forced aws-auth write that locked its writer
//! out. On a CONFIG_MAP cluster whose aws-auth no longer maps `ops` (the fake apiserver
//! answers 401), rescue steps the mode, gives ops a temporary ClusterAdmin entry, restores
//! the newest backup and deletes the entry; `--dry-run` and a refusal change nothing.

use serde_json::Value;

use crate::auth_mode::{block_on, parts, World, CLUSTER};
use crate::entries::{as_sso_role, expect_admitted_as, ADMIN_POLICY};
use crate::migrate::writes;
use crate::support::eks_api::Fault;
use crate::support::kube_api::AuthMode;
use crate::support::ACCOUNT;

/// Saves `w`'s aws-auth as the newest backup, then force-writes one without ops (the
/// lockout). Returns the backup's data.
fn lock_out(w: &World) -> Value {
    let before = w.aws_auth();
    let backup = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system", "resourceVersion": "1"},
        "data": before["data"],
    });
    let folder = w.dir.join("backups").join(CLUSTER);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("aws-auth-20261201T000000Z-rv1.json"),
        serde_json::to_string(&backup).unwrap(),
    )
    .unwrap();
    w.eks.kube.seed_aws_auth(&[(
        "mapRoles",
        "- rolearn: arn:aws:iam::123456789012:role/other-admin\n  username: other\n  groups:\n  - system:masters\n",
    )]);
    before["data"].clone()
}

/// A CONFIG_MAP world locked out by [`lock_out`], with the backup's data.
fn locked_out() -> (World, Value) {
    let w = World::new(AuthMode::ConfigMap);
    let data = lock_out(&w);
    (w, data)
}

fn ops() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/ops")
}

#[test]
fn rescue_steps_the_mode_enters_restores_aws_auth_and_removes_the_entry_in_that_order() {
    let (w, backup) = locked_out();
    // Locked out: the apiserver does not know ops any more.
    let s = w.dir.write("who.rhai", "print(cluster_whoami().username);");
    let (code, _, _) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
    assert_ne!(code, 0, "ops must be locked out before the rescue");
    w.eks.eks.clear_requests();
    w.eks.kube.clear_requests();

    let (code, out, err) = parts(
        w.okscript()
            .args(["rescue", "--cluster", CLUSTER, "--yes"])
            .run(),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let plan = [
        "1. step the authentication mode CONFIG_MAP -> API_AND_CONFIG_MAP".to_string(),
        format!(
            "2. create a temporary access entry for {} with AmazonEKSClusterAdminPolicy",
            ops()
        ),
        "3. restore aws-auth from ".into(),
        format!("4. delete the temporary access entry for {}", ops()),
        "rescued cluster my-cluster: aws-auth restored from ".into(),
    ];
    let mut at = 0;
    for needle in &plan {
        let found = out[at..].find(needle.as_str());
        assert!(found.is_some(), "{needle} (in order)\n---\n{out}");
        at += found.unwrap();
    }
    assert_eq!(w.aws_auth()["data"], backup, "aws-auth is the backup again");
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ApiAndConfigMap));
    assert!(w.entry(&ops()).is_none(), "the temporary entry is gone");
    assert_eq!(
        writes(&w),
        [
            "UpdateClusterConfig",
            "CreateAccessEntry",
            "AssociateAccessPolicy",
            "DeleteAccessEntry"
        ]
    );
    // The ConfigMap write was admitted (through the entry: aws-auth did not map ops then).
    let puts: Vec<_> = w
        .eks
        .kube
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.contains("/configmaps"))
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert!(puts[0].status < 300, "{puts:?}");
    // And ops is admitted through aws-auth again, without the entry.
    expect_admitted_as(&w, "ops");
}

#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let (w, _) = locked_out();
    let before = w.aws_auth();
    w.eks.eks.clear_requests();
    w.okscript()
        .args(["rescue", "--cluster", CLUSTER, "--dry-run"])
        .run()
        .expect_code(0)
        .expect_stdout(&[
            "1. step the authentication mode CONFIG_MAP -> API_AND_CONFIG_MAP",
            &format!("delete the temporary access entry for {}", ops()),
            "dry run: nothing was changed",
        ]);
    assert_eq!(w.aws_auth(), before);
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ConfigMap));
    assert!(writes(&w).is_empty(), "{:?}", writes(&w));
    assert_eq!(w.aws_auth_writes(), 0);
}

#[test]
fn without_yes_and_without_a_terminal_rescue_refuses_after_the_plan() {
    let (w, _) = locked_out();
    let before = w.aws_auth();
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(w.okscript().args(["rescue", "--cluster", CLUSTER]).run());
    assert_eq!(code, 64, "{out}\n{err}");
    assert!(out.contains("rescue plan for cluster my-cluster"), "{out}");
    assert!(err.contains("no terminal to ask on"), "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    assert_eq!(w.aws_auth(), before);
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ConfigMap));
    assert!(writes(&w).is_empty());
}

#[test]
fn on_an_api_cluster_there_is_no_aws_auth_to_repair() {
    let w = World::new(AuthMode::Api);
    lock_out(&w);
    let before = w.aws_auth();
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(
        w.okscript()
            .args(["rescue", "--cluster", CLUSTER, "--yes"])
            .run(),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("no aws-auth to repair"), "{err}");
    assert!(writes(&w).is_empty());
    assert_eq!(w.aws_auth(), before);
}

#[test]
fn a_caller_with_an_entry_already_keeps_it_and_rescue_only_restores() {
    let w = World::new(AuthMode::ApiAndConfigMap);
    let admin = aws_sdk_eks::types::AccessScope::builder()
        .r#type(aws_sdk_eks::types::AccessScopeType::Cluster)
        .build();
    let client = w.eks.eks_client();
    block_on(
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(ops())
            .send(),
    )
    .unwrap();
    block_on(
        client
            .associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(ops())
            .policy_arn(ADMIN_POLICY)
            .access_scope(admin)
            .send(),
    )
    .unwrap();
    let backup = lock_out(&w);
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(
        w.okscript()
            .args(["rescue", "--cluster", CLUSTER, "--yes"])
            .run(),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("the mode is API_AND_CONFIG_MAP already: no step"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "you, {}, have an access entry already: it is used, not created or deleted",
            ops()
        )),
        "{out}"
    );
    assert_eq!(w.aws_auth()["data"], backup);
    assert!(writes(&w).is_empty(), "{:?}", writes(&w));
    assert!(w.entry(&ops()).is_some(), "the caller's own entry stays");
}

#[test]
fn a_rescue_that_stops_names_what_landed_and_how_to_delete_the_temporary_entry() {
    let (w, _) = locked_out();
    // The SDK retries a 500 itself: enough of them make the association fail for good.
    w.eks
        .eks
        .faults()
        .fail_next("AssociateAccessPolicy", Fault::Server, 10);
    let (code, out, err) = parts(
        w.okscript()
            .args(["rescue", "--cluster", CLUSTER, "--yes"])
            .run(),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("rescue of cluster my-cluster stopped at creating the temporary access entry"),
        "{err}"
    );
    assert!(
        err.contains("cluster my-cluster is now API_AND_CONFIG_MAP (EKS cannot step it back)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("the temporary access entry for {} exists", ops())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "aws eks delete-access-entry --cluster-name my-cluster --principal-arn {}",
            ops()
        )),
        "{err}"
    );
    assert!(
        w.entry(&ops()).is_some(),
        "the entry the report names is there"
    );
    assert_eq!(w.aws_auth_writes(), 0, "aws-auth was not touched");
}

#[test]
fn an_sso_role_caller_gets_the_entry_of_its_real_arn_with_the_path() {
    let (w, backup) = locked_out();
    let (real, okscript) = as_sso_role(&w);
    let rescue = |args: &[&str]| {
        okscript()
            .args(["rescue", "--cluster", CLUSTER])
            .args(args)
            .run()
    };
    rescue(&["--dry-run"])
        .expect_code(0)
        .expect_stdout(&[&format!(
            "create a temporary access entry for {real} with AmazonEKSClusterAdminPolicy"
        )]);
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(rescue(&["--yes"]));
    assert_eq!(code, 0, "{out}\n{err}");
    let created: Vec<_> = w
        .eks
        .eks
        .requests()
        .into_iter()
        .filter(|r| r.operation == "CreateAccessEntry" && r.status < 300)
        .filter_map(|r| r.principal)
        .collect();
    assert_eq!(created, std::slice::from_ref(&real));
    assert!(w.entry(&real).is_none(), "the temporary entry is gone");
    assert_eq!(w.aws_auth()["data"], backup);
}

#[test]
fn without_a_cluster_name_rescue_says_it_needs_one() {
    let dir = crate::util::TestDir::new();
    let (code, _, err) = parts(dir.cmd().args(["rescue", "--yes"]).run());
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("it needs the EKS cluster's name"), "{err}");
    assert!(err.contains("pass --cluster NAME"), "{err}");
}

/// A script that forces away the caller's own aws-auth row: the lockout.
const LOCK_MYSELF_OUT: &str =
    "let me = login();\nrevoke_user(me.principal_arn, [\"system:masters\"], #{force: true});\n";

#[test]
fn a_lockout_on_api_and_config_map_is_undone_through_a_temporary_entry_by_the_run_itself() {
    let w = World::new(AuthMode::ApiAndConfigMap);
    let before = w.aws_auth()["data"].clone();
    let s = w.dir.write("lockout.rhai", LOCK_MYSELF_OUT);
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(
        w.okscript()
            .args(["run", &s, "--cluster", CLUSTER, "--target", "aws-auth"])
            .run(),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("can no longer read aws-auth"), "{err}");
    assert!(
        err.contains(&format!(
            "okscript put the previous aws-auth back through a temporary access entry for {} (AmazonEKSClusterAdminPolicy), deleted again",
            ops()
        )),
        "{err}"
    );
    assert_eq!(
        w.aws_auth()["data"],
        before,
        "aws-auth is as before the run"
    );
    assert!(w.entry(&ops()).is_none(), "the temporary entry is gone");
    assert_eq!(
        writes(&w),
        [
            "CreateAccessEntry",
            "AssociateAccessPolicy",
            "DeleteAccessEntry"
        ],
        "no mode step: the cluster had entries already"
    );
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ApiAndConfigMap));
    expect_admitted_as(&w, "ops");
}

#[test]
fn a_lockout_on_config_map_names_the_rescue_and_never_steps_the_mode_by_itself() {
    let w = World::new(AuthMode::ConfigMap);
    let s = w.dir.write("lockout.rhai", LOCK_MYSELF_OUT);
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains(
            "okscript could NOT put the previous aws-auth back: putting it back failed too"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "`okscript rescue --cluster {CLUSTER}` goes round aws-auth"
        )),
        "{err}"
    );
    assert!(writes(&w).is_empty(), "{:?}", writes(&w));
    assert_eq!(w.eks.eks.mode(CLUSTER), Some(AuthMode::ConfigMap));
    // And the rescue it names brings ops back.
    w.okscript()
        .args(["rescue", "--cluster", CLUSTER, "--yes"])
        .run()
        .expect_code(0);
    expect_admitted_as(&w, "ops");
}
