//! Issue 11, item 6: `okscript rescue` after a forced aws-auth write that locked its writer
//! out. On a CONFIG_MAP cluster whose aws-auth no longer maps `ops` (the fake apiserver
//! answers 401), rescue steps the mode, gives ops a temporary ClusterAdmin entry, restores
//! the newest backup and deletes the entry; `--dry-run` and a refusal change nothing.

use serde_json::Value;

use crate::auth_mode::{parts, World, CLUSTER};
use crate::entries::expect_admitted_as;
use crate::support::kube_api::AuthMode;
use crate::support::ACCOUNT;

/// A CONFIG_MAP world whose aws-auth was force-written without ops; the aws-auth from before
/// is the newest backup. Returns the world and the backup's data.
fn locked_out() -> (World, Value) {
    let w = World::new(AuthMode::ConfigMap);
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
    (w, before["data"].clone())
}

fn ops() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/ops")
}

/// The successful EKS write operations, in order.
fn eks_writes(w: &World) -> Vec<&'static str> {
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
                "AssociateAccessPolicy",
                "DeleteAccessEntry",
            ]
            .contains(o)
        })
        .collect()
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
        eks_writes(&w),
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
    assert!(eks_writes(&w).is_empty(), "{:?}", eks_writes(&w));
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
    assert!(eks_writes(&w).is_empty());
}

#[test]
fn on_an_api_cluster_there_is_no_aws_auth_to_repair() {
    let w = World::new(AuthMode::Api);
    let folder = w.dir.join("backups").join(CLUSTER);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("aws-auth-20261201T000000Z-rv1.json"),
        r#"{"metadata":{"name":"aws-auth","namespace":"kube-system"},"data":{}}"#,
    )
    .unwrap();
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(
        w.okscript()
            .args(["rescue", "--cluster", CLUSTER, "--yes"])
            .run(),
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("no aws-auth to repair"), "{err}");
    assert!(eks_writes(&w).is_empty());
    assert_eq!(w.aws_auth_writes(), 0);
}
