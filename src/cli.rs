//! The command line: clap definitions, settings resolved once from flags and environment
//! (`resolve`), dispatch to the commands, and the one exit decision. The only place that
//! reads the process environment.

mod resolve;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::commands::{self, ExitStatus, Failure, EXIT_OK, EXIT_USAGE};
use crate::output::{Format, Printer};
use crate::script::limits::Limits;
use crate::settings::{AwsSettings, KubeSettings};
use crate::targets::TargetSpec;

pub use resolve::{allow_env, aws_settings, backups_root, kube_settings};

const EXIT_HELP: &str = "Exit codes:
  0   success (with --detailed-exitcode: nothing to change)
  1   the script failed, a guard refused, --strict found a warning, or the target could not
      be used; nothing was written
  2   with --detailed-exitcode after a successful --dry-run: changes pending
  64  usage error: unknown flag or --set key, missing or malformed input, unreadable script;
      nothing ran
On several clusters (a fleet): 1 when any cluster failed (each of the others is still
written on its own), 2 only when none failed, 64 before any cluster ran.";

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
    /// Get back into a cluster whose aws-auth locks you out (the Kubernetes API answers 401),
    /// through the EKS API: step a CONFIG_MAP cluster to API_AND_CONFIG_MAP, give yourself a
    /// temporary cluster-admin access entry, restore aws-auth from a backup, delete the entry.
    #[command(
        after_help = "The plan is printed first and confirmed once (--yes skips the question; without a terminal, --yes is needed). The mode step cannot be undone (EKS changes it one way only). Needs eks:DescribeCluster, eks:UpdateClusterConfig, eks:DescribeUpdate, eks:CreateAccessEntry, eks:AssociateAccessPolicy, eks:DescribeAccessEntry, eks:DeleteAccessEntry and iam:GetRole/GetUser. On an API cluster there is no aws-auth to repair."
    )]
    Rescue {
        /// The backup file, or its name as `restore --list` shows it [default: the newest of the cluster].
        #[arg(long, value_name = "FILE")]
        backup: Option<PathBuf>,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Go ahead without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// AWS login settings.
        #[command(flatten)]
        aws: AwsArgs,
        /// Cluster settings.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Who can reach the cluster, and through what: Identity Center users and groups, through
    /// permission sets and IAM roles or users, to aws-auth rows and access entries, to their
    /// access (cluster-admin, admin, edit, view, custom groups, none).
    #[command(after_long_help = REPORT_HELP, after_help = "Exit codes, the JSON schema and the permissions needed: okscript report --help")]
    Report(ReportArgs),
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

/// `okscript report --help`: exit codes, what needs which permission, the JSON schema.
const REPORT_HELP: &str = "Exit codes:
  0   the report was printed (a partial one too: stderr and `partial` say what was not visible);
      with --diff --detailed-exitcode: no path gained, lost or changed its access
  1   the report could not be made (login, the cluster), or the old report is of another account
  2   with --diff --detailed-exitcode: a path gained access (a new way to cluster-admin is one),
      lost it, or changed its class, or the old report and this one differ in being partial
  64  usage error: unknown flag, no EKS cluster name, an OLD.json that cannot be read, is of
      another schema_version or of another cluster; nothing ran

Reads: eks:DescribeCluster, ListAccessEntries, DescribeAccessEntry,
ListAssociatedAccessPolicies; aws-auth (get configmaps in kube-system); iam:ListRoles,
ListUsers, GetRole; in Identity Center's account and home region (--sso-profile,
--sso-region): sso:ListInstances, ListPermissionSets, DescribePermissionSet,
ListAccountAssignments, identitystore:DescribeUser, DescribeGroup, ListGroupMemberships.
What cannot be read makes a partial report, never a failure.

JSON (--output json), schema_version 1:
  schema_version       1; a change to any field's name or meaning bumps it
  cluster, account, region, authentication_mode (CONFIG_MAP, API_AND_CONFIG_MAP, API, unknown)
  partial              true when something was not visible
  not_visible          [{part: identity-center|iam|aws-auth|access-entries, reason}]
  identity_center      the instance ARN read, or null
  rows                 one per path, most powerful access first, effective before not:
    access             cluster-admin | admin | edit | view | custom | none
    custom_groups      groups (and unranked policies) whose power is the cluster's RBAC
    principal, principal_kind   who: sso-user | sso-group | permission-set | iam-user |
                       iam-role | account (the first hop of path)
    path               [{kind, name}]: sso-user, sso-group, permission-set, iam-role,
                       iam-user, account, then aws-auth or access-entry
    mapping            {source: aws-auth|access-entry, kind: role|user|account, arn,
                       username, groups, policies: [{name, scope, namespaces}], type}
    effective          false when EKS does not use the path (shadowed, dead, ignored)
    shadowed           an access entry for the principal wins over this aws-auth row
    dead               why the mapping admits nobody (principal gone, role path), or null
    notes              [text]
With --diff: {schema_version, cluster, account, partial, old_partial, not_visible,
gained, lost, changed}, each change {principal, path, before, after}.";

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
    /// Which clusters, when more than one (a fleet).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Running on many clusters at once (a fleet): shared by every command that can.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FleetArgs {
    /// Run on every cluster this file names: one EKS cluster name per line (`#` comments,
    /// blank lines), or okctl cluster declarations (name, region, account; several separated
    /// by `---`). Repeat for more files; combines with --cluster.
    #[arg(long = "clusters-from", value_name = "FILE")]
    pub clusters_from: Vec<PathBuf>,
    /// Run on every cluster EKS ListClusters gives in the region in effect, or in the regions
    /// listed (`--all-clusters=eu-west-1,eu-north-1`).
    #[arg(long = "all-clusters", value_name = "REGION,...", num_args = 0..=1, require_equals = true, default_missing_value = "", conflicts_with_all = ["cluster", "clusters_from"])]
    pub all_clusters: Option<String>,
    /// With a fleet: most clusters worked on at once, 1 to 64 [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=crate::fleet::MAX_PARALLEL as u64))]
    pub parallel: Option<u64>,
}

/// Output formats for `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportOutputArg {
    /// A table grouped by access, cluster-admin first.
    Text,
    /// One JSON document (schema below).
    Json,
    /// Markdown tables and a Mermaid flowchart of the paths (renders on GitHub).
    Markdown,
}

/// `okscript report` flags.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: ReportOutputArg,
    /// Print what changed since an earlier `--output json` report of the same cluster: who
    /// gained, lost or changed which access, by principal and path.
    #[arg(long, value_name = "OLD.json")]
    pub diff: Option<PathBuf>,
    /// With --diff: exit 2 when a path gained, lost or changed its access, 0 when not.
    #[arg(long, requires = "diff")]
    pub detailed_exitcode: bool,
    /// The profile that may read Identity Center (its management or delegated admin
    /// account) [default: the cluster's login].
    #[arg(long, value_name = "NAME")]
    pub sso_profile: Option<String>,
    /// Identity Center's home region [default: the cluster's region].
    #[arg(long, value_name = "REGION")]
    pub sso_region: Option<String>,
    /// The Identity Center instance [default: the one sso:ListInstances shows].
    #[arg(long, value_name = "ARN")]
    pub sso_instance_arn: Option<String>,
    /// The identity store [default: the instance's].
    #[arg(long, value_name = "ID")]
    pub identity_store_id: Option<String>,
    /// AWS login settings.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Cluster settings.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Which clusters, when more than one (a fleet).
    #[command(flatten)]
    pub fleet: FleetArgs,
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
    /// The EKS cluster [default: OKSCRIPT_CLUSTER, else the name in -c's declaration];
    /// `okscript run` takes it more than once, to run the script on each (a fleet).
    #[arg(long, value_name = "NAME")]
    pub cluster: Vec<String>,
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

fn parse_target(text: &str) -> Result<TargetSpec, String> {
    TargetSpec::parse(text).map_err(|e| e.to_string())
}

/// Parses the command line, runs it, and returns the process exit code: the one place a
/// command's outcome becomes a code, and an unreported failure is printed.
pub fn main() -> ExitCode {
    crate::script::memory::reuse_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let env = std::env::vars().collect::<BTreeMap<_, _>>();
    ExitCode::from(match dispatch(cli, &env) {
        Ok(status) => status.code(),
        Err(failure) => {
            if !failure.reported {
                Printer::stdio(Format::Text).error(&failure.message, failure.hint.as_deref());
            }
            failure.code()
        }
    })
}

fn dispatch(cli: Cli, env: &BTreeMap<String, String>) -> Result<ExitStatus, Failure> {
    match cli.command {
        Command::Run(args) => match args.script.as_deref() {
            None => run_long_help(),
            Some(path) if args.help => commands::run::help(path),
            Some(_) => {
                let (req, fleet) = resolve::run_request(args, env);
                match fleet {
                    Ok(None) => commands::run::run(req),
                    fleet => commands::run_fleet::run_fleet(req, fleet),
                }
            }
        },
        Command::Check { scripts } => commands::check::check_scripts(&scripts),
        Command::Fns { json } => commands::fns::fns(json),
        Command::Definitions { dir } => commands::fns::definitions(&dir),
        Command::Scripts => commands::scripts::list_scripts(),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            // Into a buffer first: clap_complete panics on a closed pipe (`| head`).
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "okscript", &mut out);
            Printer::stdio(Format::Text).raw(&String::from_utf8_lossy(&out));
            Ok(ExitStatus::Success)
        }
        Command::Man => man_page(),
        Command::New { name } => commands::scripts::new_script(&name),
        Command::Demo { dir } => commands::demo::demo(&dir),
        Command::Login {
            aws,
            use_device_code,
        } => {
            let (a, _, mut p) = cluster_settings(&aws, &ClusterArgs::default(), env)?;
            commands::sso::sso_login(&a, use_device_code, &mut p)
        }
        Command::Logout { aws } => {
            let (a, _, mut p) = cluster_settings(&aws, &ClusterArgs::default(), env)?;
            commands::sso::sso_logout(&a, &mut p)
        }
        Command::Token { aws, cluster } => {
            let (a, k, mut p) = cluster_settings(&aws, &cluster, env)?;
            commands::token::token(&a, &k, env, &mut p)
        }
        Command::Kubeconfig {
            aws,
            mut cluster,
            alias,
            force,
        } => {
            // --kubeconfig names the file to write here, not a kubeconfig to connect through.
            let file = cluster.kubeconfig.take();
            let (a, k, mut p) = cluster_settings(&aws, &cluster, env)?;
            commands::kubeconfig::kubeconfig(
                &a,
                &k,
                env,
                file.as_deref(),
                alias.as_deref(),
                force,
                &mut p,
            )
            .map(|_| ExitStatus::Success)
        }
        Command::Venv { aws, cluster } => {
            let (a, k, mut p) = cluster_settings(&aws, &cluster, env)?;
            commands::venv::venv(&a, &k, env, &mut p)
        }
        Command::Restore {
            backup,
            list,
            dry_run,
            force,
            detailed_exitcode,
            aws,
            cluster,
        } => {
            let opts = commands::restore::RestoreOptions {
                backup,
                list,
                dry_run,
                force,
                detailed_exitcode,
            };
            let (a, k, mut p) = cluster_settings(&aws, &cluster, env)?;
            commands::restore::restore(&a, &k, &opts, &mut p)
        }
        Command::Report(args) => {
            let opts = commands::report::ReportOptions {
                format: match args.output {
                    ReportOutputArg::Text => commands::report::ReportFormat::Text,
                    ReportOutputArg::Json => commands::report::ReportFormat::Json,
                    ReportOutputArg::Markdown => commands::report::ReportFormat::Markdown,
                },
                diff: args.diff,
                detailed_exitcode: args.detailed_exitcode,
                sso_profile: args.sso_profile,
                sso: crate::aws::IdentityCenterSpec {
                    region: args.sso_region,
                    instance_arn: args.sso_instance_arn,
                    identity_store_id: args.identity_store_id,
                },
            };
            let region = aws_settings(&args.aws, env).ok().and_then(|a| a.region());
            let fleet = resolve::fleet_request(
                &args.cluster,
                &args.fleet,
                None,
                &args.aws,
                region.as_deref(),
            )?;
            let Some(fleet) = fleet else {
                let (a, k, mut p) = cluster_settings(&args.aws, &args.cluster, env)?;
                return commands::report::report(&a, &k, &opts, &mut p);
            };
            // Each cluster of the fleet gets its own connection.
            let mut cluster = args.cluster.clone();
            cluster.cluster.clear();
            let (a, k, mut p) = cluster_settings(&args.aws, &cluster, env)?;
            commands::report_fleet::report_fleet(&a, &k, &opts, &fleet, &mut p)
        }
        Command::Rescue {
            backup,
            dry_run,
            yes,
            aws,
            cluster,
        } => {
            let opts = commands::rescue::RescueOptions {
                backup,
                dry_run,
                yes,
            };
            let (a, k, mut p) = cluster_settings(&aws, &cluster, env)?;
            commands::rescue::rescue(&a, &k, &opts, &mut p)
        }
    }
}

/// The settings and printer of a command that may log in and reach a cluster.
fn cluster_settings(
    aws: &AwsArgs,
    cluster: &ClusterArgs,
    env: &BTreeMap<String, String>,
) -> Result<(AwsSettings, KubeSettings, Printer), Failure> {
    let settings = aws_settings(aws, env).map_err(Failure::bad_setting)?;
    let kube = kube_settings(cluster, &settings, env).map_err(Failure::bad_setting)?;
    Ok((settings, kube, commands::text_printer(aws.verbose)))
}

/// `okscript run --help` without a script: clap's long help of `run`.
fn run_long_help() -> Result<ExitStatus, Failure> {
    let mut cmd = Cli::command();
    cmd.build();
    if let Some(run) = cmd.find_subcommand_mut("run") {
        let _ = run.print_long_help();
    }
    Ok(ExitStatus::Success)
}

fn man_page() -> Result<ExitStatus, Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Failure::failed(format!("cannot render the man page: {e}"), None))?;
    Printer::stdio(Format::Text).raw(&String::from_utf8_lossy(&out));
    Ok(ExitStatus::Success)
}
