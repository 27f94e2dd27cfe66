//! A fault soak against one live (fake) cluster: 20 okscript processes at once, each granting
//! and revoking its own principals in aws-auth, while the apiserver answers some requests
//! with 409 Conflict or 500, drops a few connections without answering, and is slow. Bounded
//! in time (every process must end within the harness's timeout; the whole test in well under
//! a minute) and in count (a fixed number of processes, faults re-armed on a clock).
//!
//! Afterwards aws-auth must hold exactly the union of what the processes meant (each
//! process's a-role and user present, its b-role absent), every entry nobody touched must
//! still be there with its exact text, and any process that failed must have said that
//! nothing was written (and then, indeed, none of its changes may be there).
//!
//! The processes connect with a static-admin kubeconfig (`--kubeconfig`): EKS tokens through
//! moto are covered in `cluster.rs`, and the soak is about conflicting writers and faults.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::kube_api::{KubeApi, Options};
use crate::util::{Outcome, TestDir, NODE_ROLE};

const WRITERS: usize = 20;
/// The longest one process may take; the harness kills it after 30 s anyway.
const PROCESS_BOUND: Duration = Duration::from_secs(30);
/// The longest the whole soak may take.
const SOAK_BOUND: Duration = Duration::from_secs(50);

const ACCOUNT: &str = "123456789012";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

/// What every writer runs: its principals come from `--set i=N`.
const SCRIPT: &str = r#"let i = arg("i");
let team = [`team-${i}`];
grant_role(`arn:aws:iam::123456789012:role/soak-${i}-a`, team);
grant_role(`arn:aws:iam::123456789012:role/soak-${i}-b`, team, `soak-${i}-b`);
grant_user(`arn:aws:iam::123456789012:user/soak-${i}`, `soak-${i}`, team);
revoke_role(`arn:aws:iam::123456789012:role/soak-${i}-b`);
print(`writer ${i} done`);
"#;

/// Entries no writer touches, each as it must survive, byte for byte.
fn untouched_roles() -> Vec<String> {
    vec![
        format!("# node role - DO NOT REMOVE\n- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {NODE_ROLE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"),
        format!("- rolearn: {}\n  username: \"flow:{{{{SessionName}}}}\"\n  groups: [viewers, 'editors']  # flow style, quoted\n", role("untouched-flow")),
        format!("-   rolearn: {}\n    username: odd\n    groups:\n        - odd-group\n", role("untouched-odd-indent")),
    ]
}

fn untouched_users() -> Vec<String> {
    vec![
        format!(
            "- userarn: {}\n  username: cluster-admin\n  groups:\n  - system:masters\n",
            user("cluster-admin")
        ),
        format!(
            "# ops, with a path\n- userarn: {}\n  username: untouched\n  groups:\n  - ops\n",
            user("ops/untouched")
        ),
    ]
}

const ACCOUNTS: &str = "- \"210987654321\"\n";
const OTHER: &str = "keep: me\n";

/// Even writers find their b-role already mapped, so their revoke removes a live entry.
fn preexisting_b(i: usize) -> Option<String> {
    i.is_multiple_of(2).then(|| {
        format!(
            "- rolearn: {}\n  username: old-{i}\n  groups:\n  - old\n",
            role(&format!("soak-{i}-b"))
        )
    })
}

fn seed(api: &KubeApi) {
    let roles = untouched_roles();
    let mut map_roles = String::new();
    map_roles.push_str(&roles[0]);
    for i in 0..WRITERS {
        if let Some(b) = preexisting_b(i) {
            map_roles.push_str(&b);
        }
        if i == WRITERS / 2 {
            map_roles.push_str(&roles[1]);
        }
    }
    map_roles.push_str(&roles[2]);
    let map_users = untouched_users().concat();
    api.seed_aws_auth(&[
        ("mapRoles", &map_roles),
        ("mapUsers", &map_users),
        ("mapAccounts", ACCOUNTS),
        ("other", OTHER),
    ]);
}

/// The ARNs of a section's entries, in order, as `(arn, username, groups)`.
fn entries(section: &str, key: &str) -> Vec<(String, String, Vec<String>)> {
    let items: Vec<Value> = serde_saphyr::from_str(section)
        .unwrap_or_else(|e| panic!("the section no longer parses ({e}):\n{section}"));
    items
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            let groups = e["groups"]
                .as_array()
                .map(|g| {
                    g.iter()
                        .map(|g| g.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (text(key), text("username"), groups)
        })
        .collect()
}

/// Keeps faults coming in proportion to the traffic until `done`: after every 6th request
/// the next write answers 409 Conflict, after every 9th the next request answers 500, and
/// the next request after the 3rd, 40th, 80th and 120th has its connection dropped; every
/// request waits 5 ms. (Armed on request counts, not on a clock: writers that back off send
/// fewer requests, and a clock would then fault nearly all of them.)
fn inject_faults(api: &KubeApi, done: &AtomicBool) {
    const DROPS_AFTER: [usize; 4] = [3, 40, 80, 120];
    let faults = api.faults();
    faults.set_delay(Duration::from_millis(5));
    let mut seen = 0;
    let start = Instant::now();
    while !done.load(Ordering::SeqCst) && start.elapsed() < SOAK_BOUND {
        std::thread::sleep(Duration::from_millis(2));
        let now = api.requests().len();
        for n in seen + 1..=now {
            if n.is_multiple_of(6) {
                faults.conflict_next_writes(1);
            }
            if n.is_multiple_of(9) {
                faults.fail_next_requests(1);
            }
            if DROPS_AFTER.contains(&n) {
                faults.drop_next_requests(1);
            }
        }
        seen = now;
    }
    faults.clear();
}

#[test]
fn twenty_writers_under_conflicts_errors_and_dropped_connections_land_exactly_their_changes() {
    let started = Instant::now();
    let api = KubeApi::start(Options::new().admin_token("static-admin"));
    seed(&api);
    let dir = TestDir::new();
    dir.write("soak.rhai", SCRIPT);
    api.write_kubeconfig(&dir.join("admin.kubeconfig"), "static-admin");
    api.clear_requests();

    let done = AtomicBool::new(false);
    let outcomes: Vec<(Outcome, Duration)> = std::thread::scope(|s| {
        let faults = s.spawn(|| inject_faults(&api, &done));
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let cmd = dir
                    .cmd()
                    .args(["run", "soak.rhai", "--kubeconfig", "admin.kubeconfig"])
                    .set("i", &i.to_string())
                    .env(
                        "OKSCRIPT_BACKUP_DIR",
                        &dir.join("backups").display().to_string(),
                    );
                s.spawn(move || {
                    let t = Instant::now();
                    // `run` kills the process after the harness's timeout (exit code -1).
                    let out = cmd.run();
                    (out, t.elapsed())
                })
            })
            .collect();
        let outcomes = writers
            .into_iter()
            .map(|w| w.join().expect("a writer thread"))
            .collect();
        done.store(true, Ordering::SeqCst);
        faults.join().expect("the fault thread");
        outcomes
    });

    // No process hung, and each either succeeded or said that nothing was written.
    let mut succeeded = BTreeSet::new();
    for (i, (out, took)) in outcomes.iter().enumerate() {
        assert!(
            *took < PROCESS_BOUND && out.code != -1,
            "writer {i} hung ({took:?}):\n{out}"
        );
        match out.code {
            0 => {
                assert!(out.stdout.contains(&format!("writer {i} done")), "{out}");
                succeeded.insert(i);
            }
            1 => {
                assert!(
                    out.stderr.contains("nothing was written"),
                    "writer {i} failed without saying nothing was written:\n{out}"
                );
                eprintln!(
                    "soak: writer {i} failed after {took:?}: {}",
                    out.stderr.trim()
                );
            }
            _ => panic!("writer {i} ended oddly:\n{out}"),
        }
    }

    // The faults happened.
    let log = api.requests();
    let count = |status: u16| log.iter().filter(|r| r.status == status).count();
    let (conflicts, errors, drops) = (count(409), count(500), count(0));
    let puts = log.iter().filter(|r| r.method == "PUT").count();
    eprintln!(
        "soak: {} of {WRITERS} writers succeeded; {} requests ({puts} PUTs): {conflicts} conflicts, {errors} server errors, {drops} dropped; {:?}",
        succeeded.len(),
        log.len(),
        started.elapsed()
    );
    assert!(
        conflicts > 0 && errors > 0 && drops > 0,
        "the soak ran without faults"
    );
    // Failures are allowed (they said nothing was written), but most writers must get
    // through moderate faults, or the end-state checks below prove little.
    assert!(
        succeeded.len() >= WRITERS / 2,
        "only {} of {WRITERS} writers succeeded",
        succeeded.len()
    );

    // aws-auth holds exactly the union of the intended end states.
    let cm = api
        .config_map("kube-system", "aws-auth")
        .expect("aws-auth exists");
    let section = |k: &str| cm["data"][k].as_str().unwrap_or_default().to_string();
    let (map_roles, map_users) = (section("mapRoles"), section("mapUsers"));
    let mut want_roles = BTreeSet::from([
        NODE_ROLE.to_string(),
        role("untouched-flow"),
        role("untouched-odd-indent"),
    ]);
    let mut want_users = BTreeSet::from([user("cluster-admin"), user("ops/untouched")]);
    for i in 0..WRITERS {
        if succeeded.contains(&i) {
            want_roles.insert(role(&format!("soak-{i}-a")));
            want_users.insert(user(&format!("soak-{i}")));
        } else if preexisting_b(i).is_some() {
            want_roles.insert(role(&format!("soak-{i}-b")));
        }
    }
    let roles = entries(&map_roles, "rolearn");
    let users = entries(&map_users, "userarn");
    let role_arns: Vec<&String> = roles.iter().map(|r| &r.0).collect();
    let user_arns: Vec<&String> = users.iter().map(|u| &u.0).collect();
    assert_eq!(
        role_arns.iter().cloned().cloned().collect::<BTreeSet<_>>(),
        want_roles,
        "mapRoles:\n{map_roles}"
    );
    assert_eq!(
        role_arns.len(),
        want_roles.len(),
        "duplicates:\n{map_roles}"
    );
    assert_eq!(
        user_arns.iter().cloned().cloned().collect::<BTreeSet<_>>(),
        want_users,
        "mapUsers:\n{map_users}"
    );
    assert_eq!(
        user_arns.len(),
        want_users.len(),
        "duplicates:\n{map_users}"
    );
    for i in &succeeded {
        let team = vec![format!("team-{i}")];
        let a = roles
            .iter()
            .find(|r| r.0 == role(&format!("soak-{i}-a")))
            .expect("the a-role");
        assert_eq!(
            (&a.1, &a.2),
            (&format!("soak-{i}-a:{{{{SessionName}}}}"), &team)
        );
        let u = users
            .iter()
            .find(|u| u.0 == user(&format!("soak-{i}")))
            .expect("the user");
        assert_eq!((&u.1, &u.2), (&format!("soak-{i}"), &team));
    }

    // Every entry nobody touched keeps its exact text; the rest of the data is unchanged.
    for e in untouched_roles() {
        assert!(
            map_roles.contains(&e),
            "lost or altered {e:?}:\n{map_roles}"
        );
    }
    for e in untouched_users() {
        assert!(
            map_users.contains(&e),
            "lost or altered {e:?}:\n{map_users}"
        );
    }
    for i in (0..WRITERS).filter(|i| !succeeded.contains(i)) {
        if let Some(b) = preexisting_b(i) {
            assert!(
                map_roles.contains(&b),
                "writer {i} failed but changed {b:?}"
            );
        }
    }
    assert_eq!(section("mapAccounts"), ACCOUNTS);
    assert_eq!(section("other"), OTHER);
    assert!(
        started.elapsed() < SOAK_BOUND,
        "the soak took {:?}",
        started.elapsed()
    );
}

// ---- killed writers and their temp files (issue 13 item 6) ---------------------------------

/// A manifest of about `kib` KiB: the node role and comment padding.
fn big_manifest(kib: usize) -> String {
    let mut text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: {NODE_ROLE}\n      username: system:node:{{{{EC2PrivateDNSName}}}}\n      groups: [system:bootstrappers, system:nodes]\n");
    while text.len() < kib * 1024 {
        text.push_str(&format!("    # padding {}\n", "x".repeat(80)));
    }
    text
}

/// A hermetic okscript granting `arn` into `file` in `dir`, as a plain child process (the
/// test needs its PID and to SIGKILL it).
fn grant_process(dir: &TestDir, file: &str, arn: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("okscript"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .args(["run", &crate::util::script("grant-role.rhai")])
        .args(["--target", &format!("file:{file}")])
        .args(["--set", &format!("arn={arn}"), "--set", "groups=devs"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

fn temp_files(dir: &TestDir) -> Vec<String> {
    dir.list()
        .into_iter()
        .filter(|n| n.contains("okscript"))
        .collect()
}

#[test]
fn writers_killed_mid_write_leave_no_temp_file_after_the_next_run() {
    // Before the fix a SIGKILL left a full-size `.NAME.PID.okscript-tmp` behind forever.
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", big_manifest(300));
    let mut caught = 0;
    for i in 0..20 {
        let mut child = grant_process(&dir, &file, &role(&format!("killed-{i}")))
            .spawn()
            .expect("starting okscript");
        let started = Instant::now();
        let mut seen = false;
        while started.elapsed() < PROCESS_BOUND && !seen {
            seen = !temp_files(&dir).is_empty();
            if matches!(child.try_wait(), Ok(Some(_))) {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        if seen && !temp_files(&dir).is_empty() {
            caught += 1;
            if caught == 3 {
                break;
            }
        }
    }
    eprintln!("writers killed with their temp file on disk: {caught}");
    let out = grant_process(&dir, &file, &role("after"))
        .output()
        .expect("running okscript");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(temp_files(&dir), Vec::<String>::new(), "temp files left");
    assert!(dir.read(&file).contains(&role("after")));
}

#[test]
fn stale_temp_files_never_collide_and_are_cleaned_up() {
    // Before the fix the temp name was `.NAME.PID.okscript-tmp`: one left by a killed run made
    // the next run that got the same PID fail with "File exists". Plant that name for the
    // next few hundred PIDs, so the run is very likely to get one of them.
    let dir = TestDir::new();
    let file = dir.write("aws-auth.yaml", big_manifest(4));
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1000);
    let bait = |pid: u32| format!(".{file}.{pid}.okscript-tmp");
    for pid in last + 1..=last + 400 {
        dir.write(&bait(pid), "stale");
    }
    // A temp file of the current scheme whose process is gone...
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let of_dead = dir.write(
        &format!(".{file}.okscript-{dead}-0123456789abcdef.tmp"),
        "x",
    );
    // ...one whose PID lives (this test) but that is two hours old...
    let old = dir.write(
        &format!(
            ".{file}.okscript-{}-00000000000000aa.tmp",
            std::process::id()
        ),
        "x",
    );
    std::fs::File::options()
        .write(true)
        .open(dir.join(&old))
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    // ...one that may be another okscript's write in progress, and files that are not ours.
    let live = dir.write(
        &format!(
            ".{file}.okscript-{}-00000000000000bb.tmp",
            std::process::id()
        ),
        "x",
    );
    let foreign = [
        dir.write(
            &format!(".other.yaml.okscript-{dead}-0123456789abcdef.tmp"),
            "x",
        ),
        dir.write("notes.okscript-tmp", "x"),
    ];

    let child = grant_process(&dir, &file, &role("fresh"))
        .spawn()
        .expect("starting okscript");
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "okscript (PID {pid}) failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.read(&file).contains(&role("fresh")));
    assert!(
        !dir.exists(&bait(pid)),
        "its own PID's stale temp file is still there"
    );
    assert!(
        !dir.exists(&of_dead),
        "a dead process's temp file is still there"
    );
    assert!(!dir.exists(&old), "a two-hour-old temp file is still there");
    assert!(
        dir.exists(&live),
        "a live process's recent temp file was removed"
    );
    for f in &foreign {
        assert!(dir.exists(f), "{f} is not okscript's but was removed");
    }
    let left_bait = (last + 1..=last + 400)
        .filter(|p| dir.exists(&bait(*p)))
        .count();
    eprintln!("planted stale temp files still there (their PIDs live): {left_bait} of 400");
}
