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
    /// Where okscript keeps state (`$XDG_STATE_HOME`, else `~/.local/state`): the venv's
    /// kubeconfigs.
    pub state_home: Option<PathBuf>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_to_another_account_than_the_declarations_is_named() {
        let mut s = AwsSettings::default();
        assert_eq!(s.check_account("111111111111"), Ok(()));
        let decl = crate::aws::parse_cluster_declaration(&format!(
            "apiVersion: {}\nkind: {}\nmetadata:\n  name: prod\n  region: eu-west-1\n  accountID: \"123456789012\"\n",
            crate::aws::OKCTL_API_VERSION,
            crate::aws::OKCTL_KIND
        ))
        .unwrap();
        s.cluster = Some(("cluster.yaml".into(), decl));
        assert_eq!(s.check_account("123456789012"), Ok(()));
        let w = s.check_account("111111111111").unwrap_err();
        assert_eq!(
            w.message,
            "logged in to 111111111111 but cluster.yaml is for 123456789012"
        );
        assert!(w.hint.contains("log in to account 123456789012"));
    }

    #[test]
    fn backups_go_to_a_safe_folder_per_cluster() {
        let k = KubeSettings {
            backups_root: Some(PathBuf::from("/b")),
            ..KubeSettings::default()
        };
        assert_eq!(k.backups_for("a/b c"), Some(PathBuf::from("/b/a_b_c")));
        assert_eq!(KubeSettings::default().backups_for("x"), None);
    }
}
