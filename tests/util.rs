//! The black-box harness: a fresh temporary folder per test ([`TestDir`]) and a builder that
//! runs the built `okscript` binary in it hermetically ([`Cmd`]): the environment is cleared
//! and only `PATH` and `HOME` (the temp folder) are set, so no `AWS_*`, `KUBECONFIG`,
//! `OKSCRIPT_*` or `OKCTL_*` of the developer's shell leaks in; the temp folder is the
//! current directory. Outcomes replace the temp folder's path with `[TMP]` and the crate
//! root with `[ROOT]`, so they can be compared as snapshots.
//!
//! This file must not know about any one feature: helpers here are named for what a test
//! does (write a file, copy a fixture, run a script), never for what it checks.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime};

/// The crate root: where `scripts/`, `stdlib/` and `tests/data/` live.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The node role of `eks-nodes-only.yaml` and `sso-and-users.yaml`.
pub const NODE_ROLE: &str =
    "arn:aws:iam::123456789012:role/eksctl-my-cluster-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F";
/// The SSO administrator role as EKS must see it: no path.
pub const SSO_ADMIN_ROLE: &str =
    "arn:aws:iam::123456789012:role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";
/// The same role as the IAM console shows it, path and all.
pub const SSO_ADMIN_ROLE_WITH_PATH: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";
/// The IAM user of the runbook's mapUsers example (in `sso-and-users.yaml` and `messy.yaml`).
pub const RUNBOOK_USER: &str = "arn:aws:iam::123456789012:user/someone@email.com";

/// The longest any single okscript process may take before the test fails.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

/// The absolute path of a shipped script, `scripts/NAME`.
pub fn script(name: &str) -> String {
    format!("{ROOT}/scripts/{name}")
}

/// The folder of aws-auth fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(ROOT).join("tests/data/aws-auth")
}

/// The text of `tests/data/aws-auth/NAME.yaml`.
pub fn fixture_text(name: &str) -> String {
    let path = fixtures_dir().join(format!("{name}.yaml"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The names (without `.yaml`) of every fixture in `tests/data/aws-auth/`, sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures_dir())
        .expect("tests/data/aws-auth exists")
        .map(|e| e.expect("a readable directory entry").path())
        .map(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".yaml"))
                .unwrap_or_else(|| panic!("{} is not a NAME.yaml fixture", p.display()))
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// A fresh temporary folder, deleted when the test ends.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    /// A new, empty folder.
    pub fn new() -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix("okscript-test-")
            .tempdir()
            .expect("a temporary folder");
        TestDir { dir }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `NAME` inside the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Writes `contents` to `NAME` (parent folders created) and returns `NAME`.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("creating parent folders");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        name.to_string()
    }

    /// The text of `NAME`.
    pub fn read(&self, name: &str) -> String {
        let path = self.join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// Whether `NAME` exists.
    pub fn exists(&self, name: &str) -> bool {
        self.join(name).exists()
    }

    /// The names of every entry of the folder, sorted (hidden ones included).
    pub fn list(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path())
            .expect("reading the temp folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// Copies `tests/data/aws-auth/NAME.yaml` to `NAME.yaml` (mode 0644, whatever the
    /// fixture's own) and returns `NAME.yaml`.
    pub fn fixture(&self, name: &str) -> String {
        let file = self.write(&format!("{name}.yaml"), fixture_text(name));
        self.set_mode(&file, 0o644);
        file
    }

    /// The permission bits of `NAME`.
    pub fn mode(&self, name: &str) -> u32 {
        fs::metadata(self.join(name))
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }

    /// Sets the permission bits of `NAME`.
    pub fn set_mode(&self, name: &str, mode: u32) {
        fs::set_permissions(self.join(name), fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// The modification time of `NAME`.
    pub fn mtime(&self, name: &str) -> SystemTime {
        fs::metadata(self.join(name))
            .expect("metadata")
            .modified()
            .expect("mtime")
    }

    /// Sets `NAME`'s modification time to 2001, so that any rewrite shows however coarse the
    /// file system's clock; returns that time.
    pub fn age(&self, name: &str) -> SystemTime {
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        fs::File::options()
            .write(true)
            .open(self.join(name))
            .expect("opening to set mtime")
            .set_modified(old)
            .expect("setting mtime");
        old
    }

    /// Copies the built binary into the folder as `NAME` (executable) and returns its path.
    pub fn copy_binary(&self, name: &str) -> PathBuf {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("creating parent folders");
        }
        fs::copy(assert_cmd::cargo::cargo_bin("okscript"), &path).expect("copying the binary");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod +x");
        path
    }

    /// Every mapping in the aws-auth manifest `file`, as okscript reads it, one line each:
    /// `role ARN USERNAME GROUP,GROUP`, `user ARN USERNAME GROUPS` or `account ID`.
    pub fn mappings(&self, file: &str) -> Vec<String> {
        let dump = self.write(
            ".dump-mappings.rhai",
            r#"for m in mappings() {
    let groups = "";
    for g in m.groups { groups += if groups == "" { g } else { "," + g }; }
    if m.kind == "account" { print(`account ${m.account}`); }
    else { print(`${m.kind} ${m.arn} ${m.username} ${groups}`); }
}
"#,
        );
        let out = self.cmd().args(["run", &dump]).target(file).run();
        out.expect_code(0);
        fs::remove_file(self.join(&dump)).expect("removing the dump script");
        out.stdout
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect()
    }

    /// A hermetic `okscript` command run in this folder.
    pub fn cmd(&self) -> Cmd {
        Cmd {
            tmp: self.path().to_path_buf(),
            program: None,
            cwd: self.path().to_path_buf(),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }
}

/// A command line for the `okscript` binary, built step by step.
pub struct Cmd {
    tmp: PathBuf,
    program: Option<PathBuf>,
    cwd: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl Cmd {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `run scripts/NAME`: a shipped script.
    pub fn script(self, name: &str) -> Cmd {
        self.args(["run".to_string(), script(name)])
    }

    /// `--target file:FILE`.
    pub fn target(self, file: &str) -> Cmd {
        self.arg("--target").arg(format!("file:{file}"))
    }

    /// `--set KEY=VALUE`.
    pub fn set(self, key: &str, value: &str) -> Cmd {
        self.arg("--set").arg(format!("{key}={value}"))
    }

    /// Sets one environment variable on top of the hermetic `PATH` and `HOME`.
    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Runs in `dir` instead of the temp folder.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = dir.into();
        self
    }

    /// Runs this binary (a copy of okscript) instead of the one cargo built.
    pub fn program(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.program = Some(path.into());
        self
    }

    fn std_command(&self) -> std::process::Command {
        let program = self
            .program
            .clone()
            .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("okscript"));
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.tmp)
            .current_dir(&self.cwd)
            .args(&self.args);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the command to its end and returns what it did.
    pub fn run(self) -> Outcome {
        let mut cmd = assert_cmd::Command::from_std(self.std_command());
        cmd.timeout(PROCESS_TIMEOUT);
        let mut tries = 0;
        let output = loop {
            match cmd.output() {
                // A binary copied a moment ago may still be open in a child another test
                // thread forked in between ("Text file busy"): try again shortly.
                Err(e) if e.raw_os_error() == Some(26) && tries < 20 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other.expect("running okscript"),
            }
        };
        Outcome::new(&self.tmp, output)
    }

    /// Starts the command without waiting; [`Running::wait`] collects it.
    pub fn spawn(self) -> Running {
        let child = self
            .std_command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting okscript");
        Running {
            child,
            tmp: self.tmp,
        }
    }
}

/// A started okscript process.
pub struct Running {
    child: Child,
    tmp: PathBuf,
}

impl Running {
    /// Waits for the process to end.
    pub fn wait(self) -> Outcome {
        let output = self.child.wait_with_output().expect("waiting for okscript");
        Outcome::new(&self.tmp, output)
    }
}

/// What a run did: exit code, stdout and stderr, with the temp folder shown as `[TMP]` and
/// the crate root as `[ROOT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

fn redact(text: &str, tmp: &Path) -> String {
    let mut text = text.to_string();
    if let Ok(real) = tmp.canonicalize() {
        text = text.replace(&*real.to_string_lossy(), "[TMP]");
    }
    text.replace(&*tmp.to_string_lossy(), "[TMP]")
        .replace(ROOT, "[ROOT]")
}

impl Outcome {
    fn new(tmp: &Path, output: std::process::Output) -> Outcome {
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: redact(&String::from_utf8_lossy(&output.stdout), tmp),
            stderr: redact(&String::from_utf8_lossy(&output.stderr), tmp),
        }
    }

    /// `(exit code, stdout, stderr)`.
    pub fn parts(&self) -> (i32, &str, &str) {
        (self.code, &self.stdout, &self.stderr)
    }

    /// Panics, showing the whole outcome, unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, code, "unexpected exit code:\n{self}");
        self
    }

    /// Panics, showing the whole outcome, unless stdout contains every needle.
    #[track_caller]
    pub fn expect_stdout(&self, needles: &[&str]) -> &Outcome {
        for n in needles {
            assert!(self.stdout.contains(n), "stdout lacks {n:?}:\n{self}");
        }
        self
    }

    /// Panics, showing the whole outcome, unless stderr contains every needle.
    #[track_caller]
    pub fn expect_stderr(&self, needles: &[&str]) -> &Outcome {
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}:\n{self}");
        }
        self
    }

    /// The whole outcome as one text, for snapshot comparisons.
    pub fn snapshot(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The lines of `after` that are not part of `before`, when `before`'s lines appear in
/// `after` unchanged and in order; `None` when some line of `before` is missing or altered.
/// Lines keep their bytes (a `\r` counts).
pub fn added_lines(before: &str, after: &str) -> Option<Vec<String>> {
    let mut want = before.split('\n').peekable();
    let mut added = Vec::new();
    for line in after.split('\n') {
        if want.peek() == Some(&line) {
            want.next();
        } else {
            added.push(line.to_string());
        }
    }
    want.peek().is_none().then_some(added)
}

/// Parses a JSON document, panicking with the text when it is not one.
#[track_caller]
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}
