//! Issue 13 items 3–9: the files okscript replaces (aws-auth manifests, ~/.aws/config), seen
//! from outside: concurrent `configure-sso` runs keep every profile, a dangling symlink gets
//! its target created and stays a link, temp files are created with the final mode and the
//! ones a killed run left are cleaned up, and a manifest deleted while the script ran is not
//! recreated. Refusals of bad targets (FIFO, device, read-only) are rows in `bad_inputs.rs`;
//! the SIGKILL case is in `soak.rs`; backups are in `cluster.rs`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
// fix it was created 0644 with the whole content and chmod-ed afterwards). The folder is
// watched while writers replace a 0600 manifest; every temp file seen must be 0600.
#[test]
fn r13_6_temp_files_have_the_final_mode_from_the_start() {
    let dir = TestDir::new();
    dir.write("aws-auth.yaml", big_manifest(300));
    dir.set_mode("aws-auth.yaml", 0o600);
    let mut seen = Vec::new();
    for i in 0..6 {
        let run = dir
            .cmd()
            .script("grant-role.rhai")
            .target("aws-auth.yaml")
            .set("arn", &format!("{ROLE}-{i}"))
            .set("groups", "devs")
            .spawn();
        let inode = std::fs::metadata(dir.join("aws-auth.yaml")).unwrap().ino();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.contains("okscript") {
                    if let Ok(m) = entry.metadata() {
                        seen.push((name, m.permissions().mode() & 0o777, m.len()));
                    }
                }
            }
            // The rename gives the manifest a new inode: this writer is done.
            if std::fs::metadata(dir.join("aws-auth.yaml")).map(|m| m.ino()).ok() != Some(inode) {
                break;
            }
        }
        run.wait().expect_code(0);
    }
    let wide: Vec<_> = seen.iter().filter(|(_, mode, _)| *mode != 0o600).collect();
    assert!(wide.is_empty(), "temp files wider than 0600: {wide:?}");
    assert_eq!(dir.mode("aws-auth.yaml"), 0o600);
    assert_eq!(dir.list(), ["aws-auth.yaml"], "temp files left behind");
    eprintln!("temp files observed mid-write: {}", seen.len());
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
    assert!(!dir.exists(&file), "the deleted manifest was recreated:\n{out}");
}
