//! The command line: clap definitions, settings resolved once from flags and environment,
//! and dispatch to the commands. The only place that reads the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::access::plan;
use crate::aws::{self, AwsContext, CredentialType};
use crate::commands;
use crate::kube::ConnectSpec;
use crate::output::{Format, Printer};
use crate::script::aws_fns::AwsSettings;
use crate::script::state::KubeSettings;
use crate::script::{self, check, inputs, limits::Limits, RunOptions, Script};
use crate::targets::TargetSpec;

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

const EXIT_HELP: &str = "Exit codes:
  0   success (with --detailed-exitcode: nothing to change)
  1   the script failed, a guard refused, --strict found a warning, or the target could not
      be used; nothing was written
  2   with --detailed-exitcode after a successful --dry-run: changes pending
  64  usage error: unknown flag or --set key, missing or malformed input, unreadable script;
      nothing ran";

/// okscript: scripts, not runbooks, for access to Amazon EKS clusters.
#[derive(Debug, Parser)]
#[command(name = "okscript", version, about, after_help = EXIT_HELP, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a script: stage its grants and revokes, then write them to the target once.
    #[command(after_help = EXIT_HELP, disable_help_flag = true)]
    Run(RunArgs),
    /// Compile and lint scripts without running them (for CI); no side effects.
    #[command(after_help = EXIT_HELP)]
    Check {
        /// Scripts to check.
        #[arg(required = true, value_name = "SCRIPT")]
        scripts: Vec<PathBuf>,
    },
    /// List the scripts bundled in the binary (`okscript run NAME` runs one).
    Scripts,
    /// Write a commented starter script, NAME.rhai, for a team to edit (never overwrites).
    New {
        /// The script's name (the file is NAME.rhai in the current folder).
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Print a shell completion script to stdout, generated from these definitions
    /// (e.g. `okscript completions bash > /etc/bash_completion.d/okscript`).
    Completions {
        /// The shell.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `okscript man > okscript.1`.
    Man,
    /// Write Rhai definition files (`.d.rhai`) of every script function and the bundled
    /// stdlib modules into DIR, for the Rhai language server (completion, hover docs).
    Definitions {
        /// The folder to write into (created if missing; the definition files in it are
        /// replaced).
        dir: PathBuf,
    },
    /// List every function scripts can call, with its signature and a one-line summary.
    Fns {
        /// Print JSON (name, params, returns, doc, example) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print an ExecCredential with an EKS token for the cluster, like `aws eks get-token`
    /// (kubectl's exec plugin).
    Token {
        /// AWS login settings.
        #[command(flatten)]
        aws: AwsArgs,
        /// Cluster settings.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Add or update the cluster's context in a kubeconfig, with `okscript token` as its exec
    /// plugin; everything else in the file is kept.
    Kubeconfig {
        /// AWS login settings.
        #[command(flatten)]
        aws: AwsArgs,
        /// Cluster settings (--kubeconfig names the file to write).
        #[command(flatten)]
        cluster: ClusterArgs,
        /// The context's name [default: the cluster's ARN].
        #[arg(long, value_name = "NAME")]
        alias: Option<String>,
        /// Repoint an existing context of that name at this cluster (its namespace is dropped).
        #[arg(long)]
        force: bool,
    },
    /// Start a shell ($OKSCRIPT_SHELL, else $SHELL) set up for the cluster: KUBECONFIG,
    /// OKSCRIPT_CLUSTER and the AWS settings, like okctl's venv.
    Venv {
        /// AWS login settings.
        #[command(flatten)]
        aws: AwsArgs,
        /// Cluster settings.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Put a saved aws-auth back (okscript saves one before every write to a cluster), through
    /// the same conditional write; the newest backup when none is named.
    #[command(
        after_help = "Backups: OKSCRIPT_BACKUP_DIR, else $XDG_STATE_HOME/okscript/backups, else ~/.local/state/okscript/backups; one folder per cluster, files aws-auth-<UTC time>-rv<resourceVersion>.json."
    )]
    Restore {
        /// The backup file, or its name as --list shows it [default: the newest of the cluster].
        #[arg(value_name = "BACKUP")]
        backup: Option<PathBuf>,
        /// List the cluster's backups, newest first, with what restoring each would change now.
        #[arg(long, conflicts_with_all = ["backup", "dry_run", "force"])]
        list: bool,
        /// Print the diff against the live aws-auth and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Restore even if it removes or changes a node role, the last `system:masters`
        /// mapping or your own access.
        #[arg(long)]
        force: bool,
        /// With --dry-run: exit 2 when restoring would change aws-auth, 0 when not.
        #[arg(long, requires = "dry_run")]
        detailed_exitcode: bool,
        /// AWS login settings.
        #[command(flatten)]
        aws: AwsArgs,
        /// Cluster settings.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Log in to AWS SSO for a profile, like `aws sso login`, and cache the token where the
    /// AWS CLI v2 keeps it (one login serves both tools).
    #[command(
        after_help = "The default login is the OAuth authorization code grant with PKCE: a browser opens on the SSO authorize page and comes back to a one-shot listener on 127.0.0.1. --use-device-code prints a URL and code to approve from any browser instead (also without a terminal, e.g. in CI logs). Without a terminal or a browser, a login that needs a person fails at once."
    )]
    Login {
        /// AWS settings (--profile names the SSO profile [default: AWS_PROFILE, else default]).
        #[command(flatten)]
        aws: AwsArgs,
        /// Use the device code grant: a URL and a code to approve from any browser.
        #[arg(long)]
        use_device_code: bool,
    },
    /// Remove the cached SSO login of a profile's SSO session (shared with the AWS CLI).
    Logout {
        /// AWS settings (--profile names the SSO profile [default: AWS_PROFILE, else default]).
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Show okscript at work on a local aws-auth manifest: no AWS account needed.
    Demo {
        /// Folder for the demo's aws-auth.yaml (created if missing).
        #[arg(long, default_value = "okscript-demo", value_name = "DIR")]
        dir: PathBuf,
    },
}

/// Output formats for `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// Lines for people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// `okscript run` flags.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The Rhai script to run: a path, or the name of a bundled script (`okscript scripts`);
    /// a file of that name in the current folder wins.
    #[arg(value_name = "SCRIPT", required_unless_present = "help")]
    pub script: Option<PathBuf>,
    /// Print help; with a SCRIPT, also the inputs it declares.
    #[arg(short = 'h', long)]
    pub help: bool,
    /// A value for one of the script's inputs; repeat for more. An unknown KEY is refused.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Where access lives: file:PATH (an aws-auth manifest, created if missing), cluster (the
    /// mechanism the cluster's authenticationMode uses), aws-auth or access-entries (that one
    /// explicitly) [default: cluster when --cluster, -c or --context is given].
    #[arg(long, env = "OKSCRIPT_TARGET", value_name = "file:PATH|cluster|aws-auth|access-entries", value_parser = parse_target)]
    pub target: Option<TargetSpec>,
    /// Print the diff and a summary of what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run, exit 2 when changes are pending and 0 when there is nothing to change.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Fail before writing anything when a warning was raised: a principal IAM does not know,
    /// a group one typo from a well-known one, lint findings in the aws-auth to write.
    #[arg(long, env = "OKSCRIPT_STRICT", value_parser = clap::builder::BoolishValueParser::new())]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: OutputArg,
    /// Most operations the script may run before it is stopped.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_operations, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_operations: u64,
    /// Most seconds the script may run before it is stopped.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Most memory, in MiB, the script's values may take before it is stopped.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_memory / MIB, value_parser = clap::value_parser!(u64).range(1..=1024 * 1024))]
    pub max_memory: u64,
    /// Largest single string, in MiB, the script may build.
    #[arg(long, value_name = "MIB", default_value_t = (Limits::default().max_string_size as u64) / MIB, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_string_size: u64,
    /// Most items in one array value (nested arrays counted too).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_array_size as u64, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_array_size: u64,
    /// Most keys in one object map value (nested maps counted too).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_map_size as u64, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_map_size: u64,
    /// An environment variable the script may read with env() beyond the allow-list
    /// (`okscript fns` lists it under env); repeat or separate with commas. Also
    /// OKSCRIPT_ALLOW_ENV=A,B.
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = parse_env_name)]
    pub allow_env: Vec<String>,
    /// AWS login settings.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Cluster connection settings.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Bytes in a MiB, for the memory flags.
const MIB: u64 = 1024 * 1024;

/// How to log in to AWS: shared by every command that may.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// How to log in to AWS [default: OKSCRIPT_AWS_CREDENTIALS_TYPE, else
    /// OKCTL_AWS_CREDENTIALS_TYPE, else the AWS SDK's default chain: keys in the environment,
    /// the profile, web identity, container credentials, instance metadata].
    #[arg(short = 'a', long = "aws-credentials-type", value_name = "TYPE", value_parser = ["access-key", "aws-profile", "sso"])]
    pub aws_credentials_type: Option<String>,
    /// An okctl cluster declaration (cluster.yaml): the cluster's name, region and account.
    /// A login to another account stops the script before it changes anything.
    #[arg(short = 'c', long = "cluster-declaration", value_name = "FILE")]
    pub cluster_declaration: Option<PathBuf>,
    /// AWS region [default: AWS_REGION, else the cluster declaration's, else the profile's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The AWS profile to use, as with the AWS CLI [default: AWS_PROFILE, else default].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Print what okscript does on stderr (never secrets).
    #[arg(short, long)]
    pub verbose: bool,
    /// For SSO logins: print the verification URL and code, never try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
}

/// How to reach a cluster: shared by every command that talks to one.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// The EKS cluster [default: OKSCRIPT_CLUSTER, else the name in -c's declaration].
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The API server URL, instead of DescribeCluster's endpoint (the EKS token is still
    /// made for --cluster; for private endpoints reached through a tunnel).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The API server's CA certificate (PEM file), instead of DescribeCluster's.
    #[arg(long = "certificate-authority", value_name = "FILE")]
    pub certificate_authority: Option<PathBuf>,
    /// Connect through this kubeconfig context instead of an EKS token (exec plugins included).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig file for --context [default: KUBECONFIG, else ~/.kube/config].
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Make the EKS token for this IAM role (okscript assumes it first).
    #[arg(long = "role-arn", value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Backups of aws-auth kept per cluster, the newest; 0 keeps all [default:
    /// OKSCRIPT_KEEP_BACKUPS, else 50].
    #[arg(long = "keep-backups", value_name = "N")]
    pub keep_backups: Option<usize>,
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "`{k}` is not a valid key: use letters, digits, `_` and `-`"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_env_name(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` is not an environment variable name: use letters, digits and `_`"
        ))
    }
}

/// The names `env()` may read beyond its allow-list: `--allow-env` and `OKSCRIPT_ALLOW_ENV`
/// together; an invalid name in the variable is an error naming it.
fn allow_env(
    flags: &[String],
    env: &BTreeMap<String, String>,
) -> Result<std::collections::BTreeSet<String>, String> {
    let mut names: std::collections::BTreeSet<String> = flags.iter().cloned().collect();
    if let Some(list) = env.get("OKSCRIPT_ALLOW_ENV") {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            names.insert(parse_env_name(name).map_err(|e| format!("OKSCRIPT_ALLOW_ENV: {e}"))?);
        }
    }
    Ok(names)
}

fn parse_target(text: &str) -> Result<TargetSpec, String> {
    TargetSpec::parse(text).map_err(|e| e.to_string())
}

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    ExitCode::from(dispatch(cli))
}

fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Check { scripts } => check_scripts(&scripts),
        Command::Fns { json } => fns(json),
        Command::Definitions { dir } => definitions(&dir),
        Command::Scripts => list_scripts(),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            // Into a buffer first: clap_complete panics on a closed pipe (`| head`).
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "okscript", &mut out);
            Printer::stdio(Format::Text).raw(&String::from_utf8_lossy(&out));
            EXIT_OK
        }
        Command::Man => man_page(),
        Command::New { name } => new_script(&name),
        Command::Demo { dir } => demo(&dir),
        Command::Login {
            aws,
            use_device_code,
        } => cluster_command(&aws, &ClusterArgs::default(), |a, _, _, p| {
            commands::sso_login(a, use_device_code, p).map(|()| EXIT_OK)
        }),
        Command::Logout { aws } => cluster_command(&aws, &ClusterArgs::default(), |a, _, _, p| {
            commands::sso_logout(a, p).map(|()| EXIT_OK)
        }),
        Command::Token { aws, cluster } => cluster_command(&aws, &cluster, |a, k, env, p| {
            commands::token(a, k, env, p).map(|()| EXIT_OK)
        }),
        Command::Kubeconfig {
            aws,
            cluster,
            alias,
            force,
        } => {
            let file = cluster.kubeconfig.clone();
            let mut cluster = cluster;
            // --kubeconfig names the file to write here, not a kubeconfig to connect through.
            cluster.kubeconfig = None;
            cluster_command(&aws, &cluster, |a, k, env, p| {
                commands::kubeconfig(a, k, env, file.as_deref(), alias.as_deref(), force, p)
                    .map(|_| EXIT_OK)
            })
        }
        Command::Venv { aws, cluster } => cluster_command(&aws, &cluster, |a, k, env, p| {
            commands::venv(a, k, env, p).map(|code| u8::try_from(code).unwrap_or(EXIT_FAILURE))
        }),
        Command::Restore {
            backup,
            list,
            dry_run,
            force,
            detailed_exitcode,
            aws,
            cluster,
        } => {
            let opts = commands::RestoreOptions {
                backup,
                list,
                dry_run,
                force,
                detailed_exitcode,
            };
            cluster_command(&aws, &cluster, |a, k, _, p| {
                commands::restore(a, k, &opts, p)
            })
        }
    }
}

/// Resolves settings for a cluster command, runs it, and prints its failure.
fn cluster_command(
    aws: &AwsArgs,
    cluster: &ClusterArgs,
    f: impl FnOnce(
        &AwsSettings,
        &KubeSettings,
        &BTreeMap<String, String>,
        &mut Printer,
    ) -> Result<u8, commands::Failure>,
) -> u8 {
    let mut printer = Printer::stdio(Format::Text);
    printer.verbose = aws.verbose;
    let env = std::env::vars().collect::<BTreeMap<_, _>>();
    let settings = match aws_settings(aws, &env) {
        Ok(s) => s,
        Err(e) => {
            printer.error(&e, None);
            return EXIT_USAGE;
        }
    };
    let kube = match kube_settings(cluster, &settings, &env) {
        Ok(k) => k,
        Err(e) => {
            printer.error(&e, None);
            return EXIT_USAGE;
        }
    };
    match f(&settings, &kube, &env, &mut printer) {
        Ok(code) => code,
        Err(e) => {
            printer.error(&e.message, e.hint.as_deref());
            if e.usage {
                EXIT_USAGE
            } else {
                EXIT_FAILURE
            }
        }
    }
}

fn read_script(path: &Path, printer: &mut Printer) -> Option<Script> {
    if let Some((name, text)) = script::shipped::lookup(path) {
        let shown = PathBuf::from(format!("<bundled>/{name}.rhai"));
        return Some(Script::new(&shown, text.to_string()));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Some(Script::new(path, text)),
        Err(e) => {
            printer.error(
                &format!("cannot read script {}: {e}", path.display()),
                Some("check the path; `okscript scripts` lists the scripts bundled in okscript, which run by name (`okscript run allow-sso`)"),
            );
            None
        }
    }
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
    let state = env
        .get("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env.get("HOME")
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("okscript/backups"))
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
        _ => crate::targets::cluster::DEFAULT_KEEP_BACKUPS,
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
            eks_cluster: args
                .cluster
                .clone()
                .or_else(|| aws.cluster.as_ref().map(|(_, c)| c.name.clone())),
        })
    } else {
        args.cluster
            .clone()
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
        keep_backups,
    })
}

/// Prints `okscript run`'s help, and the inputs SCRIPT declares when one is given.
fn run_help(script: Option<&Path>) -> u8 {
    use clap::CommandFactory;
    let mut printer = Printer::stdio(Format::Text);
    let Some(path) = script else {
        let mut cmd = Cli::command();
        cmd.build();
        if let Some(run) = cmd.find_subcommand_mut("run") {
            let _ = run.print_long_help();
        }
        return EXIT_OK;
    };
    let Some(script) = read_script(path, &mut printer) else {
        return EXIT_USAGE;
    };
    printer.data(&format!(
        "okscript run {} [--set KEY=VALUE]... [OPTIONS]",
        script.name
    ));
    let summary = script::shipped::summary(&script.text);
    if !summary.is_empty() {
        printer.data(&format!("\n{summary}"));
    }
    match inputs::declaration(&script.name, &script.text) {
        Ok(Some(d)) if d.inputs.is_empty() => {
            printer.data("\nInputs: none (it takes no --set values)")
        }
        Ok(Some(d)) => {
            printer.data("\nInputs:");
            for line in d.describe() {
                printer.data(&line);
            }
        }
        Ok(None) => {
            printer.data("\nInputs: not declared (the script reads --set values with arg())")
        }
        Err(e) => {
            printer.error(&e.to_string(), Some(&e.hint()));
            return EXIT_FAILURE;
        }
    }
    printer.data("\n`okscript run --help` lists the options.");
    EXIT_OK
}

/// Refuses `--set` values the script does not declare, and missing or malformed inputs,
/// before anything runs; `Err` holds the exit code.
fn check_inputs(
    script: &Script,
    set: &BTreeMap<String, String>,
    printer: &mut Printer,
    format: Format,
) -> Result<Option<inputs::Declaration>, u8> {
    let result = inputs::declaration(&script.name, &script.text).and_then(|d| {
        if let Some(d) = &d {
            d.validate(&script.name, set)?;
        }
        Ok(d)
    });
    let e = match result {
        Ok(d) => return Ok(d),
        Err(e) => e,
    };
    let hint = e.hint();
    printer.error(&e.to_string(), Some(&hint));
    if format == Format::Json {
        printer.json(&json!({
            "ok": false,
            "script": script.name,
            "error": {"message": e.to_string(), "hint": hint},
            "output": [],
            "warnings": [],
        }));
    }
    Err(if e.is_usage() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    })
}

/// An error as someone who ran a script with declared inputs should read it: guards speak of
/// `--set force=true` when the script takes `force`, and the chain of script frames is left
/// out unless `--verbose`.
fn for_runners(
    e: script::errors::ScriptError,
    declared: Option<&inputs::Declaration>,
    verbose: bool,
) -> script::errors::ScriptError {
    let Some(d) = declared else {
        return e;
    };
    let takes_force = d.inputs.iter().any(|i| i.name == "force");
    let speak = |text: &str| {
        if takes_force {
            text.replace(
                "pass #{force: true} as the last argument",
                "pass `--set force=true`",
            )
            .replace("#{force: true}", "`--set force=true`")
        } else {
            text.to_string()
        }
    };
    let mut message = speak(&e.message);
    if !verbose {
        message = message
            .lines()
            .filter(|l| !l.starts_with("  in `") && !l.starts_with("  in module `"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    script::errors::ScriptError {
        message,
        hint: e.hint.as_deref().map(speak),
    }
}

fn run(args: RunArgs) -> u8 {
    let Some(path) = args.script.as_deref().filter(|_| !args.help) else {
        return run_help(args.script.as_deref());
    };
    let format = match args.output {
        OutputArg::Text => Format::Text,
        OutputArg::Json => Format::Json,
    };
    let mut printer = Printer::stdio(format);
    printer.verbose = args.aws.verbose;
    printer.strict = args.strict;
    let Some(script) = read_script(path, &mut printer) else {
        return EXIT_USAGE;
    };
    let set: BTreeMap<String, String> = args.set.iter().cloned().collect();
    let declared = match check_inputs(&script, &set, &mut printer, format) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let env = std::env::vars().collect::<BTreeMap<_, _>>();
    let aws = match aws_settings(&args.aws, &env) {
        Ok(a) => a,
        Err(e) => {
            printer.error(&e, None);
            return EXIT_USAGE;
        }
    };
    let allow_env = match allow_env(&args.allow_env, &env) {
        Ok(a) => a,
        Err(e) => {
            printer.error(&e, None);
            return EXIT_USAGE;
        }
    };
    let kube = match kube_settings(&args.cluster, &aws, &env) {
        Ok(k) => k,
        Err(e) => {
            printer.error(&e, None);
            return EXIT_USAGE;
        }
    };
    // A cluster given without --target means whatever mechanism its mode uses.
    let target = args
        .target
        .clone()
        .or_else(|| kube.connect.as_ref().map(|_| TargetSpec::Cluster));
    let opts = RunOptions {
        aws,
        kube,
        args: set,
        env,
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
    };
    let dry_run = opts.dry_run;
    let (result, mut printer) = script::run(&script, opts, printer);
    match result {
        Ok(report) => {
            let target = report.target.clone().unwrap_or_default();
            let mechanism = report.mechanism.clone().unwrap_or_else(|| target.clone());
            let line = if !report.touched {
                None
            } else if report.summary.is_empty() && report.diff.is_empty() {
                Some(format!(
                    "no changes: {target} is already as the script wants"
                ))
            } else if dry_run {
                Some(format!(
                    "dry run: {} in {mechanism}; nothing was written",
                    plan::describe(report.summary, true)
                ))
            } else {
                Some(format!(
                    "{mechanism}: {}",
                    plan::describe(report.summary, false)
                ))
            };
            if format == Format::Json {
                let value = json!({
                    "ok": true,
                    "script": script.name,
                    "target": report.target,
                    "mechanism": report.mechanism,
                    "dry_run": dry_run,
                    "changed": !report.summary.is_empty(),
                    "written": report.written,
                    "summary": report.summary,
                    "diff": report.diff,
                    "output": printer.printed,
                    "data": printer.values,
                    "warnings": printer.warnings,
                });
                printer.json(&value);
            } else {
                printer.raw(&report.diff);
                if let Some(line) = line {
                    printer.data(&line);
                }
            }
            if args.detailed_exitcode && dry_run && !report.summary.is_empty() {
                EXIT_CHANGES
            } else {
                EXIT_OK
            }
        }
        Err(e) => {
            let e = for_runners(e, declared.as_ref(), args.aws.verbose);
            printer.error(&e.message, e.hint.as_deref());
            if format == Format::Json {
                let value = json!({
                    "ok": false,
                    "script": script.name,
                    "error": {"message": e.message, "hint": e.hint},
                    "output": printer.printed,
                    "warnings": printer.warnings,
                });
                printer.json(&value);
            }
            EXIT_FAILURE
        }
    }
}

fn check_scripts(paths: &[PathBuf]) -> u8 {
    let mut printer = Printer::stdio(Format::Text);
    let mut code = EXIT_OK;
    for path in paths {
        let Some(script) = read_script(path, &mut printer) else {
            code = EXIT_USAGE;
            continue;
        };
        let mut problems = check::check(&script);
        let declared = match inputs::declaration(&script.name, &script.text) {
            Ok(d) => d,
            Err(e) => {
                problems.push(script::errors::ScriptError {
                    message: e.to_string(),
                    hint: Some(e.hint()),
                });
                None
            }
        };
        if problems.is_empty() {
            printer.data(&format!("ok: {}", script.name));
            match &declared {
                Some(d) if d.inputs.is_empty() => printer.data("  inputs: none"),
                Some(d) => {
                    printer.data("  inputs:");
                    for line in d.describe() {
                        printer.data(&format!("  {line}"));
                    }
                }
                None => printer.warn(&format!(
                    "{} declares no inputs: any --set key is accepted, so a typo is silently ignored; declare them with `let input = inputs(#{{...}});` (see `okscript new`)",
                    script.name
                )),
            }
        }
        for p in problems {
            printer.error(&p.message, p.hint.as_deref());
            code = code.max(EXIT_FAILURE);
        }
    }
    code
}

fn man_page() -> u8 {
    use clap::CommandFactory;
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut out) {
        Printer::stdio(Format::Text).error(&format!("cannot render the man page: {e}"), None);
        return EXIT_FAILURE;
    }
    Printer::stdio(Format::Text).raw(&String::from_utf8_lossy(&out));
    EXIT_OK
}

fn list_scripts() -> u8 {
    let mut printer = Printer::stdio(Format::Text);
    let width = script::shipped::SCRIPTS
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, text) in script::shipped::SCRIPTS {
        printer.data(&format!(
            "{name:width$}  {}",
            script::shipped::summary(text)
        ));
    }
    printer.data("\nRun one by name (`okscript run allow-sso --help` lists its inputs); a file of that name in the current folder wins.");
    EXIT_OK
}

fn new_script(name: &str) -> u8 {
    let mut printer = Printer::stdio(Format::Text);
    let stem = name.strip_suffix(".rhai").unwrap_or(name);
    if stem.is_empty()
        || !stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        printer.error(
            &format!("`{name}` is not a script name"),
            Some("use letters, digits, `-` and `_`, such as `okscript new onboarding`"),
        );
        return EXIT_USAGE;
    }
    let file = PathBuf::from(format!("{stem}.rhai"));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, script::shipped::starter(stem).as_bytes())
        });
    match written {
        Ok(()) => {
            printer.data(&format!(
                "wrote {}: edit its inputs and grants, then `okscript check {}` and `okscript run {} --help`",
                file.display(),
                file.display(),
                file.display()
            ));
            EXIT_OK
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            printer.error(
                &format!(
                    "{} exists; okscript new never overwrites a script",
                    file.display()
                ),
                Some("choose another name, or delete the file first"),
            );
            EXIT_FAILURE
        }
        Err(e) => {
            printer.error(&format!("cannot write {}: {e}", file.display()), None);
            EXIT_FAILURE
        }
    }
}

fn fns(json: bool) -> u8 {
    let docs = script::docs();
    let mut printer = Printer::stdio(Format::Text);
    if json {
        printer.json(&serde_json::to_value(&docs).unwrap_or_default());
        return EXIT_OK;
    }
    for d in &docs {
        printer.data(&d.signature());
        printer.data(&format!("    {}", d.doc));
    }
    for f in script::stdlib_docs() {
        printer.data(&format!("{}({})", f.name, f.params.join(", ")));
        printer.data(&format!("    {}", f.doc));
    }
    EXIT_OK
}

fn definitions(dir: &Path) -> u8 {
    let mut printer = Printer::stdio(Format::Text);
    match script::write_definitions(dir) {
        Ok(files) => {
            for f in files {
                printer.data(&format!("wrote {}", f.display()));
            }
            EXIT_OK
        }
        Err(e) => {
            printer.error(
                &format!("cannot write the definitions into {}: {e}", dir.display()),
                Some("name a folder you may write to"),
            );
            EXIT_FAILURE
        }
    }
}

/// The demo's starting aws-auth: what an EKS managed node group leaves behind.
const DEMO_MANIFEST: &str = include_str!("../tests/data/aws-auth/eks-nodes-only.yaml");
/// The demo's script.
const DEMO_SCRIPT: &str = include_str!("../scripts/demo.rhai");

fn demo(dir: &Path) -> u8 {
    let mut printer = Printer::stdio(Format::Text);
    if let Err(e) = std::fs::create_dir_all(dir) {
        printer.error(&format!("cannot create {}: {e}", dir.display()), None);
        return EXIT_FAILURE;
    }
    let manifest = dir.join("aws-auth.yaml");
    if !manifest.exists() {
        if let Err(e) = std::fs::write(&manifest, DEMO_MANIFEST) {
            printer.error(&format!("cannot write {}: {e}", manifest.display()), None);
            return EXIT_FAILURE;
        }
    }
    let script = Script::new(Path::new("<demo>/allow-sso.rhai"), DEMO_SCRIPT.to_string());
    let target = format!("file:{}", manifest.display());
    let steps = [
        ("1. dry run: what the script would change", true),
        ("2. run: write it, atomically", false),
        ("3. run again: idempotent, nothing to do", false),
    ];
    for (title, dry_run) in steps {
        printer.data(&format!(
            "\n== {title} (okscript run allow-sso.rhai --target {target}{})",
            if dry_run { " --dry-run" } else { "" }
        ));
        let opts = RunOptions {
            target: Some(TargetSpec::File(manifest.clone())),
            dry_run,
            ..RunOptions::default()
        };
        let (result, p) = script::run(&script, opts, printer);
        printer = p;
        match result {
            Ok(report) => {
                printer.raw(&report.diff);
                let line = if report.summary.is_empty() {
                    format!("no changes: {target} is already as the script wants")
                } else if dry_run {
                    format!(
                        "dry run: {}; nothing was written",
                        plan::describe(report.summary, true)
                    )
                } else {
                    format!("{target}: {}", plan::describe(report.summary, false))
                };
                printer.data(&line);
            }
            Err(e) => {
                printer.error(&e.message, e.hint.as_deref());
                return EXIT_FAILURE;
            }
        }
    }
    printer.data(&format!(
        "\nThe result is in {}; delete the folder to start over.",
        manifest.display()
    ));
    EXIT_OK
}
