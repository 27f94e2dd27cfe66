//! Library-level tests of the AWS layer against a real moto server (one per test).

mod cluster;
mod eks;
mod iam;
mod login;
mod secrets;
mod token;
