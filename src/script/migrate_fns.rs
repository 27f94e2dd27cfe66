//! Script functions the move off aws-auth needs: step the cluster's authentication mode
//! (one way, checked before the call, the update waited out), switch the run's target
//! between aws-auth and access entries, and describe one principal's access entry.

use std::time::Duration;

use rhai::Dynamic;

use super::api::{self, error_with_hint, Api, FnDoc, FnResult};
use super::state::Shared;
use crate::access::model::PolicyView;
use crate::aws::{self, AuthMode, EntriesAt};
use crate::targets::TargetSpec;

/// How long okscript waits for a mode update before it gives up (EKS takes minutes).
const MODE_UPDATE_WAIT: Duration = Duration::from_secs(15 * 60);

fn aws_error(e: aws::AwsError) -> Box<rhai::EvalAltResult> {
    match e.hint() {
        Some(h) => error_with_hint(&e, h),
        None => e.to_string().into(),
    }
}

/// The cluster's authentication mode, and its EKS name and session when it is an EKS cluster.
pub(super) fn eks_of(
    conn: &std::cell::RefCell<crate::kube::Connection>,
) -> (Option<AuthMode>, Option<(String, aws::Session)>) {
    let c = conn.borrow();
    let eks = c
        .eks_cluster()
        .map(|(cluster, session)| (cluster.to_string(), session.clone()));
    (c.auth_mode(), eks)
}

/// Refuses to switch while the current target holds changes not written yet.
fn check_nothing_staged(state: &Shared, what: &str) -> FnResult<()> {
    let pending = state
        .borrow()
        .changes
        .as_ref()
        .is_some_and(|c| c.is_pending());
    if pending {
        return Err(error_with_hint(
            format!("cannot {what} while the script has changes not written yet"),
            "call apply() first, so the staged changes land where they were planned",
        ));
    }
    Ok(())
}

fn set_access_mode(state: &Shared, to: &str) -> FnResult<String> {
    let Some(to) = AuthMode::parse(to) else {
        return Err(error_with_hint(
            format!("unknown authentication mode `{to}`"),
            "use \"API_AND_CONFIG_MAP\" or \"API\"",
        ));
    };
    state.borrow().check_not_blocked()?;
    let conn = state.borrow_mut().connection()?;
    let (from, eks) = eks_of(&conn);
    let (Some(from), Some((cluster, session))) = (from, eks) else {
        return Err(error_with_hint(
            "the cluster's authentication mode is unknown (a kubeconfig context)",
            "pass --cluster NAME so that okscript can ask EKS and step the mode",
        ));
    };
    if from == to {
        return Ok(to.as_str().into());
    }
    if let Some(why) = aws::refused_step(from, to) {
        return Err(error_with_hint(
            format!("cannot step cluster {cluster} to {to}: {why}"),
            "call set_access_mode(\"API_AND_CONFIG_MAP\") first; the step cannot be undone",
        ));
    }
    if state.borrow().dry_run {
        state.borrow_mut().printer.note(&format!(
            "--dry-run: cluster {cluster} would step from {from} to {to} (not done)"
        ));
        return Ok(from.as_str().into());
    }
    check_nothing_staged(state, "step the authentication mode")?;
    let mut st = state.borrow_mut();
    let started = st
        .aws
        .block_on(aws::update_auth_mode(&session, &cluster, to))?
        .map_err(aws_error)?;
    let update = st
        .aws
        .block_on(aws::wait_for_update(
            &session,
            &cluster,
            started,
            MODE_UPDATE_WAIT,
        ))?
        .map_err(aws_error)?;
    if update.status == "InProgress" {
        return Err(error_with_hint(
            format!(
                "the step of cluster {cluster} to {to} (update {}) was still InProgress after {} minutes",
                update.id,
                MODE_UPDATE_WAIT.as_secs() / 60
            ),
            format!("check it with `aws eks describe-update --name {cluster} --update-id {}` and run the script again (it resumes)", update.id),
        ));
    }
    drop(st);
    if update.status != "Successful" {
        return Err(error_with_hint(
            format!(
                "EKS reports the step of cluster {cluster} to {to} (update {}) as {}: {}",
                update.id,
                update.status,
                update.errors.join("; ")
            ),
            format!(
                "`aws eks describe-update --name {cluster} --update-id {}` shows the details",
                update.id
            ),
        ));
    }
    conn.borrow_mut().set_auth_mode(to);
    let mut st = state.borrow_mut();
    // The next read chooses its mechanism by the new mode.
    st.changes = None;
    st.printer.note(&format!(
        "cluster {cluster} stepped from {from} to {to} (update {}); this cannot be undone",
        update.id
    ));
    Ok(to.as_str().into())
}

fn use_target(state: &Shared, spec: &str) -> FnResult<()> {
    let parsed = TargetSpec::parse(spec).map_err(|e| e.to_string())?;
    if matches!(parsed, TargetSpec::File(_)) {
        return Err(error_with_hint(
            format!("use_target(\"{spec}\"): a script cannot switch to a file"),
            "pass `--target file:PATH` on the command line; use_target takes \"aws-auth\", \"access-entries\" or \"cluster\"",
        ));
    }
    let file_run = matches!(state.borrow().target_spec, Some(TargetSpec::File(_)));
    if file_run {
        return Err(error_with_hint(
            format!("use_target(\"{spec}\"): this run writes a file (--target file:...)"),
            "run against a cluster (--cluster NAME) to switch between aws-auth and access entries",
        ));
    }
    check_nothing_staged(state, "switch the target")?;
    let mut st = state.borrow_mut();
    st.target_spec = Some(parsed);
    st.changes = None;
    Ok(())
}

fn access_entry(state: &Shared, arn: &str) -> FnResult<Dynamic> {
    let conn = state.borrow_mut().connection()?;
    let Some((cluster, session)) = eks_of(&conn).1 else {
        return Err(error_with_hint(
            "access_entry() needs an EKS cluster",
            "pass --cluster NAME",
        ));
    };
    let mut st = state.borrow_mut();
    let real = st
        .aws
        .block_on(aws::entry_principal_arn(&session, arn))?
        .map_err(aws_error)?;
    let at = EntriesAt {
        session: &session,
        cluster: &cluster,
    };
    let Some(e) = st.aws.block_on(at.describe(&real))?.map_err(aws_error)? else {
        return Ok(Dynamic::UNIT);
    };
    let policies: Vec<PolicyView> = e
        .policies
        .iter()
        .map(|p| {
            let ns = match &p.scope {
                aws::PolicyScope::Cluster => Vec::new(),
                aws::PolicyScope::Namespaces(ns) => ns.clone(),
            };
            PolicyView::new(&p.policy_arn, ns)
        })
        .collect();
    Ok(api::to_dynamic(&serde_json::json!({
        "arn": e.principal_arn,
        "type": e.kind,
        "username": e.username.unwrap_or_default(),
        "groups": e.groups,
        "policies": policies,
    })))
}

/// Registers the migration functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "set_access_mode",
            params: "mode: string",
            returns: "string",
            doc: "Step the cluster's authentication mode (EKS UpdateClusterConfig) to \"API_AND_CONFIG_MAP\" or \"API\" and wait until EKS reports the update done; one way and one step at a time (checked before the call); the same mode again does nothing; under --dry-run only says what it would do. Returns the mode now in force. Call apply() first if changes are staged.",
            example: r#"set_access_mode("API_AND_CONFIG_MAP");"#,
        },
        move |mode: &str| set_access_mode(&s, mode),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "use_target",
            params: "target: string",
            returns: "()",
            doc: "Switch the run's target between \"aws-auth\", \"access-entries\" and \"cluster\" (chosen by the mode), as --target would; the next read uses it. Call apply() first if changes are staged.",
            example: r#"use_target("aws-auth"); let rows = mappings(); use_target("access-entries");"#,
        },
        move |spec: &str| use_target(&s, spec),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "access_entry",
            params: "arn: string",
            returns: "map | ()",
            doc: "The principal's EKS access entry as EKS describes it now (DescribeAccessEntry + ListAssociatedAccessPolicies; a role's path is found in IAM): #{arn, type, username, groups, policies: [#{name, arn, scope, namespaces}]}, or () when it has none.",
            example: r#"let e = access_entry("arn:aws:iam::123456789012:role/dev"); if e == () { print("no entry"); }"#,
        },
        move |arn: &str| access_entry(&s, arn),
    );
}
