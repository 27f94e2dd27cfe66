//! The tests' fake Kubernetes API server (crate `fake-kube-api`) as a standalone program,
//! for `bench/run.py`: HTTPS on `127.0.0.1:0` with its own CA, EKS tokens checked against an
//! STS endpoint (moto), aws-auth and a few pods seeded, a static admin token; with
//! `--eks-mode`, also the fake EKS control plane (its `eks_api`) with the cluster in that
//! authenticationMode, its principals checked against moto's IAM, and the apiserver admitting
//! through its access entries.
//!
//! ```text
//! fake_apiserver --cluster NAME --sts URL [--access-key-id K --secret S]
//!                --admin-token T --admin-arn ARN --ready-file PATH --kubeconfig-out PATH
//!                [--eks-mode CONFIG_MAP|API_AND_CONFIG_MAP|API --region R [--fleet N]]
//! ```
//!
//! `--fleet N` adds N more clusters to the control plane, `NAME-00` to `NAME-<N-1>`, each with
//! an apiserver of its own, their modes taking turns (CONFIG_MAP, API_AND_CONFIG_MAP, API);
//! the ready file lists them under `fleet` (`[{"name", "mode", "url"}]`) and the commands
//! below cover them too.
//!
//! Once serving it writes `--kubeconfig-out` (a kubeconfig that reaches it with the static
//! admin token) and then `--ready-file`: `{"url": "https://127.0.0.1:PORT", "ca_file": PATH,
//! "eks_url": "http://127.0.0.1:PORT" or null}`.
//! It serves until its stdin closes. Each line on stdin is a command, answered with one JSON
//! line on stdout:
//!
//! - `requests`: `{"aws_auth": {"GET": n, "PUT": n, "PATCH": n, "other": n}, "total": n,
//!   "failed": n, "eks": {"total": n, "failed": n, "operations": {"CreateAccessEntry": n, ...}}}`:
//!   the requests logged since the last `clear` (`failed`: status >= 400; `eks` is null
//!   without `--eks-mode`);
//! - `clear`: forgets the request logs, answers `{"cleared": n}`;
//! - `reset`: stores the initial aws-auth again and, with `--eks-mode`, the cluster again
//!   without access entries, answers `{"reset": true}`;
//! - `aws-auth`: the stored `kube-system/aws-auth` ConfigMap (or `null`);
//! - `log`: `{"requests": ["METHOD path?query -> status (user)", ...]}`, for debugging.

use fake_kube_api as kube_api;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};

use kube_api::eks_api::{EksApi, EksOptions};
use kube_api::{AuthMode, EksAuth, KubeApi, Options};

/// The node role EKS managed node groups map (`system:nodes`).
const NODE_ROLE: &str =
    "arn:aws:iam::123456789012:role/eksctl-bench-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F";

/// The pods seeded in `default`.
const PODS: [&str; 3] = ["web-1", "web-2", "worker-1"];

const USAGE: &str =
    "usage: fake_apiserver --cluster NAME --sts URL [--access-key-id K --secret S] \
--admin-token T --admin-arn ARN --ready-file PATH --kubeconfig-out PATH \
[--eks-mode CONFIG_MAP|API_AND_CONFIG_MAP|API --region R [--fleet N]]";

struct Args {
    cluster: String,
    sts: String,
    key: Option<(String, String)>,
    admin_token: String,
    admin_arn: String,
    ready_file: PathBuf,
    kubeconfig_out: PathBuf,
    eks: Option<(AuthMode, String)>,
    fleet: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut values = std::collections::BTreeMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let name = match flag.as_str() {
            "--cluster" | "--sts" | "--access-key-id" | "--secret" | "--admin-token"
            | "--admin-arn" | "--ready-file" | "--kubeconfig-out" | "--eks-mode" | "--region"
            | "--fleet" => flag,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
        values.insert(name, value);
    }
    let mut take = |name: &str| values.remove(name);
    let required = |value: Option<String>, name: &str| {
        value.ok_or_else(|| format!("{name} is required\n{USAGE}"))
    };
    let key = match (take("--access-key-id"), take("--secret")) {
        (Some(k), Some(s)) => Some((k, s)),
        (None, None) => None,
        _ => return Err(format!("--access-key-id and --secret go together\n{USAGE}")),
    };
    let eks = match (take("--eks-mode"), take("--region")) {
        (Some(mode), region) => {
            let mode = AuthMode::parse(&mode).ok_or_else(|| {
                format!("--eks-mode {mode:?} is not an authenticationMode\n{USAGE}")
            })?;
            Some((mode, region.unwrap_or_else(|| "eu-west-1".into())))
        }
        (None, Some(_)) => return Err(format!("--region goes with --eks-mode\n{USAGE}")),
        (None, None) => None,
    };
    let fleet = match take("--fleet") {
        Some(n) if eks.is_some() => n
            .parse()
            .map_err(|_| format!("--fleet {n:?} is not a number\n{USAGE}"))?,
        Some(_) => return Err(format!("--fleet goes with --eks-mode\n{USAGE}")),
        None => 0,
    };
    Ok(Args {
        eks,
        fleet,
        cluster: required(take("--cluster"), "--cluster")?,
        sts: required(take("--sts"), "--sts")?,
        key,
        admin_token: required(take("--admin-token"), "--admin-token")?,
        admin_arn: required(take("--admin-arn"), "--admin-arn")?,
        ready_file: required(take("--ready-file"), "--ready-file")?.into(),
        kubeconfig_out: required(take("--kubeconfig-out"), "--kubeconfig-out")?.into(),
    })
}

/// aws-auth as a fresh cluster with one admin has it: the node role, and the admin user
/// mapped to `system:masters`.
fn seed_aws_auth(api: &KubeApi, admin_arn: &str) {
    let username = admin_arn.rsplit('/').next().unwrap_or(admin_arn);
    let roles = format!(
        "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {NODE_ROLE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
    );
    let users =
        format!("- userarn: {admin_arn}\n  username: {username}\n  groups:\n  - system:masters\n");
    api.seed_aws_auth(&[("mapRoles", &roles), ("mapUsers", &users)]);
}

/// Counts of the requests the apiservers logged since the last `clear`.
fn request_counts<'a>(apis: impl Iterator<Item = &'a KubeApi>) -> Value {
    let requests: Vec<_> = apis.flat_map(|a| a.requests()).collect();
    let mut get = 0;
    let mut put = 0;
    let mut patch = 0;
    let mut other = 0;
    for r in requests.iter().filter(|r| {
        r.path
            .ends_with("/namespaces/kube-system/configmaps/aws-auth")
    }) {
        match r.method.as_str() {
            "GET" => get += 1,
            "PUT" => put += 1,
            "PATCH" => patch += 1,
            _ => other += 1,
        }
    }
    json!({
        "aws_auth": {"GET": get, "PUT": put, "PATCH": patch, "other": other},
        "total": requests.len(),
        "failed": requests.iter().filter(|r| r.status >= 400).count(),
    })
}

/// Counts of the EKS calls logged since the last `clear`, by operation.
fn eks_counts(eks: &EksApi) -> Value {
    let requests = eks.requests();
    let mut operations = std::collections::BTreeMap::<&str, usize>::new();
    for r in &requests {
        *operations.entry(r.operation).or_default() += 1;
    }
    json!({
        "total": requests.len(),
        "failed": requests.iter().filter(|r| r.status >= 400).count(),
        "operations": operations,
    })
}

/// Writes `text` to `path` through a temp file and a rename, so a reader never sees half.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut eks = EksAuth::new(&args.cluster, &args.sts);
    if let Some((key, secret)) = &args.key {
        eks = eks.with_secret(key, secret);
    }
    let control = args
        .eks
        .as_ref()
        .map(|(_, region)| EksApi::start(EksOptions::new().region(region).iam(&args.sts)));
    let mut options = Options::new().admin_token(&args.admin_token).eks(eks);
    if let Some(control) = &control {
        options = options.access_entries(control.access_entries());
    }
    let api = KubeApi::start(options);
    const MODES: [AuthMode; 3] = [
        AuthMode::ConfigMap,
        AuthMode::ApiAndConfigMap,
        AuthMode::Api,
    ];
    let fleet: Vec<(String, AuthMode, KubeApi)> = (0..args.fleet)
        .map(|i| {
            let name = format!("{}-{i:02}", args.cluster);
            let mut auth = EksAuth::new(&name, &args.sts);
            if let Some((key, secret)) = &args.key {
                auth = auth.with_secret(key, secret);
            }
            let mut options = Options::new().admin_token(&args.admin_token).eks(auth);
            if let Some(control) = &control {
                options = options.access_entries(control.access_entries());
            }
            (name, MODES[i % MODES.len()], KubeApi::start(options))
        })
        .collect();
    // Fresh clusters: aws-auth seeded; in the control plane, no access entries yet.
    let seed_clusters = || {
        if let (Some(control), Some((mode, _))) = (&control, &args.eks) {
            control.seed_cluster(&args.cluster, *mode, api.url(), api.ca_pem());
            for (name, mode, fleet_api) in &fleet {
                control.seed_cluster(name, *mode, fleet_api.url(), fleet_api.ca_pem());
            }
        }
        seed_aws_auth(&api, &args.admin_arn);
        for (_, _, fleet_api) in &fleet {
            seed_aws_auth(fleet_api, &args.admin_arn);
        }
    };
    seed_clusters();
    let all_apis = || std::iter::once(&api).chain(fleet.iter().map(|(_, _, a)| a));
    for pod in PODS {
        api.seed_pod("default", pod);
    }
    api.write_kubeconfig(&args.kubeconfig_out, &args.admin_token);
    let ready = json!({
        "url": api.url(),
        "ca_file": api.ca_file(),
        "eks_url": control.as_ref().map(|c| c.endpoint()),
        "fleet": fleet
            .iter()
            .map(|(name, mode, a)| json!({"name": name, "mode": mode.as_str(), "url": a.url()}))
            .collect::<Vec<_>>(),
    });
    if let Err(e) = write_atomically(&args.ready_file, &ready.to_string()) {
        eprintln!("writing {}: {e}", args.ready_file.display());
        return ExitCode::FAILURE;
    }

    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let answer = match line.trim() {
            "" => continue,
            "requests" => {
                let mut counts = request_counts(all_apis());
                counts["eks"] = control.as_ref().map_or(Value::Null, eks_counts);
                counts
            }
            "clear" => {
                let n = all_apis().map(|a| a.requests().len()).sum::<usize>();
                all_apis().for_each(KubeApi::clear_requests);
                if let Some(control) = &control {
                    control.clear_requests();
                }
                json!({"cleared": n})
            }
            "reset" => {
                seed_clusters();
                json!({"reset": true})
            }
            "log" => {
                let lines: Vec<String> = api
                    .requests()
                    .iter()
                    .map(|r| format!("{} ({})", r.summary(), r.user.as_deref().unwrap_or("-")))
                    .collect();
                json!({"requests": lines})
            }
            "aws-auth" => api
                .config_map("kube-system", "aws-auth")
                .unwrap_or(Value::Null),
            other => json!({"error": format!("unknown command {other:?}")}),
        };
        if writeln!(stdout, "{answer}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    // stdin closed: dropping the server stops it and deletes its CA file.
    drop(api);
    drop(fleet);
    drop(control);
    ExitCode::SUCCESS
}
