//! `okscript venv`: a shell set up for one cluster (KUBECONFIG, OKSCRIPT_CLUSTER, the AWS
//! settings), like okctl's venv.

use std::collections::BTreeMap;

use super::{ExitStatus, Failure};
use crate::kube::EksCluster;
use crate::output::Printer;
use crate::settings::{AwsSettings, KubeSettings};

/// `okscript venv`: a shell with KUBECONFIG, OKSCRIPT_CLUSTER and the AWS settings of the
/// cluster, like okctl's venv; ends with the shell's exit code.
pub fn venv(
    aws: &AwsSettings,
    kube: &KubeSettings,
    env: &BTreeMap<String, String>,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
    let cluster = EksCluster::of(kube.connect.as_ref())?.cluster;
    let state = kube
        .state_home
        .as_ref()
        .ok_or_else(|| Failure::usage("no HOME to keep the venv's kubeconfig in", "set HOME"))?;
    let file = state
        .join("okscript/venv")
        .join(&cluster)
        .join("kubeconfig");
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::failed(format!("cannot create {}: {e}", dir.display()), None))?;
    }
    super::kubeconfig::kubeconfig(aws, kube, env, Some(&file), None, false, printer)?;
    let shell = env
        .get("OKSCRIPT_SHELL")
        .or_else(|| env.get("SHELL"))
        .cloned()
        .unwrap_or_else(|| "/bin/sh".into());
    let mut cmd = std::process::Command::new(&shell);
    cmd.env("KUBECONFIG", &file)
        .env("OKSCRIPT_CLUSTER", &cluster);
    if let Some(r) = aws.region() {
        cmd.env("AWS_REGION", r);
    }
    if let Some(t) = aws.default_type {
        cmd.env("OKSCRIPT_AWS_CREDENTIALS_TYPE", t.as_str());
    }
    printer.note(&format!(
        "starting {shell} for cluster {cluster}; `exit` to leave"
    ));
    let status = cmd.status().map_err(|e| {
        Failure::failed(
            format!("cannot start {shell}: {e}"),
            Some("set OKSCRIPT_SHELL to a shell that exists".into()),
        )
    })?;
    // The shell's own exit code is passed on; one beyond a byte (or a signal) is a failure.
    Ok(ExitStatus::Code(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(super::EXIT_FAILURE),
    ))
}
