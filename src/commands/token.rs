//! `okscript token`: an ExecCredential with an EKS token, like `aws eks get-token`, in the
//! version kubectl asks for.

use std::collections::BTreeMap;

use super::{login, runtime, ExitStatus, Failure};
use crate::aws::{self, TokenOptions};
use crate::kube::EksCluster;
use crate::output::Printer;
use crate::settings::{AwsSettings, KubeSettings};

/// The ExecCredential versions kubectl may ask for in `KUBERNETES_EXEC_INFO`.
const EXEC_VERSIONS: &[&str] = &[
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
];
/// The version answered when kubectl does not say (kubectl before 1.20), as the AWS CLI does.
const EXEC_VERSION_DEFAULT: &str = "client.authentication.k8s.io/v1beta1";
/// The version the AWS CLI still answers, with a deprecation warning.
const EXEC_VERSION_ALPHA: &str = "client.authentication.k8s.io/v1alpha1";

/// The ExecCredential `apiVersion` to answer, read from `KUBERNETES_EXEC_INFO` the way
/// `aws eks get-token` reads it, and a warning for stderr when it is not a version to use.
pub fn exec_credential_version(exec_info: Option<&str>) -> (&'static str, Option<String>) {
    let Some(raw) = exec_info.filter(|r| !r.trim().is_empty()) else {
        return (EXEC_VERSION_DEFAULT, None);
    };
    let asked = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(v) => v
            .get("apiVersion")
            .and_then(|a| a.as_str())
            .map(str::to_string),
        Err(e) => {
            return (
                EXEC_VERSION_DEFAULT,
                Some(format!(
                    "KUBERNETES_EXEC_INFO is not JSON ({e}): answering {EXEC_VERSION_DEFAULT}"
                )),
            )
        }
    };
    match asked.as_deref() {
        Some(v) => {
            if let Some(known) = EXEC_VERSIONS.iter().find(|k| **k == v) {
                (known, None)
            } else if v == EXEC_VERSION_ALPHA {
                (
                    EXEC_VERSION_ALPHA,
                    Some(format!(
                        "{EXEC_VERSION_ALPHA} is deprecated: set the kubeconfig's exec apiVersion to client.authentication.k8s.io/v1"
                    )),
                )
            } else {
                (
                    EXEC_VERSION_DEFAULT,
                    Some(format!(
                        "KUBERNETES_EXEC_INFO asks for {v}, which okscript does not know: answering {EXEC_VERSION_DEFAULT}"
                    )),
                )
            }
        }
        None => (
            EXEC_VERSION_DEFAULT,
            Some(format!(
                "KUBERNETES_EXEC_INFO names no apiVersion: answering {EXEC_VERSION_DEFAULT}"
            )),
        ),
    }
}

/// `okscript token`: prints an ExecCredential for the cluster, in the version kubectl asks
/// for in `KUBERNETES_EXEC_INFO`.
pub fn token(
    aws: &AwsSettings,
    kube: &KubeSettings,
    env: &BTreeMap<String, String>,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
    let (version, warning) =
        exec_credential_version(env.get("KUBERNETES_EXEC_INFO").map(String::as_str));
    if let Some(w) = warning {
        printer.warn(&w);
    }
    let EksCluster {
        cluster, role_arn, ..
    } = EksCluster::of(kube.connect.as_ref())?;
    let rt = runtime()?;
    let session = login(&rt, aws)?;
    let options = TokenOptions {
        region: aws.region(),
        role_arn,
        session_name: None,
    };
    let token = rt.block_on(aws::eks_token(&session, &cluster, &options))?;
    let mut credential = token.exec_credential();
    credential["apiVersion"] = version.into();
    let text = serde_json::to_string_pretty(&credential)
        .map_err(|e| Failure::failed(format!("cannot print the ExecCredential: {e}"), None))?;
    printer.raw(&format!("{text}\n"));
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::exec_credential_version;

    #[test]
    fn exec_credential_version_follows_kubernetes_exec_info() {
        let info = |v: &str| format!(r#"{{"kind":"ExecCredential","apiVersion":"{v}"}}"#);
        let v1 = info("client.authentication.k8s.io/v1");
        assert_eq!(
            exec_credential_version(Some(&v1)),
            ("client.authentication.k8s.io/v1", None)
        );
        let beta = info("client.authentication.k8s.io/v1beta1");
        assert_eq!(
            exec_credential_version(Some(&beta)).0,
            "client.authentication.k8s.io/v1beta1"
        );
        assert_eq!(
            exec_credential_version(None),
            ("client.authentication.k8s.io/v1beta1", None)
        );
        let (v, warning) =
            exec_credential_version(Some(&info("client.authentication.k8s.io/v1alpha1")));
        assert_eq!(v, "client.authentication.k8s.io/v1alpha1");
        assert!(warning.unwrap().contains("deprecated"));
        for bad in ["{", r#"{"kind":"ExecCredential"}"#, &info("example.com/v9")] {
            let (v, warning) = exec_credential_version(Some(bad));
            assert_eq!(v, "client.authentication.k8s.io/v1beta1", "{bad}");
            assert!(warning.is_some(), "{bad}");
        }
    }
}
