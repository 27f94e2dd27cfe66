//! The engine's limits, seen from the shell: an endless loop, a runaway recursion, a string
//! that grows without end and `eval` are all stopped quickly with exit code 1 and a message
//! that names the limit (and, where there is one, the flag that raises it). These tests own
//! only the limits; other script errors are in `run.rs`.

use std::time::{Duration, Instant};

use crate::util::{Outcome, TestDir};

/// Runs `source` as `NAME` with `flags` and returns the outcome and how long it took.
fn run_timed(name: &str, source: &str, flags: &[&str]) -> (Outcome, Duration) {
    let dir = TestDir::new();
    let s = dir.write(name, source);
    let start = Instant::now();
    let out = dir.cmd().args(["run", &s]).args(flags).run();
    (out, start.elapsed())
}

#[test]
fn an_endless_loop_is_stopped_quickly_by_the_operations_limit() {
    let (out, took) = run_timed("spin.rhai", "loop {}\n", &[]);
    out.expect_code(1).expect_stderr(&[
        "error: spin.rhai:1:",
        "operations",
        "hint:",
        "--max-operations",
    ]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn max_operations_lowers_the_limit_and_the_default_allows_ten_thousand_iterations() {
    let source = "let n = 0;\nfor i in 0..10000 { n += i; }\nprint(n);\n";
    let (low, _) = run_timed("sum.rhai", source, &["--max-operations", "1000"]);
    low.expect_code(1)
        .expect_stderr(&["sum.rhai:2:", "1000 operations", "--max-operations"]);
    assert!(low.stdout.is_empty(), "{low}");

    let (default, _) = run_timed("sum.rhai", source, &[]);
    default.expect_code(0).expect_stdout(&["49995000\n"]);
}

#[test]
fn timeout_stops_a_loop_the_operations_limit_would_let_run() {
    let (out, took) = run_timed(
        "spin.rhai",
        "loop {}\n",
        &["--timeout", "1", "--max-operations", "1000000000000"],
    );
    out.expect_code(1)
        .expect_stderr(&["spin.rhai:1:", "1 seconds", "hint:", "--timeout"]);
    assert!(took >= Duration::from_secs(1), "stopped early: {took:?}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn runaway_recursion_hits_the_call_depth_limit() {
    let (out, took) = run_timed("recurse.rhai", "fn f(x) { f(x) }\nf(1);\n", &[]);
    out.expect_code(1)
        .expect_stderr(&["recurse.rhai:", "function calls nested deeper than"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_string_grown_past_the_size_limit_fails() {
    let (out, took) = run_timed("grow.rhai", "let s = \"x\";\nloop {\n    s += s;\n}\n", &[]);
    out.expect_code(1)
        .expect_stderr(&["grow.rhai:3:", "string", "grew past its limit"]);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn eval_is_refused_by_run_and_by_check() {
    let dir = TestDir::new();
    let s = dir.write("eval.rhai", "let code = \"1 + 1\";\nprint(eval(code));\n");
    for cmd in ["run", "check"] {
        let out = dir.cmd().args([cmd, &s]).run();
        out.expect_code(1)
            .expect_stderr(&["eval.rhai:2:7:", "eval", "disabled"]);
        assert!(!out.stdout.contains('2'), "{cmd} evaluated it:\n{out}");
    }
}

#[test]
fn limits_that_are_not_positive_numbers_are_usage_errors() {
    let dir = TestDir::new();
    let s = dir.write("ok.rhai", "print(1);\n");
    for flags in [
        vec!["--max-operations", "0"],
        vec!["--max-operations", "lots"],
        vec!["--timeout", "0"],
        vec!["--timeout=-1"],
    ] {
        let out = dir.cmd().args(["run", &s]).args(&flags).run();
        let flag = flags[0].split('=').next().unwrap_or_default();
        assert_eq!(out.code, 64, "{flags:?}:\n{out}");
        assert!(out.stderr.contains(flag), "{flags:?}:\n{out}");
    }
}

/// Issue 13 item 12: `mappings()` of a 4,000-entry aws-auth (about 700 KB, well under the 1 MiB
/// ConfigMap limit) failed with "Size of object map grew past its limit (20000 keys)", naming
/// no flag. Whatever a ConfigMap holds must be readable, and `list` must print it.
#[test]
fn r13_12_mappings_and_list_read_a_4000_entry_aws_auth() {
    let dir = TestDir::new();
    let mut roles = String::new();
    for i in 0..4000 {
        roles.push_str(&format!(
            "    - rolearn: arn:aws:iam::123456789012:role/team-{i:05}-deployer-with-a-long-name\n      username: team-{i:05}:{{{{SessionName}}}}\n      groups:\n      - team-{i:05}-developers\n      - team-{i:05}-viewers\n"
        ));
    }
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{roles}"
    );
    assert!(
        (600_000..1_048_576).contains(&manifest.len()),
        "{}",
        manifest.len()
    );
    let file = dir.write("aws-auth.yaml", &manifest);
    let target = format!("file:{file}");
    let count = dir.write(
        "count.rhai",
        "let n = 0;\nlet groups = 0;\nfor m in mappings() { n += 1; groups += m.groups.len(); }\nlet all = mappings();\nprint(`${n} ${groups} ${all.len()}`);\n",
    );
    dir.cmd()
        .args(["run", &count, "--target", &target])
        .run()
        .expect_code(0)
        .expect_stdout(&["4000 8000 4000\n"]);
    let out = dir
        .cmd()
        .args(["run", "list", "--target", &target, "--set", "format=json"])
        .run();
    out.expect_code(0)
        .expect_stdout(&["team-03999-deployer-with-a-long-name"]);
    assert_eq!(dir.read("aws-auth.yaml"), manifest, "list wrote the file");
}

/// The array and map limits are the user's to set, and their errors name the flags.
#[test]
fn array_and_map_limits_name_their_flags() {
    let (arrays, _) = run_timed(
        "a.rhai",
        "let a = [];\nfor i in 0..101 { a.push(i); }\n",
        &["--max-array-size", "100"],
    );
    arrays
        .expect_code(1)
        .expect_stderr(&["a.rhai:2:", "100 items", "--max-array-size N"]);
    let (maps, _) = run_timed(
        "m.rhai",
        "let m = #{};\nfor i in 0..101 { m[`k${i}`] = i; }\nlet n = #{all: m};\n",
        &["--max-map-size", "100"],
    );
    maps.expect_code(1)
        .expect_stderr(&["m.rhai:", "100 keys", "--max-map-size N"]);
}
