//! `okscript check`: parse and lint scripts without running them (for CI).

use std::path::PathBuf;

use super::run::read_script;
use super::{ExitStatus, Failure};
use crate::output::{Format, Printer};
use crate::script::{self, check, inputs};

/// `okscript check`: compiles and lints each script, and lists the inputs it declares; every
/// problem is printed, and the worst decides the exit code.
pub fn check_scripts(paths: &[PathBuf]) -> Result<ExitStatus, Failure> {
    let mut printer = Printer::stdio(Format::Text);
    let (mut unreadable, mut failed) = (false, false);
    for path in paths {
        let script = match read_script(path) {
            Ok(s) => s,
            Err(f) => {
                printer.error(&f.message, f.hint.as_deref());
                unreadable = true;
                continue;
            }
        };
        let mut problems = check::check(&script);
        let declared = match inputs::declaration(&script.name, &script.text) {
            Ok(d) => d,
            Err(e) => {
                problems.push(script::errors::ScriptError {
                    message: e.to_string(),
                    hint: Some(e.hint()),
                });
                None
            }
        };
        if problems.is_empty() {
            printer.data(&format!("ok: {}", script.name));
            match &declared {
                Some(d) if d.inputs.is_empty() => printer.data("  inputs: none"),
                Some(d) => {
                    printer.data("  inputs:");
                    for line in d.describe() {
                        printer.data(&format!("  {line}"));
                    }
                }
                None => printer.warn(&format!(
                    "{} declares no inputs: any --set key is accepted, so a typo is silently ignored; declare them with `let input = inputs(#{{...}});` (see `okscript new`)",
                    script.name
                )),
            }
        }
        for p in problems {
            printer.error(&p.message, p.hint.as_deref());
            failed = true;
        }
    }
    if unreadable || failed {
        return Err(Failure::reported(unreadable));
    }
    Ok(ExitStatus::Success)
}
