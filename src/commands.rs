//! The cluster commands outside scripts: `token` (an ExecCredential, like `aws eks
//! get-token`), `kubeconfig` (a context whose exec plugin is `okscript token`), `venv` (a
//! shell set up for one cluster, like okctl's) and `restore` (put a saved aws-auth back).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;

use crate::aws::{self, Session, TokenOptions};
use crate::kube::{self, ConnectSpec, Connection, KubeconfigEntry};
use crate::output::Printer;
use crate::script::aws_fns::AwsSettings;
use crate::script::state::KubeSettings;
use crate::targets::cluster::ClusterTarget;
use crate::targets::Target;

/// A command failure: the message, an optional hint, and whether it was a usage error.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
    /// True for a bad command line (exit 2).
    pub usage: bool,
}

impl Failure {
    fn usage(message: impl Into<String>, hint: &str) -> Failure {
        Failure {
            message: message.into(),
            hint: Some(hint.into()),
            usage: true,
        }
    }
}

impl From<aws::AwsError> for Failure {
    fn from(e: aws::AwsError) -> Failure {
        Failure {
            hint: e.hint(),
            message: e.to_string(),
            usage: false,
        }
    }
}

impl From<kube::KubeError> for Failure {
    fn from(e: kube::KubeError) -> Failure {
        Failure {
            hint: e.hint(),
            message: e.to_string(),
            usage: false,
        }
    }
}

/// The runtime the cluster commands block on.
fn runtime() -> Result<Arc<tokio::runtime::Runtime>, Failure> {
    aws::runtime().map(Arc::new).map_err(|e| Failure {
        message: format!("cannot start the async runtime: {e}"),
        hint: None,
        usage: false,
    })
}

fn login(rt: &tokio::runtime::Runtime, aws: &AwsSettings) -> Result<Session, Failure> {
    let session = match aws.default_type {
        Some(t) => rt.block_on(aws::login(&aws.ctx, t))?,
        None => rt.block_on(aws::login_default(&aws.ctx))?,
    };
    if let Some((file, c)) = &aws.cluster {
        if c.account_id != session.account() {
            return Err(Failure {
                message: format!(
                    "logged in to {} but {file} is for {}",
                    session.account(),
                    c.account_id
                ),
                hint: Some("log in to the cluster's account (check AWS_PROFILE and -a)".into()),
                usage: false,
            });
        }
    }
    Ok(session)
}

/// The EKS cluster a command works on.
struct Eks {
    cluster: String,
    server: Option<String>,
    ca_file: Option<PathBuf>,
    role_arn: Option<String>,
}

fn eks_cluster(kube: &KubeSettings) -> Result<Eks, Failure> {
    match &kube.connect {
        Some(ConnectSpec::Eks {
            cluster,
            server,
            ca_file,
            role_arn,
        }) => Ok(Eks {
            cluster: cluster.clone(),
            server: server.clone(),
            ca_file: ca_file.clone(),
            role_arn: role_arn.clone(),
        }),
        Some(ConnectSpec::Kubeconfig { .. }) => Err(Failure::usage(
            "this command works on an EKS cluster, not a kubeconfig context",
            "pass --cluster NAME (or -c cluster.yaml) instead of --context",
        )),
        None => Err(Failure::usage(
            "which cluster?",
            "pass --cluster NAME, or -c cluster.yaml, or set OKSCRIPT_CLUSTER",
        )),
    }
}

fn region(aws: &AwsSettings) -> Option<String> {
    aws.ctx.region.clone().or_else(|| aws.ctx.explicit_region())
}

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
) -> Result<(), Failure> {
    let (version, warning) =
        exec_credential_version(env.get("KUBERNETES_EXEC_INFO").map(String::as_str));
    if let Some(w) = warning {
        printer.warn(&w);
    }
    let Eks {
        cluster, role_arn, ..
    } = eks_cluster(kube)?;
    let rt = runtime()?;
    let session = login(&rt, aws)?;
    let options = TokenOptions {
        region: region(aws),
        role_arn,
        session_name: None,
    };
    let token = rt.block_on(aws::eks_token(&session, &cluster, &options))?;
    let mut credential = token.exec_credential();
    credential["apiVersion"] = version.into();
    let text = serde_json::to_string_pretty(&credential).map_err(|e| Failure {
        message: format!("cannot print the ExecCredential: {e}"),
        hint: None,
        usage: false,
    })?;
    printer.raw(&format!("{text}\n"));
    Ok(())
}

/// What writing a kubeconfig entry did.
#[derive(Debug, Clone)]
pub struct KubeconfigWritten {
    /// The file.
    pub path: PathBuf,
    /// The context's name.
    pub context: String,
    /// Created, updated or unchanged.
    pub outcome: kube::FileOutcome,
}

/// Adds or updates the cluster's context, user and cluster entries in a kubeconfig; the
/// user's exec plugin is this very binary's `token` command.
pub fn write_kubeconfig(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    spec: &ConnectSpec,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
) -> Result<KubeconfigWritten, Failure> {
    let Eks {
        cluster,
        server,
        ca_file,
        role_arn,
    } = eks_cluster(&KubeSettings {
        connect: Some(spec.clone()),
        backups_root: None,
    })?;
    let mut info = rt.block_on(aws::describe_cluster(session, &cluster))?;
    if let Some(s) = server {
        info.endpoint = s;
    }
    if let Some(ca) = ca_file {
        let pem = std::fs::read(&ca).map_err(|e| Failure {
            message: format!("cannot read {}: {e}", ca.display()),
            hint: None,
            usage: true,
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
        None => kube::default_kubeconfig_path(
            env.get("KUBECONFIG").map(String::as_str),
            env.get("HOME").map(String::as_str),
        )
        .ok_or_else(|| {
            Failure::usage("no kubeconfig path", "pass --kubeconfig PATH or set HOME")
        })?,
    };
    let outcome = kube::update_kubeconfig_file(&path, &entry).map_err(|e| Failure {
        hint: e.hint(),
        message: e.to_string(),
        usage: false,
    })?;
    Ok(KubeconfigWritten {
        path,
        context: entry.context_name,
        outcome,
    })
}

/// `okscript kubeconfig`: adds or updates the cluster's context in a kubeconfig.
pub fn kubeconfig(
    aws: &AwsSettings,
    kube: &KubeSettings,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
    printer: &mut Printer,
) -> Result<PathBuf, Failure> {
    let spec = kube.connect.clone().ok_or_else(|| {
        Failure::usage(
            "which cluster?",
            "pass --cluster NAME, or -c cluster.yaml, or set OKSCRIPT_CLUSTER",
        )
    })?;
    let rt = runtime()?;
    let session = login(&rt, aws)?;
    let done = write_kubeconfig(&rt, &session, &spec, env, file, alias)?;
    printer.data(&format!(
        "{}: context {} for cluster {} ({}); kubectl now gets its tokens from `okscript token`",
        done.path.display(),
        done.context,
        spec.name(),
        outcome_word(done.outcome)
    ));
    Ok(done.path)
}

/// How a kubeconfig write went, in a word or three.
pub fn outcome_word(outcome: kube::FileOutcome) -> &'static str {
    match outcome {
        kube::FileOutcome::Created => "created",
        kube::FileOutcome::Updated => "updated",
        kube::FileOutcome::Unchanged => "already up to date",
    }
}

/// `okscript venv`: a shell with KUBECONFIG, OKSCRIPT_CLUSTER and the AWS settings of the
/// cluster, like okctl's venv. Returns the shell's exit code.
pub fn venv(
    aws: &AwsSettings,
    kube: &KubeSettings,
    env: &BTreeMap<String, String>,
    printer: &mut Printer,
) -> Result<i32, Failure> {
    let cluster = eks_cluster(kube)?.cluster;
    let state = env
        .get("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env.get("HOME")
                .map(|h| PathBuf::from(h).join(".local/state"))
        })
        .ok_or_else(|| Failure::usage("no HOME to keep the venv's kubeconfig in", "set HOME"))?;
    let file = state
        .join("okscript/venv")
        .join(&cluster)
        .join("kubeconfig");
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Failure {
            message: format!("cannot create {}: {e}", dir.display()),
            hint: None,
            usage: false,
        })?;
    }
    kubeconfig(aws, kube, env, Some(&file), None, printer)?;
    let shell = env
        .get("OKSCRIPT_SHELL")
        .or_else(|| env.get("SHELL"))
        .cloned()
        .unwrap_or_else(|| "/bin/sh".into());
    let mut cmd = std::process::Command::new(&shell);
    cmd.env("KUBECONFIG", &file)
        .env("OKSCRIPT_CLUSTER", &cluster);
    if let Some(r) = region(aws) {
        cmd.env("AWS_REGION", r);
    }
    if let Some(t) = aws.default_type {
        cmd.env("OKSCRIPT_AWS_CREDENTIALS_TYPE", t.as_str());
    }
    printer.note(&format!(
        "starting {shell} for cluster {cluster}; `exit` to leave"
    ));
    let status = cmd.status().map_err(|e| Failure {
        message: format!("cannot start {shell}: {e}"),
        hint: Some("set OKSCRIPT_SHELL to a shell that exists".into()),
        usage: false,
    })?;
    Ok(status.code().unwrap_or(1))
}

/// The newest backup in a folder.
fn newest_backup(dir: &Path) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.pop()
}

/// `okscript restore`: puts a saved aws-auth back through the conditional write.
pub fn restore(
    aws: &AwsSettings,
    kube: &KubeSettings,
    backup: Option<&Path>,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let spec = kube.connect.clone().ok_or_else(|| {
        Failure::usage(
            "which cluster?",
            "pass --cluster NAME, -c cluster.yaml or --context NAME",
        )
    })?;
    let folder = kube.backups_for(&spec.name());
    let file = match backup {
        Some(b) => b.to_path_buf(),
        None => folder.as_deref().and_then(newest_backup).ok_or_else(|| {
            Failure::usage(
                format!(
                    "no backups of {} in {}",
                    spec.name(),
                    folder
                        .as_deref()
                        .map_or("?".into(), |f| f.display().to_string())
                ),
                "name the backup file to restore, or set OKSCRIPT_BACKUP_DIR to where backups are",
            )
        })?,
    };
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Failure::usage(
            format!("cannot read {}: {e}", file.display()),
            "name an okscript backup file (aws-auth-*.json)",
        )
    })?;
    let saved: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_str(&text).map_err(|e| {
            Failure::usage(
                format!("{} is not a ConfigMap backup: {e}", file.display()),
                "name an okscript backup file (aws-auth-*.json)",
            )
        })?;
    let rt = runtime()?;
    let session = match &spec {
        ConnectSpec::Eks { .. } => Some(login(&rt, aws)?),
        ConnectSpec::Kubeconfig { .. } => None,
    };
    let conn = rt.block_on(Connection::open(&spec, session.as_ref(), region(aws)))?;
    let mut target = ClusterTarget::new(rt, Rc::new(std::cell::RefCell::new(conn)), folder);
    let (diff, written) = target
        .restore(saved.data.unwrap_or_default())
        .map_err(|e| Failure {
            hint: e.hint(),
            message: e.to_string(),
            usage: false,
        })?;
    printer.raw(&diff);
    printer.data(&if written {
        format!("{}: restored from {}", target.describe(), file.display())
    } else {
        format!(
            "no changes: {} already holds what {} holds",
            target.describe(),
            file.display()
        )
    });
    Ok(())
}

/// `okscript login`: a new SSO login for the profile (`--profile`, `AWS_PROFILE`, else
/// `default`), written to the AWS CLI v2's token cache; the authorization code grant with
/// PKCE unless `device_code`.
pub fn sso_login(
    aws: &AwsSettings,
    device_code: bool,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let profile = aws.ctx.profile_name();
    let opts = aws::SsoLoginOptions {
        open_browser: !aws.no_browser && aws.display,
        force: true,
        sleeper: None,
        authorization_code: !device_code,
        person: aws.terminal || (!aws.no_browser && aws.display),
        browser: aws.browser.clone(),
    };
    let rt = runtime()?;
    let mut show = |line: &str| printer.note(line);
    let cancel = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let done = rt.block_on(aws::sso_login(&aws.ctx, &profile, &opts, &mut show, cancel))?;
    printer.note(&format!(
        "logged in to AWS SSO for profile `{}` ({}) until {}; the token is cached in {}",
        done.profile,
        done.start_url,
        done.expires_at,
        done.cache_file.display()
    ));
    Ok(())
}

/// `okscript logout`: removes the cached SSO login of the profile's SSO session.
pub fn sso_logout(aws: &AwsSettings, printer: &mut Printer) -> Result<(), Failure> {
    let profile = aws.ctx.profile_name();
    match aws::sso_logout(&aws.ctx, &profile)? {
        Some(file) => printer.note(&format!(
            "logged out of AWS SSO for profile `{profile}`: removed {}",
            file.display()
        )),
        None => printer.note(&format!(
            "no cached SSO login for profile `{profile}`: nothing to remove"
        )),
    }
    Ok(())
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
