//! The script sandbox, seen from the shell (issue 13, items 15–18): memory stays bounded and
//! a run that would take too much stops with the flag that raises the limit; import cycles are
//! reported with their chain instead of overflowing the stack; `env()` reads only an
//! allow-list plus what the user names; `write_kubeconfig` writes only kubeconfig locations.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::TestDir;

/// What a run did, measured from outside: exit code, stderr, wall time and peak RSS.
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
    max_rss_mib: u64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {} after {:?}, peak RSS {} MiB\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.took, self.max_rss_mib, self.stdout, self.stderr
        )
    }
}

/// Runs `okscript ARGS` in `dir` hermetically (like `util::Cmd`) and measures the child's
/// peak RSS with `wait4`, which reports exactly that process.
#[expect(
    clippy::zombie_processes,
    reason = "wait4 reaps the child: std's wait would not report its peak RSS"
)]
fn measure(dir: &TestDir, args: &[&str]) -> Measured {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("okscript"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting okscript");
    let started = Instant::now();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut stderr = String::new();
    let _ = err.read_to_string(&mut stderr);
    let pid = i32::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; the child is ours and not yet reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let took = started.elapsed();
    let status = std::process::ExitStatus::from_raw(status);
    Measured {
        code: status.code().unwrap_or(-1),
        stdout: reader.join().expect("the stdout reader"),
        stderr,
        took,
        // Linux reports ru_maxrss in KiB.
        max_rss_mib: u64::try_from(usage.ru_maxrss).unwrap_or(0) / 1024,
    }
}

/// A script prelude that builds `t`, a string of 4 MiB, by doubling (quick even in debug
/// builds, and half the largest string, so `t + i` stays within the per-string limit).
const FOUR_MIB: &str = "let t = \"b\";\nfor i in 0..22 { t += t; }\n";

// ---- 15: memory --------------------------------------------------------------------------

#[test]
fn replace_that_would_build_gigabytes_is_refused_before_it_allocates() {
    // Issue 13.15: `s.replace("a", t)` with an 8 MB `t` reached 3.1 GB RSS and ran 3.6 s
    // past `--timeout 2`; with a longer `s` a 4 GB allocation aborted the process. Here `t`
    // is 4 MiB: 400 and 1,100 copies make 1.6 and 4.6 GB.
    let dir = TestDir::new();
    for (name, s_len) in [("few.rhai", 400), ("many.rhai", 1100)] {
        dir.write(
            name,
            format!("{FOUR_MIB}let s = \"a\";\ns.pad({s_len}, \"a\");\ns.replace(\"a\", t);\nprint(s.len());\n"),
        );
        let m = measure(&dir, &["run", name, "--timeout", "2"]);
        assert_eq!(m.code, 1, "{m}");
        for needle in [
            &format!("{name}:5:"),
            "`replace` would build",
            "grew past its limit",
            "--max-string-size",
        ] {
            assert!(m.stderr.contains(needle), "stderr lacks {needle:?}:\n{m}");
        }
        assert!(m.stdout.is_empty(), "{m}");
        assert!(m.took < Duration::from_secs(2), "{m}");
        assert!(m.max_rss_mib < 200, "{m}");
    }
}

#[test]
fn replace_within_the_limits_still_works() {
    let dir = TestDir::new();
    dir.write(
        "ok.rhai",
        format!("{FOUR_MIB}let s = \"xax\";\ns.replace(\"a\", t);\nprint(s.len());\nlet u = \"héllo\";\nu.replace('l', \"LL\");\nu.replace(\"é\", 'e');\nprint(u);\n"),
    );
    let m = measure(&dir, &["run", "ok.rhai"]);
    assert_eq!(m.code, 0, "{m}");
    assert_eq!(m.stdout, "4194306\nheLLLLo\n", "{m}");
}

#[test]
fn a_map_of_big_strings_stops_at_the_memory_limit_with_the_flag() {
    // Issue 13.15: a map of 8 MB strings grew until the OS killed the process (4 MiB here).
    let dir = TestDir::new();
    dir.write(
        "hoard.rhai",
        format!("{FOUR_MIB}let m = #{{}};\nlet i = 0;\nloop {{\n    m[`k${{i}}`] = t + i;\n    i += 1;\n}}\n"),
    );
    for (flags, limit) in [(vec!["--max-memory", "128"], 128), (vec![], 512)] {
        let mut args = vec!["run", "hoard.rhai"];
        args.extend(flags);
        let m = measure(&dir, &args);
        assert_eq!(m.code, 1, "{m}");
        for needle in [
            "hoard.rhai:".to_string(),
            format!("more than {limit} MiB of memory"),
            "hint: raise the limit with `--max-memory MIB`".to_string(),
        ] {
            assert!(m.stderr.contains(&needle), "stderr lacks {needle:?}:\n{m}");
        }
        // The binary itself takes a few tens of MiB; one operation may overshoot by a string.
        assert!(m.max_rss_mib < limit + 100, "{m}");
        // A debug build copies 4 MiB strings slowly; a release build takes a fraction.
        assert!(m.took < Duration::from_secs(25), "{m}");
    }
}

#[test]
fn a_script_cannot_catch_the_memory_limit_and_go_on() {
    let dir = TestDir::new();
    dir.write(
        "catch.rhai",
        format!("{FOUR_MIB}let m = #{{}};\ntry {{\n    loop {{ m[`k${{m.len()}}`] = t + m.len(); }}\n}} catch (e) {{\n    print(`caught ${{e}}`);\n}}\nprint(\"went on\");\n"),
    );
    // Rhai also counts a map's strings against the per-string limit; lift that out of the way.
    let m = measure(
        &dir,
        &[
            "run",
            "catch.rhai",
            "--max-memory",
            "64",
            "--max-string-size",
            "1024",
        ],
    );
    assert_eq!(m.code, 1, "{m}");
    assert!(m.stderr.contains("more than 64 MiB of memory"), "{m}");
    assert!(m.stderr.contains("--max-memory"), "{m}");
    assert!(
        !m.stdout.contains("caught") && !m.stdout.contains("went on"),
        "{m}"
    );
    assert!(m.max_rss_mib < 200, "{m}");
}

#[test]
fn timeout_is_honoured_while_a_loop_copies_big_strings() {
    let dir = TestDir::new();
    dir.write(
        "copy.rhai",
        format!("{FOUR_MIB}loop {{\n    let x = t + \"a\";\n}}\n"),
    );
    let m = measure(
        &dir,
        &[
            "run",
            "copy.rhai",
            "--timeout",
            "2",
            "--max-operations",
            "1000000000000",
        ],
    );
    assert_eq!(m.code, 1, "{m}");
    assert!(m.stderr.contains("longer than 2 seconds"), "{m}");
    assert!(m.stderr.contains("--timeout"), "{m}");
    assert!(m.took >= Duration::from_secs(2), "{m}");
    assert!(m.took < Duration::from_millis(3500), "{m}");
    assert!(m.max_rss_mib < 200, "{m}");
}

#[test]
fn memory_flags_that_are_not_positive_numbers_are_usage_errors() {
    let dir = TestDir::new();
    dir.write("ok.rhai", "print(1);\n");
    for flags in [
        ["--max-memory", "0"],
        ["--max-memory", "lots"],
        ["--max-string-size", "0"],
    ] {
        let out = dir.cmd().args(["run", "ok.rhai"]).args(flags).run();
        assert_eq!(out.code, 64, "{flags:?}:\n{out}");
        assert!(out.stderr.contains(flags[0]), "{flags:?}:\n{out}");
    }
}

#[test]
fn max_string_size_raises_and_lowers_the_limit_on_one_string() {
    let dir = TestDir::new();
    dir.write(
        "big.rhai",
        "let s = \"\";\ns.pad(3000000, \"x\");\nlet u = s + s + s + s;\nprint(u.len());\n",
    );
    let low = dir
        .cmd()
        .args(["run", "big.rhai", "--max-string-size", "2"])
        .run();
    low.expect_code(1)
        .expect_stderr(&["big.rhai:2:", "2097152 bytes", "--max-string-size"]);
    let high = dir
        .cmd()
        .args(["run", "big.rhai", "--max-string-size", "16"])
        .run();
    high.expect_code(0).expect_stdout(&["12000000\n"]);
}

// ---- 16: import cycles -------------------------------------------------------------------

#[test]
fn a_script_that_imports_itself_is_a_cycle_in_run_and_in_check() {
    let dir = TestDir::new();
    dir.write("a.rhai", "import \"a\" as a;\nprint(\"ran\");\n");
    for cmd in ["run", "check"] {
        let out = dir.cmd().args([cmd, "a.rhai"]).run();
        out.expect_code(1)
            .expect_stderr(&["a.rhai:1:", "import cycle: a.rhai → a.rhai", "hint:"]);
        assert!(!out.stdout.contains("ran"), "{cmd}:\n{out}");
    }
}

#[test]
fn two_modules_that_import_each_other_are_a_cycle_with_the_chain() {
    let dir = TestDir::new();
    dir.write("main.rhai", "print(\"start\");\nimport \"a\" as a;\n");
    dir.write("a.rhai", "import \"b\" as b;\nfn f() { 1 }\n");
    dir.write("b.rhai", "\n  import \"a\" as a;\n");
    for cmd in ["run", "check"] {
        let out = dir.cmd().args([cmd, "main.rhai"]).run();
        out.expect_code(1).expect_stderr(&[
            "./b.rhai:2:10: import cycle: a.rhai → b.rhai → a.rhai",
            "in module `./b.rhai`, imported at ./a.rhai:1:8",
            "in module `./a.rhai`, imported at main.rhai:2:",
        ]);
    }
}

#[test]
fn a_module_imported_twice_without_a_cycle_is_fine() {
    let dir = TestDir::new();
    dir.write(
        "main.rhai",
        "import \"lib/b\" as b;\nimport \"lib/c\" as c;\nprint(b::x() + c::y());\n",
    );
    dir.write("lib/b.rhai", "import \"d\" as d;\nfn x() { d::one() }\n");
    dir.write(
        "lib/c.rhai",
        "import \"d\" as d;\nfn y() { d::one() + 1 }\n",
    );
    dir.write("lib/d.rhai", "fn one() { 1 }\n");
    dir.cmd()
        .args(["run", "main.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["3\n"]);
    dir.cmd()
        .args(["check", "main.rhai"])
        .run()
        .expect_code(0)
        .expect_stdout(&["ok: main.rhai"]);
}

// ---- 17: env() allow-list ----------------------------------------------------------------

/// A script that prints `env(NAME)` for each name, or the error it got.
fn env_script(dir: &TestDir, names: &[&str]) -> String {
    let mut s = String::new();
    for n in names {
        s.push_str(&format!(
            "try {{ print(`{n}=${{env(\"{n}\")}}`); }} catch (e) {{ print(`{n} refused`); }}\n"
        ));
    }
    dir.write("env.rhai", s)
}

#[test]
fn env_refuses_what_is_not_on_the_allow_list_even_when_it_does_not_look_secret() {
    // Issue 13.17: `DB_PASS`, `GITHUB_PAT`, `AUTH`, `API_SIGNATURE` were handed out.
    let dir = TestDir::new();
    let names = [
        "DB_PASS",
        "GITHUB_PAT",
        "AUTH",
        "API_SIGNATURE",
        "GITHUB_TOKEN",
    ];
    let script = env_script(&dir, &names);
    let mut cmd = dir.cmd().args(["run", &script]);
    for n in names {
        cmd = cmd.env(n, "s3cr3t-value");
    }
    let out = cmd.run();
    out.expect_code(0);
    for n in names {
        assert!(out.stdout.contains(&format!("{n} refused")), "{n}:\n{out}");
    }
    assert!(!out.stdout.contains("s3cr3t"), "{out}");
    assert!(!out.stderr.contains("s3cr3t"), "{out}");

    dir.write("one.rhai", "print(env(\"DB_PASS\", \"none\"));\n");
    let out = dir
        .cmd()
        .args(["run", "one.rhai"])
        .env("DB_PASS", "s3cr3t-value")
        .run();
    out.expect_code(1).expect_stderr(&[
        "one.rhai:1:",
        "env(\"DB_PASS\") refused",
        "hint: if this script should read it, run it with `--allow-env DB_PASS`",
    ]);
    assert!(!out.stderr.contains("s3cr3t"), "{out}");
}

#[test]
fn env_reads_the_documented_settings_and_ci_variables() {
    let dir = TestDir::new();
    let names = [
        "AWS_REGION",
        "AWS_PROFILE",
        "OKSCRIPT_CLUSTER",
        "OKCTL_ENVIRONMENT",
        "CI",
        "GITHUB_SHA",
        "GITHUB_REPOSITORY",
        "CI_PROJECT_PATH",
        "USER",
    ];
    let script = env_script(&dir, &names);
    let mut cmd = dir.cmd().args(["run", &script]);
    for n in names {
        cmd = cmd.env(n, &format!("v-{n}"));
    }
    let out = cmd.run();
    out.expect_code(0);
    for n in names {
        assert!(out.stdout.contains(&format!("{n}=v-{n}\n")), "{n}:\n{out}");
    }
}

#[test]
fn allow_env_and_okscript_allow_env_let_the_user_hand_out_more() {
    let dir = TestDir::new();
    let script = env_script(&dir, &["DB_PASS", "AUTH", "GITHUB_TOKEN", "OTHER"]);
    let out = dir
        .cmd()
        .args([
            "run",
            &script,
            "--allow-env",
            "DB_PASS",
            "--allow-env=GITHUB_TOKEN",
        ])
        .env("OKSCRIPT_ALLOW_ENV", "AUTH")
        .env("DB_PASS", "p1")
        .env("AUTH", "p2")
        .env("GITHUB_TOKEN", "p3")
        .env("OTHER", "p4")
        .run();
    out.expect_code(0).expect_stdout(&[
        "DB_PASS=p1\n",
        "AUTH=p2\n",
        // The user's explicit word wins over the secret-looking name.
        "GITHUB_TOKEN=p3\n",
        "OTHER refused\n",
    ]);
}

#[test]
fn okscripts_own_aws_credentials_stay_out_even_with_allow_env() {
    let dir = TestDir::new();
    dir.write("k.rhai", "print(env(\"AWS_SECRET_ACCESS_KEY\"));\n");
    let out = dir
        .cmd()
        .args(["run", "k.rhai", "--allow-env", "AWS_SECRET_ACCESS_KEY"])
        .env("AWS_SECRET_ACCESS_KEY", "hunter2")
        .run();
    out.expect_code(1)
        .expect_stderr(&["k.rhai:1:", "refused", "never hands secrets"]);
    assert!(
        !out.stdout.contains("hunter2") && !out.stderr.contains("hunter2"),
        "{out}"
    );
}

#[test]
fn a_bad_allow_env_name_is_a_usage_error() {
    let dir = TestDir::new();
    dir.write("ok.rhai", "print(1);\n");
    let out = dir
        .cmd()
        .args(["run", "ok.rhai", "--allow-env", "A B"])
        .run();
    out.expect_code(64).expect_stderr(&["--allow-env", "`A B`"]);
    let out = dir
        .cmd()
        .args(["run", "ok.rhai"])
        .env("OKSCRIPT_ALLOW_ENV", "OK,1BAD")
        .run();
    out.expect_code(64)
        .expect_stderr(&["OKSCRIPT_ALLOW_ENV", "`1BAD`"]);
    assert!(out.stdout.is_empty(), "{out}");
}

// ---- 18: write_kubeconfig's file ---------------------------------------------------------

/// `write_kubeconfig(#{file: FILE})` for cluster `demo` under `--dry-run` (the check comes
/// before any login, so no AWS is needed).
fn write_kubeconfig_to(dir: &TestDir, file: &str, env: &[(&str, &str)]) -> crate::util::Outcome {
    dir.write(
        "kc.rhai",
        format!("write_kubeconfig(#{{file: {file:?}}});\nprint(\"wrote\");\n"),
    );
    let mut cmd = dir
        .cmd()
        .args(["run", "kc.rhai", "--cluster", "demo", "--dry-run"]);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    cmd.run()
}

#[test]
fn write_kubeconfig_refuses_files_outside_the_kubeconfig_locations() {
    // Issue 13.18: a script could create folders and files anywhere.
    let dir = TestDir::new();
    let home = dir.path().display().to_string();
    let outside = tempfile::tempdir().expect("a second temp folder");
    std::fs::create_dir(dir.join(".kube")).expect("mkdir ~/.kube");
    std::os::unix::fs::symlink(outside.path(), dir.join(".kube/escape")).expect("symlink");
    dir.write("kc.rhai", "");
    let before = dir.list();
    for file in [
        "elsewhere/evil/config".to_string(),
        format!("{}/new/config", outside.path().display()),
        format!("{home}/.kube/../.bashrc"),
        format!("{home}/.kube/escape/config"),
        format!("{home}/.kube-not/config"),
    ] {
        let out = write_kubeconfig_to(&dir, &file, &[]);
        out.expect_code(1).expect_stderr(&[
            "kc.rhai:1:",
            "refused: scripts write only the kubeconfig files in effect (KUBECONFIG, else ~/.kube/config) or files under ~/.kube",
            "hint: to write",
            "KUBECONFIG=",
            "--kubeconfig",
        ]);
        assert!(!out.stdout.contains("wrote"), "{file}:\n{out}");
    }
    assert_eq!(dir.list(), before);
    assert!(!dir.exists("elsewhere"));
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("listing").count(),
        0,
        "something was written outside"
    );
}

#[test]
fn write_kubeconfig_accepts_kube_folder_files_and_the_kubeconfig_in_effect() {
    let dir = TestDir::new();
    let home = dir.path().display().to_string();
    for (file, env) in [
        (format!("{home}/.kube/config"), vec![]),
        (format!("{home}/.kube/clusters/prod.yaml"), vec![]),
        (
            "ci/kubeconfig".to_string(),
            vec![("KUBECONFIG", "/nonexistent/a:ci/kubeconfig")],
        ),
    ] {
        let out = write_kubeconfig_to(&dir, &file, &env);
        out.expect_code(0)
            .expect_stdout(&["wrote"])
            .expect_stderr(&["dry run: the kubeconfig is not written"]);
    }
}
