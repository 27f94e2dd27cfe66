//! `okscript rescue`: the way back from an aws-auth that locks its writer out. The Kubernetes
//! API answers 401 then, so okscript goes round it through the EKS API as AWS documents:
//! step a CONFIG_MAP cluster to API_AND_CONFIG_MAP, give the caller a temporary cluster-admin
//! access entry, restore aws-auth from a backup through `restore`, delete the entry.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use super::restore::{backup_file, read_backup, restore, RestoreOptions};
use super::{login, runtime, ExitStatus, Failure};
use crate::aws::{self, AuthMode, EntriesAt};
use crate::output::Printer;
use crate::settings::{AwsSettings, KubeSettings};

/// How long a mode update or a new entry may take to show before rescue gives up.
const WAIT: Duration = Duration::from_secs(600);

/// What `okscript rescue` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RescueOptions {
    /// The backup file [default: the cluster's newest].
    pub backup: Option<PathBuf>,
    /// Print the plan only.
    pub dry_run: bool,
    /// Go ahead without asking.
    pub yes: bool,
}

/// The steps that landed so far, for the report of a rescue that stopped half-way.
#[derive(Default)]
struct Landed {
    mode: bool,
    entry: Option<String>,
    restored: bool,
}

impl Landed {
    /// The failure of a step: what failed, what landed before it, what to do next.
    fn failed(&self, cluster: &str, step: &str, why: &str) -> Failure {
        let mut done = Vec::new();
        if self.mode {
            done.push(format!(
                "cluster {cluster} is now API_AND_CONFIG_MAP (EKS cannot step it back)"
            ));
        }
        if let Some(arn) = &self.entry {
            done.push(format!("the temporary access entry for {arn} exists"));
        }
        if self.restored {
            done.push("aws-auth was restored".into());
        }
        let landed = if done.is_empty() {
            "nothing had changed".to_string()
        } else {
            format!("landed: {}", done.join("; "))
        };
        let hint = match &self.entry {
            Some(arn) if self.restored => format!(
                "aws-auth is back; delete the temporary entry: `aws eks delete-access-entry --cluster-name {cluster} --principal-arn {arn}`"
            ),
            Some(arn) => format!(
                "fix the cause and run `okscript rescue --cluster {cluster}` again (it uses the entry that is there and leaves it), then delete the entry: `aws eks delete-access-entry --cluster-name {cluster} --principal-arn {arn}`"
            ),
            None => format!("fix the cause and run `okscript rescue --cluster {cluster}` again"),
        };
        Failure::failed(
            format!("rescue of cluster {cluster} stopped at {step}: {why}; {landed}"),
            Some(hint),
        )
    }
}

/// Asks once on the terminal; refuses without one.
fn confirmed(printer: &mut Printer) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "refusing to rescue without a confirmation, and there is no terminal to ask on",
            "read the plan above, then pass --yes to go ahead (or --dry-run to see the plan only)",
        ));
    }
    printer.note("go ahead? [y/N]");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::failed(format!("cannot read the answer: {e}"), None))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Steps `cluster` from CONFIG_MAP to API_AND_CONFIG_MAP and waits for EKS to finish.
fn step_mode(
    rt: &tokio::runtime::Runtime,
    session: &aws::Session,
    cluster: &str,
) -> Result<(), String> {
    let to = AuthMode::ApiAndConfigMap;
    let started = rt
        .block_on(aws::update_auth_mode(session, cluster, to))
        .map_err(|e| e.to_string())?;
    let update = rt
        .block_on(aws::wait_for_update(session, cluster, started, WAIT))
        .map_err(|e| e.to_string())?;
    if update.status == "InProgress" {
        return Err(format!("update {} was still InProgress", update.id));
    }
    if update.status != "Successful" {
        return Err(format!(
            "EKS reports update {} as {}: {}",
            update.id,
            update.status,
            update.errors.join("; ")
        ));
    }
    Ok(())
}

/// `okscript rescue`: prints the plan, asks once, then steps the mode, creates the temporary
/// entry, restores aws-auth from the backup and deletes the entry, reporting which steps
/// landed when one fails.
pub fn rescue(
    aws_settings: &AwsSettings,
    kube: &KubeSettings,
    opts: &RescueOptions,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
    let Some(cluster) = kube
        .connect
        .as_ref()
        .and_then(|c| c.eks_cluster())
        .map(str::to_string)
    else {
        return Err(Failure::usage(
            "rescue works through the EKS API, so it needs the EKS cluster's name",
            "pass --cluster NAME (or -c cluster.yaml)",
        ));
    };
    let folder = kube.backups_for(&cluster);
    let file = backup_file(&cluster, folder.as_deref(), opts.backup.as_deref())?;
    // Checked before anything changes: a bad backup is no way back.
    read_backup(&file)?;
    let rt = runtime()?;
    let session = login(&rt, aws_settings)?;
    let mode = rt
        .block_on(aws::describe_cluster(&session, &cluster))?
        .auth_mode();
    if mode == AuthMode::Api {
        return Err(Failure::failed(
            format!("cluster {cluster} is in authenticationMode API: EKS ignores aws-auth there, so there is no aws-auth to repair"),
            Some(format!("give yourself access with an access entry instead: `okscript run grant-role --cluster {cluster} --set arn=YOUR_ARN --set groups=system:masters`")),
        ));
    }
    let caller = session.identity().principal_arn.clone();
    let arn = rt.block_on(aws::entry_principal_arn(&session, &caller))?;
    let at = EntriesAt {
        session: &session,
        cluster: &cluster,
    };
    let existing = match mode {
        AuthMode::ConfigMap => None,
        _ => rt.block_on(at.describe(&arn))?,
    };

    printer.data(&format!("rescue plan for cluster {cluster}:"));
    let mut n = 0;
    let mut step = |text: String, printer: &mut Printer| {
        n += 1;
        printer.data(&format!("  {n}. {text}"));
    };
    if mode == AuthMode::ConfigMap {
        step("step the authentication mode CONFIG_MAP -> API_AND_CONFIG_MAP (one way: EKS cannot step it back)".into(), printer);
    } else {
        printer.data(&format!("  (the mode is {mode} already: no step)"));
    }
    if existing.is_some() {
        printer.data(&format!(
            "  (you, {arn}, have an access entry already: it is used, not created or deleted)"
        ));
    } else {
        step(format!("create a temporary access entry for {arn} with AmazonEKSClusterAdminPolicy at cluster scope"), printer);
    }
    step(
        format!(
            "restore aws-auth from {} (checked and guarded as `okscript restore` does)",
            file.display()
        ),
        printer,
    );
    if existing.is_none() {
        step(
            format!("delete the temporary access entry for {arn}"),
            printer,
        );
    }
    if opts.dry_run {
        printer.data("dry run: nothing was changed");
        return Ok(ExitStatus::Success);
    }
    if !opts.yes && !confirmed(printer)? {
        printer.data("not confirmed: nothing was changed");
        return Ok(ExitStatus::Success);
    }

    let mut landed = Landed::default();
    if mode == AuthMode::ConfigMap {
        step_mode(&rt, &session, &cluster)
            .map_err(|e| landed.failed(&cluster, "the mode step", &e))?;
        landed.mode = true;
        printer.note(&format!("cluster {cluster} stepped to API_AND_CONFIG_MAP"));
    }
    if existing.is_none() {
        let made = rt.block_on(aws::enter_as_cluster_admin(at, &arn, WAIT));
        // A create that landed before a later call failed still left an entry to clean up.
        if made.is_err() && rt.block_on(at.describe(&arn)).ok().flatten().is_some() {
            landed.entry = Some(arn.clone());
        }
        made.map_err(|e| landed.failed(&cluster, "creating the temporary access entry", &e))?;
        landed.entry = Some(arn.clone());
        printer.note(&format!("temporary access entry created for {arn}"));
    }
    let restore_opts = RestoreOptions {
        backup: Some(file.clone()),
        ..RestoreOptions::default()
    };
    restore(aws_settings, kube, &restore_opts, printer).map_err(|e| {
        let why = match &e.hint {
            Some(h) => format!("{} ({h})", e.message),
            None => e.message.clone(),
        };
        landed.failed(&cluster, "restoring aws-auth", &why)
    })?;
    landed.restored = true;
    if existing.is_none() {
        rt.block_on(at.delete(&arn)).map_err(|e| {
            landed.failed(
                &cluster,
                "deleting the temporary access entry",
                &e.to_string(),
            )
        })?;
        printer.note(&format!("temporary access entry for {arn} deleted"));
    }
    printer.data(&format!(
        "rescued cluster {cluster}: aws-auth restored from {}",
        file.display()
    ));
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_rescue_names_what_landed_and_how_to_clean_up() {
        let mut l = Landed::default();
        let f = l.failed("c", "the mode step", "denied");
        assert!(f.message.ends_with("nothing had changed"), "{}", f.message);
        l.mode = true;
        l.entry = Some("arn:aws:iam::1:user/ops".into());
        let f = l.failed("c", "restoring aws-auth", "401");
        assert!(f.message.contains("cluster c is now API_AND_CONFIG_MAP"));
        assert!(f
            .message
            .contains("the temporary access entry for arn:aws:iam::1:user/ops exists"));
        assert!(f.hint.unwrap().contains(
            "aws eks delete-access-entry --cluster-name c --principal-arn arn:aws:iam::1:user/ops"
        ));
    }
}
