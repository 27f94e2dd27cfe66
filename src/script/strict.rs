//! `--strict` (`OKSCRIPT_STRICT`): a run that raised any warning fails before it writes. Lint
//! findings in the aws-auth about to be written count as warnings here (they are not printed
//! otherwise), so CI can demand a clean aws-auth.

use super::state::State;

/// Under `--strict`, the reason the run must stop before writing (message, hint), or `None`.
/// Call after the IAM principal check, which raises warnings of its own.
pub fn gate(st: &mut State) -> Option<(String, String)> {
    if !st.printer.strict {
        return None;
    }
    let mut findings = Vec::new();
    if let Some(changes) = st.changes.as_mut().filter(|c| c.is_pending()) {
        findings = changes.findings();
    }
    for f in findings {
        let line = f.line.map(|l| format!(" line {l}")).unwrap_or_default();
        st.printer.warn(&format!(
            "data.{}{line}: [{}] {}",
            f.section, f.code, f.message
        ));
    }
    let count = st.printer.warning_count();
    (count > 0).then(|| {
        (
            format!(
                "--strict: {count} warning{} (above); nothing was written",
                if count == 1 { "" } else { "s" }
            ),
            "fix what the warnings say (or run without --strict / OKSCRIPT_STRICT to accept them)"
                .to_string(),
        )
    })
}
