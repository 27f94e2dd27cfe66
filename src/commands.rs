//! The cluster commands outside scripts: `token` (an ExecCredential, like `aws eks
//! get-token`), `kubeconfig` (a context whose exec plugin is `okscript token`), `venv` (a
//! shell set up for one cluster, like okctl's) and `restore` (put a saved aws-auth back).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine;
use k8s_openapi::api::core::v1::ConfigMap;

use crate::access::model::{AwsAuth, Protected, Refusal};
use crate::access::{plan, transition};
use crate::aws::{self, Session, TokenOptions};
use crate::cli::{EXIT_CHANGES, EXIT_OK};
use crate::kube::api::AWS_AUTH;
use crate::kube::{self, ConnectSpec, Connection, KubeconfigEntry};
use crate::output::Printer;
use crate::script::aws_fns::AwsSettings;
use crate::script::state::KubeSettings;
use crate::targets::cluster::ClusterTarget;
use crate::targets::{Target, TargetError};

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
    /// `current-context` before, when this changed it (`""` when there was none).
    pub previous_context: Option<String>,
    /// The cluster entry the context named before it was repointed (`--force`).
    pub repointed_from: Option<String>,
    /// The namespace the repointed context had.
    pub dropped_namespace: Option<String>,
}

/// Adds or updates the cluster's context, user and cluster entries in a kubeconfig; the
/// user's exec plugin is this very binary's `token` command. An existing context of the
/// same name for another cluster is refused (see [`write_kubeconfig_entry`] to force it).
pub fn write_kubeconfig(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    spec: &ConnectSpec,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
) -> Result<KubeconfigWritten, Failure> {
    write_kubeconfig_entry(rt, session, spec, env, file, alias, false)
}

/// [`write_kubeconfig`], repointing an existing context of the same name when `force`.
pub fn write_kubeconfig_entry(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    spec: &ConnectSpec,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
    force: bool,
) -> Result<KubeconfigWritten, Failure> {
    let Eks {
        cluster,
        server,
        ca_file,
        role_arn,
    } = eks_cluster(&KubeSettings {
        connect: Some(spec.clone()),
        ..KubeSettings::default()
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
    let update = kube::update_kubeconfig(&path, &entry, force).map_err(|e| Failure {
        hint: e.hint(),
        message: e.to_string(),
        usage: false,
    })?;
    Ok(KubeconfigWritten {
        path,
        context: entry.context_name,
        outcome: update.outcome,
        previous_context: update.previous_context,
        repointed_from: update.repointed_from,
        dropped_namespace: update.dropped_namespace,
    })
}

/// `okscript kubeconfig`: adds or updates the cluster's context in a kubeconfig.
pub fn kubeconfig(
    aws: &AwsSettings,
    kube: &KubeSettings,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
    force: bool,
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
    let done = write_kubeconfig_entry(&rt, &session, &spec, env, file, alias, force)?;
    printer.data(&format!(
        "{}: context {} for cluster {} ({}); kubectl now gets its tokens from `okscript token`",
        done.path.display(),
        done.context,
        spec.name(),
        outcome_word(done.outcome)
    ));
    for line in kubeconfig_changes(&done) {
        printer.data(&line);
    }
    Ok(done.path)
}

/// The lines that tell what a kubeconfig write changed besides its own entries.
pub fn kubeconfig_changes(done: &KubeconfigWritten) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(from) = &done.repointed_from {
        let ns = done.dropped_namespace.as_ref().map_or(String::new(), |n| {
            format!("; its namespace `{n}` was dropped")
        });
        lines.push(format!(
            "context {} pointed at cluster `{from}` before; it now points at this cluster (--force){ns}",
            done.context
        ));
    }
    match done.previous_context.as_deref() {
        Some("") => lines.push(format!("current-context is now {}", done.context)),
        Some(prev) => lines.push(format!(
            "current-context changed from {prev} to {}: kubectl now talks to this cluster by default (`kubectl config use-context {prev}` to go back)",
            done.context
        )),
        None => {}
    }
    lines
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
    kubeconfig(aws, kube, env, Some(&file), None, false, printer)?;
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

/// The backups in a folder, newest first (their names start with the UTC time).
fn backups_newest_first(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    // Same-second backups differ by resourceVersion, which sorts as a number, not as text.
    files.sort_by_cached_key(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let (stamp, rv) = match name.rsplit_once("-rv") {
            Some((stamp, rest)) => (
                stamp.to_string(),
                rest.trim_end_matches(".json").parse::<u64>().unwrap_or(0),
            ),
            None => (name.clone(), 0),
        };
        (stamp, rv, name)
    });
    files.reverse();
    files
}

/// The newest backup in a folder.
fn newest_backup(dir: &Path) -> Option<PathBuf> {
    backups_newest_first(dir).into_iter().next()
}

/// What `okscript restore` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// The backup file (a path, or a file name in the cluster's backups folder).
    pub backup: Option<PathBuf>,
    /// List the backups instead of restoring one.
    pub list: bool,
    /// Print the diff against the live aws-auth; write nothing.
    pub dry_run: bool,
    /// Pass the guards (node roles, the last admin, the caller's own access).
    pub force: bool,
    /// With `dry_run`: exit 2 when restoring would change aws-auth.
    pub detailed_exitcode: bool,
}

/// A backup read and checked: its data, and its sections parsed as `run` parses them.
struct Backup {
    data: BTreeMap<String, String>,
    auth: AwsAuth,
    version: String,
}

fn bad_backup(file: &Path, what: String) -> Failure {
    Failure {
        message: format!("{}: {what}; nothing was written", file.display()),
        hint: Some(
            "restore another backup (`okscript restore --list` shows them), or fix the file by hand"
                .into(),
        ),
        usage: false,
    }
}

/// Reads a backup and refuses one that is not kube-system/aws-auth or does not parse.
fn read_backup(file: &Path) -> Result<Backup, Failure> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Failure::usage(
            format!("cannot read {}: {e}", file.display()),
            "name an okscript backup file (aws-auth-*.json); `okscript restore --list` shows them",
        )
    })?;
    let saved: ConfigMap = serde_json::from_str(&text)
        .map_err(|e| bad_backup(file, format!("is not a ConfigMap backup: {e}")))?;
    let name = saved.metadata.name.as_deref().unwrap_or("");
    let namespace = saved.metadata.namespace.as_deref().unwrap_or("");
    if (namespace, name) != AWS_AUTH {
        return Err(bad_backup(
            file,
            format!(
                "holds the ConfigMap `{}/{}`, not `{}/{}`",
                if namespace.is_empty() { "?" } else { namespace },
                if name.is_empty() { "?" } else { name },
                AWS_AUTH.0,
                AWS_AUTH.1
            ),
        ));
    }
    let data = saved.data.unwrap_or_default();
    let auth = transition::parse_strict(&data).map_err(|e| bad_backup(file, e.to_string()))?;
    Ok(Backup {
        data,
        auth,
        version: saved.metadata.resource_version.unwrap_or_default(),
    })
}

/// The guard refusals as one failure, naming each guard.
fn refused(file: &Path, target: &str, refusals: &[Refusal]) -> Failure {
    let lines: Vec<String> = refusals
        .iter()
        .map(|r| {
            let m = r.message.strip_prefix("refusing to ").unwrap_or(&r.message);
            format!("\n  - {m}")
        })
        .collect();
    Failure {
        message: format!(
            "refusing to restore {} over {target}; it would{}\nnothing was written",
            file.display(),
            lines.concat()
        ),
        hint: Some("the diff above is what the backup would undo; pass --force to restore it anyway (only when the node group is gone or another admin still reaches the cluster)".into()),
        usage: false,
    }
}

/// The principals protected from losing access: the identity logged in with, if any.
fn protected(session: Option<&Session>) -> Protected {
    Protected {
        keys: session
            .map(|s| vec![crate::access::arn::match_key(&s.identity().principal_arn)])
            .unwrap_or_default(),
    }
}

/// The UTC time in a backup's name (`aws-auth-20261201T212540Z-rv123.json`), readable.
fn backup_time(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let stamp = name
        .strip_prefix("aws-auth-")
        .and_then(|r| r.split("-rv").next())
        .unwrap_or("?");
    let b = stamp.as_bytes();
    if b.len() >= 15 && b[8] == b'T' && b[..8].iter().all(u8::is_ascii_digit) {
        format!(
            "{}-{}-{}T{}:{}:{}",
            &stamp[..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[9..11],
            &stamp[11..13],
            &stamp[13..]
        )
    } else {
        stamp.to_string()
    }
}

fn principals(verb: &str, list: &[String]) -> Option<String> {
    const SHOWN: usize = 3;
    if list.is_empty() {
        return None;
    }
    let mut s = format!("{verb} {}", list[..list.len().min(SHOWN)].join(", "));
    if list.len() > SHOWN {
        s.push_str(&format!(" and {} more", list.len() - SHOWN));
    }
    Some(s)
}

/// `okscript restore --list`: one row per backup, newest first, with what restoring it now
/// would do to the live aws-auth.
fn list_backups(
    target: &mut ClusterTarget,
    folder: Option<&Path>,
    protected: &Protected,
    printer: &mut Printer,
) -> Result<u8, Failure> {
    let files = folder.map(backups_newest_first).unwrap_or_default();
    if files.is_empty() {
        printer.note(&format!(
            "no backups of {} in {}",
            target.describe(),
            folder.map_or("?".into(), |f| f.display().to_string())
        ));
        return Ok(EXIT_OK);
    }
    let (live, rv, notes) = target.live().map_err(target_failure)?;
    for n in notes {
        printer.warn(&n);
    }
    printer.data(&format!(
        "# backups of {} (newest first); changes are what restoring each would do to the live aws-auth (resourceVersion {rv})",
        target.describe()
    ));
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let (version, what) = match read_backup(&file) {
            Err(e) => (
                "?".to_string(),
                format!(
                    "unusable: {}",
                    e.message
                        .trim_end_matches("; nothing was written")
                        .trim_start_matches(&format!("{}: ", file.display()))
                ),
            ),
            Ok(b) => {
                let t = transition::compare(&live, &b.auth);
                let mut parts = vec![plan::describe(t.summary, true)];
                parts.extend(principals("adds", &t.added));
                parts.extend(principals("changes", &t.changed));
                parts.extend(principals("removes", &t.removed));
                let refusals = transition::guards(&live, &b.auth, protected);
                if !refusals.is_empty() {
                    parts.push(format!(
                        "needs --force ({} guard{})",
                        refusals.len(),
                        if refusals.len() == 1 { "" } else { "s" }
                    ));
                }
                (
                    if b.version.is_empty() {
                        "?".into()
                    } else {
                        b.version
                    },
                    parts.join("; "),
                )
            }
        };
        printer.data(&format!(
            "{}  rv {version}  {name}  {what}",
            backup_time(&file)
        ));
    }
    Ok(EXIT_OK)
}

fn target_failure(e: TargetError) -> Failure {
    Failure {
        hint: e.hint(),
        message: e.to_string(),
        usage: false,
    }
}

impl From<TargetError> for Failure {
    fn from(e: TargetError) -> Failure {
        target_failure(e)
    }
}

/// `okscript restore`: puts a saved aws-auth back through the conditional write, after
/// checking it (name, namespace, sections that parse) and the guards against the live state;
/// or lists the backups, or shows the diff without writing.
pub fn restore(
    aws: &AwsSettings,
    kube: &KubeSettings,
    opts: &RestoreOptions,
    printer: &mut Printer,
) -> Result<u8, Failure> {
    let spec = kube.connect.clone().ok_or_else(|| {
        Failure::usage(
            "which cluster?",
            "pass --cluster NAME, -c cluster.yaml or --context NAME",
        )
    })?;
    let folder = kube.backups_for(&spec.name());
    let connect = || -> Result<(ClusterTarget, Protected), Failure> {
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
            return Err(TargetError::IgnoredByEks {
                cluster: spec.name(),
            }
            .into());
        }
        let target = ClusterTarget::new(rt, Rc::new(std::cell::RefCell::new(conn)), folder.clone())
            .keep_backups(kube.keep_backups);
        Ok((target, protected(session.as_ref())))
    };
    if opts.list {
        let (mut target, protected) = connect()?;
        return list_backups(&mut target, folder.as_deref(), &protected, printer);
    }
    let file = match &opts.backup {
        // A bare name, as `--list` shows it, is looked up in the cluster's folder.
        Some(b) if !b.exists() && b.components().count() == 1 && folder.is_some() => folder
            .as_deref()
            .map(|f| f.join(b))
            .filter(|p| p.exists())
            .unwrap_or_else(|| b.clone()),
        Some(b) => b.clone(),
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
    // Checked before connecting: a bad backup never gets near the cluster.
    let backup = read_backup(&file)?;
    let (mut target, protected) = connect()?;
    let describe = target.describe();
    let mut forced = Vec::new();
    let done = target.restore(&backup.data, opts.dry_run, |live, wanted| {
        let refusals = transition::guards(live, wanted, &protected);
        if refusals.is_empty() || opts.force {
            forced = refusals;
            return Ok(());
        }
        printer.raw(&plan::diff(live, wanted));
        Err(refused(&file, &describe, &refusals))
    })?;
    for n in &done.notes {
        printer.note(n);
    }
    for r in &forced {
        printer.warn(&format!(
            "--force: {}",
            r.message.replacen("refusing to ", "going ahead and ", 1)
        ));
    }
    printer.raw(&done.diff);
    let rv = if done.version.is_empty() {
        "none".into()
    } else {
        done.version.clone()
    };
    if !done.differs {
        printer.data(&format!(
            "no changes: {describe} already holds what {} holds",
            file.display()
        ));
        return Ok(EXIT_OK);
    }
    if opts.dry_run {
        printer.data(&format!(
            "{describe}: dry run: restoring {} over resourceVersion {rv} would make {}; nothing was written",
            file.display(),
            plan::describe(done.summary, true)
        ));
        return Ok(if opts.detailed_exitcode {
            EXIT_CHANGES
        } else {
            EXIT_OK
        });
    }
    printer.data(&format!(
        "{describe}: restored from {} over resourceVersion {rv}: {}",
        file.display(),
        plan::describe(done.summary, false)
    ));
    Ok(EXIT_OK)
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
