//! `okscript fns` and `okscript definitions`: the script API, for people and for editors.

use std::path::Path;

use super::{ExitStatus, Failure};
use crate::output::{Format, Printer};
use crate::script;

/// `okscript fns`: every script function (and stdlib module function) with its summary.
pub fn fns(json: bool) -> Result<ExitStatus, Failure> {
    let docs = script::docs();
    let mut printer = Printer::stdio(Format::Text);
    if json {
        printer.json(&serde_json::to_value(&docs).unwrap_or_default());
        return Ok(ExitStatus::Success);
    }
    for d in &docs {
        printer.data(&d.signature());
        printer.data(&format!("    {}", d.doc));
    }
    for f in script::stdlib_docs() {
        printer.data(&format!("{}({})", f.name, f.params.join(", ")));
        printer.data(&format!("    {}", f.doc));
    }
    Ok(ExitStatus::Success)
}

/// `okscript definitions DIR`: `.d.rhai` files for the Rhai language server.
pub fn definitions(dir: &Path) -> Result<ExitStatus, Failure> {
    let mut printer = Printer::stdio(Format::Text);
    match script::write_definitions(dir) {
        Ok(files) => {
            for f in files {
                printer.data(&format!("wrote {}", f.display()));
            }
            Ok(ExitStatus::Success)
        }
        Err(e) => Err(Failure::failed(
            format!("cannot write the definitions into {}: {e}", dir.display()),
            Some("name a folder you may write to".into()),
        )),
    }
}
