//! `okscript run`: a script's inputs checked before anything runs, the run, and its report
//! (a diff and a summary line, or one JSON document); also `run SCRIPT --help`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{ExitStatus, Failure};
use crate::access::plan;
use crate::output::{Format, Printer};
use crate::script::{self, inputs, RunOptions, RunReport, Script};

/// What `okscript run` was asked to do, resolved by the command line.
#[derive(Debug)]
pub struct RunRequest {
    /// The script: a path, or the name of a bundled one.
    pub script: PathBuf,
    /// `--set KEY=VALUE` values.
    pub set: BTreeMap<String, String>,
    /// `--output`.
    pub format: Format,
    /// `--verbose`.
    pub verbose: bool,
    /// `--strict`.
    pub strict: bool,
    /// `--detailed-exitcode`.
    pub detailed_exitcode: bool,
    /// The run's settings, or why they could not be resolved: reported only after the
    /// script's own checks, so that a bad script or input is named first.
    pub options: Result<RunOptions, String>,
}

/// A script by path, or by the name of a bundled one; unreadable is a usage failure.
pub(super) fn read_script(path: &Path) -> Result<Script, Failure> {
    if let Some((name, text)) = script::shipped::lookup(path) {
        let shown = PathBuf::from(format!("<bundled>/{name}.rhai"));
        return Ok(Script::new(&shown, text.to_string()));
    }
    std::fs::read_to_string(path)
        .map(|text| Script::new(path, text))
        .map_err(|e| {
            Failure::usage(
                format!("cannot read script {}: {e}", path.display()),
                "check the path; `okscript scripts` lists the scripts bundled in okscript, which run by name (`okscript run allow-sso`)",
            )
        })
}

/// Prints `okscript run SCRIPT --help`: the script's summary and the inputs it declares.
pub fn help(path: &Path) -> Result<ExitStatus, Failure> {
    let mut printer = Printer::stdio(Format::Text);
    let script = read_script(path)?;
    printer.data(&format!(
        "okscript run {} [--set KEY=VALUE]... [OPTIONS]",
        script.name
    ));
    let summary = script::shipped::summary(&script.text);
    if !summary.is_empty() {
        printer.data(&format!("\n{summary}"));
    }
    match inputs::declaration(&script.name, &script.text) {
        Ok(Some(d)) if d.inputs.is_empty() => {
            printer.data("\nInputs: none (it takes no --set values)")
        }
        Ok(Some(d)) => {
            printer.data("\nInputs:");
            for line in d.describe() {
                printer.data(&line);
            }
        }
        Ok(None) => {
            printer.data("\nInputs: not declared (the script reads --set values with arg())")
        }
        Err(e) => return Err(Failure::failed(e.to_string(), Some(e.hint()))),
    }
    printer.data("\n`okscript run --help` lists the options.");
    Ok(ExitStatus::Success)
}

/// Refuses `--set` values the script does not declare, and missing or malformed inputs,
/// before anything runs; the failure is printed (in JSON too under `--output json`).
fn check_inputs(
    script: &Script,
    set: &BTreeMap<String, String>,
    printer: &mut Printer,
    format: Format,
) -> Result<Option<inputs::Declaration>, Failure> {
    let result = inputs::declaration(&script.name, &script.text).and_then(|d| {
        if let Some(d) = &d {
            d.validate(&script.name, set)?;
        }
        Ok(d)
    });
    let e = match result {
        Ok(d) => return Ok(d),
        Err(e) => e,
    };
    let hint = e.hint();
    printer.error(&e.to_string(), Some(&hint));
    if format == Format::Json {
        printer.json(&json!({
            "ok": false,
            "script": script.name,
            "error": {"message": e.to_string(), "hint": hint},
            "output": [],
            "warnings": [],
        }));
    }
    Err(Failure::reported(e.is_usage()))
}

/// An error as someone who ran a script with declared inputs should read it: guards speak of
/// `--set force=true` when the script takes `force`, and the chain of script frames is left
/// out unless `--verbose`.
pub(super) fn for_runners(
    e: script::errors::ScriptError,
    declared: Option<&inputs::Declaration>,
    verbose: bool,
) -> script::errors::ScriptError {
    speak_to_runners(e, takes_force(declared), verbose)
}

/// Whether the script declares its inputs (`None` when not), and `force` among them: how
/// its errors speak of forcing.
pub(super) fn takes_force(declared: Option<&inputs::Declaration>) -> Option<bool> {
    declared.map(|d| d.inputs.iter().any(|i| i.name == "force"))
}

/// [`for_runners`] knowing only whether the script declares inputs, and `force` among them.
pub(super) fn speak_to_runners(
    e: script::errors::ScriptError,
    takes_force: Option<bool>,
    verbose: bool,
) -> script::errors::ScriptError {
    let Some(takes_force) = takes_force else {
        return e;
    };
    let speak = |text: &str| {
        if takes_force {
            text.replace(
                "pass #{force: true} as the last argument",
                "pass `--set force=true`",
            )
            .replace("#{force: true}", "`--set force=true`")
        } else {
            text.to_string()
        }
    };
    let mut message = speak(&e.message);
    if !verbose {
        message = message
            .lines()
            .filter(|l| !l.starts_with("  in `") && !l.starts_with("  in module `"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    script::errors::ScriptError {
        message,
        hint: e.hint.as_deref().map(speak),
    }
}

/// The run's printer, and its script read and its inputs checked, before anything else
/// (a single run's and a fleet's alike).
pub(super) fn checked(
    req: &RunRequest,
) -> Result<(Script, Option<inputs::Declaration>, Printer), Failure> {
    let mut printer = Printer::stdio(req.format);
    printer.verbose = req.verbose;
    printer.strict = req.strict;
    let script = read_script(&req.script)?;
    let declared = check_inputs(&script, &req.set, &mut printer, req.format)?;
    Ok((script, declared, printer))
}

/// `okscript run`: runs the script, then prints the diff and a summary (or one JSON document).
pub fn run(req: RunRequest) -> Result<ExitStatus, Failure> {
    let format = req.format;
    let (script, declared, printer) = checked(&req)?;
    let mut opts = req.options.map_err(Failure::bad_setting)?;
    opts.args = req.set;
    let dry_run = opts.dry_run;
    let (result, mut printer) = script::run(&script, opts, printer);
    match result {
        Ok(report) => {
            if format == Format::Json {
                let value = success_json(&script.name, &report, dry_run, &printer);
                printer.json(&value);
            } else {
                printer.raw(&report.diff);
                if let Some(line) = summary_line(&report, dry_run) {
                    printer.data(&line);
                }
            }
            Ok(
                if req.detailed_exitcode && dry_run && !report.summary.is_empty() {
                    ExitStatus::ChangesPending
                } else {
                    ExitStatus::Success
                },
            )
        }
        Err(e) => {
            let e = for_runners(e, declared.as_ref(), req.verbose);
            printer.error(&e.message, e.hint.as_deref());
            if format == Format::Json {
                let value = failure_json(&script.name, &e, &printer);
                printer.json(&value);
            }
            Err(Failure::reported(false))
        }
    }
}

/// The line after the diff: what was written, would be, or that nothing changes; `None`
/// when the script never asked for a change.
pub(super) fn summary_line(report: &RunReport, dry_run: bool) -> Option<String> {
    let target = report.target.clone().unwrap_or_default();
    let mechanism = report.mechanism.clone().unwrap_or_else(|| target.clone());
    if !report.touched {
        None
    } else if report.summary.is_empty() && report.diff.is_empty() {
        Some(format!(
            "no changes: {target} is already as the script wants"
        ))
    } else if dry_run {
        Some(format!(
            "dry run: {} in {mechanism}; nothing was written",
            plan::describe(report.summary, true)
        ))
    } else {
        Some(format!(
            "{mechanism}: {}",
            plan::describe(report.summary, false)
        ))
    }
}

/// The `--output json` document of a run that succeeded.
pub(super) fn success_json(
    script: &str,
    report: &RunReport,
    dry_run: bool,
    printer: &Printer,
) -> serde_json::Value {
    json!({
        "ok": true,
        "script": script,
        "target": report.target,
        "mechanism": report.mechanism,
        "dry_run": dry_run,
        "changed": !report.summary.is_empty(),
        "written": report.written,
        "summary": report.summary,
        "diff": report.diff,
        "output": printer.printed,
        "data": printer.values,
        "warnings": printer.warnings,
    })
}

/// The `--output json` document of a run that failed.
pub(super) fn failure_json(
    script: &str,
    e: &script::errors::ScriptError,
    printer: &Printer,
) -> serde_json::Value {
    json!({
        "ok": false,
        "script": script,
        "error": {"message": e.message, "hint": e.hint},
        "output": printer.printed,
        "warnings": printer.warnings,
    })
}
