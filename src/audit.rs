//! Gathering the facts of one cluster's access report: its mappings through the same
//! targets `mappings()` reads (aws-auth and access entries, by the cluster's mode), the
//! account's IAM principals and trust policies, and Identity Center. The I/O shell around
//! the pure [`crate::report`]; whatever cannot be read becomes a [`Gap`] of a partial report,
//! never a guess.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::access::model::MappingView;
use crate::aws::{self, AuthMode, EntriesAt, IdentityCenterSpec, Session};
use crate::changeset::ChangeSet;
use crate::kube::Connection;
use crate::report::{self, Facts, Gap, Report, Visible};
use crate::targets::{cluster::ClusterTarget, entries::EntriesTarget, Target};

/// Where Identity Center is read from: a login (the cluster's, or `--sso-profile`'s) or
/// why there is none, and which instance.
#[derive(Debug, Clone)]
pub struct IdentityCenterAccess {
    /// The login that reads Identity Center, or why logging in for it failed.
    pub session: Result<Session, String>,
    /// The region and instance, when given.
    pub spec: IdentityCenterSpec,
}

/// The mappings a target yields, read once; a failure is the gap of `part`.
fn read_mappings(target: Box<dyn Target>, part: &str) -> Result<Vec<MappingView>, Gap> {
    let mut changes = ChangeSet::new(target);
    match changes.load() {
        Ok(_) => Ok(changes.mappings()),
        Err(e) => Err(Gap {
            part: part.into(),
            reason: e.to_string(),
        }),
    }
}

/// When each role's entry was created, for telling a recreated role. Entries are described
/// by the role's real ARN (IAM's, path included: `mappings()` shows roles without it); an
/// entry that cannot be described now is left out (it is then not called dead).
fn created_times(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    cluster: &str,
    views: &[MappingView],
    roles: &[report::IamRole],
) -> Vec<(String, f64)> {
    let at = EntriesAt { session, cluster };
    views
        .iter()
        .filter(|v| v.source == "access-entry" && v.kind == "role")
        .filter_map(|v| {
            let key = crate::access::arn::match_key(&v.arn);
            let real = roles
                .iter()
                .find(|r| crate::access::arn::match_key(&r.arn) == key)?;
            let t = rt.block_on(at.created_at(&real.arn)).ok().flatten()?;
            Some((v.arn.clone(), t))
        })
        .collect()
}

/// The access report of the EKS cluster behind `conn`, read with `session` (the cluster's
/// account): what `okscript report` prints, and what a fleet loop calls per cluster.
pub fn cluster_report(
    rt: &Arc<tokio::runtime::Runtime>,
    session: &Session,
    conn: &Rc<RefCell<Connection>>,
    ic: &IdentityCenterAccess,
) -> Report {
    let (name, mode, eks) = {
        let c = conn.borrow();
        let eks = c.eks_cluster().map(|(n, s)| (n.to_string(), s.clone()));
        (c.spec().name(), c.auth_mode(), eks)
    };
    let cluster = eks.as_ref().map_or(name.clone(), |e| e.0.clone());
    let mut gaps = Vec::new();
    let mut mappings = Vec::new();

    // Entries first: on API_AND_CONFIG_MAP they say which aws-auth rows are shadowed.
    let mut entry_arns = Vec::new();
    match (&eks, mode) {
        (Some((cluster, s)), Some(AuthMode::Api | AuthMode::ApiAndConfigMap)) => {
            let target = EntriesTarget::new(rt.clone(), s.clone(), cluster.clone(), mode);
            match read_mappings(Box::new(target), "access-entries") {
                Ok(views) => {
                    entry_arns = views.iter().map(|v| v.arn.clone()).collect();
                    mappings.extend(views);
                }
                Err(g) => gaps.push(g),
            }
        }
        (None, _) | (_, None) => gaps.push(Gap {
            part: "access-entries".into(),
            reason: format!("the authentication mode of {name} is unknown (no EKS cluster name), so its access entries were not read"),
        }),
        _ => {}
    }
    if mode != Some(AuthMode::Api) {
        let target =
            ClusterTarget::new(rt.clone(), conn.clone(), None).with_access_entries(&entry_arns);
        match read_mappings(Box::new(target), "aws-auth") {
            Ok(views) => mappings.extend(views),
            Err(g) => gaps.push(g),
        }
    }

    let roles: Vec<String> = mappings
        .iter()
        .filter(|m| m.kind == "role")
        .map(|m| m.arn.clone())
        .collect();
    let iam = match rt.block_on(aws::report_principals(session, &roles)) {
        Ok(i) => Visible::Seen(i),
        Err(e) => Visible::Hidden(Gap {
            part: "iam".into(),
            reason: format!("{e}: principals were not checked for existence, and who may assume a role is not shown"),
        }),
    };
    let entries_created = match (&eks, &iam) {
        (Some((cluster, s)), Visible::Seen(iam)) => {
            created_times(rt, s, cluster, &mappings, &iam.roles)
        }
        _ => Vec::new(),
    };
    let identity_center = match &ic.session {
        Err(why) => Visible::Hidden(Gap {
            part: "identity-center".into(),
            reason: why.clone(),
        }),
        Ok(s) => match rt.block_on(aws::identity_center(s, &ic.spec, session.account())) {
            Ok(found) => Visible::Seen(found),
            Err(e) => Visible::Hidden(Gap {
                part: "identity-center".into(),
                reason: format!(
                    "{e}: who holds each permission set is not shown ({})",
                    e.hint()
                ),
            }),
        },
    };
    report::build(&Facts {
        cluster,
        account: session.account().to_string(),
        region: session.region().to_string(),
        mode: mode.map(|m| m.to_string()),
        mappings,
        iam,
        identity_center,
        gaps,
        entries_created,
    })
}
