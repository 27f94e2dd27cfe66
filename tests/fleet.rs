//! Issue 12, part 2: one script, many clusters. A fleet of fake clusters in every
//! authentication mode, in one EKS fake and one moto (`EksWorld::start_fleet`), each with its
//! own apiserver: `okscript run --cluster a --cluster b ...`, `--clusters-from` (names, okctl
//! declarations) and `--all-clusters` run the script once per cluster, concurrently; each
//! cluster is written on its own, a failing one (injected faults, a timeout) stops nothing
//! else and is written nowhere, the output comes in one block per cluster with a summary
//! table (or one JSON document), and the exit code says whether all succeeded.

use serde_json::Value;

use crate::auth_mode::{block_on, okscript_in};
use crate::support::kube_api::AuthMode;
use crate::support::{create_role, create_user_with_key, EksWorld, ACCOUNT};
use crate::util::{script, Cmd, Outcome, TestDir};

pub(crate) const REGION: &str = "eu-west-1";
const ROLE: &str = "arn:aws:iam::123456789012:role/deployer";

/// alpha CONFIG_MAP, beta API_AND_CONFIG_MAP, gamma API, delta CONFIG_MAP.
pub(crate) const FLEET: [(&str, AuthMode); 4] = [
    ("alpha", AuthMode::ConfigMap),
    ("beta", AuthMode::ApiAndConfigMap),
    ("gamma", AuthMode::Api),
    ("delta", AuthMode::ConfigMap),
];

/// A fleet whose every aws-auth maps the IAM user `ops` (whose keys okscript uses) to
/// system:masters, with the role `deployer` in IAM.
pub(crate) struct Fleet {
    pub(crate) world: EksWorld,
    key: String,
    secret: String,
    pub(crate) dir: TestDir,
}

impl Fleet {
    pub(crate) fn start(clusters: &[(&str, AuthMode)]) -> Fleet {
        let world = EksWorld::start_fleet(REGION, clusters);
        let (key, secret) = block_on(create_user_with_key(&world.moto, "ops", None, true));
        block_on(create_role(&world.moto, "deployer", None));
        for (name, _) in clusters {
            world.kube_of(name).seed_aws_auth(&[(
                "mapUsers",
                &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/ops\n  username: ops\n  groups:\n  - system:masters\n"),
            )]);
        }
        Fleet {
            world,
            key,
            secret,
            dir: TestDir::new(),
        }
    }

    pub(crate) fn okscript(&self) -> Cmd {
        okscript_in(&self.dir, &self.world, &self.key, &self.secret)
    }

    /// `okscript run grant-role.rhai ARGS... --set arn=deployer --set groups=devs`.
    fn grant(&self, args: &[&str]) -> Outcome {
        self.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .args(args)
            .set("arn", ROLE)
            .set("groups", "devs")
            .run()
    }

    fn aws_auth(&self, cluster: &str) -> Value {
        self.world
            .kube_of(cluster)
            .config_map("kube-system", "aws-auth")
            .expect("aws-auth exists")
    }

    fn aws_auth_writes(&self, cluster: &str) -> usize {
        self.world
            .kube_of(cluster)
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains("/configmaps"))
            .count()
    }

    /// The groups of `arn`'s access entry on `cluster`, `None` without one.
    fn entry_groups(&self, cluster: &str, arn: &str) -> Option<Vec<String>> {
        let out = block_on(
            self.world
                .eks_client()
                .describe_access_entry()
                .cluster_name(cluster)
                .principal_arn(arn)
                .send(),
        )
        .ok()?;
        Some(out.access_entry()?.kubernetes_groups().to_vec())
    }

    /// EKS write calls made on `cluster`.
    fn eks_writes(&self, cluster: &str) -> usize {
        self.world
            .eks
            .requests()
            .iter()
            .filter(|r| {
                r.cluster.as_deref() == Some(cluster)
                    && ["Create", "Update", "Delete", "Associate", "Disassociate"]
                        .iter()
                        .any(|w| r.operation.starts_with(w))
            })
            .count()
    }
}

fn cluster_flags(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| ["--cluster".to_string(), n.to_string()])
        .collect()
}

/// The summary table's row of `cluster`.
pub(crate) fn row<'a>(stdout: &'a str, cluster: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{cluster} ")))
        .unwrap_or_else(|| panic!("no row for {cluster}:\n{stdout}"))
}

#[test]
fn one_failing_cluster_stops_nothing_else_and_is_left_untouched() {
    let f = Fleet::start(&FLEET);
    let delta_before = f.aws_auth("delta");
    // delta's apiserver answers every request with a 500 until the retries run out.
    f.world.kube_of("delta").faults().fail_next_requests(1000);
    let out = f.grant(
        &cluster_flags(&["alpha", "beta", "gamma", "delta"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    out.expect_code(1);
    let (_, stdout, stderr) = out.parts();
    // alpha reads aws-auth (CONFIG_MAP): written there.
    let roles = f.aws_auth("alpha")["data"]["mapRoles"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(roles.contains(&format!("rolearn: {ROLE}")), "{roles}");
    // beta and gamma use access entries: written there, aws-auth untouched.
    assert_eq!(f.entry_groups("beta", ROLE), Some(vec!["devs".to_string()]));
    assert_eq!(
        f.entry_groups("gamma", ROLE),
        Some(vec!["devs".to_string()])
    );
    assert_eq!(f.aws_auth_writes("beta"), 0);
    assert_eq!(f.aws_auth_writes("gamma"), 0);
    // delta: nothing written, and its row says why.
    assert_eq!(f.aws_auth("delta"), delta_before);
    assert_eq!(f.aws_auth_writes("delta"), 0);
    assert_eq!(f.entry_groups("delta", ROLE), None);
    assert_eq!(f.eks_writes("alpha"), 0);
    assert_eq!(f.eks_writes("delta"), 0);
    assert!(row(stdout, "alpha").contains("CONFIG_MAP"), "{stdout}");
    assert!(row(stdout, "alpha").contains("aws-auth"), "{stdout}");
    assert!(row(stdout, "alpha").ends_with("written"), "{stdout}");
    assert!(
        row(stdout, "beta").contains("API_AND_CONFIG_MAP  access entries  1"),
        "{stdout}"
    );
    assert!(
        row(stdout, "gamma").contains("API                 access entries  1"),
        "{stdout}"
    );
    let delta = row(stdout, "delta");
    assert!(delta.contains("failed: "), "{delta}");
    assert!(
        delta.contains("500") || delta.contains("nothing was written"),
        "{delta}"
    );
    assert!(
        stdout.contains("4 clusters: 3 succeeded, 1 failed"),
        "{stdout}"
    );
    // Each cluster's output is one block headed by its name; delta's error is in its own.
    for name in ["alpha", "beta", "gamma"] {
        assert!(stdout.contains(&format!("=== {name} ===\n")), "{stdout}");
    }
    let delta_block = stderr
        .split("=== ")
        .find(|b| b.starts_with("delta ===\n"))
        .unwrap_or_else(|| panic!("no delta block:\n{stderr}"));
    assert!(delta_block.contains("error: "), "{delta_block}");
}

#[test]
fn a_dry_run_shows_every_clusters_diff_writes_nothing_and_says_changes_are_pending() {
    let f = Fleet::start(&FLEET[..3]);
    let before: Vec<Value> = ["alpha", "beta", "gamma"]
        .iter()
        .map(|c| f.aws_auth(c))
        .collect();
    let mut args = cluster_flags(&["alpha", "beta", "gamma"]);
    args.extend(["--dry-run", "--detailed-exitcode"].map(String::from));
    let out = f.grant(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out.expect_code(2);
    let (_, stdout, _) = out.parts();
    for name in ["alpha", "beta", "gamma"] {
        let block = stdout
            .split("=== ")
            .find(|b| b.starts_with(&format!("{name} ===\n")))
            .unwrap_or_else(|| panic!("no block for {name}:\n{stdout}"));
        assert!(
            block.contains(ROLE),
            "{name}'s diff names the role: {block}"
        );
        assert!(block.contains("dry run: 1 to add"), "{block}");
        assert!(row(stdout, name).ends_with("changes pending"), "{stdout}");
    }
    let after: Vec<Value> = ["alpha", "beta", "gamma"]
        .iter()
        .map(|c| f.aws_auth(c))
        .collect();
    assert_eq!(before, after);
    for name in ["alpha", "beta", "gamma"] {
        assert_eq!(f.aws_auth_writes(name), 0);
        assert_eq!(f.eks_writes(name), 0);
    }
    // Without --detailed-exitcode a dry run that worked everywhere is a success.
    let out = f.grant(
        &cluster_flags(&["alpha", "gamma"])
            .iter()
            .map(String::as_str)
            .chain(["--dry-run"])
            .collect::<Vec<_>>(),
    );
    out.expect_code(0);
}

#[test]
fn all_clusters_lists_them_with_eks_and_one_json_document_holds_each_cluster() {
    let f = Fleet::start(&FLEET[..3]);
    f.world.eks.clear_requests();
    let out = f.grant(&["--all-clusters", "--output", "json"]);
    out.expect_code(0);
    assert_eq!(f.world.eks.count("ListClusters"), 1);
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["summary"]["clusters"], 3);
    assert_eq!(doc["summary"]["failed"], 0);
    let clusters = doc["clusters"].as_array().expect("clusters");
    let mut names: Vec<&str> = clusters
        .iter()
        .map(|c| c["cluster"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    for c in clusters {
        // The single-cluster object, plus where it ran and how it ended.
        for key in [
            "ok",
            "script",
            "target",
            "mechanism",
            "dry_run",
            "changed",
            "written",
            "summary",
            "diff",
            "output",
            "data",
            "warnings",
            "cluster",
            "region",
            "mode",
            "result",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert_eq!(c["region"], REGION);
        assert_eq!(c["result"], "written");
        assert_eq!(c["summary"]["added"], 1);
    }
    let mode_of = |n: &str| clusters.iter().find(|c| c["cluster"] == n).unwrap()["mode"].clone();
    assert_eq!(mode_of("alpha"), "CONFIG_MAP");
    assert_eq!(mode_of("beta"), "API_AND_CONFIG_MAP");
    assert_eq!(mode_of("gamma"), "API");
    // Run again: every cluster is as the script wants.
    let out = f.grant(&["--all-clusters", "--output", "json"]);
    out.expect_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        doc["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["result"] == "no changes"),
        "{doc}"
    );
}

#[test]
fn a_failed_cluster_in_json_carries_its_error() {
    let f = Fleet::start(&FLEET[..2]);
    // alpha writes aws-auth, through its apiserver, which now fails every request.
    f.world.kube_of("alpha").faults().fail_next_requests(1000);
    let out = f.grant(&[
        "--cluster",
        "alpha",
        "--cluster",
        "beta",
        "--output",
        "json",
    ]);
    out.expect_code(1);
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["summary"]["failed"], 1);
    let alpha = &doc["clusters"][0];
    assert_eq!(alpha["cluster"], "alpha");
    assert_eq!(alpha["ok"], false);
    assert!(
        alpha["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{alpha}"
    );
    assert!(
        alpha["result"].as_str().unwrap().starts_with("failed: "),
        "{alpha}"
    );
    assert_eq!(doc["clusters"][1]["cluster"], "beta");
    assert_eq!(doc["clusters"][1]["result"], "written");
}

#[test]
fn clusters_from_a_list_of_names_and_from_okctl_declarations() {
    let f = Fleet::start(&FLEET[..3]);
    let list = f.dir.write(
        "fleet.txt",
        "# the team's clusters\nalpha\n\n  gamma   # entries only\n",
    );
    let out = f.grant(&["--clusters-from", &list, "--dry-run"]);
    out.expect_code(0);
    let (_, stdout, _) = out.parts();
    assert!(
        stdout.contains("2 clusters: 2 succeeded, 0 failed"),
        "{stdout}"
    );
    row(stdout, "alpha");
    row(stdout, "gamma");
    assert!(!stdout.contains("=== beta"), "{stdout}");
    // Declarations: name, region and account; a login to another account than a
    // declaration's fails that cluster only, before anything is written there.
    // alpha's declaration is in another region than the login's: the same credentials,
    // the region's APIs.
    let decl = |name: &str, region: &str, account: &str| {
        format!("apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  region: {region}\n  accountID: \"{account}\"\n")
    };
    let file = f.dir.write(
        "clusters.yaml",
        format!(
            "{}---\n{}",
            decl("alpha", "eu-north-1", ACCOUNT),
            decl("beta", REGION, "999999999999")
        ),
    );
    let out = f.grant(&["--clusters-from", &file]);
    out.expect_code(1);
    let (_, stdout, stderr) = out.parts();
    let alpha = row(stdout, "alpha");
    assert!(
        alpha.ends_with("written") && alpha.contains("eu-north-1"),
        "{stdout}"
    );
    assert!(stdout.contains("=== alpha (eu-north-1) ===\n"), "{stdout}");
    let beta = row(stdout, "beta");
    assert!(beta.contains("failed: "), "{beta}");
    assert!(
        stderr.contains(&format!("but {file}:8 is for 999999999999")),
        "{stderr}"
    );
    assert_eq!(f.eks_writes("beta"), 0);
    assert_eq!(f.entry_groups("beta", ROLE), None);
}

#[test]
fn a_list_or_flag_that_cannot_make_a_fleet_is_a_usage_error_before_anything_runs() {
    let f = Fleet::start(&FLEET[..1]);
    f.world.eks.clear_requests();
    let bad = f.dir.write("bad.txt", "alpha\nbeta gamma\n");
    let empty = f.dir.write("empty.txt", "# nobody yet\n\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--clusters-from", &bad],
            "bad.txt:2: `beta gamma` is not an EKS cluster name",
        ),
        (vec!["--clusters-from", &empty], "names no cluster"),
        (
            vec!["--cluster", "alpha", "--cluster", "alpha"],
            "cluster alpha in eu-west-1 is in the fleet twice: --cluster and --cluster",
        ),
        (
            vec!["--cluster", "alpha", "--clusters-from", &bad],
            "bad.txt:2",
        ),
        (
            vec![
                "--cluster",
                "alpha",
                "--cluster",
                "beta",
                "--server",
                "https://127.0.0.1:1",
            ],
            "--server names one cluster's connection or target, so it cannot be used with a fleet",
        ),
        (
            vec!["--cluster", "alpha", "--cluster", "beta", "--context", "x"],
            "--context",
        ),
        (
            vec![
                "--cluster",
                "alpha",
                "--cluster",
                "beta",
                "--target",
                "file:aws-auth.yaml",
            ],
            "--target file:PATH",
        ),
        (
            vec!["--cluster", "alpha", "--cluster", "beta", "--parallel", "0"],
            "0 is not in 1..=64",
        ),
        (
            vec![
                "--cluster",
                "alpha",
                "--cluster",
                "beta",
                "--parallel",
                "65",
            ],
            "65 is not in 1..=64",
        ),
        (
            vec!["--cluster", "alpha", "--parallel", "2"],
            "--parallel needs a fleet",
        ),
        (
            vec!["--all-clusters", "--cluster", "alpha"],
            "cannot be used with",
        ),
        (
            vec!["--all-clusters=eu-west-1,eu-west-1"],
            "--all-clusters names region eu-west-1 twice",
        ),
    ];
    for (args, needle) in cases {
        let out = f.grant(&args);
        out.expect_code(64).expect_stderr(&[needle]);
    }
    // Only `run` takes a fleet; the other commands still take one cluster.
    f.okscript()
        .args(["token", "--cluster", "alpha", "--cluster", "beta"])
        .run()
        .expect_code(64)
        .expect_stderr(&[
            "--cluster was given 2 times, but only `okscript run` runs on several clusters",
        ]);
    assert_eq!(f.world.eks.requests(), vec![], "nothing reached EKS");
    assert!(!f.dir.join("aws-auth.yaml").exists());
}

#[test]
fn prints_land_in_their_clusters_block_and_a_timeout_fails_only_its_cluster() {
    let f = Fleet::start(&FLEET[..3]);
    let s = f.dir.write(
        "loop.rhai",
        "print(`hello from ${access_mode()}`);\nif access_mode() == \"API\" { loop { } }\ngrant_role(\"arn:aws:iam::123456789012:role/deployer\", [\"devs\"]);\n",
    );
    let out = f
        .okscript()
        .args([
            "run",
            &s,
            "--timeout",
            "2",
            "--max-operations",
            "1000000000000",
        ])
        .args(["--parallel", "3"])
        .args(cluster_flags(&["alpha", "beta", "gamma"]))
        .run();
    out.expect_code(1);
    let (_, stdout, _) = out.parts();
    assert!(
        stdout.contains("=== alpha ===\nhello from CONFIG_MAP\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("=== beta ===\nhello from API_AND_CONFIG_MAP\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("=== gamma ===\nhello from API\n"),
        "{stdout}"
    );
    let gamma = row(stdout, "gamma");
    assert!(
        gamma.contains("failed: the script ran longer than 2 seconds"),
        "{gamma}"
    );
    assert!(row(stdout, "alpha").ends_with("written"), "{stdout}");
    assert!(row(stdout, "beta").ends_with("written"), "{stdout}");
    assert_eq!(f.entry_groups("gamma", ROLE), None);
}

#[test]
fn a_login_that_fails_runs_no_cluster() {
    let f = Fleet::start(&FLEET[..2]);
    f.world.eks.clear_requests();
    // access-key logins without keys: the one login fails, so no cluster is run.
    let mut cmd = f
        .dir
        .cmd()
        .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key");
    for (k, v) in f.world.env() {
        cmd = cmd.env(&k, &v);
    }
    let out = cmd
        .args(["run", &script("grant-role.rhai"), "--output", "json"])
        .args(["--cluster", "alpha", "--cluster", "beta"])
        .set("arn", ROLE)
        .set("groups", "devs")
        .run();
    out.expect_code(1).expect_stderr(&["no cluster was run"]);
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["clusters"], serde_json::json!([]));
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("AWS_ACCESS_KEY_ID"), "{doc}");
    assert_eq!(f.world.eks.requests(), vec![], "no cluster was reached");
}

#[test]
fn a_cluster_eks_does_not_know_fails_alone() {
    let f = Fleet::start(&FLEET[..1]);
    let out = f.grant(&["--cluster", "nosuch", "--cluster", "alpha"]);
    out.expect_code(1);
    let (_, stdout, stderr) = out.parts();
    let nosuch = row(stdout, "nosuch");
    assert!(
        nosuch.contains("-  ") && nosuch.contains("failed: "),
        "{nosuch}"
    );
    assert!(stderr.contains("=== nosuch ===\nerror: "), "{stderr}");
    assert!(row(stdout, "alpha").ends_with("written"), "{stdout}");
    assert!(
        stdout.contains("2 clusters: 1 succeeded, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn a_cluster_that_hangs_is_given_up_on_and_the_others_finish() {
    let f = Fleet::start(&FLEET[..2]);
    let before = f.aws_auth("alpha");
    // alpha's apiserver answers nothing for a minute; the script's clock cannot stop a call
    // that waits, so the fleet gives up on alpha 10 s after --timeout.
    f.world
        .kube_of("alpha")
        .faults()
        .set_delay(std::time::Duration::from_secs(60));
    let started = std::time::Instant::now();
    let out = f.grant(&["--cluster", "alpha", "--cluster", "beta", "--timeout", "1"]);
    let took = started.elapsed();
    f.world.kube_of("alpha").faults().clear();
    out.expect_code(1);
    assert!(took < std::time::Duration::from_secs(25), "{took:?}");
    let (_, stdout, stderr) = out.parts();
    assert!(
        row(stdout, "alpha").contains("failed: no result 11 s after it started"),
        "{stdout}"
    );
    assert!(row(stdout, "beta").ends_with("written"), "{stdout}");
    assert!(
        stderr.contains("=== alpha ===\nerror: the run on cluster alpha gave no result"),
        "{stderr}"
    );
    assert_eq!(f.entry_groups("beta", ROLE), Some(vec!["devs".to_string()]));
    assert_eq!(f.aws_auth("alpha"), before);
}

#[test]
fn the_fleet_logs_in_once_and_bounds_how_many_clusters_run_at_once() {
    let f = Fleet::start(&FLEET[..3]);
    let mut args = cluster_flags(&["alpha", "beta", "gamma"]);
    args.extend(["--dry-run", "--verbose", "--parallel", "2"].map(String::from));
    let out = f.grant(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out.expect_code(0);
    let (_, _, stderr) = out.parts();
    assert_eq!(
        stderr.matches("verbose: logging in with").count(),
        1,
        "one login for three clusters:\n{stderr}"
    );
    assert!(stderr.contains("on 3 clusters, 2 at a time"), "{stderr}");
    // Every cluster was reached with the same credentials.
    let keys: std::collections::BTreeSet<_> = f
        .world
        .eks
        .requests()
        .iter()
        .filter_map(|r| r.access_key.clone())
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
}

#[test]
fn one_cluster_runs_as_it_always_did() {
    let f = Fleet::start(&FLEET[..1]);
    let out = f.grant(&["--cluster", "alpha"]);
    out.expect_code(0);
    // The grant's own lines, the diff and the summary line: no block header, no table.
    assert!(
        out.stdout.starts_with("role arn:aws:iam::123456789012:role/deployer -> username deployer:{{SessionName}}, groups [\"devs\"]\n--- a/data.mapRoles\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("+  - devs\naws-auth ConfigMap kube-system/aws-auth in cluster alpha (authenticationMode CONFIG_MAP): 1 added, 0 changed, 0 removed\n"),
        "{}",
        out.stdout
    );
    for needle in ["===", "CLUSTER", "succeeded"] {
        assert!(!out.stdout.contains(needle), "{}", out.stdout);
        assert!(!out.stderr.contains(needle), "{}", out.stderr);
    }
}

/// Issue 12's benchmark row, measured by hand (`cargo test --release --test tests --
/// --ignored fleet::bench --nocapture`): a dry run and a grant on 20 clusters (CONFIG_MAP,
/// API_AND_CONFIG_MAP and API in turn), as one fleet run and as 20 `okscript run` processes
/// one after the other; each grant grants a role of its own, so that each one writes.
#[test]
#[ignore = "a measurement, not a check: run it by hand"]
fn bench_twenty_clusters_as_a_fleet_vs_twenty_runs() {
    let names: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
    let modes = [
        AuthMode::ConfigMap,
        AuthMode::ApiAndConfigMap,
        AuthMode::Api,
    ];
    let clusters: Vec<(&str, AuthMode)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), modes[i % 3]))
        .collect();
    let f = Fleet::start(&clusters);
    let flags = cluster_flags(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let mut roles = 0;
    let mut run = |args: &[String], dry_run: bool| {
        roles += 1;
        let arn = block_on(create_role(&f.world.moto, &format!("bench-{roles}"), None));
        let started = std::time::Instant::now();
        let out = f
            .okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .args(args)
            .args(if dry_run { &["--dry-run"][..] } else { &[][..] })
            .set("arn", &arn)
            .set("groups", "devs")
            .run();
        let took = started.elapsed();
        out.expect_code(0);
        (took, out.stdout.clone())
    };
    for dry_run in [true, false] {
        let what = if dry_run { "dry run" } else { "grant" };
        for parallel in ["1", "4", "8"] {
            let mut args = flags.clone();
            args.extend(["--parallel".to_string(), parallel.to_string()]);
            let (took, out) = run(&args, dry_run);
            assert!(out.contains("20 clusters: 20 succeeded"), "{out}");
            println!("fleet {what}, 20 clusters, --parallel {parallel}: {took:?}");
        }
        let mut total = std::time::Duration::ZERO;
        for n in &names {
            total += run(&["--cluster".to_string(), n.clone()], dry_run).0;
        }
        println!("20 sequential `okscript run` {what}s: {total:?}");
    }
}
