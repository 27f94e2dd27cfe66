//! The cluster commands outside scripts: `token` (an ExecCredential, like `aws eks
//! get-token`), `kubeconfig` (a context whose exec plugin is `okscript token`), `venv` (a
//! shell set up for one cluster, like okctl's) and `restore` (put a saved aws-auth back).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;

use crate::aws::{self, CredentialType, Session, TokenOptions};
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
    let t = aws.default_type.unwrap_or(CredentialType::AwsProfile);
    let session = rt.block_on(aws::login(&aws.ctx, t))?;
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

/// `okscript token`: prints an ExecCredential for the cluster.
pub fn token(aws: &AwsSettings, kube: &KubeSettings, printer: &mut Printer) -> Result<(), Failure> {
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
    printer.raw(&format!("{}\n", token.exec_credential_json()));
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
        ConnectSpec::Eks { .. }
        | ConnectSpec::Kubeconfig {
            eks_cluster: Some(_),
            ..
        } => Some(login(&rt, aws)?),
        ConnectSpec::Kubeconfig { .. } => None,
    };
    let conn = rt.block_on(Connection::open(&spec, session.as_ref(), region(aws)))?;
    // A restore EKS would ignore is no restore.
    if conn.auth_mode() == Some(crate::aws::AuthMode::Api) {
        let e = crate::targets::TargetError::IgnoredByEks {
            cluster: spec.name(),
        };
        return Err(Failure {
            hint: e.hint(),
            message: e.to_string(),
            usage: false,
        });
    }
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
