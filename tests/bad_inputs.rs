//! A table-driven sweep of malformed inputs across okscript's whole surface: ARNs, usernames
//! and groups, account ids, `--set` values, `--target` specs, okctl cluster declarations,
//! kubeconfigs, AWS config files, aws-auth ConfigMaps (in a file and in a cluster) and
//! scripts that break the engine's limits or do not compile.
//!
//! Every row names its input, the exit code it must end with (1: the script failed or the
//! input was refused; 2: a usage error), and the words the error must hold (the field, line,
//! flag or limit that is wrong). Then every row checks that nothing was written: each file
//! and folder of the temp folder (which is also HOME) is byte-identical to before, nothing
//! new appeared (no backup, no temp file), and, for cluster rows, the fake apiserver's
//! aws-auth is the same object and no PUT, POST, PATCH or DELETE reached it.
//!
//! Rows that show a bug are `#[ignore = "bug: ..."]` and assert the behaviour okscript should
//! have; they pass once the bug is fixed.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::kube_api::{KubeApi, Options};
use crate::util::{fixture_names, fixture_text, script, TestDir, NODE_ROLE};

const ROLE: &str = "arn:aws:iam::123456789012:role/dev";
const USER: &str = "arn:aws:iam::123456789012:user/someone@email.com";
/// The fixture most rows target: node role, SSO admin, one IAM user.
const BASE: &str = "sso-and-users";
/// The file rows write their own ConfigMap to.
const CM: &str = "aws-auth.yaml";
/// How long one row may take, start to end (the harness kills a process after 30 s).
const ROW_BUDGET: Duration = Duration::from_secs(20);

const HEADER: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n";

/// An aws-auth manifest whose `data` is `body` (already indented by two spaces).
fn manifest(body: &str) -> String {
    format!("{HEADER}data:\n{body}")
}

/// What the fake apiserver holds before a cluster row runs.
enum Seed {
    /// `kube-system/aws-auth` with these data keys.
    Data(Vec<(String, String)>),
    /// A ConfigMap manifest (YAML), stored as it is.
    Yaml(String),
}

/// One malformed input and what okscript must answer.
struct Row {
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cluster: Option<Seed>,
    /// Connection flags added after the row's own arguments for cluster rows.
    connect: Vec<String>,
    code: i32,
    needles: Vec<String>,
}

fn row() -> Row {
    Row {
        files: Vec::new(),
        args: Vec::new(),
        env: Vec::new(),
        cluster: None,
        connect: vec!["--kubeconfig".into(), "admin.kubeconfig".into()],
        code: 0,
        needles: Vec::new(),
    }
}

/// `run scripts/grant-role.rhai --target file:sso-and-users.yaml --set arn=ARN`.
fn grant_role(arn: &str) -> Row {
    row()
        .fixture(BASE)
        .shipped("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&format!("{BASE}.yaml"))
        .set("arn", arn)
}

/// `run scripts/grant-user.rhai --target file:sso-and-users.yaml --set arn=ARN`.
fn grant_user(arn: &str) -> Row {
    row()
        .fixture(BASE)
        .shipped("grant-user.rhai")
        .set("groups", "system:masters")
        .target(&format!("{BASE}.yaml"))
        .set("arn", arn)
}

/// A grant of [`ROLE`] into the manifest file `text`.
fn grant_into(text: &str) -> Row {
    row()
        .file(CM, text)
        .shipped("grant-role.rhai")
        .set("groups", "system:masters")
        .target(CM)
        .set("arn", ROLE)
}

/// A grant of [`ROLE`] into `tests/data/aws-auth/NAME.yaml`.
fn grant_into_fixture(name: &str) -> Row {
    row()
        .fixture(name)
        .shipped("grant-role.rhai")
        .set("groups", "system:masters")
        .target(&format!("{name}.yaml"))
        .set("arn", ROLE)
}

/// A script that stages a valid grant and then runs `rest`, against the base fixture.
fn after_a_grant(rest: &str) -> Row {
    row()
        .fixture(BASE)
        .script(&format!("grant_role(\"{ROLE}\", [\"devs\"]);\n{rest}\n"))
        .target(&format!("{BASE}.yaml"))
}

/// A grant of [`ROLE`] into the fake cluster, connected with a static-admin kubeconfig.
fn grant_in_cluster(seed: Seed) -> Row {
    row()
        .shipped("grant-role.rhai")
        .set("groups", "system:masters")
        .set("arn", ROLE)
        .cluster(seed)
}

/// The aws-auth most cluster rows start from: a node role and a mapped admin user.
fn healthy_cluster() -> Seed {
    Seed::Data(vec![
        (
            "mapRoles".into(),
            format!("- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {NODE_ROLE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"),
        ),
        (
            "mapUsers".into(),
            format!("- userarn: {USER}\n  username: someone@email.com\n  groups:\n  - system:masters\n"),
        ),
    ])
}

/// A mapRoles text (no indentation) of `len - 8` bytes holding one node role and comments:
/// `mapRoles` plus it make `len` bytes of ConfigMap data, and any grant adds more.
fn padded_map_roles(len: usize) -> String {
    let mut text = format!("- rolearn: {NODE_ROLE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes]\n");
    let want = len - "mapRoles".len();
    while text.len() < want {
        let room = want - text.len();
        let line = if room > 100 {
            format!("# padding {}\n", "x".repeat(88))
        } else {
            format!("#{}\n", "x".repeat(room.saturating_sub(2)))
        };
        text.push_str(&line);
    }
    assert_eq!(text.len(), want, "padding arithmetic");
    text
}

/// The same as a manifest file, the section as a literal block.
fn padded_manifest(len: usize) -> String {
    let block: String = padded_map_roles(len)
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    manifest(&format!("  mapRoles: |\n{block}"))
}

/// One byte short of the 1 MiB a ConfigMap's data may hold.
const NEARLY_ONE_MIB: usize = 1024 * 1024 - 1;

impl Row {
    fn file(mut self, name: &str, contents: impl AsRef<[u8]>) -> Row {
        self.files
            .push((name.to_string(), contents.as_ref().to_vec()));
        self
    }

    /// Copies `tests/data/aws-auth/NAME.yaml` to `NAME.yaml`.
    fn fixture(self, name: &str) -> Row {
        self.file(&format!("{name}.yaml"), fixture_text(name))
    }

    /// `run s.rhai` with this source.
    fn script(self, source: &str) -> Row {
        self.file("s.rhai", source).args(&["run", "s.rhai"])
    }

    /// `run scripts/NAME`.
    fn shipped(self, name: &str) -> Row {
        self.args(&["run", &script(name)])
    }

    fn args(mut self, args: &[&str]) -> Row {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    fn set(self, key: &str, value: &str) -> Row {
        self.args(&["--set", &format!("{key}={value}")])
    }

    fn target(self, file: &str) -> Row {
        self.args(&["--target", &format!("file:{file}")])
    }

    fn env(mut self, key: &str, value: &str) -> Row {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Starts the fake apiserver with `seed`, and connects through a static-admin kubeconfig.
    fn cluster(mut self, seed: Seed) -> Row {
        self.cluster = Some(seed);
        self
    }

    /// For cluster rows: these connection flags instead of the static-admin kubeconfig.
    fn connect(mut self, flags: &[&str]) -> Row {
        self.connect = flags.iter().map(|f| f.to_string()).collect();
        self
    }

    /// The exit code and the words the error must hold.
    fn fails(mut self, code: i32, needles: &[&str]) -> Row {
        self.code = code;
        self.needles.extend(needles.iter().map(|n| n.to_string()));
        self
    }

    fn check(self) {
        assert_ne!(self.code, 0, "a row must expect a failure");
        assert!(
            !self.needles.is_empty(),
            "a row must name what the error says"
        );
        let started = Instant::now();
        let dir = TestDir::new();
        for (name, contents) in &self.files {
            dir.write(name, contents);
        }
        let mut args = self.args.clone();
        let api = self.cluster.as_ref().map(|seed| {
            let api = KubeApi::start(Options::new().admin_token("static-admin"));
            match seed {
                Seed::Data(data) => {
                    let data: Vec<(&str, &str)> =
                        data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    api.seed_aws_auth(&data);
                }
                Seed::Yaml(yaml) => {
                    api.seed_config_map_yaml(yaml);
                }
            }
            api.write_kubeconfig(&dir.join("admin.kubeconfig"), "static-admin");
            args.extend(self.connect.iter().cloned());
            api
        });
        let files_before = snapshot(dir.path());
        let cluster_before = api
            .as_ref()
            .map(|a| a.config_map("kube-system", "aws-auth"));
        if let Some(a) = &api {
            a.clear_requests();
        }

        let mut cmd = dir.cmd().args(&args);
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        let out = cmd.run();

        assert_eq!(
            out.code, self.code,
            "unexpected exit code for {args:?}:\n{out}"
        );
        for n in &self.needles {
            assert!(
                out.stderr.contains(n.as_str()),
                "stderr lacks {n:?} for {args:?}:\n{out}"
            );
        }
        let files_after = snapshot(dir.path());
        assert_eq!(
            files_changed(&files_before, &files_after),
            Vec::<String>::new(),
            "files changed although the run failed:\n{out}"
        );
        if let Some(a) = &api {
            assert_eq!(
                a.config_map("kube-system", "aws-auth"),
                cluster_before.flatten(),
                "the cluster's aws-auth changed:\n{out}"
            );
            let writes: Vec<String> = a
                .requests()
                .iter()
                .filter(|r| matches!(r.method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE"))
                .filter(|r| r.path.contains("/configmaps"))
                .map(|r| r.summary())
                .collect();
            assert!(
                writes.is_empty(),
                "writes reached the cluster: {writes:?}\n{out}"
            );
        }
        let took = started.elapsed();
        assert!(took < ROW_BUDGET, "the row took {took:?}:\n{out}");
    }
}

/// Every file and folder under `root`: relative path → (mode, bytes; `None` for folders).
fn snapshot(root: &Path) -> BTreeMap<String, (u32, Option<Vec<u8>>)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("reading the temp folder") {
            let path = entry.expect("an entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let rel = path
                .strip_prefix(root)
                .expect("inside the root")
                .display()
                .to_string();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                todo.push(path);
                out.insert(rel, (mode, None));
            } else {
                let bytes = std::fs::read(&path).expect("reading a file");
                out.insert(rel, (mode, Some(bytes)));
            }
        }
    }
    out
}

/// The paths that appeared, disappeared or changed between two snapshots.
fn files_changed(
    before: &BTreeMap<String, (u32, Option<Vec<u8>>)>,
    after: &BTreeMap<String, (u32, Option<Vec<u8>>)>,
) -> Vec<String> {
    let mut changed = Vec::new();
    for (path, was) in before {
        match after.get(path) {
            None => changed.push(format!("{path}: deleted")),
            Some(now) if now != was => changed.push(format!("{path}: changed")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        changed.push(format!("{path}: created"));
    }
    changed
}

/// One `#[test]` per row (so a bug row can be `#[ignore]`d alone), and their names.
macro_rules! rows {
    ($($(#[$meta:meta])* $name:ident: $row:expr;)+) => {
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                $row.check();
            }
        )+
        /// The name of every row.
        const ROWS: &[&str] = &[$(stringify!($name)),+];
    };
}

rows! {
    // ---- ARNs ------------------------------------------------------------------------------
    arn_wrong_partition: grant_role("arn:awz:iam::123456789012:role/dev")
        .fails(1, &["grant-role.rhai:", "unknown partition `awz`"]);
    arn_eleven_digit_account: grant_role("arn:aws:iam::12345678901:role/dev")
        .fails(1, &["the account must be 12 digits, found `12345678901`"]);
    arn_thirteen_digit_account: grant_role("arn:aws:iam::1234567890123:role/dev")
        .fails(1, &["the account must be 12 digits, found `1234567890123`"]);
    arn_account_with_a_space: grant_role("arn:aws:iam::12345 678901:role/dev")
        .fails(1, &["the account must be 12 digits, found `12345 678901`"]);
    arn_group: grant_role("arn:aws:iam::123456789012:group/devs")
        .fails(1, &["`arn:aws:iam::123456789012:group/devs` is not an IAM role or user"]);
    arn_role_name_with_spaces: grant_role("arn:aws:iam::123456789012:role/dev ops")
        .fails(1, &["`dev ops` is not a valid IAM role name"]);
    arn_role_name_too_long: grant_role(&format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65)))
        .fails(1, &["is not a valid IAM role name (1-64"]);
    arn_role_without_name: grant_role("arn:aws:iam::123456789012:role/")
        .fails(1, &["`` is not a valid IAM role name"]);
    arn_empty: grant_role("")
        .fails(1, &["`` is not an ARN"]);
    arn_not_an_arn: grant_role("dev")
        .fails(1, &["`dev` is not an ARN"]);
    arn_s3_bucket: grant_role("arn:aws:s3:::my-bucket")
        .fails(1, &["`arn:aws:s3:::my-bucket`"]);
    arn_with_a_region: grant_role("arn:aws:iam:eu-west-1:123456789012:role/dev")
        .fails(1, &["is not an IAM role or user"]);
    arn_path_with_double_slash: grant_role("arn:aws:iam::123456789012:role/team//dev")
        .fails(1, &["the IAM path `/team//` is malformed"]);
    arn_assumed_role_without_session: grant_role("arn:aws:sts::123456789012:assumed-role/dev")
        .fails(1, &["`arn:aws:sts::123456789012:assumed-role/dev`"]);
    arn_assumed_role_empty_session: grant_role("arn:aws:sts::123456789012:assumed-role/dev/")
        .fails(1, &["is not a valid IAM session name"]);
    arn_account_root: grant_role("arn:aws:iam::123456789012:root")
        .fails(1, &["is not an IAM role or user"]);
    arn_federated_user_revoked: row().fixture(BASE).shipped("revoke.rhai").target("sso-and-users.yaml")
        .set("arn", "arn:aws:sts::123456789012:federated-user/bob")
        .fails(1, &["revoke.rhai:", "federated-user/bob` is not an IAM role or user"]);
    arn_user_given_to_grant_role: grant_role(USER)
        .fails(1, &["is an IAM user ARN, but this needs an IAM role ARN"]);
    arn_role_given_to_grant_user: grant_user(ROLE)
        .fails(1, &["is an IAM role ARN, but this needs an IAM user ARN"]);

    // ---- usernames and groups --------------------------------------------------------------
    username_empty: grant_role(ROLE).set("username", "")
        .fails(1, &["the username is empty"]);
    username_white_space: grant_role(ROLE).set("username", "dev ops")
        .fails(1, &["the username `dev ops` contains white space"]);
    username_unknown_template: grant_role(ROLE).set("username", "dev:{{SessionNme}}")
        .fails(1, &["`{{SessionNme}}`, which is not a template the authenticator knows"]);
    username_stray_closing_braces: grant_role(ROLE).set("username", "dev}}")
        .fails(1, &["the username `dev}}` uses `}}`"]);
    username_unclosed_template: grant_role(ROLE).set("username", "dev:{{SessionName")
        .fails(1, &["the username `dev:{{SessionName` uses `{{SessionName`"]);
    user_username_empty: after_a_grant(&format!("grant_user(\"{USER}\", \"\", [\"devs\"]);"))
        .fails(1, &["s.rhai:2:", "the username is empty"]);
    group_white_space: grant_role(ROLE).set("groups", "devs,dev ops")
        .fails(1, &["the group `dev ops` contains white space"]);
    group_unknown_template: grant_role(ROLE).set("groups", "{{Team}}")
        .fails(1, &["the group `{{Team}}` uses `{{Team}}`"]);
    group_empty_in_script: after_a_grant(&format!("grant_role(\"{ROLE}\", [\"\"]);"))
        .fails(1, &["s.rhai:2:", "the group is empty"]);
    group_not_a_string: after_a_grant(&format!("grant_role(\"{ROLE}\", [7]);"))
        .fails(1, &["s.rhai:2:", "each group must be a string, but it is i64"]);

    // ---- account ids -----------------------------------------------------------------------
    account_too_short: row().fixture(BASE).shipped("revoke.rhai").target("sso-and-users.yaml")
        .set("account", "12345")
        .fails(1, &["`12345` is not an AWS account id: it must be exactly 12 digits"]);
    account_with_spaces: row().fixture(BASE).shipped("revoke.rhai").target("sso-and-users.yaml")
        .set("account", "1234 5678 9012")
        .fails(1, &["`1234 5678 9012` is not an AWS account id"]);
    account_with_a_letter: after_a_grant("grant_account(\"12345678901a\");")
        .fails(1, &["s.rhai:2:", "`12345678901a` is not an AWS account id"]);

    // ---- --set -----------------------------------------------------------------------------
    set_without_equals: grant_role(ROLE).args(&["--set", "novalue"])
        .fails(64, &["--set", "`novalue` is not KEY=VALUE"]);
    set_empty_key: grant_role(ROLE).args(&["--set", "=x"])
        .fails(64, &["--set", "`` is not a valid key"]);
    set_key_with_a_space: grant_role(ROLE).args(&["--set", "user name=x"])
        .fails(64, &["`user name` is not a valid key"]);
    set_missing_required_arn: row().fixture(BASE).shipped("grant-role.rhai").target("sso-and-users.yaml")
        .fails(64, &["grant-role.rhai needs `--set arn=...`", "--set arn=VALUE"]);
    set_missing_required_user_arn: row().fixture(BASE).shipped("grant-user.rhai").target("sso-and-users.yaml")
        .fails(64, &["grant-user.rhai needs `--set arn=...`", "--set arn=VALUE"]);
    set_missing_arn_or_account_for_revoke: row().fixture(BASE).shipped("revoke.rhai").target("sso-and-users.yaml")
        .fails(1, &["revoke.rhai:", "this script needs a value for `arn`"]);

    // ---- --target and other flags ----------------------------------------------------------
    target_file_without_path: row().shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).args(&["--target", "file:"])
        .fails(64, &["--target", "unknown target `file:`"]);
    target_unknown_scheme: row().shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).args(&["--target", "s3://bucket/aws-auth.yaml"])
        .fails(64, &["unknown target `s3://bucket/aws-auth.yaml`"]);
    target_from_the_environment: row().shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).env("OKSCRIPT_TARGET", "files:aws-auth.yaml")
        .fails(64, &["unknown target `files:aws-auth.yaml`"]);
    target_cluster_without_a_cluster: row().shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).args(&["--target", "cluster"])
        .fails(1, &["this script uses a cluster, but none was given", "--cluster NAME"]);
    target_in_a_missing_folder: row().shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).target("gitops/aws-auth.yaml")
        .fails(1, &["its folder gitops does not exist; nothing was written"]);
    target_is_a_folder: row().file("gitops/README", "x").shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).target("gitops")
        .fails(1, &["gitops is a folder, not a regular file", "nothing was written"]);
    target_not_utf8: row().file(CM, b"apiVersion: v1\nkind: ConfigMap\n# \xff\xfe\n").shipped("grant-role.rhai").set("groups", "system:masters").set("arn", ROLE).target(CM)
        .fails(1, &["aws-auth.yaml", "not UTF-8"]);
    script_missing: row().fixture(BASE).args(&["run", "grant.rhai"]).target("sso-and-users.yaml")
        .fails(64, &["cannot read script grant.rhai"]);
    unknown_flag: grant_role(ROLE).args(&["--bogus"])
        .fails(64, &["unexpected argument '--bogus'"]);
    unknown_output_format: grant_role(ROLE).args(&["--output", "xml"])
        .fails(64, &["invalid value 'xml' for '--output"]);
    max_operations_zero: grant_role(ROLE).args(&["--max-operations", "0"])
        .fails(64, &["--max-operations"]);
    timeout_not_a_number: grant_role(ROLE).args(&["--timeout", "soon"])
        .fails(64, &["invalid value 'soon' for '--timeout"]);
    credentials_type_flag_unknown: grant_role(ROLE).args(&["-a", "password"])
        .fails(64, &["invalid value 'password' for '--aws-credentials-type"]);
    credentials_type_env_unknown: grant_role(ROLE).env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "password")
        .fails(64, &["OKSCRIPT_AWS_CREDENTIALS_TYPE: unknown AWS credentials type `password`"]);

    // ---- okctl cluster declarations (-c) ---------------------------------------------------
    declaration_bad_account_fixture: grant_role(ROLE)
        .file("cluster.yaml", std::fs::read(Path::new(crate::util::ROOT).join("tests/data/okctl/cluster-bad-account.yaml")).unwrap())
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["cluster.yaml: the cluster declaration has a bad `metadata.accountID`", "11 digits"]);
    declaration_account_as_short_number: grant_role(ROLE)
        .file("cluster.yaml", "apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: c\n  region: eu-north-1\n  accountID: 12345678901\n")
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["`metadata.accountID`", "has 11 digits instead of 12"]);
    declaration_not_yaml: grant_role(ROLE)
        .file("cluster.yaml", "apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata: [\n")
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["cluster.yaml: the cluster declaration is not valid YAML", "line 3"]);
    declaration_without_name: grant_role(ROLE)
        .file("cluster.yaml", "apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  region: eu-north-1\n  accountID: \"123456789012\"\n")
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["bad `metadata.name`: it is missing or empty"]);
    declaration_without_region: grant_role(ROLE)
        .file("cluster.yaml", "apiVersion: okctl.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: c\n  accountID: \"123456789012\"\n")
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["bad `metadata.region`"]);
    declaration_wrong_kind: grant_role(ROLE)
        .file("cluster.yaml", "apiVersion: okctl.io/v1alpha1\nkind: ClusterConfig\nmetadata:\n  name: c\n  region: eu-north-1\n  accountID: \"123456789012\"\n")
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["bad `kind`: it is `ClusterConfig`"]);
    declaration_wrong_api_version: grant_role(ROLE)
        .file("cluster.yaml", "apiVersion: eksctl.io/v1alpha5\nkind: Cluster\nmetadata:\n  name: c\n  region: eu-north-1\n  accountID: \"123456789012\"\n")
        .args(&["-c", "cluster.yaml"])
        .fails(64, &["bad `apiVersion`: it is `eksctl.io/v1alpha5`"]);
    declaration_missing_file: grant_role(ROLE).args(&["-c", "cluster.yaml"])
        .fails(64, &["cannot read cluster declaration cluster.yaml"]);

    // ---- kubeconfigs -----------------------------------------------------------------------
    kubeconfig_not_yaml: grant_in_cluster(healthy_cluster())
        .file("broken.kubeconfig", "apiVersion: v1\nkind: Config\nclusters: [\n")
        .connect(&["--kubeconfig", "broken.kubeconfig", "--context", "kube-fake"])
        .fails(1, &["broken.kubeconfig", "line 3 column 11"]);
    kubeconfig_a_list: grant_in_cluster(healthy_cluster())
        .file("list.kubeconfig", "- kind: Config\n")
        .connect(&["--kubeconfig", "list.kubeconfig", "--context", "kube-fake"])
        .fails(1, &["list.kubeconfig", "line 1 column 1"]);
    kubeconfig_unknown_context: grant_in_cluster(healthy_cluster())
        .connect(&["--kubeconfig", "admin.kubeconfig", "--context", "prod"])
        .fails(1, &["grant-role.rhai:", "context", "prod"]);
    kubeconfig_missing_file: grant_in_cluster(healthy_cluster())
        .connect(&["--kubeconfig", "missing.kubeconfig", "--context", "kube-fake"])
        .fails(1, &["missing.kubeconfig", "No such file"]);

    // ---- AWS config files ------------------------------------------------------------------
    aws_profile_missing: row().fixture(BASE).script("assume_profile(\"prod\");\n").target("sso-and-users.yaml")
        .file(".aws/config", "[default]\nregion = eu-north-1\n\n[profile dev]\nregion = eu-north-1\n")
        .fails(1, &["s.rhai:1:", "AWS profile `prod` does not exist", "the profiles that do: default, dev"]);
    aws_profile_from_the_environment_missing: row().fixture(BASE).script("login(\"aws-profile\");\n").target("sso-and-users.yaml")
        .file(".aws/config", "[default]\nregion = eu-north-1\n")
        .env("AWS_PROFILE", "prod")
        .fails(1, &["AWS profile `prod` does not exist", "AWS_PROFILE"]);
    aws_config_malformed_line: row().fixture(BASE).script("login(\"aws-profile\");\n").target("sso-and-users.yaml")
        .file(".aws/config", "[default\nregion = eu-north-1\n")
        .fails(1, &[".aws/config", "line 1", "[default"]);

    // ---- aws-auth ConfigMaps in a file -----------------------------------------------------
    file_fixture_broken_shape: grant_into_fixture("broken-shape")
        .fails(1, &["broken-shape.yaml:16: data.mapUsers line 1: must be a list of entries", "nothing was written"]);
    file_fixture_broken_tabs: grant_into_fixture("broken-tabs")
        .fails(1, &["broken-tabs.yaml:10: data.mapRoles line 7", "tab", "nothing was written"]);
    file_tab_in_block_section: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: {ROLE}\n    \tusername: dev\n")))
        .fails(1, &["aws-auth.yaml:8: data.mapRoles line 1", "tab", "nothing was written"]);
    file_section_is_a_mapping: grant_into(&manifest(&format!("  mapRoles: |\n    rolearn: {ROLE}\n    username: dev\n")))
        .fails(1, &["aws-auth.yaml:8: data.mapRoles line 1: must be a list of entries", "but it is a mapping"]);
    file_duplicate_key_in_an_entry: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: {ROLE}\n      username: a\n      username: b\n      groups: [devs]\n")))
        .fails(1, &["aws-auth.yaml:10: data.mapRoles line 3: the key `username` appears twice in one entry"]);
    file_duplicate_key_differing_in_case: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: {ROLE}\n      roleARN: {ROLE}\n")))
        .fails(1, &["appears twice in one entry (keys are compared ignoring case)"]);
    file_flow_style_garbage: grant_into(&manifest("  mapRoles: \"[ {rolearn: , ]] }\"\n"))
        .fails(1, &["aws-auth.yaml:7: data.mapRoles line 1: not valid YAML", "nothing was written"]);
    file_section_is_a_number: grant_into(&manifest("  mapRoles: 5\n"))
        .fails(1, &["aws-auth.yaml:7: data.mapRoles line 1: must be a list of entries", "number"]);
    file_section_is_a_yaml_list: grant_into(&manifest(&format!("  mapRoles:\n  - rolearn: {ROLE}\n")))
        .fails(1, &["aws-auth.yaml:8: `data.mapRoles` must be a string holding YAML", "mapRoles: |"]);
    file_data_is_a_list: grant_into(&format!("{HEADER}data:\n- mapRoles\n"))
        .fails(1, &["aws-auth.yaml:7: `data` must be a mapping of keys to strings, but it is a list"]);
    file_groups_is_a_string: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: {ROLE}\n      groups: system:masters\n")))
        .fails(1, &["aws-auth.yaml:9: data.mapRoles line 2: `groups` must be a list, but it is a string"]);
    file_entry_without_rolearn: grant_into(&manifest("  mapRoles: |\n    - username: dev\n      groups: [devs]\n"))
        .fails(1, &["aws-auth.yaml:8: data.mapRoles line 1: this entry has no `rolearn`"]);
    file_entry_is_a_string: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: {ROLE}\n    - {ROLE}\n")))
        .fails(1, &["aws-auth.yaml:9: data.mapRoles line 2: each entry must be a mapping", "but this one is a string"]);
    file_yaml_alias_in_a_section: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: &r {ROLE}\n    - rolearn: *r\n")))
        .fails(1, &["aws-auth.yaml:9: data.mapRoles line 2: YAML aliases"]);
    file_a_secret: grant_into("apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata: {}\n")
        .fails(1, &["aws-auth.yaml:2: `kind` is `Secret`, but okscript edits only the aws-auth ConfigMap"]);
    file_configmap_named_coredns: grant_into("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\ndata:\n  Corefile: |\n    .:53 {}\n")
        .fails(1, &["aws-auth.yaml:4: `metadata.name` is `coredns`"]);
    file_wrong_namespace: grant_into("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: default\n")
        .fails(1, &["aws-auth.yaml:5: `metadata.namespace` is `default`"]);
    file_wrong_api_version: grant_into("apiVersion: v2\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n")
        .fails(1, &["aws-auth.yaml:1: `apiVersion` is `v2`"]);
    file_several_documents_without_aws_auth: grant_into("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-proxy\n")
        .fails(1, &["aws-auth.yaml: none of the 2 documents in the file is a ConfigMap named aws-auth", "nothing was written"]);
    file_document_is_a_list: grant_into("- apiVersion: v1\n  kind: ConfigMap\n")
        .fails(1, &["aws-auth.yaml:1: the document is a list, not a ConfigMap"]);
    file_not_yaml: grant_into("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth\n")
        .fails(1, &["aws-auth.yaml:", "not valid YAML", "nothing was written"]);
    file_over_one_mib_after_a_grant: grant_into(&padded_manifest(NEARLY_ONE_MIB))
        .fails(1, &["aws-auth.yaml: aws-auth data would be", "Kubernetes stores at most 1048576 bytes", "nothing was written"]);
    file_section_key_twice: grant_into(&manifest(&format!("  mapRoles: |\n    - rolearn: {NODE_ROLE}\n      groups: [system:nodes]\n  mapRoles: |\n    - rolearn: {ROLE}\n      groups: [devs]\n")))
        .fails(1, &["aws-auth.yaml:10:", "mapRoles", "nothing was written"]);
    file_data_key_twice: grant_into(&format!("{HEADER}data:\n  mapUsers: \"[]\"\ndata:\n  mapRoles: |\n    - rolearn: {NODE_ROLE}\n      groups: [system:nodes]\n"))
        .fails(1, &["aws-auth.yaml:8:", "data", "nothing was written"]);
    file_kind_twice: grant_into("apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n")
        .fails(1, &["aws-auth.yaml:3:", "kind", "nothing was written"]);
    file_metadata_name_twice: grant_into("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  name: coredns\n  namespace: kube-system\n")
        .fails(1, &["aws-auth.yaml:5:", "name", "nothing was written"]);

    file_section_with_lone_cr_line_breaks: grant_into(&manifest("  mapAccounts: \"- \\\"123456789012\\\"\\r- \\\"210987654321\\\"\\r\"\n"))
        .fails(1, &["aws-auth.yaml:7: data.mapAccounts", "nothing was written"]);

    // ---- aws-auth in a cluster -------------------------------------------------------------
    cluster_fixture_broken_shape: grant_in_cluster(Seed::Yaml(fixture_text("broken-shape")))
        .fails(1, &["data.mapUsers line 1: must be a list of entries", "nothing was written"]);
    cluster_fixture_broken_tabs: grant_in_cluster(Seed::Yaml(fixture_text("broken-tabs")))
        .fails(1, &["data.mapRoles line 7", "tab", "nothing was written"]);
    cluster_section_is_a_mapping: grant_in_cluster(Seed::Data(vec![("mapRoles".into(), format!("rolearn: {NODE_ROLE}\ngroups: [system:nodes]\n"))]))
        .fails(1, &["data.mapRoles line 1: must be a list of entries", "nothing was written"]);
    cluster_duplicate_key_in_an_entry: grant_in_cluster(Seed::Data(vec![("mapUsers".into(), format!("- userarn: {USER}\n  groups: [a]\n  groups: [b]\n"))]))
        .fails(1, &["data.mapUsers line 3: the key `groups` appears twice", "nothing was written"]);
    cluster_over_one_mib_after_a_grant: grant_in_cluster(Seed::Data(vec![("mapRoles".into(), padded_map_roles(NEARLY_ONE_MIB))]))
        .fails(1, &["over Kubernetes' 1 MiB ConfigMap limit", "nothing was written"]);
    cluster_section_with_lone_cr_line_breaks: grant_in_cluster(Seed::Data(vec![("mapAccounts".into(), "- \"123456789012\"\r- \"210987654321\"\r".into())]))
        .fails(1, &["data.mapAccounts", "nothing was written"]);
    cluster_bad_arn: row().shipped("grant-role.rhai").set("groups", "system:masters").set("arn", "arn:aws:iam::123456789012:group/devs").cluster(healthy_cluster())
        .fails(1, &["is not an IAM role or user"]);
    cluster_script_fails_after_staging: row().script(&format!("grant_role(\"{ROLE}\", [\"devs\"]);\nrevoke_role(\"{NODE_ROLE}\");\n")).cluster(healthy_cluster())
        .fails(1, &["s.rhai:2:", "refusing to remove", "system:nodes"]);
    cluster_operations_limit_after_staging: row().script(&format!("grant_role(\"{ROLE}\", [\"devs\"]);\nloop {{}}\n")).args(&["--max-operations", "5000"]).cluster(healthy_cluster())
        .fails(1, &["s.rhai:2:", "5000 operations", "--max-operations"]);

    // ---- scripts: limits, syntax, unknown functions ---------------------------------------
    script_operations_limit: after_a_grant("loop {}").args(&["--max-operations", "5000"])
        .fails(1, &["s.rhai:2:", "more than 5000 operations", "--max-operations"]);
    script_timeout: after_a_grant("loop {}").args(&["--timeout", "1", "--max-operations", "1000000000000"])
        .fails(1, &["s.rhai:2:", "1 seconds", "--timeout"]);
    script_call_depth: after_a_grant("fn f(x) { f(x) }\nf(1);")
        .fails(1, &["s.rhai:", "function calls nested deeper than 64 levels"]);
    script_string_size: after_a_grant("let s = \"x\";\nloop { s += s; }")
        .fails(1, &["s.rhai:3:", "Length of string grew past its limit", "8388608 bytes"]);
    script_array_size: after_a_grant("let a = [];\nloop { a.push(1); }").args(&["--max-array-size", "20000"])
        .fails(1, &["s.rhai:3:", "Size of array", "20000 items", "--max-array-size N"]);
    script_map_size_when_used: after_a_grant("let m = #{};\nfor i in 0..20001 { m[`k${i}`] = i; }\nprint(m.len());").args(&["--max-map-size", "20000"])
        .fails(1, &["s.rhai:", "Size of object map grew past its limit", "20000 keys", "--max-map-size N"]);
    #[ignore = "bug: a map grown by index assignment (m[k] = v) is not stopped at the 20,000-key limit; the loop runs on until --max-operations or --timeout (~90 MB in 20 s)"]
    script_map_size_in_a_runaway_loop: after_a_grant("let m = #{};\nlet i = 0;\nloop { m[`k${i}`] = i; i += 1; }").args(&["--max-operations", "2000000"])
        .fails(1, &["s.rhai:4:", "Size of object map grew past its limit", "20000 keys"]);
    script_syntax_error: after_a_grant("let x = ;")
        .fails(1, &["s.rhai:2:9: syntax error"]);
    script_unterminated_string: after_a_grant("print(\"oops);")
        .fails(1, &["s.rhai:2:", "syntax error"]);
    script_unknown_function: after_a_grant("grant_rol(\"x\", []);")
        .fails(1, &["s.rhai:2:1: unknown function `grant_rol", "did you mean `grant_role`, `grant_policy`?"]);
    script_wrong_argument_type: after_a_grant("grant_role(1, []);")
        .fails(1, &["s.rhai:2:1: the ARN must be a string, but it is i64"]);
    script_unknown_option: after_a_grant(&format!("grant_role(\"{ROLE}\", [\"devs\"], #{{forse: true}});"))
        .fails(1, &["s.rhai:2:1: unknown option `forse`"]);
    script_fail: after_a_grant("fail(\"the change window is closed\");")
        .fails(1, &["s.rhai:2:1: the change window is closed"]);
    script_throw: after_a_grant("throw \"boom\";")
        .fails(1, &["s.rhai:2:1: boom"]);
    script_division_by_zero: after_a_grant("let x = 1 / 0;")
        .fails(1, &["s.rhai:2:", "Division by zero"]);
    script_missing_module: after_a_grant("import \"nosuch\" as n;")
        .fails(1, &["s.rhai:2:", "module not found: nosuch"]);
    script_eval: after_a_grant("eval(\"1\");")
        .fails(1, &["s.rhai:2:", "eval", "disabled"]);
    script_secret_env: after_a_grant("print(env(\"AWS_SECRET_ACCESS_KEY\"));").env("AWS_SECRET_ACCESS_KEY", "hunter2")
        .fails(1, &["s.rhai:2:", "refused", "never hands secrets"]);
    script_import_cycle: after_a_grant("import \"s\" as me;")
        .fails(1, &["s.rhai:2:", "import cycle: s.rhai → s.rhai"]);
    script_memory_bomb_replace: after_a_grant("let t = \"b\";\nfor i in 0..22 { t += t; }\nlet s = \"aaaa\";\ns.replace(\"a\", t);").args(&["--timeout", "2"])
        .fails(1, &["s.rhai:5:", "`replace` would build", "--max-string-size"]);
    script_memory_bomb_map: after_a_grant("let t = \"b\";\nfor i in 0..22 { t += t; }\nlet m = #{};\nfor i in 0..1000 { m[`k${i}`] = t + i; }").args(&["--max-memory", "64"])
        .fails(1, &["s.rhai:", "more than 64 MiB of memory", "--max-memory"]);
    script_env_off_the_allow_list: after_a_grant("print(env(\"DB_PASS\"));").env("DB_PASS", "hunter2")
        .fails(1, &["s.rhai:2:", "refused", "--allow-env DB_PASS"]);
    script_guard_node_role: after_a_grant(&format!("revoke_role(\"{NODE_ROLE}\");"))
        .fails(1, &["s.rhai:2:1: refusing to remove", "#{force: true}"]);
    check_syntax_error: row().file("s.rhai", "let x = ;\n").args(&["check", "s.rhai"])
        .fails(1, &["s.rhai:1:9: syntax error"]);

    // ---- okscript restore: backups that must never be written back --------------------------
    restore_empty_data: restore_backup("kube-system", "aws-auth", serde_json::json!({}))
        .fails(1, &["refusing to restore", "node or Fargate role", "last `system:masters`", "--force", "nothing was written"]);
    restore_tab_in_map_roles: restore_backup("kube-system", "aws-auth", serde_json::json!({"mapRoles": format!("- rolearn: {NODE_ROLE}\n\tgroups: [system:nodes]\n")}))
        .fails(1, &["b.json: data.mapRoles line 1", "tab", "nothing was written"]);
    restore_groups_not_a_list: restore_backup("kube-system", "aws-auth", serde_json::json!({"mapRoles": format!("- rolearn: {NODE_ROLE}\n  groups: system:nodes\n")}))
        .fails(1, &["b.json: data.mapRoles line 2: `groups` must be a list", "nothing was written"]);
    restore_other_config_map: restore_backup("default", "other", serde_json::json!({"mapRoles": format!("- rolearn: {ROLE}\n  groups: [devs]\n")}))
        .fails(1, &["holds the ConfigMap `default/other`, not `kube-system/aws-auth`", "nothing was written"]);
    restore_node_role_removed: restore_backup("kube-system", "aws-auth", serde_json::json!({"mapUsers": format!("- userarn: {USER}\n  username: someone@email.com\n  groups:\n  - system:masters\n")}))
        .fails(1, &["remove ", "node or Fargate role", "--force"]);
    restore_not_json: row().file("b.json", "apiVersion: v1\nkind: ConfigMap\n").args(&["restore", "b.json"]).cluster(healthy_cluster())
        .fails(1, &["b.json: is not a ConfigMap backup"]);
    restore_missing_file: row().args(&["restore", "nosuch.json"]).cluster(healthy_cluster())
        .fails(64, &["cannot read nosuch.json", "--list"]);
}

/// `okscript restore b.json` of a backup holding `namespace/name` with `data`, into the
/// healthy cluster.
fn restore_backup(namespace: &str, name: &str, data: serde_json::Value) -> Row {
    let cm = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
        "data": data,
    });
    row()
        .file("b.json", serde_json::to_string_pretty(&cm).unwrap())
        .args(&["restore", "b.json"])
        .cluster(healthy_cluster())
}

#[test]
fn the_sweep_has_at_least_fifty_rows() {
    assert!(ROWS.len() >= 50, "only {} rows", ROWS.len());
}

#[test]
fn every_broken_fixture_has_a_file_row_and_a_cluster_row() {
    for name in fixture_names()
        .into_iter()
        .filter(|n| n.starts_with("broken"))
    {
        let id = name.replace('-', "_");
        for row in [
            format!("file_fixture_{id}"),
            format!("cluster_fixture_{id}"),
        ] {
            assert!(
                ROWS.contains(&row.as_str()),
                "tests/data/aws-auth/{name}.yaml has no row `{row}`"
            );
        }
    }
}

#[test]
fn the_padded_manifest_is_accepted_until_a_grant_pushes_it_over() {
    // The 1 MiB rows fail because of the grant, not because the file was already too big.
    let dir = TestDir::new();
    let file = dir.write(CM, padded_manifest(NEARLY_ONE_MIB));
    let out = dir
        .cmd()
        .args(["run", &script("list.rhai")])
        .target(&file)
        .run();
    out.expect_code(0);
}

// ---- targets that are not regular, writable files (issue 13 items 4, 5, 7) ------------------
// The row sweep reads every file of the folder, which a FIFO would block, so these run alone:
// each checks the exit code, the message, the time taken, and that the folder's entries
// (names, types, modes, and bytes of regular files) are exactly as before.

/// Every entry of `root` (not recursive): name → (file type and mode, bytes of regular files).
fn entries(root: &Path) -> BTreeMap<String, (String, u32, Option<Vec<u8>>)> {
    std::fs::read_dir(root)
        .expect("reading the temp folder")
        .map(|e| {
            let e = e.expect("an entry");
            let meta = std::fs::symlink_metadata(e.path()).expect("metadata");
            let bytes = meta
                .is_file()
                .then(|| std::fs::read(e.path()).expect("reading a file"));
            (
                e.file_name().to_string_lossy().into_owned(),
                (
                    format!("{:?}", meta.file_type()),
                    meta.permissions().mode() & 0o7777,
                    bytes,
                ),
            )
        })
        .collect()
}

/// Runs a grant into `--target file:TARGET` and checks that it is refused with `needles`,
/// quickly, leaving the folder as it was.
fn refused_target(dir: &TestDir, target: &str, needles: &[&str]) {
    let before = entries(dir.path());
    let started = Instant::now();
    let out = dir
        .cmd()
        .args(["run", &script("grant-role.rhai")])
        .args(["--target", &format!("file:{target}")])
        .args(["--set", &format!("arn={ROLE}")])
        .args(["--set", "groups=devs"])
        .args(["--timeout", "20"])
        .run();
    let took = started.elapsed();
    out.expect_code(1).expect_stderr(needles);
    assert!(
        out.stderr.contains("nothing was written"),
        "the error must say nothing was written:\n{out}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}:\n{out}");
    assert_eq!(entries(dir.path()), before, "the folder changed:\n{out}");
}

#[test]
fn target_a_fifo_is_refused_without_blocking() {
    let dir = TestDir::new();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.yaml"))
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo failed");
    refused_target(
        &dir,
        "pipe.yaml",
        &["pipe.yaml is a FIFO", "not a regular file", "hint:"],
    );
}

#[test]
fn target_a_symlink_to_a_fifo_is_refused_without_blocking() {
    let dir = TestDir::new();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe"))
        .status()
        .expect("running mkfifo");
    assert!(made.success(), "mkfifo failed");
    std::os::unix::fs::symlink("pipe", dir.join("link.yaml")).unwrap();
    refused_target(&dir, "link.yaml", &["pipe is a FIFO"]);
}

#[test]
fn target_a_device_node_is_refused() {
    // A null device made in the temp folder (needs root, as the bug did: it replaced
    // /dev/null); a symlink to /dev/null is refused the same way, as anyone.
    let dir = TestDir::new();
    let made = std::process::Command::new("mknod")
        .arg(dir.join("null"))
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    if made {
        refused_target(
            &dir,
            "null",
            &["null is a character device", "not a regular file"],
        );
    } else {
        eprintln!("mknod is not permitted here: only the symlink to /dev/null is checked");
    }
    std::os::unix::fs::symlink("/dev/null", dir.join("devnull.yaml")).unwrap();
    refused_target(
        &dir,
        "devnull.yaml",
        &["/dev/null is a character device", "not a regular file"],
    );
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device(),
        "/dev/null is no longer a device"
    );
}

#[test]
fn target_read_only_is_refused() {
    let dir = TestDir::new();
    let file = dir.fixture(BASE);
    dir.set_mode(&file, 0o444);
    refused_target(
        &dir,
        &file,
        &[&format!("{file} is read-only (mode 0444)"), "chmod u+w"],
    );
}

#[test]
fn target_a_dangling_symlink_into_a_missing_folder_is_refused() {
    let dir = TestDir::new();
    std::os::unix::fs::symlink("gone/aws-auth.yaml", dir.join("link.yaml")).unwrap();
    refused_target(&dir, "link.yaml", &["gone", "does not exist", "mkdir -p"]);
}
