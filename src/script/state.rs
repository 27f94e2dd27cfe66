//! What a running script shares with the functions it calls: the change set, `--set`
//! values, the environment snapshot and the printer. Created per run, never global.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::access::arn;
use crate::changeset::{ChangeSet, Committed};
use crate::kube::{ConnectSpec, Connection};
use crate::output::Printer;
use crate::settings::KubeSettings;
use crate::targets;

use super::api::{error_with_hint, FnResult};
use super::aws_fns::AwsState;

/// State shared by one run's script functions.
#[derive(Debug)]
pub struct State {
    /// The target from `--target` (parsed once by the command line), opened on first use.
    pub target_spec: Option<targets::TargetSpec>,
    /// The change set, once a function needed the target.
    pub changes: Option<ChangeSet>,
    /// `--set KEY=VALUE` values.
    pub args: BTreeMap<String, String>,
    /// The environment as the command line saw it.
    pub env: BTreeMap<String, String>,
    /// Names `env()` may read beyond its allow-list (`--allow-env`).
    pub env_allowed: BTreeSet<String>,
    /// True for `--dry-run`: nothing is written.
    pub dry_run: bool,
    /// Where output and diagnostics go.
    pub printer: Printer,
    /// Commits made by `apply()` during the run.
    pub commits: Vec<Committed>,
    /// AWS settings, runtime and session.
    pub aws: AwsState,
    /// Match keys of the identities the script logged in as: not revocable without force.
    pub protected: Vec<String>,
    /// Set when the script must not change anything any more (wrong account), with why.
    pub blocked: Option<String>,
    /// How to reach the cluster, and where backups go.
    pub kube: KubeSettings,
    /// The cluster connection, once a function needed it.
    pub connection: Option<Rc<RefCell<Connection>>>,
}

/// The handle every registered function holds.
pub type Shared = Rc<RefCell<State>>;

impl State {
    /// The cluster connection, opened on first use (logging in to AWS if an EKS cluster needs it).
    pub fn connection(&mut self) -> FnResult<Rc<RefCell<Connection>>> {
        if let Some(c) = &self.connection {
            return Ok(c.clone());
        }
        let Some(spec) = self.kube.connect.clone() else {
            return Err(error_with_hint(
                "this script uses a cluster, but none was given",
                "pass --cluster NAME (an EKS cluster), -c cluster.yaml, or --context NAME (a kubeconfig context)",
            ));
        };
        let session = match &spec {
            ConnectSpec::Eks { .. }
            | ConnectSpec::Kubeconfig {
                eks_cluster: Some(_),
                ..
            } => Some(super::aws_fns::implicit_login(self)?),
            ConnectSpec::Kubeconfig { .. } => None,
        };
        let region = self.aws.settings().ctx.region.clone();
        self.printer
            .verbose(&format!("connecting to cluster {}", spec.name()));
        let opened = self
            .aws
            .block_on(Connection::open(&spec, session.as_ref(), region))?
            .map_err(|e| match e.hint() {
                Some(h) => error_with_hint(&e, h),
                None => e.to_string().into(),
            })?;
        self.printer
            .verbose(&format!("connected to {}", opened.url));
        let conn = Rc::new(RefCell::new(opened));
        self.connection = Some(conn.clone());
        Ok(conn)
    }

    /// Opens a cluster target: the cluster's mode and `spec` choose the mechanism
    /// ([`targets::choose`]); a mechanism okscript cannot or must not write fails here,
    /// before anything is read or written.
    fn cluster_target(&mut self, spec: &targets::TargetSpec) -> FnResult<Box<dyn targets::Target>> {
        let conn = self.connection()?;
        let (name, mode) = {
            let c = conn.borrow();
            (c.spec().name(), c.auth_mode())
        };
        let target_error = |e: targets::TargetError| match e.hint() {
            Some(h) => error_with_hint(&e, h),
            None => e.to_string().into(),
        };
        let warning = match targets::choose(spec, mode, &name).map_err(target_error)? {
            targets::Mechanism::AwsAuth { warning } => warning,
            targets::Mechanism::AccessEntries { mode } => {
                let eks = conn
                    .borrow()
                    .eks_cluster()
                    .map(|(cluster, session)| (cluster.to_string(), session.clone()));
                let Some((cluster, session)) = eks else {
                    return Err(target_error(targets::TargetError::EntriesNeedEks {
                        cluster: name,
                    }));
                };
                let rt = self.aws.runtime()?;
                return Ok(Box::new(
                    targets::entries::EntriesTarget::new(rt, session, cluster, mode)
                        .with_connection(conn),
                ));
            }
        };
        match (warning, mode) {
            // An unknown mode is no danger seen, only a check not made.
            (Some(w), None) => self.printer.note(&w),
            (Some(w), Some(_)) => self.printer.warn(&w),
            (None, _) => {}
        }
        // Where entries win over aws-auth, find out whose rows they shadow.
        let mut entries = Vec::new();
        if mode == Some(crate::aws::AuthMode::ApiAndConfigMap) {
            let listed = {
                let c = conn.borrow();
                c.eks_cluster()
                    .map(|(cluster, session)| crate::aws::list_access_entries(session, cluster))
                    .map(|f| self.aws.block_on(f))
            };
            match listed {
                Some(Ok(Ok(arns))) => entries = arns,
                Some(Ok(Err(e))) => self.printer.warn(&format!(
                    "could not list the access entries of {name} ({e}): rows they shadow are not marked"
                )),
                _ => {}
            }
        }
        let rt = self.aws.runtime()?;
        let backups = self.kube.backups_for(&name);
        Ok(Box::new(
            targets::cluster::ClusterTarget::new(rt, conn, backups)
                .keep_backups(self.kube.keep_backups)
                .with_access_entries(&entries),
        ))
    }

    /// Protects the mapping of an identity the script logged in as.
    pub fn protect(&mut self, principal_arn: &str) {
        let key = arn::match_key(principal_arn);
        if !self.protected.contains(&key) {
            self.protected.push(key);
        }
        if let Some(c) = self.changes.as_mut() {
            c.protected.keys = self.protected.clone();
        }
    }

    /// An error when the script may no longer change anything.
    pub fn check_not_blocked(&self) -> FnResult<()> {
        match &self.blocked {
            Some(why) => Err(error_with_hint(
                format!("refusing to change aws-auth: {why}"),
                "fix the login or the cluster declaration and run the script again",
            )),
            None => Ok(()),
        }
    }

    /// The change set, reading the target the first time.
    pub fn changes(&mut self) -> FnResult<&mut ChangeSet> {
        if self.changes.is_none() {
            let Some(spec) = self.target_spec.clone() else {
                return Err(error_with_hint(
                    "this script reads or changes aws-auth, but no target was given",
                    "pass `--target file:PATH` for an aws-auth manifest file (or set OKSCRIPT_TARGET)",
                ));
            };
            let target: Box<dyn targets::Target> = match spec {
                targets::TargetSpec::File(path) => Box::new(targets::file::FileTarget::new(path)),
                spec => self.cluster_target(&spec)?,
            };
            let mut changes = ChangeSet::new(target);
            changes.protected.keys = self.protected.clone();
            self.changes = Some(changes);
        }
        let changes = self.changes.as_mut().expect("set above");
        let warnings = changes.load().map_err(|e| match e.hint() {
            Some(h) => error_with_hint(&e, h),
            None => e.to_string().into(),
        })?;
        for w in warnings {
            self.printer.warn(&w);
        }
        Ok(self.changes.as_mut().expect("set above"))
    }
}
