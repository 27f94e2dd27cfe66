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
