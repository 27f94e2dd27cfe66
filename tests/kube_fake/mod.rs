//! The fake apiserver of `support::kube_api` proven with real clients: `kubectl` (discovery,
//! get, apply, patch, RBAC, faults), `aws eks get-token` against moto (EKS tokens checked
//! like aws-iam-authenticator), and its own life cycle and aws-auth mapping.
//!
//! The helpers below run `kubectl` and the AWS CLI hermetically (only `PATH`, `HOME` and
//! what the test passes). Named for what a test does, never for what it checks.

mod eks_token;
mod kubectl;
mod lifecycle;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::MotoServer;

/// Where kubectl lives on this machine.
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// The outcome of one process: exit code, stdout, stderr.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    fn new(out: std::process::Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `true` if kubectl is installed; otherwise prints why the test is skipped.
pub fn have_kubectl() -> bool {
    if Path::new(KUBECTL).exists() {
        true
    } else {
        println!("SKIPPED: {KUBECTL} is not installed; install kubectl to run this test");
        false
    }
}

/// Runs `kubectl ARGS` with only PATH, HOME (a temp dir) and KUBECONFIG set.
pub fn kubectl(home: &Path, kubeconfig: &Path, args: &[&str]) -> Outcome {
    kubectl_with_stdin(home, kubeconfig, args, None)
}

/// Like [`kubectl`], with text on standard input.
pub fn kubectl_with_stdin(
    home: &Path,
    kubeconfig: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Outcome {
    let mut cmd = Command::new(KUBECTL);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start kubectl");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(text.as_bytes())
            .expect("write kubectl stdin");
    }
    Outcome::new(child.wait_with_output().expect("wait for kubectl"))
}

/// The AWS CLI installed here.
pub fn aws_cli() -> PathBuf {
    let pyenv = PathBuf::from("/root/.pyenv/shims/aws");
    if pyenv.exists() {
        pyenv
    } else {
        PathBuf::from("aws")
    }
}

/// Runs `aws ARGS` against moto with the given credentials, in a hermetic environment.
pub fn aws(home: &Path, moto: &MotoServer, creds: &[(&str, &str)], args: &[&str]) -> Outcome {
    let mut cmd = Command::new(aws_cli());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in creds {
        cmd.env(k, v);
    }
    Outcome::new(cmd.output().expect("run the aws CLI"))
}
