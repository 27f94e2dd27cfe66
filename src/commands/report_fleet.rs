//! `okscript report` on a fleet: one login, then each cluster's report made on its own thread
//! (its own connection), printed as one block per cluster as it finishes, and the fleet's
//! summary table; `--output json` is one document holding every cluster's report.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use serde_json::json;

use super::report::{identity_center_login, print_report, ReportFormat, ReportOptions};
use super::{login, runtime, ExitStatus, Failure};
use crate::audit::{cluster_report, IdentityCenterAccess};
use crate::fleet::output::Buffer;
use crate::fleet::{self, Crash, FleetRequest, Member, Row};
use crate::kube::Connection;
use crate::output::{Format, Printer};
use crate::report::{Report, SCHEMA_VERSION};
use crate::script::aws_fns::SharedLogin;
use crate::settings::{AwsSettings, KubeSettings};

/// What every cluster's report shares.
struct Shared {
    aws: AwsSettings,
    kube: KubeSettings,
    login: SharedLogin,
    ic: IdentityCenterAccess,
    role_arn: Option<String>,
    format: ReportFormat,
}

/// One cluster's report and the output it printed.
struct Made {
    report: Result<Report, Failure>,
    region: String,
    out: Vec<u8>,
    err: Vec<u8>,
}

/// `okscript report` on several clusters (`--cluster` repeated, `--clusters-from`,
/// `--all-clusters`).
pub fn report_fleet(
    aws_settings: &AwsSettings,
    kube: &KubeSettings,
    opts: &ReportOptions,
    fleet: &FleetRequest,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
    if opts.diff.is_some() {
        return Err(Failure::usage(
            "--diff compares one cluster's report with an earlier one of that cluster, so it cannot be used with a fleet",
            "run `okscript report --cluster NAME --diff OLD.json` for each cluster",
        ));
    }
    let rt = runtime()?;
    let session = login(&rt, aws_settings)?;
    let ic_session = identity_center_login(&rt, aws_settings, opts, &session);
    let login = SharedLogin {
        runtime: rt,
        session,
    };
    let members = fleet::members(fleet, &login).map_err(|e| Failure {
        usage: e.is_usage(),
        ..Failure::failed(e.to_string(), e.hint())
    })?;
    let shared = Arc::new(Shared {
        aws: aws_settings.clone(),
        kube: kube.clone(),
        login,
        ic: IdentityCenterAccess {
            session: ic_session,
            spec: opts.sso.clone(),
        },
        role_arn: fleet.role_arn.clone(),
        format: opts.format,
    });
    let job = {
        let shared = shared.clone();
        move |m: &Member| report_one(&shared, m)
    };
    let results = fleet::run_all(&members, fleet.parallel, None, job, |m, r| match r {
        Ok(made) => fleet::output::print_block(m, &made.out, &made.err),
        Err(crash) => {
            let err = format!("error: {}\n", crash_text(m, crash));
            fleet::output::print_block(m, &[], err.as_bytes());
        }
    });
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    for (m, r) in members.iter().zip(results) {
        let (row, doc) = summarize(m, r);
        rows.push(row);
        documents.push(doc);
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    if opts.format == ReportFormat::Json {
        printer.json(&json!({
            "schema_version": SCHEMA_VERSION,
            "clusters": documents,
            "summary": {"clusters": rows.len(), "succeeded": rows.len() - failed, "failed": failed},
        }));
    } else {
        printer.raw(&format!("\n{}", fleet::table(&rows)));
    }
    if failed > 0 {
        Err(Failure::reported(false))
    } else {
        Ok(ExitStatus::Success)
    }
}

/// One cluster's report, on its own thread (its connection is made and used there).
fn report_one(shared: &Shared, m: &Member) -> Made {
    let placed = fleet::place(
        m,
        &shared.aws,
        &shared.kube,
        &shared.login,
        shared.role_arn.as_deref(),
    );
    let (out, err) = (Buffer::default(), Buffer::default());
    let format = match shared.format {
        ReportFormat::Json => Format::Json,
        _ => Format::Text,
    };
    let mut printer = Printer::new(format, Box::new(out.clone()), Box::new(err.clone()));
    let report = (|| -> Result<Report, Failure> {
        let session = &placed.login.session;
        placed
            .aws
            .check_account(session.account())
            .map_err(|w| Failure::failed(w.message, Some(w.hint)))?;
        let spec = placed
            .kube
            .connect
            .clone()
            .ok_or_else(|| Failure::failed("no connection for the cluster", None))?;
        let rt = &placed.login.runtime;
        let conn = rt.block_on(Connection::open(
            &spec,
            Some(session),
            Some(placed.region.clone()),
        ))?;
        let conn = Rc::new(RefCell::new(conn));
        Ok(cluster_report(rt, session, &conn, &shared.ic))
    })();
    match &report {
        Ok(r) => {
            for g in &r.not_visible {
                printer.warn(&format!(
                    "partial report: {} not visible: {}",
                    g.part, g.reason
                ));
            }
            if shared.format != ReportFormat::Json {
                print_report(r, shared.format, &mut printer);
            }
        }
        Err(e) => printer.error(&e.message, e.hint.as_deref()),
    }
    drop(printer);
    Made {
        report,
        region: placed.region,
        out: out.take(),
        err: err.take(),
    }
}

/// The summary row and JSON object of one cluster's report.
fn summarize(m: &Member, r: Result<Made, Crash>) -> (Row, serde_json::Value) {
    let mut row = Row {
        cluster: m.name.clone(),
        region: m.region.clone().unwrap_or_default(),
        ..Row::default()
    };
    match r {
        Ok(Made {
            report: Ok(report),
            region,
            ..
        }) => {
            row.region = region;
            row.mode = Some(report.authentication_mode.clone());
            row.ok = true;
            row.result = format!(
                "{} path{}{}",
                report.rows.len(),
                if report.rows.len() == 1 { "" } else { "s" },
                if report.partial { " (partial)" } else { "" }
            );
            let doc = serde_json::to_value(&report).unwrap_or_default();
            (row, doc)
        }
        Ok(Made {
            report: Err(e),
            region,
            ..
        }) => {
            row.region = region;
            row.result = format!("failed: {}", e.message.lines().next().unwrap_or_default());
            let doc = json!({"cluster": m.name, "error": {"message": e.message, "hint": e.hint}});
            (row, doc)
        }
        Err(crash) => {
            row.result = format!("failed: {}", crash.message);
            let doc = json!({"cluster": m.name, "error": {"message": crash_text(m, &crash), "hint": null}});
            (row, doc)
        }
    }
}

fn crash_text(m: &Member, crash: &Crash) -> String {
    format!(
        "the report of cluster {} stopped on an internal error: {}",
        m.name, crash.message
    )
}
