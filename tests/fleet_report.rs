//! Issue 12: `okscript report` takes the fleet flags too. Each cluster's report is the one
//! `okscript report --cluster NAME` makes (row for row), printed in its own block, with the
//! fleet's table; `--output json` holds every report in one document; `--diff` is refused
//! with a fleet; a cluster that cannot be reported fails alone.

use serde_json::Value;

use crate::fleet::{row, Fleet, FLEET};

#[test]
fn a_fleet_report_is_each_clusters_own_report() {
    let f = Fleet::start(&FLEET[..3]);
    let out = f
        .okscript()
        .args(["report", "--cluster", "alpha", "--cluster", "beta"])
        .args(["--cluster", "gamma", "--output", "json"])
        .run();
    out.expect_code(0);
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["summary"]["clusters"], 3);
    assert_eq!(doc["summary"]["failed"], 0);
    let clusters = doc["clusters"].as_array().expect("clusters");
    for (report, (name, _)) in clusters.iter().zip(&FLEET[..3]) {
        assert_eq!(report["cluster"], *name);
        let alone = f
            .okscript()
            .args(["report", "--cluster", name, "--output", "json"])
            .run();
        alone.expect_code(0);
        let alone: Value = serde_json::from_str(&alone.stdout).expect("a report");
        assert_eq!(report["rows"], alone["rows"], "{name}");
        assert_eq!(report["authentication_mode"], alone["authentication_mode"]);
    }
    // ops is mapped in alpha's aws-auth (CONFIG_MAP), so alpha's report shows it.
    let alpha_rows = clusters[0]["rows"].to_string();
    assert!(alpha_rows.contains("user/ops"), "{alpha_rows}");
    // Text: a block per cluster and the table.
    let out = f
        .okscript()
        .args(["report", "--cluster", "alpha", "--cluster", "gamma"])
        .run();
    out.expect_code(0);
    let (_, stdout, _) = out.parts();
    assert!(stdout.contains("=== alpha ===\n"), "{stdout}");
    assert!(stdout.contains("=== gamma ===\n"), "{stdout}");
    assert!(row(stdout, "alpha").contains("CONFIG_MAP"), "{stdout}");
    assert!(row(stdout, "gamma").contains("API "), "{stdout}");
    assert!(
        stdout.contains("2 clusters: 2 succeeded, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn a_fleet_report_refuses_diff_and_fails_a_cluster_alone() {
    let f = Fleet::start(&FLEET[..1]);
    let old = f.dir.write("old.json", "{}");
    f.okscript()
        .args([
            "report",
            "--cluster",
            "alpha",
            "--cluster",
            "beta",
            "--diff",
            &old,
        ])
        .run()
        .expect_code(64)
        .expect_stderr(&["--diff compares one cluster's report"]);
    let out = f
        .okscript()
        .args(["report", "--cluster", "alpha", "--cluster", "nosuch"])
        .run();
    out.expect_code(1);
    let (_, stdout, stderr) = out.parts();
    assert!(row(stdout, "nosuch").contains("failed: "), "{stdout}");
    assert!(row(stdout, "alpha").contains("CONFIG_MAP"), "{stdout}");
    assert!(stderr.contains("=== nosuch ===\nerror: "), "{stderr}");
}
