//! `okscript scripts` and `okscript new`: the bundled scripts, and a starter for a new one.

use std::path::PathBuf;

use super::{ExitStatus, Failure};
use crate::output::{Format, Printer};
use crate::script;

/// `okscript scripts`: the bundled scripts, a line each.
pub fn list_scripts() -> Result<ExitStatus, Failure> {
    let mut printer = Printer::stdio(Format::Text);
    let width = script::shipped::SCRIPTS
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, text) in script::shipped::SCRIPTS {
        printer.data(&format!(
            "{name:width$}  {}",
            script::shipped::summary(text)
        ));
    }
    printer.data("\nRun one by name (`okscript run allow-sso --help` lists its inputs); a file of that name in the current folder wins.");
    Ok(ExitStatus::Success)
}

/// `okscript new NAME`: a commented starter script, never over an existing file.
pub fn new_script(name: &str) -> Result<ExitStatus, Failure> {
    let mut printer = Printer::stdio(Format::Text);
    let stem = name.strip_suffix(".rhai").unwrap_or(name);
    if stem.is_empty()
        || !stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Failure::usage(
            format!("`{name}` is not a script name"),
            "use letters, digits, `-` and `_`, such as `okscript new onboarding`",
        ));
    }
    let file = PathBuf::from(format!("{stem}.rhai"));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, script::shipped::starter(stem).as_bytes())
        });
    match written {
        Ok(()) => {
            printer.data(&format!(
                "wrote {}: edit its inputs and grants, then `okscript check {}` and `okscript run {} --help`",
                file.display(),
                file.display(),
                file.display()
            ));
            Ok(ExitStatus::Success)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Failure::failed(
            format!(
                "{} exists; okscript new never overwrites a script",
                file.display()
            ),
            Some("choose another name, or delete the file first".into()),
        )),
        Err(e) => Err(Failure::failed(
            format!("cannot write {}: {e}", file.display()),
            None,
        )),
    }
}
