//! Issue 13 items 3–9: the files okscript replaces (aws-auth manifests, ~/.aws/config), seen
//! from outside: concurrent `configure-sso` runs keep every profile, a dangling symlink gets
//! its target created and stays a link, temp files are created with the final mode and the
//! ones a killed run left are cleaned up, and a manifest deleted while the script ran is not
//! recreated. Refusals of bad targets (FIFO, device, read-only) are rows in `bad_inputs.rs`;
//! the SIGKILL case is in `soak.rs`; backups are in `cluster.rs`.

use std::time::{Duration, Instant};

use crate::util::{TestDir, NODE_ROLE};

const ROLE: &str = "arn:aws:iam::123456789012:role/dev";

/// `configure-sso.rhai` for profile NAME, every value given.
fn configure_sso(dir: &TestDir, name: &str) -> crate::util::Cmd {
    dir.cmd()
        .script("configure-sso.rhai")
        .set("profile", name)
        .set("start_url", "https://osloorigo.awsapps.com/start/")
        .set("sso_region", "eu-west-1")
        .set("account_id", "123456789012")
        .set("role_name", "AWSAdministratorAccess")
        .set("region", "eu-north-1")
        .set("output", "json")
}

// Issue 13 item 3: 12 parallel runs, several rounds; every run that said "added [profile X]"
// must find X in the file (before the fix, 3 of 120 were lost).
#[test]
fn r13_3_concurrent_configure_sso_runs_keep_every_profile() {
    let dir = TestDir::new();
    let mut reported = Vec::new();
    for round in 0..4 {
        let runs: Vec<_> = (0..12)
            .map(|i| {
                let name = format!("cc{round}-{i}");
                (name.clone(), configure_sso(&dir, &name).spawn())
            })
            .collect();
        for (name, run) in runs {
            let out = run.wait();
            out.expect_code(0)
                .expect_stdout(&[&format!("added [profile {name}]")]);
            reported.push(name);
        }
    }
    let config = dir.read(".aws/config");
    let missing: Vec<_> = reported
        .iter()
        .filter(|n| !config.contains(&format!("[profile {n}]\n")))
        .collect();
    assert_eq!(missing, Vec::<&String>::new(), "profiles lost:\n{config}");
    assert_eq!(dir.mode(".aws/config"), 0o600);
    assert_eq!(
        std::fs::read_dir(dir.join(".aws")).unwrap().count(),
        1,
        "temp files left in .aws"
    );
}

// Issue 13 item 5: a dangling symlink target stays a link; the file it names is created.
#[test]
fn r13_5_a_dangling_symlink_target_is_written_through() {
    let dir = TestDir::new();
    std::fs::create_dir(dir.join("repo")).unwrap();
    std::os::unix::fs::symlink("repo/aws-auth.yaml", dir.join("link.yaml")).unwrap();
    dir.cmd()
        .script("grant-role.rhai")
        .target("link.yaml")
        .set("arn", ROLE)
        .set("groups", "devs")
        .run()
        .expect_code(0)
        .expect_stderr(&["does not exist"]);
    let link = std::fs::symlink_metadata(dir.join("link.yaml")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        std::fs::read_link(dir.join("link.yaml")).unwrap(),
        std::path::Path::new("repo/aws-auth.yaml")
    );
    assert!(dir.read("repo/aws-auth.yaml").contains(ROLE));
    assert_eq!(dir.mappings("link.yaml").len(), 1);
}

/// A manifest of about `kib` KiB: the node role and comment padding.
fn big_manifest(kib: usize) -> String {
    let mut text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: {NODE_ROLE}\n      username: system:node:{{{{EC2PrivateDNSName}}}}\n      groups: [system:bootstrappers, system:nodes]\n");
    while text.len() < kib * 1024 {
        text.push_str(&format!("    # padding {}\n", "x".repeat(80)));
    }
    text
}

// Issue 13 item 6: the temp file never exists with a wider mode than the target's (before the
// fix it was created 0644, filled, and chmod-ed afterwards). A file-size limit (`ulimit -f`)
// kills the writer with SIGXFSZ in the middle of writing the temp file, which is then left
// as it was at that moment: it must already have the target's mode 0600. The next run
// removes it (its process is gone) and writes normally.
#[test]
fn r13_6_a_temp_file_caught_mid_write_already_has_the_final_mode() {
    let dir = TestDir::new();
    let original = big_manifest(300);
    dir.write("aws-auth.yaml", &original);
    dir.set_mode("aws-auth.yaml", 0o600);
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -f 64; exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("okscript"))
        .args(["run", &crate::util::script("grant-role.rhai")])
        .args([
            "--target",
            "file:aws-auth.yaml",
            "--set",
            &format!("arn={ROLE}"),
            "--set",
            "groups=devs",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .output()
        .expect("running okscript under a file-size limit");
    assert!(
        !out.status.success(),
        "the size limit did not stop the write"
    );
    assert_eq!(dir.read("aws-auth.yaml"), original, "the target changed");
    let temps: Vec<(String, u32)> = dir
        .list()
        .into_iter()
        .filter(|n| n.contains("okscript"))
        .map(|n| {
            let mode = dir.mode(&n);
            (n, mode)
        })
        .collect();
    assert_eq!(
        temps.len(),
        1,
        "expected the killed writer's temp file: {temps:?}"
    );
    assert_eq!(
        temps[0].1, 0o600,
        "the temp file was wider than the target: {temps:?}"
    );
    // The next run cleans it up and writes.
    dir.cmd()
        .script("grant-role.rhai")
        .target("aws-auth.yaml")
        .set("arn", ROLE)
        .set("groups", "devs")
        .run()
        .expect_code(0);
    assert_eq!(dir.list(), ["aws-auth.yaml"], "temp files left behind");
    assert_eq!(dir.mode("aws-auth.yaml"), 0o600);
    assert!(dir.read("aws-auth.yaml").contains(ROLE));
}

// Issue 13 item 9: a manifest deleted while the script ran is not recreated with only the new
// grant (it would lack the node roles the script saw).
#[test]
fn r13_9_a_target_deleted_mid_run_is_not_recreated() {
    let dir = TestDir::new();
    let file = dir.fixture("eks-nodes-only");
    // The script reads the manifest, then signals through ~/.aws/config that it did, then
    // works a while before its grant is written.
    dir.write(
        "s.rhai",
        format!(
            r#"let before = mappings();
configure_sso(#{{profile: "signal", start_url: "https://x.awsapps.com/start/", sso_region: "eu-west-1", account_id: "123456789012", role_name: "R", region: "eu-north-1", output: "json"}});
let n = 0;
while n < 1000000 {{ n += 1; }}
grant_role("{ROLE}", ["devs"]);
"#
        ),
    );
    let run = dir
        .cmd()
        .args(["run", "s.rhai", "--target", &format!("file:{file}")])
        .arg("--max-operations")
        .arg("100000000")
        .spawn();
    let started = Instant::now();
    while !dir.exists(".aws/config") {
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "the script never signalled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::remove_file(dir.join(&file)).unwrap();
    let out = run.wait();
    out.expect_code(1).expect_stderr(&[
        &format!("{file} was deleted while the script ran; nothing was written"),
        "hint:",
        "run the script again",
    ]);
    assert!(
        !dir.exists(&file),
        "the deleted manifest was recreated:\n{out}"
    );
}

// A commit in the middle of a script (`apply()`): the file is written, and what the script
// stages next is staged against what was written (read again, its warnings not repeated).
#[test]
fn staging_after_apply_builds_on_what_apply_wrote_and_warns_once() {
    let dir = TestDir::new();
    // A file that does not exist yet: the first read warns that it will be created.
    let target = dir.join("aws-auth.yaml").display().to_string();
    let script = dir.write(
        "two.rhai",
        format!(
            "grant_role(\"{ROLE}\", [\"devs\"]);\nlet first = apply();\nprint(`first: ${{first.added}}`);\ngrant_role(\"arn:aws:iam::123456789012:role/ops\", [\"ops\"]);\nprint(`seen: ${{mappings().len()}}`);\n"
        ),
    );
    let out = dir
        .cmd()
        .args(["run", &script, "--target", &format!("file:{target}")])
        .run();
    out.expect_code(0)
        .expect_stdout(&["first: 1", "seen: 2", "2 added"]);
    assert_eq!(
        out.stderr.matches("does not exist").count(),
        1,
        "the read warning is given once:\n{}",
        out.stderr
    );
    let text = dir.read("aws-auth.yaml");
    assert!(text.contains(&format!("rolearn: {ROLE}")), "{text}");
    assert!(
        text.contains("rolearn: arn:aws:iam::123456789012:role/ops"),
        "{text}"
    );
}
