//! A kubeconfig context for an EKS cluster, written where kubectl looks: the cluster's
//! endpoint and CA from DescribeCluster, and a user whose exec plugin is this very binary's
//! `token` command. Shared by `okscript kubeconfig`, `venv` and the script's
//! `write_kubeconfig()`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;

use super::{ConnectSpec, FileOutcome, KubeError, KubeconfigEntry};
use crate::aws::{self, Session};

/// The EKS cluster a command works on, as the command line named it.
#[derive(Debug, Clone)]
pub struct EksCluster {
    /// The cluster's name.
    pub cluster: String,
    /// `--server`: the API server URL instead of DescribeCluster's.
    pub server: Option<String>,
    /// `--certificate-authority`: a PEM file instead of DescribeCluster's CA.
    pub ca_file: Option<PathBuf>,
    /// `--role-arn`: the role the token is made for.
    pub role_arn: Option<String>,
}

impl EksCluster {
    /// The EKS cluster of a connection spec; a kubeconfig context or no cluster is refused.
    pub fn of(spec: Option<&ConnectSpec>) -> Result<EksCluster, KubeError> {
        match spec {
            Some(ConnectSpec::Eks {
                cluster,
                server,
                ca_file,
                role_arn,
            }) => Ok(EksCluster {
                cluster: cluster.clone(),
                server: server.clone(),
                ca_file: ca_file.clone(),
                role_arn: role_arn.clone(),
            }),
            Some(ConnectSpec::Kubeconfig { .. }) => Err(KubeError::NotEks),
            None => Err(KubeError::NoCluster),
        }
    }
}

/// What writing a kubeconfig entry did.
#[derive(Debug, Clone)]
pub struct KubeconfigWritten {
    /// The file.
    pub path: PathBuf,
    /// The context's name.
    pub context: String,
    /// Created, updated or unchanged.
    pub outcome: FileOutcome,
    /// `current-context` before, when this changed it (`""` when there was none).
    pub previous_context: Option<String>,
    /// The cluster entry the context named before it was repointed (`--force`).
    pub repointed_from: Option<String>,
    /// The namespace the repointed context had.
    pub dropped_namespace: Option<String>,
}

/// Adds or updates the cluster's context, user and cluster entries in a kubeconfig; the
/// user's exec plugin is this very binary's `token` command. An existing context of the
/// same name for another cluster is refused unless `force` repoints it.
pub fn write_kubeconfig(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    spec: &ConnectSpec,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
    force: bool,
) -> Result<KubeconfigWritten, KubeError> {
    let EksCluster {
        cluster,
        server,
        ca_file,
        role_arn,
    } = EksCluster::of(Some(spec))?;
    let mut info = rt.block_on(aws::describe_cluster(session, &cluster))?;
    if let Some(s) = server {
        info.endpoint = s;
    }
    if let Some(ca) = ca_file {
        let pem = std::fs::read(&ca).map_err(|e| KubeError::ReadFile {
            path: ca.display().to_string(),
            message: e.to_string(),
        })?;
        info.certificate_authority_data = base64::engine::general_purpose::STANDARD.encode(pem);
    }
    let mut entry = KubeconfigEntry::for_cluster(&info);
    if let Ok(exe) = std::env::current_exe() {
        // kubectl runs exactly this binary, wherever it was installed.
        entry.command = exe.display().to_string();
    }
    if let Some(a) = alias {
        entry = entry.with_alias(a);
    }
    if let Some(r) = role_arn {
        entry = entry.with_role_arn(r);
    }
    if let Some(p) = session.profile() {
        entry = entry.with_profile(p);
    }
    if let Some(t) = session.chosen_type() {
        // A type chosen here (perhaps through OKSCRIPT_AWS_CREDENTIALS_TYPE, which a fresh
        // shell may not have) must be chosen again there; the default chain needs nothing.
        entry = entry.with_credentials_type(t.as_str());
    }
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => super::default_kubeconfig_path(
            env.get("KUBECONFIG").map(String::as_str),
            env.get("HOME").map(String::as_str),
        )
        .ok_or(KubeError::NoKubeconfigPath)?,
    };
    let update = super::update_kubeconfig(&path, &entry, force)?;
    Ok(KubeconfigWritten {
        path,
        context: entry.context_name,
        outcome: update.outcome,
        previous_context: update.previous_context,
        repointed_from: update.repointed_from,
        dropped_namespace: update.dropped_namespace,
    })
}
