//! Issue 11, item 1: the cluster's authenticationMode decides what okscript writes. The same
//! grant script runs against the EKS fake (DescribeCluster with accessConfig, access
//! entries) and the fake apiserver in each mode: aws-auth is written where EKS reads it,
//! refused where EKS ignores it (before anything is read, written or backed up), and
//! written with a warning per shadowed principal where access entries win.

use serde_json::Value;

use crate::support::kube_api::AuthMode;
use crate::support::{create_role, create_user_with_key, EksWorld, ACCOUNT};
use crate::util::{script, Cmd, Outcome, TestDir};

pub(crate) const CLUSTER: &str = "my-cluster";
pub(crate) const REGION: &str = "eu-west-1";
pub(crate) const ROLE: &str = "arn:aws:iam::123456789012:role/deployer";

pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// `okscript` in `dir` as the IAM identity of this access key, with AWS calls sent to the
/// world's moto and EKS fake and backups kept in `dir/backups`.
pub(crate) fn okscript_in(dir: &TestDir, eks: &EksWorld, key: &str, secret: &str) -> Cmd {
    let mut cmd = dir
        .cmd()
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key")
        .env(
            "OKSCRIPT_BACKUP_DIR",
            &dir.join("backups").display().to_string(),
        );
    for (k, v) in eks.env() {
        cmd = cmd.env(&k, &v);
    }
    cmd
}

/// An EKS world in `mode` with an IAM user `ops` mapped to system:masters in aws-auth.
pub(crate) struct World {
    pub(crate) eks: EksWorld,
    key: String,
    secret: String,
    pub(crate) dir: TestDir,
}

impl World {
    pub(crate) fn new(mode: AuthMode) -> World {
        let eks = EksWorld::start(CLUSTER, REGION, mode);
        let (key, secret) = block_on(create_user_with_key(&eks.moto, "ops", None, true));
        eks.kube.seed_aws_auth(&[(
            "mapUsers",
            &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/ops\n  username: ops\n  groups:\n  - system:masters\n"),
        )]);
        World {
            eks,
            key,
            secret,
            dir: TestDir::new(),
        }
    }

    /// `okscript` as `ops`, with AWS calls sent to moto and the EKS fake.
    pub(crate) fn okscript(&self) -> Cmd {
        self.okscript_as(&self.key, &self.secret)
    }

    /// `okscript` as the IAM identity of this access key.
    pub(crate) fn okscript_as(&self, key: &str, secret: &str) -> Cmd {
        okscript_in(&self.dir, &self.eks, key, secret)
    }

    /// `okscript run grant-role.rhai --cluster my-cluster ARGS... --set arn=ROLE`.
    pub(crate) fn grant(&self, args: &[&str]) -> Outcome {
        self.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .args(["--cluster", CLUSTER])
            .args(args)
            .set("arn", ROLE)
            .set("groups", "devs")
            .run()
    }

    pub(crate) fn aws_auth(&self) -> Value {
        self.eks
            .kube
            .config_map("kube-system", "aws-auth")
            .expect("aws-auth exists")
    }

    pub(crate) fn aws_auth_writes(&self) -> usize {
        self.eks
            .kube
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains("/configmaps"))
            .count()
    }

    pub(crate) fn backups(&self) -> usize {
        std::fs::read_dir(self.dir.join("backups").join(CLUSTER))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

#[test]
fn on_a_config_map_cluster_the_grant_writes_aws_auth_and_the_summary_names_it() {
    let w = World::new(AuthMode::ConfigMap);
    let out = w.grant(&[]);
    out.expect_code(0).expect_stdout(&[
        "aws-auth ConfigMap kube-system/aws-auth in cluster my-cluster (authenticationMode CONFIG_MAP): 1 added, 0 changed, 0 removed",
    ]);
    let roles = w.aws_auth()["data"]["mapRoles"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(roles.contains(&format!("rolearn: {ROLE}")), "{roles}");
    assert_eq!(w.backups(), 1, "the previous aws-auth was saved");
    assert!(w.eks.eks.count("DescribeCluster") >= 1);
}

#[test]
fn on_an_api_cluster_aws_auth_is_refused_and_an_unknown_role_gets_no_entry() {
    let w = World::new(AuthMode::Api);
    let before = w.aws_auth();
    // --target cluster (the default with --cluster) and --target access-entries write access
    // entries; `deployer` is not in IAM, so it cannot have one: refused before any write.
    for args in [
        &[][..],
        &["--target", "cluster"][..],
        &["--target", "access-entries"][..],
    ] {
        let (code, _, err) = parts(w.grant(args));
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!(
                "{ROLE} cannot have an access entry: no such role deployer"
            )),
            "{err}"
        );
        assert!(err.contains("hint: check the ARN"), "{err}");
    }
    assert_eq!(w.eks.eks.count("CreateAccessEntry"), 0);
    // --target aws-auth: refused, EKS would ignore it.
    let (code, out, err) = parts(w.grant(&["--target", "aws-auth"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("EKS ignores aws-auth on this cluster (authenticationMode API)"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(
        err.contains("hint: write the cluster's access entries instead"),
        "{err}"
    );
    assert!(!out.contains("added"), "never a success line: {out}");
    // Nothing was written, nothing was even backed up.
    assert_eq!(w.aws_auth(), before, "aws-auth unchanged");
    assert_eq!(w.aws_auth_writes(), 0, "{:#?}", w.eks.kube.requests());
    assert_eq!(w.backups(), 0, "no backup of a write that never happened");
}

#[test]
fn a_dry_run_of_aws_auth_on_an_api_cluster_fails_too() {
    let w = World::new(AuthMode::Api);
    let (code, out, err) = parts(w.grant(&["--target", "aws-auth", "--dry-run"]));
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains("dry run:"), "no plan EKS would ignore: {out}");
    assert!(err.contains("authenticationMode API"), "{err}");
    assert_eq!(w.aws_auth_writes(), 0);
}

#[test]
fn on_api_and_config_map_cluster_picks_entries_and_aws_auth_warns_per_shadowed_principal() {
    let w = World::new(AuthMode::ApiAndConfigMap);
    // alice has an access entry; bob has none.
    block_on(create_user_with_key(&w.eks.moto, "alice", None, false));
    block_on(create_user_with_key(&w.eks.moto, "bob", None, false));
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    block_on(
        w.eks
            .eks_client()
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&alice)
            .send(),
    )
    .expect("alice's entry");
    let before = w.aws_auth();
    // --target cluster: access entries win here, so the grant writes one, not aws-auth.
    block_on(create_role(&w.eks.moto, "deployer", None));
    let out = w.grant(&[]);
    out.expect_code(0).expect_stdout(&[
        "access entries of cluster my-cluster (authenticationMode API_AND_CONFIG_MAP): 1 added, 0 changed, 0 removed",
    ]);
    assert_eq!(
        w.eks.eks.count("CreateAccessEntry"),
        2,
        "alice's, then deployer's"
    );
    assert_eq!(w.aws_auth(), before);
    assert_eq!(w.backups(), 0);
    // --target aws-auth: written, with the warnings.
    let grant = |arn: &str| {
        w.okscript()
            .arg("run")
            .arg(script("grant-user.rhai"))
            .args(["--cluster", CLUSTER, "--target", "aws-auth"])
            .set("arn", arn)
            .set("groups", "viewers")
            .run()
    };
    let out = grant(&alice);
    out.expect_code(0)
        .expect_stderr(&[
            "warning: cluster my-cluster authenticates through access entries first (authenticationMode API_AND_CONFIG_MAP)",
            &format!("warning: shadowed: EKS uses the access entry for {alice}, not this aws-auth row"),
        ])
        .expect_stdout(&["aws-auth ConfigMap kube-system/aws-auth in cluster my-cluster (authenticationMode API_AND_CONFIG_MAP): 1 added, 0 changed, 0 removed"]);
    let users = w.aws_auth()["data"]["mapUsers"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(users.contains(&format!("userarn: {alice}")), "{users}");
    let out = grant(&bob);
    let (code, _, err) = parts(out);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("shadowed:"), "bob has no entry: {err}");
    // mappings() marks the shadowed row.
    let list = w.dir.write(
        "list.rhai",
        "for m in mappings() { if m.kind == \"user\" { print(`${m.arn} shadowed=${m.shadowed}`); } }",
    );
    let out = w
        .okscript()
        .args(["run", &list, "--cluster", CLUSTER, "--target", "aws-auth"])
        .run();
    out.expect_code(0).expect_stdout(&[
        &format!("{alice} shadowed=true"),
        &format!("{bob} shadowed=false"),
        &format!("arn:aws:iam::{ACCOUNT}:user/ops shadowed=false"),
    ]);
    assert!(w.eks.eks.count("ListAccessEntries") >= 1);
}

#[test]
fn access_mode_reports_the_mode_or_unknown() {
    for (mode, word) in [
        (AuthMode::ConfigMap, "CONFIG_MAP"),
        (AuthMode::ApiAndConfigMap, "API_AND_CONFIG_MAP"),
        (AuthMode::Api, "API"),
    ] {
        let w = World::new(mode);
        let s = w.dir.write("mode.rhai", "print(`mode=${access_mode()}`);");
        w.okscript()
            .args(["run", &s, "--cluster", CLUSTER])
            .run()
            .expect_code(0)
            .expect_stdout(&[&format!("mode={word}\n")]);
        if word == "API" {
            // A kubeconfig context alone says nothing about EKS; with --cluster it is described.
            let kc = w.dir.join("kubeconfig");
            w.eks.kube.write_kubeconfig(&kc, "static-admin");
            let kc = kc.display().to_string();
            w.okscript()
                .args(["run", &s, "--kubeconfig", &kc, "--context", "kube-fake"])
                .run()
                .expect_code(0)
                .expect_stdout(&["mode=unknown\n"]);
            w.okscript()
                .args(["run", &s, "--kubeconfig", &kc, "--context", "kube-fake"])
                .args(["--cluster", CLUSTER])
                .run()
                .expect_code(0)
                .expect_stdout(&["mode=API\n"]);
            // ...and then aws-auth through the context is refused as well.
            let (code, _, err) = parts(
                w.okscript()
                    .arg("run")
                    .arg(script("grant-role.rhai"))
                    .args(["--kubeconfig", &kc, "--context", "kube-fake"])
                    .args(["--cluster", CLUSTER, "--target", "aws-auth"])
                    .set("arn", ROLE)
                    .set("groups", "devs")
                    .run(),
            );
            assert_eq!(code, 1, "{err}");
            assert!(
                err.contains("EKS ignores aws-auth on this cluster"),
                "{err}"
            );
            assert_eq!(w.aws_auth_writes(), 0);
            // A file target has no mode.
            w.okscript()
                .args(["run", &s, "--target", "file:aws-auth.yaml"])
                .run()
                .expect_code(0)
                .expect_stdout(&["mode=unknown\n"]);
        }
    }
}

#[test]
fn a_kubeconfig_context_without_cluster_writes_aws_auth_with_a_note_that_the_mode_is_unknown() {
    let w = World::new(AuthMode::ConfigMap);
    let kc = w.dir.join("kubeconfig");
    w.eks.kube.write_kubeconfig(&kc, "static-admin");
    let out = w
        .okscript()
        .arg("run")
        .arg(script("grant-role.rhai"))
        .args([
            "--kubeconfig",
            &kc.display().to_string(),
            "--context",
            "kube-fake",
        ])
        .set("arn", ROLE)
        .set("groups", "devs")
        .run();
    out.expect_code(0)
        .expect_stderr(&["note: the authentication mode of kube-fake is unknown"])
        .expect_stdout(&["(authenticationMode unknown): 1 added"]);
}

#[test]
fn restore_on_an_api_cluster_is_refused() {
    let w = World::new(AuthMode::Api);
    let before = w.aws_auth();
    let backup = w.dir.write(
        "aws-auth-backup.json",
        serde_json::to_string(&serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {"mapRoles": format!("- rolearn: {ROLE}\n  groups:\n  - system:masters\n")},
        }))
        .unwrap(),
    );
    let (code, _, err) = parts(
        w.okscript()
            .args(["restore", &backup, "--cluster", CLUSTER])
            .run(),
    );
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("EKS ignores aws-auth on this cluster (authenticationMode API)"),
        "{err}"
    );
    assert_eq!(w.aws_auth(), before);
    assert_eq!(w.aws_auth_writes(), 0);
}

/// Exit code, stdout and stderr, owned.
pub(crate) fn parts(out: Outcome) -> (i32, String, String) {
    let (code, stdout, stderr) = out.parts();
    (code, stdout.to_string(), stderr.to_string())
}
