//! `okscript run` on a fleet: the script's inputs checked once, one AWS login for every
//! cluster, then the script once per cluster (each with its own engine, connection, target
//! and change set, on its own thread), each cluster's output printed as one block as it
//! finishes, and a summary table (or one JSON document) at the end.

use std::sync::Arc;

use serde_json::{json, Value};

use super::run::{checked, failure_json, speak_to_runners, success_json, summary_line, RunRequest};
use super::{ExitStatus, Failure};
use crate::fleet::output::Buffer;
use crate::fleet::{self, Crash, FleetRequest, Member, Row};
use crate::output::{Format, Printer};
use crate::script::aws_fns::SharedLogin;
use crate::script::errors::ScriptError;
use crate::script::{self, RunOptions, Script};

/// What one cluster's run left: its output, its summary row and its JSON object.
struct ClusterRun {
    out: Vec<u8>,
    err: Vec<u8>,
    row: Row,
    json: Value,
    pending: bool,
}

/// What every cluster's run shares: the script, its settings and the one login.
struct Shared {
    script: Script,
    /// Whether the script declares inputs, and `force` among them (how errors speak).
    takes_force: Option<bool>,
    opts: RunOptions,
    login: SharedLogin,
    role_arn: Option<String>,
    format: Format,
    verbose: bool,
    strict: bool,
}

/// `okscript run` with several clusters; `fleet` is what the command line made of the
/// cluster flags (its failure is reported after the script's own checks, like any setting's).
pub fn run_fleet(
    req: RunRequest,
    fleet: Result<Option<FleetRequest>, Failure>,
) -> Result<ExitStatus, Failure> {
    let format = req.format;
    let (script, declared, printer) = checked(&req)?;
    let Some(fleet) = fleet? else {
        return super::run::run(req);
    };
    let mut opts = req.options.map_err(Failure::bad_setting)?;
    opts.args = req.set.clone();
    let (login, mut printer) = script::login_once(opts.aws.clone(), printer);
    let login = match login {
        Ok(l) => l,
        Err(e) => return Err(whole_fleet_failed(&mut printer, format, &script, &e, false)),
    };
    let members = match fleet::members(&fleet, &login) {
        Ok(m) => m,
        Err(e) => {
            let usage = e.is_usage();
            let e = ScriptError {
                message: e.to_string(),
                hint: e.hint(),
            };
            return Err(whole_fleet_failed(&mut printer, format, &script, &e, usage));
        }
    };
    printer.verbose(&format!(
        "running {} on {} clusters, {} at a time, logged in once as {}",
        script.name,
        members.len(),
        fleet.parallel.min(members.len()),
        login.session.identity().arn
    ));
    let dry_run = opts.dry_run;
    let deadline = opts.limits.timeout + fleet::DEADLINE_GRACE;
    let shared = Arc::new(Shared {
        script: script.clone(),
        takes_force: super::run::takes_force(declared.as_ref()),
        opts,
        login,
        role_arn: fleet.role_arn.clone(),
        format,
        verbose: req.verbose,
        strict: req.strict,
    });
    let job = {
        let shared = shared.clone();
        move |m: &Member| run_one(&shared, m)
    };
    let results = fleet::run_all(&members, fleet.parallel, Some(deadline), job, print_block);
    let runs: Vec<ClusterRun> = members
        .iter()
        .zip(results)
        .map(|(m, r)| r.unwrap_or_else(|crash| crashed(&shared, m, &crash)))
        .collect();
    let failed = runs.iter().filter(|r| !r.row.ok).count();
    let pending = runs.iter().filter(|r| r.pending).count();
    if format == Format::Json {
        printer.json(&json!({
            "ok": failed == 0,
            "script": script.name,
            "dry_run": dry_run,
            "clusters": runs.iter().map(|r| r.json.clone()).collect::<Vec<_>>(),
            "summary": {
                "clusters": runs.len(),
                "succeeded": runs.len() - failed,
                "failed": failed,
                "changes_pending": pending,
            },
        }));
    } else {
        let rows: Vec<Row> = runs.iter().map(|r| r.row.clone()).collect();
        printer.raw(&format!("\n{}", fleet::table(&rows)));
    }
    if failed > 0 {
        Err(Failure::reported(false))
    } else if req.detailed_exitcode && dry_run && pending > 0 {
        Ok(ExitStatus::ChangesPending)
    } else {
        Ok(ExitStatus::Success)
    }
}

/// Reports a failure that stops the whole fleet before any cluster ran (the login, the
/// listing), in JSON too; nothing was written anywhere.
fn whole_fleet_failed(
    printer: &mut Printer,
    format: Format,
    script: &Script,
    e: &ScriptError,
    usage: bool,
) -> Failure {
    printer.error(
        &format!("{}; no cluster was run", e.message),
        e.hint.as_deref(),
    );
    if format == Format::Json {
        let mut value = failure_json(&script.name, e, printer);
        value["clusters"] = json!([]);
        printer.json(&value);
    }
    Failure::reported(usage)
}

/// The script on one cluster, on the calling (the cluster's own) thread.
fn run_one(shared: &Shared, m: &Member) -> ClusterRun {
    let placed = fleet::place(
        m,
        &shared.opts.aws,
        &shared.opts.kube,
        &shared.login,
        shared.role_arn.as_deref(),
    );
    let region = placed.region;
    let mut opts = shared.opts.clone();
    opts.aws = placed.aws;
    opts.kube = placed.kube;
    opts.login = Some(placed.login);
    let dry_run = opts.dry_run;
    let (out, err) = (Buffer::default(), Buffer::default());
    let mut printer = Printer::new(shared.format, Box::new(out.clone()), Box::new(err.clone()));
    printer.verbose = shared.verbose;
    printer.strict = shared.strict;
    let (result, mut printer, facts) = script::run_with_facts(&shared.script, opts, printer);
    let mut row = Row {
        cluster: m.name.clone(),
        region: region.clone(),
        mode: facts.mode.clone(),
        mechanism: facts.mechanism.map(String::from),
        ..Row::default()
    };
    let mut pending = false;
    let mut value = match result {
        Ok(report) => {
            if shared.format == Format::Text {
                printer.raw(&report.diff);
                if let Some(line) = summary_line(&report, dry_run) {
                    printer.data(&line);
                }
            }
            pending = dry_run && !report.summary.is_empty();
            row.ok = true;
            row.summary = report.touched.then_some(report.summary);
            row.result = if !report.touched {
                "ok".into()
            } else if pending {
                "changes pending".into()
            } else if report.written {
                "written".into()
            } else {
                "no changes".into()
            };
            success_json(&shared.script.name, &report, dry_run, &printer)
        }
        Err(e) => {
            let e = speak_to_runners(e, shared.takes_force, shared.verbose);
            printer.error(&e.message, e.hint.as_deref());
            row.result = format!("failed: {}", why(&e, &shared.script.name));
            failure_json(&shared.script.name, &e, &printer)
        }
    };
    drop(printer);
    value["cluster"] = json!(m.name);
    value["region"] = json!(region);
    value["mode"] = json!(facts.mode);
    value["result"] = json!(row.result);
    ClusterRun {
        out: out.take(),
        err: err.take(),
        row,
        json: value,
        pending,
    }
}

/// The first line of an error, without the `SCRIPT:LINE:COL: ` the cluster's block shows.
fn why(e: &ScriptError, script: &str) -> String {
    let first = e.message.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix(script)
        .and_then(|r| r.strip_prefix(':'))
        .and_then(|r| r.split_once(": "))
        .filter(|(at, _)| at.split(':').all(|n| n.chars().all(|c| c.is_ascii_digit())))
        .map_or(first, |(_, rest)| rest);
    rest.to_string()
}

/// The row and object of a cluster whose run panicked: its output is lost with it.
fn crashed(shared: &Shared, m: &Member, crash: &Crash) -> ClusterRun {
    let region = m
        .region
        .clone()
        .unwrap_or_else(|| shared.login.session.region().to_string());
    let result = if crash.timed_out {
        format!("failed: {}", crash.message)
    } else {
        format!(
            "failed: okscript stopped on an internal error ({})",
            crash.message
        )
    };
    let (message, hint) = crash_text(m, crash);
    ClusterRun {
        out: Vec::new(),
        err: Vec::new(),
        json: json!({
            "ok": false,
            "script": shared.script.name,
            "cluster": m.name,
            "region": region,
            "mode": null,
            "result": result,
            "error": {"message": message, "hint": hint},
            "output": [],
            "warnings": [],
        }),
        row: Row {
            cluster: m.name.clone(),
            region,
            result,
            ..Row::default()
        },
        pending: false,
    }
}

/// The error and hint of a cluster whose run panicked or was given up on.
fn crash_text(m: &Member, crash: &Crash) -> (String, &'static str) {
    if crash.timed_out {
        (
            format!("the run on cluster {} gave {}", m.name, crash.message),
            "the cluster or its API did not answer in time: check that it is reachable, then run the script on it alone (one --cluster) to see what it changed; --timeout gives it longer",
        )
    } else {
        (
            format!(
                "the run on cluster {} stopped on an internal error: {}",
                m.name, crash.message
            ),
            "run the script on this cluster alone (one --cluster) to see what it changed, and report the bug",
        )
    }
}

/// Prints a finished cluster's output as one block per stream (see [`fleet::output`]).
fn print_block(m: &Member, r: &Result<ClusterRun, Crash>) {
    match r {
        Ok(run) => fleet::output::print_block(m, &run.out, &run.err),
        Err(crash) => {
            let (message, hint) = crash_text(m, crash);
            let err = format!("error: {message}\n\nhint: {hint}\n");
            fleet::output::print_block(m, &[], err.as_bytes());
        }
    }
}
