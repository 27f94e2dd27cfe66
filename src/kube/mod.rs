//! Clusters: connecting (EKS token or kubeconfig), the few API calls okscript makes, and
//! writing a kubeconfig whose exec plugin is `okscript token`, so that kubectl (and anything
//! else using client-go) gets its EKS tokens from okscript.

pub mod api;
pub mod connect;
mod eks_context;
pub mod error;
mod kubeconfig;

pub use connect::{ConnectSpec, Connection};
pub use eks_context::{write_kubeconfig, EksCluster, KubeconfigWritten};
pub use error::KubeError;
pub use kubeconfig::{
    default_kubeconfig_path, exec_args, merge_into_kubeconfig, merge_kubeconfig, to_yaml,
    update_kubeconfig, update_kubeconfig_file, FileOutcome, KubeconfigEntry, KubeconfigError,
    KubeconfigUpdate, Merged, DEFAULT_COMMAND, EXEC_API_VERSION,
};
