//! The change set between a script and its target: intents are staged against a snapshot
//! (so reads inside the script see them), and committed once, at `apply()` or at the end
//! of a successful run. A script that fails commits nothing.

use crate::access::intent::{Intent, Note};
use crate::access::model::{Applied, AwsAuth, MappingView, Protected, Refusal};
use crate::access::plan::{self, Summary};
use crate::targets::{Snapshot, Target, TargetError};

/// What one commit did, for the run's report.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// Counts of principals added, changed, removed.
    pub summary: Summary,
    /// The unified diff of what changed.
    pub diff: String,
    /// Whether anything was written.
    pub written: bool,
    /// Notes from the commit (replays after concurrent changes).
    pub notes: Vec<Note>,
}

/// Staged changes for one target.
#[derive(Debug)]
pub struct ChangeSet {
    target: Box<dyn Target>,
    base: Option<Snapshot>,
    staged: Option<AwsAuth>,
    /// The states a commit replaced, freed at the next read: a run usually ends right after
    /// its commit, and freeing every entry of a large aws-auth twice costs more than the
    /// write (the process exit releases them at no cost).
    retired: Option<(Option<Snapshot>, Option<AwsAuth>)>,
    intents: Vec<Intent>,
    /// Whether the script asked for any change at all (even one already in place).
    pub asked: bool,
    /// Principals the script may not lock out without `force`.
    pub protected: Protected,
}

/// Why staging failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The target could not be read.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A guard refused the change.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

impl ChangeSet {
    /// A change set for `target`; nothing is read until a script needs it.
    pub fn new(target: Box<dyn Target>) -> ChangeSet {
        ChangeSet {
            target,
            base: None,
            staged: None,
            retired: None,
            intents: Vec::new(),
            asked: false,
            protected: Protected::default(),
        }
    }

    /// The target's description.
    pub fn describe(&self) -> String {
        self.target.describe()
    }

    /// Reads the target on first use; returns the warnings of that first read.
    pub fn load(&mut self) -> Result<Vec<String>, TargetError> {
        if self.base.is_some() {
            return Ok(Vec::new());
        }
        self.retired = None;
        let snap = self.target.read()?;
        let warnings = snap.warnings.clone();
        self.base = Some(snap);
        Ok(warnings)
    }

    /// The staged state, copied from the base at the first change: a script that only
    /// reads, and the state after a commit, never pay for the copy of a large aws-auth.
    fn staged_mut(&mut self) -> &mut AwsAuth {
        let base = &self.base.as_ref().expect("load() runs before staging").auth;
        self.staged.get_or_insert_with(|| base.staging_copy())
    }

    /// The staged state when something was staged, else the base.
    fn current(&self) -> &AwsAuth {
        match (&self.staged, &self.base) {
            (Some(staged), _) => staged,
            (None, Some(base)) => &base.auth,
            (None, None) => panic!("load() runs before reading"),
        }
    }

    /// Stages one intent: applied to the staged state now (so guards fire at the call),
    /// and recorded for replay at commit.
    pub fn stage(&mut self, intent: Intent) -> Result<Applied, Refusal> {
        self.asked = true;
        let vetted = self.target.vet(&intent)?;
        let protected = self.protected.clone();
        let mut applied = self.staged_mut().apply(&intent, &protected)?;
        if applied.changed {
            self.intents.push(intent);
        }
        applied.notes.splice(0..0, vetted);
        Ok(applied)
    }

    /// True when the target keys principals by their real ARN (access entries), so
    /// aws-auth's notes about stripped role paths do not apply.
    pub fn uses_real_arns(&self) -> bool {
        self.target.uses_real_arns()
    }

    /// The staged mappings, each marked when an access entry shadows it.
    pub fn mappings(&mut self) -> Vec<MappingView> {
        let mut views = self.current().mappings();
        for v in &mut views {
            v.shadowed = !v.arn.is_empty() && self.target.shadowed(&v.arn);
            self.target.annotate(v);
        }
        views
    }

    /// A warning for a grant whose aws-auth row EKS will ignore because an access entry wins.
    pub fn shadow_warning(&self, intent: &Intent) -> Option<String> {
        match intent {
            Intent::Grant { arn, .. } if self.target.shadowed(arn) => Some(format!(
                "shadowed: EKS uses the access entry for {arn}, not this aws-auth row"
            )),
            _ => None,
        }
    }

    /// The lint findings of the staged state that apply to the target's mechanism.
    pub fn findings(&mut self) -> Vec<crate::access::lint::Finding> {
        let found = crate::access::lint::findings(self.current());
        found
            .into_iter()
            .filter(|f| self.target.keeps_finding(f))
            .collect()
    }

    /// What is written, for the run's summary line.
    pub fn mechanism(&self) -> String {
        self.target.mechanism()
    }

    /// The staged state.
    pub fn staged(&mut self) -> &AwsAuth {
        self.current()
    }

    /// The pending change: diff and counts against the last read.
    pub fn plan(&self) -> (String, Summary) {
        match (&self.base, &self.staged) {
            (Some(base), Some(staged)) => (
                self.target.diff(&base.auth, staged),
                plan::summarize(&base.auth, staged),
            ),
            _ => (String::new(), Summary::default()),
        }
    }

    /// True when staged changes wait to be written.
    pub fn is_pending(&self) -> bool {
        !self.intents.is_empty() && self.staged.as_ref().is_some_and(|s| !s.is_unchanged())
    }

    /// Writes the staged changes (replaying them if the target changed meanwhile).
    pub fn commit(&mut self) -> Result<Committed, TargetError> {
        let (Some(base), Some(staged)) = (&self.base, &self.staged) else {
            return Ok(Committed::default());
        };
        if !self.is_pending() {
            return Ok(Committed::default());
        }
        let commit = self.target.commit(crate::targets::Pending {
            base,
            staged,
            intents: &self.intents,
            protected: &self.protected,
        })?;
        let done = Committed {
            summary: commit.summary,
            diff: commit.diff,
            written: commit.written,
            notes: commit.notes,
        };
        self.retired = Some((self.base.take(), self.staged.take()));
        self.base = commit.snapshot;
        self.intents.clear();
        Ok(done)
    }
}
