//! Links the release binary as a position-dependent executable (`-no-pie`).
//!
//! A PIE okscript spends about a third of an empty run's page faults and a fifth of its start
//! (1.5 ms of 7) applying 66,000 relative relocations, most of them in tables of the AWS SDK
//! crates that a run never reads: every page of `.data.rel.ro` is written at start. Linked at
//! a fixed address, those pages are read from the file only when touched. The cost is ASLR
//! for the binary's own image (libraries, stack and heap stay randomised); the Go tools okscript
//! replaces (kubectl, eksctl, aws-iam-authenticator) ship the same way. Debug builds, which the
//! tests run, stay PIE.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PROFILE");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
