//! `okscript run` on a fleet: the script's inputs checked once, one AWS login for every
//! cluster, then the script once per cluster (each with its own engine, connection, target
//! and change set, on its own thread), each cluster's output printed as one block as it
//! finishes, and a summary table (or one JSON document) at the end.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::run::{checked, failure_json, speak_to_runners, success_json, summary_line, RunRequest};
use super::{ExitStatus, Failure};
use crate::fleet::{self, Crash, FleetRequest, Member, Row};
use crate::kube::ConnectSpec;
use crate::output::{Format, Printer};
use crate::script::aws_fns::SharedLogin;
use crate::script::errors::ScriptError;
use crate::script::{self, RunOptions, Script};

/// A writer into memory that the job keeps a handle to after the printer is gone.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("a poisoned output buffer"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

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
    let mut members = fleet.members.clone();
    if let Some(regions) = &fleet.all_clusters {
        let listed = login
            .runtime
            .block_on(fleet::list_all(&login.session, regions));
        match listed {
            Ok(found) if found.is_empty() => {
                let e = ScriptError {
                    message: format!(
                        "EKS ListClusters found no cluster in {}",
                        if regions.is_empty() { login.session.region().to_string() } else { regions.join(", ") }
                    ),
                    hint: Some("check the region (--region, or --all-clusters=REGION,...) and the account you are logged in to".into()),
                };
                return Err(whole_fleet_failed(&mut printer, format, &script, &e, false));
            }
            Ok(found) => members.extend(found),
            Err(e) => {
                let e = ScriptError {
                    message: format!("cannot list the clusters for --all-clusters: {e}"),
                    hint: crate::hint::Advice::advice(&e),
                };
                return Err(whole_fleet_failed(&mut printer, format, &script, &e, false));
            }
        }
    }
    if let Err(e) = fleet::check_unique(&members, Some(login.session.region())) {
        let e = ScriptError {
            message: e.to_string(),
            hint: Some(e.hint()),
        };
        return Err(whole_fleet_failed(&mut printer, format, &script, &e, true));
    }
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
    let session = &shared.login.session;
    let region = m
        .region
        .clone()
        .unwrap_or_else(|| session.region().to_string());
    let mut opts = shared.opts.clone();
    opts.kube.connect = Some(ConnectSpec::Eks {
        cluster: m.name.clone(),
        server: None,
        ca_file: None,
        role_arn: shared.role_arn.clone(),
    });
    opts.aws.ctx = opts.aws.ctx.clone().with_region(region.clone());
    opts.aws.cluster = m.declaration.clone();
    opts.login = Some(SharedLogin {
        runtime: shared.login.runtime.clone(),
        session: if region == session.region() {
            session.clone()
        } else {
            session.in_region(&region)
        },
    });
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

/// Prints a finished cluster's output as one block on stdout (and one on stderr), headed by
/// the cluster's name, so that clusters finishing together never interleave.
fn print_block(m: &Member, r: &Result<ClusterRun, Crash>) {
    let header = match &m.region {
        Some(region) => format!("=== {} ({region}) ===\n", m.name),
        None => format!("=== {} ===\n", m.name),
    };
    let (out, err) = match r {
        Ok(run) => (run.out.clone(), run.err.clone()),
        Err(crash) => {
            let (message, hint) = crash_text(m, crash);
            (
                Vec::new(),
                format!("error: {message}\n\nhint: {hint}\n").into_bytes(),
            )
        }
    };
    for (bytes, mut sink) in [
        (out, Box::new(std::io::stdout().lock()) as Box<dyn Write>),
        (err, Box::new(std::io::stderr().lock())),
    ] {
        if !bytes.is_empty() {
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = sink.write_all(header.as_bytes());
            let _ = sink.write_all(&bytes);
            let _ = sink.flush();
        }
    }
}
