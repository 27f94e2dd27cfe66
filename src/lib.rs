//! okscript: Rhai scripts that grant, revoke and verify access to Amazon EKS clusters safely.
#![warn(missing_docs)]

pub mod access;
