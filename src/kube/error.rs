//! Errors from talking to a Kubernetes API server, each saying what to do.

use crate::aws::AwsError;

/// A failure to connect to or talk with a cluster.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// Getting the endpoint, CA or token from AWS failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// An EKS connection was needed before logging in to AWS.
    #[error("connecting to an EKS cluster needs an AWS login")]
    NoSession,
    /// The API server URL is malformed.
    #[error("`{url}` is not a usable API server URL: {message}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The certificate authority could not be read.
    #[error("cannot use the certificate authority from {source_name}: {message}")]
    Ca {
        /// Where it came from.
        source_name: String,
        /// Why.
        message: String,
    },
    /// The kubeconfig could not be used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The HTTP client could not be built.
    #[error("cannot build a Kubernetes client: {0}")]
    Client(String),
    /// The API server answered with an error Status.
    #[error("the API server refused {what}: {code} {reason}: {message}")]
    Api {
        /// What okscript asked for.
        what: String,
        /// The HTTP code.
        code: u16,
        /// The Status reason (Conflict, NotFound, Unauthorized, ...).
        reason: String,
        /// The Status message.
        message: String,
    },
    /// A command that needs an EKS cluster was given a kubeconfig context.
    #[error("this command works on an EKS cluster, not a kubeconfig context")]
    NotEks,
    /// No cluster was named.
    #[error("which cluster?")]
    NoCluster,
    /// A file named on the command line could not be read.
    #[error("cannot read {path}: {message}")]
    ReadFile {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Neither `--kubeconfig`, `KUBECONFIG` nor `HOME` names a kubeconfig to write.
    #[error("no kubeconfig path")]
    NoKubeconfigPath,
    /// Writing the kubeconfig failed.
    #[error(transparent)]
    KubeconfigFile(#[from] super::KubeconfigError),
    /// The request did not get an answer (connection refused, reset, timed out).
    #[error("no answer from the API server for {what}: {message}")]
    Transport {
        /// What okscript asked for.
        what: String,
        /// The underlying error.
        message: String,
    },
}

impl KubeError {
    /// The HTTP code of an API error.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for errors worth retrying: conflicts, server errors, throttling, no answer.
    pub fn is_transient(&self) -> bool {
        match self {
            KubeError::Api { code, .. } => *code == 409 || *code == 429 || *code >= 500,
            KubeError::Transport { .. } => true,
            _ => false,
        }
    }

    /// Advice to print after the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            KubeError::Aws(e) => e.hint(),
            KubeError::NoSession => Some("call login() (or pass -a TYPE) before using the cluster".into()),
            KubeError::Api { code: 401, .. } => Some(
                "the cluster does not know who you are: your IAM principal must be mapped in aws-auth (without a role path), or be the cluster's creator; run `okscript run scripts/verify.rhai` for a diagnosis".into(),
            ),
            KubeError::Api { code: 403, .. } => Some("you are known to the cluster but RBAC does not allow this; an admin can grant you a group with `okscript run scripts/grant-role.rhai`".into()),
            KubeError::Transport { .. } => Some("check the cluster endpoint (--server), your network and VPN".into()),
            KubeError::Ca { .. } => Some("pass the cluster's CA as a PEM file with --certificate-authority".into()),
            KubeError::NotEks => Some("pass --cluster NAME (or -c cluster.yaml) instead of --context".into()),
            KubeError::NoCluster => Some("pass --cluster NAME, or -c cluster.yaml, or set OKSCRIPT_CLUSTER".into()),
            KubeError::NoKubeconfigPath => Some("pass --kubeconfig PATH or set HOME".into()),
            KubeError::KubeconfigFile(e) => e.hint(),
            _ => None,
        }
    }

    /// True when the command line was at fault (a missing cluster, a file it names), not
    /// the cluster or AWS.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            KubeError::NotEks
                | KubeError::NoCluster
                | KubeError::ReadFile { .. }
                | KubeError::NoKubeconfigPath
        )
    }

    /// Converts a kube client error for the request `what`.
    pub fn from_kube(what: &str, e: kube::Error) -> KubeError {
        match e {
            kube::Error::Api(status) => KubeError::Api {
                what: what.to_string(),
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            other => KubeError::Transport {
                what: what.to_string(),
                message: other.to_string(),
            },
        }
    }
}
