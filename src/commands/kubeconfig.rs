//! `okscript kubeconfig`: a context whose exec plugin is `okscript token`, written into a
//! kubeconfig with everything else in it kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{login, runtime, Failure};
use crate::kube::{self, KubeconfigWritten};
use crate::output::Printer;
use crate::settings::{AwsSettings, KubeSettings};

/// `okscript kubeconfig`: adds or updates the cluster's context in a kubeconfig.
pub fn kubeconfig(
    aws: &AwsSettings,
    kube: &KubeSettings,
    env: &BTreeMap<String, String>,
    file: Option<&Path>,
    alias: Option<&str>,
    force: bool,
    printer: &mut Printer,
) -> Result<PathBuf, Failure> {
    let spec = kube.connect.clone().ok_or(kube::KubeError::NoCluster)?;
    let rt = runtime()?;
    let session = login(&rt, aws)?;
    let done = kube::write_kubeconfig(&rt, &session, &spec, env, file, alias, force)?;
    printer.data(&format!(
        "{}: context {} for cluster {} ({}); kubectl now gets its tokens from `okscript token`",
        done.path.display(),
        done.context,
        spec.name(),
        outcome_word(done.outcome)
    ));
    for line in kubeconfig_changes(&done) {
        printer.data(&line);
    }
    Ok(done.path)
}

/// The lines that tell what a kubeconfig write changed besides its own entries.
pub fn kubeconfig_changes(done: &KubeconfigWritten) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(from) = &done.repointed_from {
        let ns = done.dropped_namespace.as_ref().map_or(String::new(), |n| {
            format!("; its namespace `{n}` was dropped")
        });
        lines.push(format!(
            "context {} pointed at cluster `{from}` before; it now points at this cluster (--force){ns}",
            done.context
        ));
    }
    match done.previous_context.as_deref() {
        Some("") => lines.push(format!("current-context is now {}", done.context)),
        Some(prev) => lines.push(format!(
            "current-context changed from {prev} to {}: kubectl now talks to this cluster by default (`kubectl config use-context {prev}` to go back)",
            done.context
        )),
        None => {}
    }
    lines
}

/// How a kubeconfig write went, in a word or three.
pub fn outcome_word(outcome: kube::FileOutcome) -> &'static str {
    match outcome {
        kube::FileOutcome::Created => "created",
        kube::FileOutcome::Updated => "updated",
        kube::FileOutcome::Unchanged => "already up to date",
    }
}
