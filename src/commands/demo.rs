//! `okscript demo`: okscript at work on a local aws-auth manifest, no AWS account needed.

use std::path::Path;

use super::{ExitStatus, Failure};
use crate::access::plan;
use crate::output::{Format, Printer};
use crate::script::{self, RunOptions, Script};
use crate::targets::TargetSpec;

/// The demo's starting aws-auth: what an EKS managed node group leaves behind.
const DEMO_MANIFEST: &str = include_str!("../../tests/data/aws-auth/eks-nodes-only.yaml");
/// The demo's script.
const DEMO_SCRIPT: &str = include_str!("../../scripts/demo.rhai");

/// `okscript demo`: a dry run, a run and a second run of a script on a local manifest.
pub fn demo(dir: &Path) -> Result<ExitStatus, Failure> {
    let mut printer = Printer::stdio(Format::Text);
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::failed(format!("cannot create {}: {e}", dir.display()), None))?;
    let manifest = dir.join("aws-auth.yaml");
    if !manifest.exists() {
        std::fs::write(&manifest, DEMO_MANIFEST).map_err(|e| {
            Failure::failed(format!("cannot write {}: {e}", manifest.display()), None)
        })?;
    }
    let script = Script::new(Path::new("<demo>/allow-sso.rhai"), DEMO_SCRIPT.to_string());
    let target = format!("file:{}", manifest.display());
    let steps = [
        ("1. dry run: what the script would change", true),
        ("2. run: write it, atomically", false),
        ("3. run again: idempotent, nothing to do", false),
    ];
    for (title, dry_run) in steps {
        printer.data(&format!(
            "\n== {title} (okscript run allow-sso.rhai --target {target}{})",
            if dry_run { " --dry-run" } else { "" }
        ));
        let opts = RunOptions {
            target: Some(TargetSpec::File(manifest.clone())),
            dry_run,
            ..RunOptions::default()
        };
        let (result, p) = script::run(&script, opts, printer);
        printer = p;
        match result {
            Ok(report) => {
                printer.raw(&report.diff);
                let line = if report.summary.is_empty() {
                    format!("no changes: {target} is already as the script wants")
                } else if dry_run {
                    format!(
                        "dry run: {}; nothing was written",
                        plan::describe(report.summary, true)
                    )
                } else {
                    format!("{target}: {}", plan::describe(report.summary, false))
                };
                printer.data(&line);
            }
            Err(e) => return Err(Failure::failed(e.message, e.hint)),
        }
    }
    printer.data(&format!(
        "\nThe result is in {}; delete the folder to start over.",
        manifest.display()
    ));
    Ok(ExitStatus::Success)
}
