//! Settings resolved once, at the top, from flags, the environment and the cluster
//! declaration (`cli` resolves them): plain values the commands and the script engine take,
//! so that nothing below the command line reads the environment.

use std::path::PathBuf;

use crate::aws::{AwsContext, ClusterDeclaration, CredentialType};
use crate::kube::ConnectSpec;

/// AWS settings resolved once from flags, environment and the cluster declaration.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// The environment snapshot and region the AWS layer uses.
    pub ctx: AwsContext,
    /// `-a`, else `OKSCRIPT_AWS_CREDENTIALS_TYPE`, else `OKCTL_AWS_CREDENTIALS_TYPE`; `None`
    /// is the AWS SDK's default chain.
    pub default_type: Option<CredentialType>,
    /// `-c`: the okctl cluster declaration, and the file it came from.
    pub cluster: Option<(String, ClusterDeclaration)>,
    /// `--no-browser`: SSO logins only print the verification URL and code.
    pub no_browser: bool,
    /// Whether a browser could be opened at all (a display or $BROWSER is set).
    pub display: bool,
    /// `$BROWSER`: the command that opens a URL.
    pub browser: Option<String>,
    /// Whether stdin or stderr is a terminal (a person may be there to approve a login).
    pub terminal: bool,
}

/// A login that reached another account than the cluster declaration (`-c`) is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongAccount {
    /// What happened: `logged in to A but FILE is for B`.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl AwsSettings {
    /// Checks a login's account against the cluster declaration's, when `-c` gave one.
    pub fn check_account(&self, account: &str) -> Result<(), WrongAccount> {
        match &self.cluster {
            Some((file, c)) if c.account_id != account => Err(WrongAccount {
                message: format!("logged in to {account} but {file} is for {}", c.account_id),
                hint: format!(
                    "log in to account {} (check AWS_PROFILE, or the -a/--aws-credentials-type you chose), or pass the cluster declaration of account {account}",
                    c.account_id
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The region asked for: `--region`, the declaration's, else the environment's.
    pub fn region(&self) -> Option<String> {
        self.ctx
            .region
            .clone()
            .or_else(|| self.ctx.explicit_region())
    }
}

/// Cluster settings resolved once from flags and environment.
#[derive(Debug, Clone, Default)]
pub struct KubeSettings {
    /// How to connect, when a cluster was given.
    pub connect: Option<ConnectSpec>,
    /// The root of the backups folder (a folder per cluster below it).
    pub backups_root: Option<PathBuf>,
    /// Backups kept per cluster (0: all).
    pub keep_backups: usize,
}

impl KubeSettings {
    /// The backups folder of one cluster.
    pub fn backups_for(&self, cluster: &str) -> Option<PathBuf> {
        let safe: String = cluster
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.backups_root.as_ref().map(|r| r.join(safe))
    }
}
