//! Flags and environment folded once into settings (uv's `settings.rs` is the model): the
//! commands and the script engine get plain values and never read the environment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::{AwsArgs, ClusterArgs, FleetArgs, OutputArg, RunArgs, MIB};
use crate::aws::{self, AwsContext, CredentialType};
use crate::commands::run::RunRequest;
use crate::commands::Failure;
use crate::fleet::{self, FleetRequest, Member};
use crate::kube::ConnectSpec;
use crate::output::Format;
use crate::script::{limits::Limits, RunOptions};
use crate::settings::{AwsSettings, KubeSettings};
use crate::targets::cluster::DEFAULT_KEEP_BACKUPS;
use crate::targets::TargetSpec;

/// The names `env()` may read beyond its allow-list: `--allow-env` and `OKSCRIPT_ALLOW_ENV`
/// together; an invalid name in the variable is an error naming it.
pub fn allow_env(
    flags: &[String],
    env: &BTreeMap<String, String>,
) -> Result<BTreeSet<String>, String> {
    let mut names: BTreeSet<String> = flags.iter().cloned().collect();
    if let Some(list) = env.get("OKSCRIPT_ALLOW_ENV") {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            names.insert(
                super::parse_env_name(name).map_err(|e| format!("OKSCRIPT_ALLOW_ENV: {e}"))?,
            );
        }
    }
    Ok(names)
}

/// Folds `-a`, `-c`, `--region` and the environment into the AWS settings; an error names
/// the flag, variable or field that is wrong.
pub fn aws_settings(args: &AwsArgs, env: &BTreeMap<String, String>) -> Result<AwsSettings, String> {
    let mut default_type = None;
    let sources = [
        (
            "-a/--aws-credentials-type",
            args.aws_credentials_type.clone(),
        ),
        (
            "OKSCRIPT_AWS_CREDENTIALS_TYPE",
            env.get("OKSCRIPT_AWS_CREDENTIALS_TYPE").cloned(),
        ),
        (
            "OKCTL_AWS_CREDENTIALS_TYPE",
            env.get("OKCTL_AWS_CREDENTIALS_TYPE").cloned(),
        ),
    ];
    for (name, value) in sources {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            default_type = Some(
                v.parse::<CredentialType>()
                    .map_err(|e| format!("{name}: {e}"))?,
            );
            break;
        }
    }
    let cluster = match &args.cluster_declaration {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read cluster declaration {}: {e}", path.display()))?;
            let decl = aws::parse_cluster_declaration(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some((path.display().to_string(), decl))
        }
    };
    let mut ctx = AwsContext::new(env.clone());
    if let Some(p) = args.profile.as_ref().filter(|p| !p.trim().is_empty()) {
        ctx = ctx.with_profile(p.trim());
    }
    if let Some(r) = &args.region {
        ctx = ctx.with_region(r.clone());
    } else if let Some((_, c)) = &cluster {
        if !env.contains_key("AWS_REGION") {
            ctx = ctx.with_region(c.region.clone());
        }
    }
    Ok(AwsSettings {
        ctx,
        default_type,
        cluster,
        no_browser: args.no_browser,
        display: env.contains_key("DISPLAY")
            || env.contains_key("WAYLAND_DISPLAY")
            || env.contains_key("BROWSER"),
        browser: env.get("BROWSER").filter(|b| !b.trim().is_empty()).cloned(),
        terminal: {
            use std::io::IsTerminal;
            std::io::stdin().is_terminal() || std::io::stderr().is_terminal()
        },
    })
}

/// Where cluster backups go: `OKSCRIPT_BACKUP_DIR`, else `$XDG_STATE_HOME/okscript/backups`,
/// else `~/.local/state/okscript/backups`.
pub fn backups_root(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    if let Some(d) = env.get("OKSCRIPT_BACKUP_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    Some(state_home(env)?.join("okscript/backups"))
}

/// Where okscript keeps state: `$XDG_STATE_HOME`, else `~/.local/state`.
pub fn state_home(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    env.get("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env.get("HOME")
                .map(|h| PathBuf::from(h).join(".local/state"))
        })
}

/// Folds the cluster flags, `OKSCRIPT_CLUSTER`, `KUBECONFIG` and the cluster declaration
/// into how to connect, and the backup settings.
pub fn kube_settings(
    args: &ClusterArgs,
    aws: &AwsSettings,
    env: &BTreeMap<String, String>,
) -> Result<KubeSettings, String> {
    let keep_backups = match (args.keep_backups, env.get("OKSCRIPT_KEEP_BACKUPS")) {
        (Some(n), _) => n,
        (None, Some(v)) if !v.trim().is_empty() => v.trim().parse().map_err(|_| {
            format!("OKSCRIPT_KEEP_BACKUPS={v:?} is not a number of backups to keep (0 keeps all)")
        })?,
        _ => DEFAULT_KEEP_BACKUPS,
    };
    let named = match args.cluster.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => {
            return Err(format!(
                "--cluster was given {} times, but only `okscript run` runs on several clusters: give one",
                many.len()
            ))
        }
    };
    let connect = if args.context.is_some() || args.kubeconfig.is_some() {
        let paths = match &args.kubeconfig {
            Some(p) => vec![p.clone()],
            None => match env.get("KUBECONFIG").filter(|k| !k.is_empty()) {
                Some(k) => k
                    .split(':')
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect(),
                None => env
                    .get("HOME")
                    .map(|h| vec![PathBuf::from(h).join(".kube/config")])
                    .unwrap_or_default(),
            },
        };
        Some(ConnectSpec::Kubeconfig {
            paths,
            context: args.context.clone(),
            // Only a cluster named on the command line: the context may point elsewhere.
            eks_cluster: named
                .clone()
                .or_else(|| aws.cluster.as_ref().map(|(_, c)| c.name.clone())),
        })
    } else {
        named
            .or_else(|| {
                env.get("OKSCRIPT_CLUSTER")
                    .filter(|c| !c.is_empty())
                    .cloned()
            })
            .or_else(|| aws.cluster.as_ref().map(|(_, c)| c.name.clone()))
            .map(|cluster| ConnectSpec::Eks {
                cluster,
                server: args.server.clone(),
                ca_file: args.certificate_authority.clone(),
                role_arn: args.role_arn.clone(),
            })
    };
    Ok(KubeSettings {
        connect,
        backups_root: backups_root(env),
        state_home: state_home(env),
        keep_backups,
    })
}

/// The fleet the cluster and fleet flags name, `None` for one cluster (or none), which runs
/// exactly as before fleets existed. Reads the `--clusters-from` files.
///
/// # Errors
/// A usage failure: a list that cannot be read or used, a cluster named twice, a flag that
/// makes no sense for many clusters (`--server`, `--certificate-authority`, `--context`,
/// `--kubeconfig`, `-c`, `--target file:PATH`), or `--parallel` without a fleet.
pub fn fleet_request(
    cluster: &ClusterArgs,
    flags: &FleetArgs,
    target: Option<&TargetSpec>,
    aws: &AwsArgs,
    default_region: Option<&str>,
) -> Result<Option<FleetRequest>, Failure> {
    let is_fleet = cluster.cluster.len() > 1
        || !flags.clusters_from.is_empty()
        || flags.all_clusters.is_some();
    if !is_fleet {
        return match flags.parallel {
            Some(_) => Err(Failure::usage(
                "--parallel needs a fleet: it bounds how many clusters run at once",
                "name several clusters (--cluster A --cluster B, --clusters-from FILE or --all-clusters), or leave --parallel out",
            )),
            None => Ok(None),
        };
    }
    let refused = [
        ("--server", cluster.server.is_some()),
        (
            "--certificate-authority",
            cluster.certificate_authority.is_some(),
        ),
        ("--context", cluster.context.is_some()),
        ("--kubeconfig", cluster.kubeconfig.is_some()),
        (
            "-c/--cluster-declaration",
            aws.cluster_declaration.is_some(),
        ),
        (
            "--target file:PATH",
            matches!(target, Some(TargetSpec::File(_))),
        ),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(Failure::usage(
            format!("{flag} names one cluster's connection or target, so it cannot be used with a fleet"),
            "run that cluster on its own (one --cluster), or leave the flag out: each cluster of a fleet is reached through EKS DescribeCluster; okctl declarations go in --clusters-from",
        ));
    }
    let mut members = Vec::new();
    for name in &cluster.cluster {
        if let Some(problem) = fleet::list::name_problem(name) {
            return Err(Failure::usage(
                format!("--cluster: {problem}"),
                "give the EKS cluster's name, as `aws eks list-clusters` prints it",
            ));
        }
        members.push(Member::named(name, "--cluster"));
    }
    for path in &flags.clusters_from {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(
                format!("cannot read the cluster list {}: {e}", path.display()),
                "check the path given to --clusters-from",
            )
        })?;
        let listed = fleet::list::parse(&path.display().to_string(), &text)
            .map_err(|e| Failure::usage(e.to_string(), &e.hint()))?;
        members.extend(listed);
    }
    fleet::check_unique(&members, default_region)
        .map_err(|e| Failure::usage(e.to_string(), &e.hint()))?;
    let all_clusters = match &flags.all_clusters {
        None => None,
        Some(list) => Some(regions(list)?),
    };
    Ok(Some(FleetRequest {
        members,
        all_clusters,
        parallel: flags
            .parallel
            .map_or(fleet::DEFAULT_PARALLEL, |n| n as usize),
        role_arn: cluster.role_arn.clone(),
    }))
}

/// The regions of `--all-clusters=A,B` (none: the region in effect); one named twice is a
/// usage error rather than a fleet with every cluster in it twice.
fn regions(list: &str) -> Result<Vec<String>, Failure> {
    let mut out: Vec<String> = Vec::new();
    for region in list.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        if out.iter().any(|r| r == region) {
            return Err(Failure::usage(
                format!("--all-clusters names region {region} twice"),
                "name each region once: --all-clusters=eu-west-1,eu-north-1",
            ));
        }
        out.push(region.to_string());
    }
    Ok(out)
}

/// Folds `okscript run`'s flags and the environment into what the run command takes, and
/// the fleet when it names several clusters. The settings' own errors are kept for the
/// command to report after the script's checks.
pub fn run_request(
    mut args: RunArgs,
    env: &BTreeMap<String, String>,
) -> (RunRequest, Result<Option<FleetRequest>, Failure>) {
    let format = match args.output {
        OutputArg::Text => Format::Text,
        OutputArg::Json => Format::Json,
    };
    let default_region = aws_settings(&args.aws, env).ok().and_then(|a| a.region());
    let fleet = fleet_request(
        &args.cluster,
        &args.fleet,
        args.target.as_ref(),
        &args.aws,
        default_region.as_deref(),
    );
    if matches!(fleet, Ok(Some(_))) {
        // Each cluster of the fleet gets its own connection; the run's own is none, and its
        // target is whatever mechanism each cluster's mode uses unless --target says.
        args.cluster.cluster.clear();
        args.target.get_or_insert(TargetSpec::Cluster);
    }
    let options = run_options(&args, env);
    let req = RunRequest {
        script: args.script.unwrap_or_default(),
        set: args.set.into_iter().collect(),
        format,
        verbose: args.aws.verbose,
        strict: args.strict,
        detailed_exitcode: args.detailed_exitcode,
        options,
    };
    (req, fleet)
}

fn run_options(args: &RunArgs, env: &BTreeMap<String, String>) -> Result<RunOptions, String> {
    let aws = aws_settings(&args.aws, env)?;
    let allow_env = allow_env(&args.allow_env, env)?;
    let kube = kube_settings(&args.cluster, &aws, env)?;
    // A cluster given without --target means whatever mechanism its mode uses.
    let target = args
        .target
        .clone()
        .or_else(|| kube.connect.as_ref().map(|_| TargetSpec::Cluster));
    Ok(RunOptions {
        aws,
        kube,
        args: BTreeMap::new(),
        env: env.clone(),
        allow_env,
        target,
        dry_run: args.dry_run,
        limits: Limits {
            max_operations: args.max_operations,
            timeout: Duration::from_secs(args.timeout),
            max_memory: args.max_memory * MIB,
            max_string_size: usize::try_from(args.max_string_size * MIB).unwrap_or(usize::MAX),
            max_array_size: usize::try_from(args.max_array_size).unwrap_or(usize::MAX),
            max_map_size: usize::try_from(args.max_map_size).unwrap_or(usize::MAX),
            ..Limits::default()
        },
        login: None,
    })
}
