//! okscript: Rhai scripts that grant, revoke and verify access to Amazon EKS clusters safely.
#![warn(missing_docs)]

pub mod access;
pub mod audit;
pub mod aws;
pub mod changeset;
pub mod cli;
pub mod commands;
pub mod fleet;
pub mod fsio;
pub mod hint;
pub mod kube;
pub mod output;
pub mod report;
pub mod script;
pub mod settings;
pub mod targets;
