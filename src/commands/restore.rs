//! `okscript restore`: put a saved aws-auth back through the same conditional write a run
//! uses, after checking the backup and the guards; or list the backups with what each
//! would change now.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use k8s_openapi::api::core::v1::ConfigMap;

use super::{login, runtime, ExitStatus, Failure};
use crate::access::model::{AwsAuth, Protected, Refusal};
use crate::access::{plan, transition};
use crate::aws::Session;
use crate::kube::api::AWS_AUTH;
use crate::kube::{ConnectSpec, Connection};
use crate::output::Printer;
use crate::settings::{AwsSettings, KubeSettings};
use crate::targets::cluster::ClusterTarget;
use crate::targets::{Target, TargetError};

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
pub(crate) struct Backup {
    data: BTreeMap<String, String>,
    auth: AwsAuth,
    version: String,
}

fn bad_backup(file: &Path, what: String) -> Failure {
    Failure::failed(
        format!("{}: {what}; nothing was written", file.display()),
        Some(
            "restore another backup (`okscript restore --list` shows them), or fix the file by hand"
                .into(),
        ),
    )
}

/// Reads a backup and refuses one that is not kube-system/aws-auth or does not parse.
pub(crate) fn read_backup(file: &Path) -> Result<Backup, Failure> {
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
    Failure::failed(
        format!(
            "refusing to restore {} over {target}; it would{}\nnothing was written",
            file.display(),
            lines.concat()
        ),
        Some("the diff above is what the backup would undo; pass --force to restore it anyway (only when the node group is gone or another admin still reaches the cluster)".into()),
    )
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
) -> Result<ExitStatus, Failure> {
    let files = folder.map(backups_newest_first).unwrap_or_default();
    if files.is_empty() {
        printer.note(&format!(
            "no backups of {} in {}",
            target.describe(),
            folder.map_or("?".into(), |f| f.display().to_string())
        ));
        return Ok(ExitStatus::Success);
    }
    let (live, rv, notes) = target.live()?;
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
    Ok(ExitStatus::Success)
}

/// The backup file to restore: `backup` as given (a bare name is looked up in `folder`, as
/// `--list` shows it), else the newest in `folder`.
pub(crate) fn backup_file(
    cluster: &str,
    folder: Option<&Path>,
    backup: Option<&Path>,
) -> Result<PathBuf, Failure> {
    Ok(match backup {
        // A bare name, as `--list` shows it, is looked up in the cluster's folder.
        Some(b) if !b.exists() && b.components().count() == 1 && folder.is_some() => folder
            .map(|f| f.join(b))
            .filter(|p| p.exists())
            .unwrap_or_else(|| b.to_path_buf()),
        Some(b) => b.to_path_buf(),
        None => folder.and_then(newest_backup).ok_or_else(|| {
            Failure::usage(
                format!(
                    "no backups of {} in {}",
                    cluster,
                    folder.map_or("?".into(), |f| f.display().to_string())
                ),
                "name the backup file to restore, or set OKSCRIPT_BACKUP_DIR to where backups are",
            )
        })?,
    })
}

/// `okscript restore`: puts a saved aws-auth back through the conditional write, after
/// checking it (name, namespace, sections that parse) and the guards against the live state;
/// or lists the backups, or shows the diff without writing.
pub fn restore(
    aws: &AwsSettings,
    kube: &KubeSettings,
    opts: &RestoreOptions,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
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
        let conn = rt.block_on(Connection::open(&spec, session.as_ref(), aws.region()))?;
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
    let file = backup_file(&spec.name(), folder.as_deref(), opts.backup.as_deref())?;
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
        return Ok(ExitStatus::Success);
    }
    if opts.dry_run {
        printer.data(&format!(
            "{describe}: dry run: restoring {} over resourceVersion {rv} would make {}; nothing was written",
            file.display(),
            plan::describe(done.summary, true)
        ));
        return Ok(if opts.detailed_exitcode {
            ExitStatus::ChangesPending
        } else {
            ExitStatus::Success
        });
    }
    printer.data(&format!(
        "{describe}: restored from {} over resourceVersion {rv}: {}",
        file.display(),
        plan::describe(done.summary, false)
    ));
    Ok(ExitStatus::Success)
}
