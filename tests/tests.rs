//! okscript's black-box tests: one integration binary (ripgrep style) that runs the built
//! `okscript` in a fresh temp folder with a cleared environment (see `util`), against real
//! files and exit codes. One module per feature; each test is named for what it proves.
//! Unit and property tests of the access model live in `src/`, not here. `aws` tests the
//! AWS layer as a library against a real moto server started by `support`.

mod support;
mod util;

mod auth_mode;
mod aws;
mod bad_inputs;
mod check_fns;
mod cluster;
mod concurrency;
mod eks_fake;
mod entries;
mod entries_scripts;
mod entries_writes;
mod files;
mod fixtures;
mod fleet;
mod fleet_report;
mod identity;
mod inputs;
mod kube_fake;
mod kubeconfig;
mod limits;
mod logins;
mod membership;
mod migrate;
mod onboarding;
mod report;
mod rescue;
mod run;
mod sandbox;
mod scripts;
mod soak;
mod sso;
mod sso_config;
mod sso_pick;
