//! The subcommands, a file each. A command takes settings resolved by the command line and a
//! printer, and returns an [`ExitStatus`] or a [`Failure`]; `cli::main` turns either into
//! the process exit code, once.

pub mod check;
pub mod demo;
pub mod fns;
pub mod kubeconfig;
pub mod report;
pub mod report_fleet;
pub mod rescue;
pub mod restore;
pub mod run;
pub mod run_fleet;
pub mod scripts;
pub mod sso;
pub mod token;
pub mod venv;

use std::sync::Arc;

use crate::aws::{self, Session};
use crate::hint::Advice;
use crate::kube;
use crate::output::Printer;
use crate::settings::AwsSettings;
use crate::targets::TargetError;

/// Exit code: success (and, with `--detailed-exitcode`, nothing to change).
pub const EXIT_OK: u8 = 0;
/// Exit code: the script failed, a guard refused, `--strict` found a warning, or the target
/// could not be used.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: with `--detailed-exitcode` after a successful `--dry-run`, changes are pending
/// (terraform's code for it).
pub const EXIT_CHANGES: u8 = 2;
/// Exit code: bad command line (sysexits' EX_USAGE): an unknown flag or `--set` key, a missing
/// or malformed input, an unreadable script; nothing ran.
pub const EXIT_USAGE: u8 = 64;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done (with `--detailed-exitcode`: nothing to change).
    Success,
    /// With `--detailed-exitcode` after a dry run: changes are pending.
    ChangesPending,
    /// A child's own exit code, passed on (`venv`'s shell).
    Code(u8),
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => EXIT_OK,
            ExitStatus::ChangesPending => EXIT_CHANGES,
            ExitStatus::Code(c) => c,
        }
    }
}

/// A command failure: the message, an optional hint, and whether it was a usage error.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
    /// True for a bad command line (exit 64).
    pub usage: bool,
    /// True when the command already printed it (a JSON document, several errors).
    pub reported: bool,
}

impl Failure {
    /// A failure of the work itself (exit 1).
    pub fn failed(message: impl Into<String>, hint: Option<String>) -> Failure {
        Failure {
            message: message.into(),
            hint,
            usage: false,
            reported: false,
        }
    }

    /// A bad command line (exit 64), with what to type instead.
    pub fn usage(message: impl Into<String>, hint: &str) -> Failure {
        Failure {
            message: message.into(),
            hint: Some(hint.into()),
            usage: true,
            reported: false,
        }
    }

    /// A flag or variable that does not resolve (exit 64); the message names it.
    pub fn bad_setting(message: impl Into<String>) -> Failure {
        Failure {
            usage: true,
            ..Failure::failed(message, None)
        }
    }

    /// A failure the command has printed already; only its exit code is left to give.
    pub fn reported(usage: bool) -> Failure {
        Failure {
            message: String::new(),
            hint: None,
            usage,
            reported: true,
        }
    }

    /// The process exit code.
    pub fn code(&self) -> u8 {
        if self.usage {
            EXIT_USAGE
        } else {
            EXIT_FAILURE
        }
    }
}

impl Failure {
    /// An error of a layer below, with its own hint.
    pub fn advised(e: &impl Advice) -> Failure {
        Failure::failed(e.to_string(), e.advice())
    }
}

impl From<aws::AwsError> for Failure {
    fn from(e: aws::AwsError) -> Failure {
        Failure::advised(&e)
    }
}

impl From<kube::KubeError> for Failure {
    fn from(e: kube::KubeError) -> Failure {
        Failure {
            usage: e.is_usage(),
            ..Failure::advised(&e)
        }
    }
}

impl From<TargetError> for Failure {
    fn from(e: TargetError) -> Failure {
        Failure::advised(&e)
    }
}

/// The runtime the cluster commands block on.
fn runtime() -> Result<Arc<tokio::runtime::Runtime>, Failure> {
    aws::runtime()
        .map(Arc::new)
        .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}"), None))
}

/// Logs in as the settings say, and refuses a login to another account than `-c`'s.
fn login(rt: &tokio::runtime::Runtime, aws: &AwsSettings) -> Result<Session, Failure> {
    let session = match aws.default_type {
        Some(t) => rt.block_on(aws::login(&aws.ctx, t))?,
        None => rt.block_on(aws::login_default(&aws.ctx))?,
    };
    aws.check_account(session.account())
        .map_err(|w| Failure::failed(w.message, Some(w.hint)))?;
    Ok(session)
}

/// A printer for a command's text output, `--verbose` or not.
pub fn text_printer(verbose: bool) -> Printer {
    let mut printer = Printer::stdio(crate::output::Format::Text);
    printer.verbose = verbose;
    printer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_has_one_exit_code() {
        assert_eq!(ExitStatus::Success.code(), EXIT_OK);
        assert_eq!(ExitStatus::ChangesPending.code(), EXIT_CHANGES);
        assert_eq!(ExitStatus::Code(7).code(), 7);
        assert_eq!(Failure::failed("x", None).code(), EXIT_FAILURE);
        assert_eq!(Failure::usage("x", "y").code(), EXIT_USAGE);
        assert_eq!(Failure::bad_setting("x").code(), EXIT_USAGE);
        assert!(Failure::reported(false).reported);
        // A cluster named wrongly on the command line is the command line's fault.
        assert_eq!(Failure::from(kube::KubeError::NoCluster).code(), EXIT_USAGE);
        assert_eq!(
            Failure::from(kube::KubeError::Client("x".into())).code(),
            EXIT_FAILURE
        );
    }
}
