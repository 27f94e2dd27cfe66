//! Issue 4 end to end: okscript against a live cluster — the fake apiserver of
//! `support::kube_api` over HTTPS, authenticating okscript's EKS tokens through moto's STS
//! and the aws-auth it stores, exactly as EKS does. The runbook's cluster steps become one
//! command each: no eksctl, no aws-iam-authenticator, no `kubectl edit`.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::kube_api::{EksAuth, KubeApi, Options};
use crate::support::{create_cluster, create_user_with_key, MotoServer, ACCOUNT};
use crate::util::{script, Cmd, TestDir};

const CLUSTER: &str = "my-cluster";
const REGION: &str = "eu-north-1";
const NODE: &str =
    "arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// moto (STS, IAM, EKS), an EKS cluster in it, a fake apiserver that checks EKS tokens
/// against moto, and a cluster admin whose IAM user is mapped to system:masters.
struct World {
    moto: MotoServer,
    kube: KubeApi,
    key: String,
    secret: String,
    dir: TestDir,
}

impl World {
    fn new() -> World {
        let moto = MotoServer::start();
        block_on(create_cluster(&moto, REGION, CLUSTER));
        let (key, secret) = block_on(create_user_with_key(&moto, "cluster-admin", None, true));
        let kube = KubeApi::start(
            Options::new()
                .admin_token("static-admin")
                .eks(EksAuth::new(CLUSTER, &moto.endpoint()).with_secret(&key, &secret)),
        );
        kube.seed_aws_auth(&[(
            "mapRoles",
            &format!("- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {NODE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"),
        ), (
            "mapUsers",
            &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/cluster-admin\n  username: cluster-admin\n  groups:\n  - system:masters\n"),
        )]);
        World {
            moto,
            kube,
            key,
            secret,
            dir: TestDir::new(),
        }
    }

    /// `okscript ARGS...` as the cluster admin, connected with --cluster/--server/--certificate-authority.
    fn okscript(&self) -> Cmd {
        self.as_user(&self.key, &self.secret)
    }

    fn as_user(&self, key: &str, secret: &str) -> Cmd {
        self.dir
            .cmd()
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key")
            .env(
                "OKSCRIPT_BACKUP_DIR",
                &self.dir.join("backups").display().to_string(),
            )
    }

    fn connect(&self, cmd: Cmd) -> Cmd {
        cmd.args(["--cluster", CLUSTER, "--server", self.kube.url()])
            .arg("--certificate-authority")
            .arg(self.kube.ca_file())
    }

    fn aws_auth(&self) -> Value {
        self.kube
            .config_map("kube-system", "aws-auth")
            .expect("aws-auth exists")
    }

    fn section(&self, key: &str) -> String {
        self.aws_auth()["data"][key]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn aws_auth_requests(&self) -> (usize, usize) {
        let reqs = self.kube.requests();
        let on = |m: &str| {
            reqs.iter()
                .filter(|r| r.method == m && r.path.ends_with("/configmaps/aws-auth"))
                .count()
        };
        (on("GET"), on("PUT"))
    }
}

#[test]
fn a_grant_lands_in_the_live_aws_auth_through_an_eks_token_with_a_backup() {
    // Runbook: "eksctl create iamidentitymapping --cluster ${CLUSTER} --arn ${ROLE_ARN} --group system:masters".
    let w = World::new();
    let out = w
        .connect(w.okscript().arg("run").arg(script("grant-role.rhai")).set("groups", "system:masters"))
        .set("arn", "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef")
        .run();
    out.expect_code(0)
        // The summary names the mechanism and the mode (issue 11; moto reports no mode: CONFIG_MAP).
        .expect_stdout(&["aws-auth ConfigMap kube-system/aws-auth in cluster my-cluster (authenticationMode CONFIG_MAP): 1 added, 0 changed, 0 removed"]);
    let roles = w.section("mapRoles");
    assert!(roles.contains("rolearn: arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef"), "{roles}");
    assert!(
        roles.starts_with("- groups:\n  - system:bootstrappers\n  - system:nodes\n"),
        "node role kept as written: {roles}"
    );
    // The writer authenticated as the mapped IAM user, through aws-auth, with an EKS token.
    let users: Vec<_> = w
        .kube
        .requests()
        .iter()
        .filter_map(|r| r.user.clone())
        .collect();
    assert!(users.iter().all(|u| u == "cluster-admin"), "{users:?}");
    // The previous ConfigMap was saved before the write.
    let backups = w.dir.join("backups").join(CLUSTER);
    let files: Vec<PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert!(!saved["data"]["mapRoles"]
        .as_str()
        .unwrap()
        .contains("AWSReservedSSO"));
    // Idempotent: the second run reads once and writes nothing.
    w.kube.clear_requests();
    w.connect(
        w.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .set("groups", "system:masters"),
    )
    .set(
        "arn",
        "arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef",
    )
    .run()
    .expect_code(0)
    .expect_stdout(&["no changes"]);
    assert_eq!(w.aws_auth_requests(), (1, 0));
}

#[test]
fn granting_500_principals_reads_aws_auth_once_and_writes_it_once() {
    let w = World::new();
    w.dir.write(
        "many.rhai",
        "for i in 0..500 { grant_role(`arn:aws:iam::123456789012:role/team-${i}`, [`team-${i}`]); }",
    );
    w.kube.clear_requests();
    w.connect(w.okscript().args(["run", "many.rhai"]))
        .run()
        .expect_code(0)
        .expect_stdout(&["500 added"]);
    assert_eq!(w.aws_auth_requests(), (1, 1));
    assert_eq!(w.section("mapRoles").matches("rolearn:").count(), 501);
}

#[test]
fn ten_concurrent_writers_never_lose_each_others_entries() {
    let w = World::new();
    let running: Vec<_> = (0..10)
        .map(|i| {
            w.connect(w.okscript().arg("run").arg(script("grant-role.rhai")))
                .set("arn", &format!("arn:aws:iam::123456789012:role/writer-{i}"))
                .set("groups", &format!("team-{i}"))
                .spawn()
        })
        .collect();
    for r in running {
        r.wait().expect_code(0);
    }
    let roles = w.section("mapRoles");
    for i in 0..10 {
        assert!(
            roles.contains(&format!(
                "rolearn: arn:aws:iam::123456789012:role/writer-{i}\n"
            )),
            "writer-{i} lost:\n{roles}"
        );
    }
    assert!(roles.contains(NODE));
    assert!(w.section("mapUsers").contains("cluster-admin"));
}

#[test]
fn injected_conflicts_and_server_errors_still_land_the_write_once() {
    let w = World::new();
    w.kube.faults().conflict_next_writes(3);
    let out = w
        .connect(
            w.okscript()
                .arg("run")
                .arg(script("grant-role.rhai"))
                .set("groups", "system:masters"),
        )
        .set("arn", "arn:aws:iam::123456789012:role/after-conflicts")
        .run();
    out.expect_code(0);
    assert_eq!(
        w.section("mapRoles")
            .matches("role/after-conflicts\n")
            .count(),
        1
    );
    w.kube.faults().fail_next_requests(2);
    w.connect(
        w.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .set("groups", "system:masters"),
    )
    .set("arn", "arn:aws:iam::123456789012:role/after-500s")
    .run()
    .expect_code(0);
    assert_eq!(
        w.section("mapRoles").matches("role/after-500s\n").count(),
        1
    );
}

#[test]
fn a_cluster_that_keeps_failing_gives_up_saying_nothing_was_written() {
    let w = World::new();
    let before = w.aws_auth();
    w.kube.faults().conflict_next_writes(100);
    w.connect(
        w.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .set("groups", "system:masters"),
    )
    .set("arn", "arn:aws:iam::123456789012:role/never")
    .run()
    .expect_code(1)
    .expect_stderr(&["gave up after", "nothing was written"]);
    w.kube.faults().clear();
    assert_eq!(w.aws_auth()["data"], before["data"]);
}

#[test]
fn a_missing_aws_auth_is_created_with_a_warning() {
    let w = World::new();
    w.kube.remove_config_map("kube-system", "aws-auth");
    // Without aws-auth only a static admin gets in: use a kubeconfig context.
    let kubeconfig = w.dir.join("admin.kubeconfig");
    w.kube.write_kubeconfig(&kubeconfig, "static-admin");
    let out = w
        .dir
        .cmd()
        .arg("run")
        .arg(script("grant-role.rhai"))
        .set("groups", "system:masters")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .set("arn", "arn:aws:iam::123456789012:role/first")
        .env(
            "OKSCRIPT_BACKUP_DIR",
            &w.dir.join("backups").display().to_string(),
        )
        .run();
    out.expect_code(0)
        .expect_stderr(&["does not exist: okscript will create it", "no node roles"]);
    assert!(w.section("mapRoles").contains("role/first"));
}

#[test]
fn restore_puts_the_saved_aws_auth_back() {
    let w = World::new();
    let before = w.aws_auth()["data"].clone();
    w.connect(
        w.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .set("groups", "system:masters"),
    )
    .set("arn", "arn:aws:iam::123456789012:role/oops")
    .run()
    .expect_code(0);
    assert!(w.section("mapRoles").contains("oops"));
    w.connect(w.okscript().arg("restore"))
        .run()
        .expect_code(0)
        .expect_stdout(&["restored from"]);
    assert_eq!(w.aws_auth()["data"], before);
}

#[test]
fn verify_proves_access_or_explains_the_401_in_words() {
    // Runbook: "kubectl get pods ... No resources found in default namespace."
    let w = World::new();
    w.connect(w.okscript().arg("run").arg(script("verify.rhai")))
        .run()
        .expect_code(0)
        .expect_stdout(&[
            "No resources found in default namespace.",
            "you have access as cluster-admin with groups system:masters",
        ]);
    // Someone not in aws-auth gets the diagnosis and the admin's command.
    let (key, secret) = block_on(create_user_with_key(&w.moto, "newcomer", None, false));
    let out = w
        .connect(
            w.as_user(&key, &secret)
                .arg("run")
                .arg(script("verify.rhai")),
        )
        .run();
    out.expect_code(1).expect_stdout(&[
        "does not know who you are (401 Unauthorized)",
        // The suggestion is read-only; cluster admin is named next to it, never alone.
        &format!("okscript run grant-user --cluster {CLUSTER} --set arn=arn:aws:iam::{ACCOUNT}:user/newcomer --set groups=viewers\n"),
        "or as cluster admin (system:masters",
    ]);
}

#[test]
fn token_and_kubeconfig_hand_kubectl_a_working_exec_plugin() {
    if !std::path::Path::new("/usr/bin/kubectl").exists() && which("kubectl").is_none() {
        eprintln!("SKIPPED: kubectl is not installed");
        return;
    }
    let w = World::new();
    // okscript token prints an ExecCredential like `aws eks get-token`.
    let out = w.okscript().args(["token", "--cluster", CLUSTER]).run();
    out.expect_code(0);
    let cred: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(cred["kind"], "ExecCredential");
    assert!(cred["status"]["token"]
        .as_str()
        .unwrap()
        .starts_with("k8s-aws-v1."));
    // okscript kubeconfig writes a context whose exec plugin is okscript token.
    let file = w.dir.join("kubeconfig");
    w.connect(
        w.okscript()
            .arg("kubeconfig")
            .arg("--kubeconfig")
            .arg(&file)
            .args(["--alias", "prod"]),
    )
    .run()
    .expect_code(0);
    w.kube.seed_pod("default", "web-1");
    let kubectl = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&file)
        .args(["get", "pods", "-o", "name"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", w.dir.path())
        .env("AWS_ACCESS_KEY_ID", &w.key)
        .env("AWS_SECRET_ACCESS_KEY", &w.secret)
        .env("AWS_ENDPOINT_URL", w.moto.endpoint())
        .env("AWS_REGION", REGION)
        .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&kubectl.stdout);
    assert!(
        kubectl.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    assert!(stdout.contains("pod/web-1"), "{stdout}");
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.exists())
}

#[test]
fn locking_yourself_out_is_caught_after_the_write_and_reported() {
    let w = World::new();
    w.dir.write(
        "lockout.rhai",
        "let me = login();\n// The guard stops this...\ntry { revoke_user(me.principal_arn, [\"system:masters\"]); } catch (e) { print(`refused: ${e}`); }\n// ...unless forced; then the safety net notices after the write.\nrevoke_user(me.principal_arn, [\"system:masters\"], #{force: true});\n",
    );
    let out = w.connect(w.okscript().args(["run", "lockout.rhai"])).run();
    out.expect_code(1)
        .expect_stdout(&[
            "refused: refusing to revoke access of arn:aws:iam::123456789012:user/cluster-admin",
        ])
        .expect_stderr(&["can no longer read aws-auth", "okscript restore"]);
    // The previous aws-auth is in the backups folder for another admin to put back.
    let backups = w.dir.join("backups").join(CLUSTER);
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 1);
    let static_admin = w.dir.join("admin.kubeconfig");
    w.kube.write_kubeconfig(&static_admin, "static-admin");
    let file = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    w.dir
        .cmd()
        .arg("restore")
        .arg(&file)
        .arg("--kubeconfig")
        .arg(&static_admin)
        .run()
        .expect_code(0);
    assert!(w.section("mapUsers").contains("system:masters"));
}

#[test]
fn dropped_connections_and_slow_answers_are_retried() {
    let w = World::new();
    w.kube.faults().drop_next_requests(2);
    w.kube
        .faults()
        .set_delay(std::time::Duration::from_millis(50));
    w.connect(
        w.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .set("groups", "system:masters"),
    )
    .set("arn", "arn:aws:iam::123456789012:role/after-drops")
    .run()
    .expect_code(0);
    w.kube.faults().clear();
    assert_eq!(
        w.section("mapRoles").matches("role/after-drops\n").count(),
        1
    );
}

#[test]
fn venv_starts_a_shell_set_up_for_the_cluster() {
    // Runbook: "okctl -a aws-profile -c cluster.yaml venv".
    let w = World::new();
    let shell = w.dir.write("fake-shell.sh", "#!/bin/sh\necho \"KUBECONFIG=$KUBECONFIG\"\necho \"OKSCRIPT_CLUSTER=$OKSCRIPT_CLUSTER\"\nexit 7\n");
    w.dir.set_mode(&shell, 0o755);
    let out = w
        .connect(w.okscript().arg("venv"))
        .env("OKSCRIPT_SHELL", &w.dir.join(&shell).display().to_string())
        .env("XDG_STATE_HOME", &w.dir.join("state").display().to_string())
        .run();
    out.expect_code(7).expect_stdout(&[
        "OKSCRIPT_CLUSTER=my-cluster",
        "KUBECONFIG=[TMP]/state/okscript/venv/my-cluster/kubeconfig",
    ]);
    let kubeconfig =
        std::fs::read_to_string(w.dir.join("state/okscript/venv/my-cluster/kubeconfig")).unwrap();
    assert!(
        kubeconfig.contains(w.kube.url()) && kubeconfig.contains("- token"),
        "{kubeconfig}"
    );
}

#[test]
fn a_cluster_given_as_a_declaration_is_the_default_target() {
    let w = World::new();
    w.dir.write(
        "cluster.yaml",
        format!("apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  accountID: \"{ACCOUNT}\"\n  name: {CLUSTER}\n  region: {REGION}\n"),
    );
    w.okscript()
        .arg("run")
        .arg(script("grant-role.rhai"))
        .set("groups", "system:masters")
        .args(["-c", "cluster.yaml", "--server", w.kube.url()])
        .arg("--certificate-authority")
        .arg(w.kube.ca_file())
        .set("arn", "arn:aws:iam::123456789012:role/from-declaration")
        .run()
        .expect_code(0);
    assert!(w.section("mapRoles").contains("role/from-declaration"));
}

// ---- backups (issue 13 item 8) ---------------------------------------------------------------

/// A fake cluster with a node role, reached with a static-admin kubeconfig, and a temp folder.
fn static_admin_cluster() -> (KubeApi, TestDir) {
    let api = KubeApi::start(Options::new().admin_token("static-admin"));
    api.seed_aws_auth(&[(
        "mapRoles",
        &format!("- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {NODE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"),
    )]);
    let dir = TestDir::new();
    api.write_kubeconfig(&dir.join("admin.kubeconfig"), "static-admin");
    (api, dir)
}

/// `grant-role.rhai` of role NAME into the cluster, backups under `backups/`.
fn grant_in(dir: &TestDir, name: &str) -> Cmd {
    dir.cmd()
        .env(
            "OKSCRIPT_BACKUP_DIR",
            &dir.join("backups").display().to_string(),
        )
        .args(["run", &script("grant-role.rhai")])
        .args(["--kubeconfig", "admin.kubeconfig"])
        .arg("--set")
        .arg(format!("arn=arn:aws:iam::{ACCOUNT}:role/{name}"))
        .args(["--set", "groups=devs"])
}

/// The one per-cluster folder under `backups/`.
fn backup_folder(dir: &TestDir) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(dir.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    folders[0].clone()
}

/// The regular files in `folder`, sorted.
fn regular_files(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn r13_8_backups_are_private_and_the_newest_n_are_kept() {
    let (_api, dir) = static_admin_cluster();
    for i in 0..5 {
        grant_in(&dir, &format!("kept-{i}"))
            .args(["--keep-backups", "3"])
            .run()
            .expect_code(0);
    }
    let folder = backup_folder(&dir);
    let files = regular_files(&folder);
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(mode(&folder), 0o700, "the backups folder is not private");
    for f in &files {
        assert_eq!(mode(&folder.join(f)), 0o600, "{f} is not private");
    }
    // The newest backup holds the aws-auth before the last write: kept-0..kept-3, no kept-4.
    let newest = std::fs::read_to_string(folder.join(files.last().unwrap())).unwrap();
    assert!(
        newest.contains("kept-3") && !newest.contains("kept-4"),
        "{newest}"
    );
    // The environment sets it too; a folder an older release made 0755 is made private.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    grant_in(&dir, "kept-5")
        .env("OKSCRIPT_KEEP_BACKUPS", "2")
        .run()
        .expect_code(0);
    assert_eq!(regular_files(&folder).len(), 2);
    assert_eq!(mode(&folder), 0o700, "the backups folder was left 0755");
    grant_in(&dir, "kept-6")
        .env("OKSCRIPT_KEEP_BACKUPS", "many")
        .run()
        .expect_code(64)
        .expect_stderr(&["OKSCRIPT_KEEP_BACKUPS", "many"]);
}

#[test]
fn r13_8_a_planted_symlink_with_the_backup_name_is_not_followed() {
    let (api, dir) = static_admin_cluster();
    grant_in(&dir, "first").run().expect_code(0);
    let folder = backup_folder(&dir);
    let victim = dir.write("victim.txt", "precious\n");
    let rv = api.config_map("kube-system", "aws-auth").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    // The names the next backup may take, for the next half minute, all pointing at the victim.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for s in now.saturating_sub(1)..now + 30 {
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{s}"), "+%Y%m%dT%H%M%SZ"])
            .output()
            .unwrap();
        let stamp = String::from_utf8(out.stdout).unwrap();
        std::os::unix::fs::symlink(
            dir.join(&victim),
            folder.join(format!("aws-auth-{}-rv{rv}.json", stamp.trim())),
        )
        .unwrap();
    }
    let before = regular_files(&folder);
    grant_in(&dir, "second").run().expect_code(0);
    assert_eq!(
        dir.read(&victim),
        "precious\n",
        "the backup went through the link"
    );
    let after = regular_files(&folder);
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let new: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
    let text = std::fs::read_to_string(folder.join(new[0])).unwrap();
    assert!(text.contains("first") && !text.contains("second"), "{text}");
    assert_eq!(mode(&folder.join(new[0])), 0o600);
}

// Issue 13 item 1 and issue 10 item 5: `okscript restore` checks what it puts back, shows the
// diff against the live aws-auth, and lists the backups with what each would change now.

impl World {
    /// Writes a ConfigMap backup named `file` holding `data`, as `namespace/name`.
    fn backup_file(&self, file: &str, namespace: &str, name: &str, data: Value) -> PathBuf {
        let cm = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": "7"},
            "data": data,
        });
        self.dir
            .write(file, serde_json::to_string_pretty(&cm).unwrap());
        self.dir.join(file)
    }

    /// The live data, as it is now (what a refused restore must leave).
    fn live_data(&self) -> Value {
        self.aws_auth()["data"].clone()
    }

    fn restore(&self, args: &[&str]) -> crate::util::Outcome {
        self.connect(self.okscript().arg("restore").args(args))
            .run()
    }

    fn backups(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("backups").join(CLUSTER))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }
}

#[test]
fn restore_refuses_a_backup_with_empty_data_that_would_remove_every_mapping() {
    let w = World::new();
    let before = w.live_data();
    let file = w.backup_file(
        "empty.json",
        "kube-system",
        "aws-auth",
        serde_json::json!({}),
    );
    w.kube.clear_requests();
    let out = w.restore(&[file.to_str().unwrap()]);
    out.expect_code(1).expect_stderr(&[
        "refusing to restore",
        "remove arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup",
        "node or Fargate role",
        "last `system:masters`",
        "logged in as",
        "nothing was written",
        "hint:",
        "--force",
    ]);
    // The diff of what it would undo is shown, against the live aws-auth.
    out.expect_stdout(&[
        "a/data.mapRoles",
        "-  rolearn: arn:aws:iam::123456789012:role/eksctl",
    ]);
    assert_eq!(w.live_data(), before);
    assert_eq!(w.aws_auth_requests().1, 0, "no write was sent");
}

#[test]
fn restore_refuses_a_backup_whose_map_roles_does_not_parse() {
    let w = World::new();
    let before = w.live_data();
    let file = w.backup_file(
        "tab.json",
        "kube-system",
        "aws-auth",
        serde_json::json!({"mapRoles": format!("- rolearn: {NODE}\n\tgroups:\n  - system:nodes\n")}),
    );
    w.kube.clear_requests();
    w.restore(&[file.to_str().unwrap()])
        .expect_code(1)
        .expect_stderr(&[
            "tab.json: data.mapRoles line 1",
            "found a tab",
            "nothing was written",
            "hint:",
        ]);
    assert_eq!(w.live_data(), before);
    assert!(
        w.kube.requests().is_empty(),
        "a bad backup never reaches the cluster"
    );
}

#[test]
fn restore_refuses_a_config_map_that_is_not_aws_auth() {
    let w = World::new();
    let before = w.live_data();
    let data = before.clone();
    let file = w.backup_file("other.json", "default", "other", data);
    w.restore(&[file.to_str().unwrap()])
        .expect_code(1)
        .expect_stderr(&[
            "holds the ConfigMap `default/other`, not `kube-system/aws-auth`",
            "nothing was written",
        ]);
    assert_eq!(w.live_data(), before);
    let file = w.backup_file("ns.json", "default", "aws-auth", serde_json::json!({}));
    w.restore(&[file.to_str().unwrap(), "--force"])
        .expect_code(1)
        .expect_stderr(&["`default/aws-auth`"]);
    assert_eq!(w.live_data(), before);
}

#[test]
fn restoring_a_backup_without_the_node_role_needs_force() {
    let w = World::new();
    let before = w.live_data();
    let mut data = before.clone();
    data["mapRoles"] = Value::String(
        "- rolearn: arn:aws:iam::123456789012:role/dev\n  groups:\n  - devs\n".into(),
    );
    let file = w.backup_file("no-node.json", "kube-system", "aws-auth", data.clone());
    w.kube.clear_requests();
    let out = w.restore(&[file.to_str().unwrap()]);
    out.expect_code(1)
        .expect_stderr(&["node or Fargate role", "--force"])
        .expect_stdout(&["+- rolearn: arn:aws:iam::123456789012:role/dev"]);
    assert!(!out.stderr.contains("system:masters"), "{}", out.stderr);
    assert_eq!(w.live_data(), before);
    assert_eq!(w.aws_auth_requests().1, 0);
    // With --force it is written, saying which guard it passed.
    let out = w.restore(&[file.to_str().unwrap(), "--force"]);
    out.expect_code(0)
        .expect_stdout(&["restored from", "1 added, 0 changed, 1 removed"])
        .expect_stderr(&["--force", "node or Fargate role"]);
    assert_eq!(w.live_data(), data);
}

#[test]
fn restore_dry_run_shows_the_real_diff_against_the_live_aws_auth_and_writes_nothing() {
    let w = World::new();
    w.connect(w.okscript().arg("run").arg(script("grant-role.rhai")))
        .set("groups", "devs")
        .set("arn", "arn:aws:iam::123456789012:role/oops")
        .run()
        .expect_code(0);
    let live = w.live_data();
    w.kube.clear_requests();
    let out = w.restore(&["--dry-run"]);
    out.expect_code(0).expect_stdout(&[
        "a/data.mapRoles",
        "-- rolearn: arn:aws:iam::123456789012:role/oops",
        "dry run",
        "0 to add, 0 to change, 1 to remove",
    ]);
    // Against the live map, not an empty one: the node role and the admin are context, not additions.
    let added: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert!(added.is_empty(), "{added:?}\n{}", out.stdout);
    assert_eq!(w.live_data(), live);
    assert_eq!(w.aws_auth_requests().1, 0);
    w.restore(&["--dry-run", "--detailed-exitcode"])
        .expect_code(2);
    // The real restore then does what the dry run said.
    w.restore(&[])
        .expect_code(0)
        .expect_stdout(&["restored from", "0 added, 0 changed, 1 removed"]);
    assert!(!w.section("mapRoles").contains("oops"));
    w.restore(&["--dry-run", "--detailed-exitcode"])
        .expect_code(2);
}

#[test]
fn restore_list_shows_each_backup_newest_first_with_what_it_would_change_now() {
    let w = World::new();
    for arn in ["oops1", "oops2"] {
        w.connect(w.okscript().arg("run").arg(script("grant-role.rhai")))
            .set("groups", "devs")
            .set("arn", &format!("arn:aws:iam::123456789012:role/{arn}"))
            .run()
            .expect_code(0);
    }
    let files = w.backups();
    assert_eq!(files.len(), 2, "{files:?}");
    let live = w.live_data();
    let out = w.restore(&["--list"]);
    out.expect_code(0);
    let rows: Vec<&str> = out.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    // Newest first: the state before oops2 was granted.
    assert!(
        rows[0].contains(
            "0 to add, 0 to change, 1 to remove; removes arn:aws:iam::123456789012:role/oops2"
        ),
        "{}",
        out.stdout
    );
    assert!(!rows[0].contains("oops1"), "{}", out.stdout);
    assert!(
        rows[1].contains("2 to remove; removes arn:aws:iam::123456789012:role/oops1, arn:aws:iam::123456789012:role/oops2"),
        "{}",
        out.stdout
    );
    for row in &rows {
        assert!(row.starts_with("20"), "a UTC time first: {row}");
        assert!(row.contains(" rv "), "{row}");
        assert!(row.contains("aws-auth-"), "the file name: {row}");
    }
    assert_eq!(w.live_data(), live, "listing writes nothing");
    // A name as --list shows it is enough to restore that backup.
    let oldest = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(rows[1].contains(&oldest), "{}", out.stdout);
    w.restore(&[&oldest])
        .expect_code(0)
        .expect_stdout(&["restored from", "2 removed"]);
    assert!(!w.section("mapRoles").contains("oops"));
}
