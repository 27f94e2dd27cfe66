//! `okscript report`: who can reach a cluster, and through what — from Identity Center users
//! and groups through permission sets, roles and aws-auth rows or access entries to their
//! access — as a table, JSON or Markdown with a Mermaid picture; `--diff OLD.json` says what
//! changed since an earlier report.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{login, runtime, ExitStatus, Failure};
use crate::audit::{cluster_report, IdentityCenterAccess};
use crate::aws::{self, IdentityCenterSpec};
use crate::kube::Connection;
use crate::output::Printer;
use crate::report::{self, Report, SCHEMA_VERSION};
use crate::settings::{AwsSettings, KubeSettings};

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// The terminal table.
    #[default]
    Text,
    /// The JSON document (schema in `okscript report --help`).
    Json,
    /// Markdown with a Mermaid flowchart.
    Markdown,
}

/// What `okscript report` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The output format.
    pub format: ReportFormat,
    /// An earlier JSON report to compare with.
    pub diff: Option<PathBuf>,
    /// With `diff`: exit 2 when something changed.
    pub detailed_exitcode: bool,
    /// The profile that reads Identity Center [default: the cluster's login].
    pub sso_profile: Option<String>,
    /// Identity Center's region and instance, when given.
    pub sso: IdentityCenterSpec,
}

/// Reads an earlier report, refusing one of another schema version or cluster before
/// anything logs in.
fn read_old(path: &Path, cluster: &str) -> Result<Report, Failure> {
    let hint = "pass a file written by `okscript report --output json` (with this okscript)";
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(
            format!("cannot read the old report {}: {e}", path.display()),
            hint,
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::usage(
            format!("{} is not a JSON report: {e}", path.display()),
            hint,
        )
    })?;
    let version = value["schema_version"].as_u64();
    if version != Some(u64::from(SCHEMA_VERSION)) {
        let found = version.map_or("none".to_string(), |v| v.to_string());
        return Err(Failure::usage(
            format!(
                "{} has schema_version {found}, this okscript writes {SCHEMA_VERSION}: the reports cannot be compared",
                path.display()
            ),
            "make a new baseline with `okscript report --output json > OLD.json` and compare against that from now on",
        ));
    }
    let old: Report = serde_json::from_value(value).map_err(|e| {
        Failure::usage(
            format!(
                "{} is not a report of schema_version {SCHEMA_VERSION}: {e}",
                path.display()
            ),
            hint,
        )
    })?;
    if old.cluster != cluster {
        return Err(Failure::usage(
            format!(
                "{} is a report of cluster {}, not {cluster}: the reports cannot be compared",
                path.display(),
                old.cluster
            ),
            &format!("compare with a report of cluster {cluster}, or leave out --diff"),
        ));
    }
    Ok(old)
}

/// `okscript report`: logs in, connects, reads every path to the cluster and prints it (or
/// what changed since `--diff OLD.json`).
pub fn report(
    aws_settings: &AwsSettings,
    kube: &KubeSettings,
    opts: &ReportOptions,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
    let Some((spec, cluster)) = kube
        .connect
        .as_ref()
        .and_then(|c| c.eks_cluster().map(|name| (c.clone(), name.to_string())))
    else {
        return Err(Failure::usage(
            "the report reads the cluster's access entries and mode through the EKS API, so it needs the EKS cluster's name",
            "pass --cluster NAME (or -c cluster.yaml; with --context, add --cluster too)",
        ));
    };
    let old = match &opts.diff {
        Some(path) => Some(read_old(path, &cluster)?),
        None => None,
    };
    let rt = runtime()?;
    let session = login(&rt, aws_settings)?;
    let conn = rt.block_on(Connection::open(
        &spec,
        Some(&session),
        aws_settings.region(),
    ))?;
    let conn = Rc::new(RefCell::new(conn));
    let ic_session = identity_center_login(&rt, aws_settings, opts, &session);
    let ic = IdentityCenterAccess {
        session: ic_session,
        spec: opts.sso.clone(),
    };
    let new = cluster_report(&rt, &session, &conn, &ic);
    if new.partial {
        for g in &new.not_visible {
            printer.warn(&format!(
                "partial report: {} not visible: {}",
                g.part, g.reason
            ));
        }
    }
    let Some(old) = old else {
        print_report(&new, opts.format, printer);
        return Ok(ExitStatus::Success);
    };
    let d = report::diff(&old, &new).map_err(|e| {
        Failure::failed(
            format!(
                "{}: {e}",
                opts.diff
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            ),
            Some(e.hint()),
        )
    })?;
    let partial_changed = old.partial != new.partial;
    match opts.format {
        ReportFormat::Json => printer.json(&serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "cluster": new.cluster,
            "account": new.account,
            "partial": new.partial,
            "old_partial": old.partial,
            "not_visible": new.not_visible,
            "gained": d.gained,
            "lost": d.lost,
            "changed": d.changed,
        })),
        _ => {
            printer.raw(&report::diff_text(&d));
            if partial_changed {
                printer.warn(&format!(
                    "the old report was {}, this one is {}: paths through what was not visible show as gained or lost",
                    if old.partial { "partial" } else { "complete" },
                    if new.partial { "partial" } else { "complete" }
                ));
            }
        }
    }
    if opts.detailed_exitcode && (!d.is_empty() || partial_changed) {
        return Ok(ExitStatus::ChangesPending);
    }
    Ok(ExitStatus::Success)
}

/// The login that reads Identity Center: the cluster's, or `--sso-profile`'s (or why that
/// one failed, for the report to show as not visible).
pub(super) fn identity_center_login(
    rt: &tokio::runtime::Runtime,
    aws_settings: &AwsSettings,
    opts: &ReportOptions,
    session: &aws::Session,
) -> Result<aws::Session, String> {
    match &opts.sso_profile {
        None => Ok(session.clone()),
        Some(p) => rt
            .block_on(aws::assume_profile(&aws_settings.ctx, p))
            .map_err(|e| format!("cannot log in with --sso-profile {p}: {e}")),
    }
}

/// Prints a report in `format`.
pub fn print_report(r: &Report, format: ReportFormat, printer: &mut Printer) {
    match format {
        ReportFormat::Text => printer.raw(&report::text(r)),
        ReportFormat::Markdown => printer.raw(&report::markdown(r)),
        ReportFormat::Json => printer.json(&serde_json::to_value(r).unwrap_or_default()),
    }
}
