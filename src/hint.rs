//! Advice that travels with an error as a value: each error type says what to do, and the
//! edges (the command line's `Failure`, the script API's errors) take the hint from here
//! instead of each writing its own `match e.hint()`.

use std::fmt::Display;

/// An error that may say what to do about it (printed as `hint:` after a blank line).
pub trait Advice: Display {
    /// What to do, when there is something to say.
    fn advice(&self) -> Option<String>;
}

impl Advice for crate::aws::AwsError {
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Advice for crate::kube::KubeError {
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Advice for crate::targets::TargetError {
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Advice for crate::fsio::FsError {
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

impl Advice for crate::kube::KubeconfigError {
    fn advice(&self) -> Option<String> {
        self.hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_brings_its_own_hint() {
        let e = crate::kube::KubeError::NoCluster;
        assert_eq!(e.advice(), e.hint());
        assert!(e.advice().unwrap().contains("--cluster"));
        let e = crate::aws::AwsError::NoHome;
        assert_eq!(e.advice(), e.hint());
    }
}
