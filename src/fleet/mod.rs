//! Fleets: one job per cluster, run concurrently (bounded), each on its own OS thread so that
//! it can build its own script engine, with results collected in the fleet's order and one
//! summary table. Commands bring the per-cluster job (`run` runs a script); this module owns
//! the list ([`members`], `--all-clusters` included), each cluster's settings ([`place`]), the
//! bound and the isolation ([`run_all`]: a panicking or hung job fails only its cluster), the
//! per-cluster output blocks ([`output`]) and the [`table`].

pub mod list;
pub mod output;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

pub use list::{check_unique, ListError, Member};

use crate::access::plan::Summary;
use crate::aws::{self, AwsError, Session};
use crate::kube::ConnectSpec;
use crate::script::aws_fns::SharedLogin;
use crate::settings::{AwsSettings, KubeSettings};

/// `--parallel`'s default: a few clusters at once, so that a fleet is fast without opening
/// dozens of connections from a laptop.
pub const DEFAULT_PARALLEL: usize = 4;

/// `--parallel`'s ceiling: each running cluster holds a thread, a script engine and its
/// connections.
pub const MAX_PARALLEL: usize = 64;

/// How long past the script's `--timeout` a cluster may still be busy (blocked on the
/// network, where the script's own clock cannot stop it) before the fleet gives up on it.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(10);

/// The stack of a cluster's thread: the main thread's, since scripts recurse as deep there.
const STACK_BYTES: usize = 8 * 1024 * 1024;

/// Which clusters a command runs on, as the command line gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetRequest {
    /// Clusters named by `--cluster` and `--clusters-from`, in order.
    pub members: Vec<Member>,
    /// `--all-clusters`: list with EKS ListClusters in these regions (empty: the login's).
    pub all_clusters: Option<Vec<String>>,
    /// `--parallel`: most clusters in flight at once.
    pub parallel: usize,
    /// `--role-arn`: the role every cluster's EKS token is made for.
    pub role_arn: Option<String>,
}

/// Why a fleet cannot start once logged in; no cluster has run.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// ListClusters failed.
    #[error("cannot list the clusters for --all-clusters: {0}")]
    Listing(#[source] AwsError),
    /// ListClusters found nothing to run on.
    #[error("EKS ListClusters found no cluster in {regions}")]
    NoneFound {
        /// The regions asked.
        regions: String,
    },
    /// The same cluster twice (named and listed).
    #[error(transparent)]
    List(#[from] ListError),
}

impl FleetError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            FleetError::Listing(e) => crate::hint::Advice::advice(e),
            FleetError::NoneFound { .. } => Some("check the region (--region, or --all-clusters=REGION,...) and the account you are logged in to".into()),
            FleetError::List(e) => Some(e.hint()),
        }
    }

    /// True when the command line was wrong rather than the world.
    pub fn is_usage(&self) -> bool {
        matches!(self, FleetError::List(_))
    }
}

/// The fleet's clusters: those named, then those `--all-clusters` lists, each once (a name
/// without a region is in the login's).
///
/// # Errors
/// ListClusters failing or finding nothing, or a cluster twice.
pub fn members(req: &FleetRequest, login: &SharedLogin) -> Result<Vec<Member>, FleetError> {
    let mut members = req.members.clone();
    if let Some(regions) = &req.all_clusters {
        let found = login
            .runtime
            .block_on(list_all(&login.session, regions))
            .map_err(FleetError::Listing)?;
        if found.is_empty() {
            return Err(FleetError::NoneFound {
                regions: if regions.is_empty() {
                    login.session.region().to_string()
                } else {
                    regions.join(", ")
                },
            });
        }
        members.extend(found);
    }
    check_unique(&members, Some(login.session.region()))?;
    Ok(members)
}

/// Where one cluster of a fleet runs: its region, and the settings and login of a run on it
/// alone (its EKS connection, its region, its declaration's account to check).
#[derive(Debug, Clone)]
pub struct Placement {
    /// The cluster's region.
    pub region: String,
    /// The AWS settings, in the cluster's region, with its declaration.
    pub aws: AwsSettings,
    /// The cluster settings, connecting to this cluster through EKS.
    pub kube: KubeSettings,
    /// The fleet's one login, for the cluster's region.
    pub login: SharedLogin,
}

/// The settings one cluster of the fleet runs with, derived from the fleet's.
pub fn place(
    m: &Member,
    aws: &AwsSettings,
    kube: &KubeSettings,
    login: &SharedLogin,
    role_arn: Option<&str>,
) -> Placement {
    let session = &login.session;
    let region = m
        .region
        .clone()
        .unwrap_or_else(|| session.region().to_string());
    let mut aws = aws.clone();
    aws.ctx = aws.ctx.clone().with_region(region.clone());
    aws.cluster = m.declaration.clone();
    let mut kube = kube.clone();
    kube.connect = Some(ConnectSpec::Eks {
        cluster: m.name.clone(),
        server: None,
        ca_file: None,
        role_arn: role_arn.map(String::from),
    });
    let login = SharedLogin {
        runtime: login.runtime.clone(),
        session: if region == session.region() {
            session.clone()
        } else {
            session.in_region(&region)
        },
    };
    Placement {
        region,
        aws,
        kube,
        login,
    }
}

/// The clusters EKS ListClusters gives in each region (the session's when `regions` is
/// empty), named by where they were found.
///
/// # Errors
/// The first ListClusters call that fails (no permission, an unknown region).
pub async fn list_all(session: &Session, regions: &[String]) -> Result<Vec<Member>, AwsError> {
    let regions = if regions.is_empty() {
        vec![session.region().to_string()]
    } else {
        regions.to_vec()
    };
    let mut out = Vec::new();
    for region in regions {
        let names = aws::list_clusters(&session.in_region(&region)).await?;
        for name in names {
            let mut m = Member::named(&name, &format!("ListClusters in {region}"));
            m.region = Some(region.clone());
            out.push(m);
        }
    }
    Ok(out)
}

/// How one cluster's job ended when it did not return: it panicked, or it was still busy at
/// the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// What happened.
    pub message: String,
    /// True when it was given up on at the deadline rather than panicking.
    pub timed_out: bool,
}

/// What a cluster's thread tells the fleet.
enum Event<T> {
    Started(usize),
    Finished(usize, Result<T, Crash>),
}

/// Runs `job` once per member, at most `parallel` at a time, each on its own thread; calls
/// `done` on the calling thread as each finishes (in the order they finish, for output that
/// shows progress), and returns every result in the members' order. A job that panics is
/// that member's [`Crash`]; so is one still running `deadline` after it started: it is left
/// behind (the process ends without waiting for it) and a new thread takes its place, so one
/// cluster that hangs on the network holds up no other.
pub fn run_all<T, J, D>(
    members: &[Member],
    parallel: usize,
    deadline: Option<Duration>,
    job: J,
    mut done: D,
) -> Vec<Result<T, Crash>>
where
    T: Send + 'static,
    J: Fn(&Member) -> T + Send + Sync + 'static,
    D: FnMut(&Member, &Result<T, Crash>),
{
    let list: Arc<Vec<Member>> = Arc::new(members.to_vec());
    let (job, next) = (Arc::new(job), Arc::new(AtomicUsize::new(0)));
    let (tx, rx) = mpsc::channel::<Event<T>>();
    let worker = |w: usize| {
        let (list, job, next, tx) = (list.clone(), job.clone(), next.clone(), tx.clone());
        std::thread::Builder::new()
            .name(format!("fleet-{w}"))
            .stack_size(STACK_BYTES)
            .spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(m) = list.get(i) else { break };
                if tx.send(Event::Started(i)).is_err() {
                    break;
                }
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(m)))
                    .map_err(|p| Crash {
                        message: panic_message(p.as_ref()),
                        timed_out: false,
                    });
                if tx.send(Event::Finished(i, outcome)).is_err() {
                    break;
                }
            })
    };
    let mut results: Vec<Option<Result<T, Crash>>> = members.iter().map(|_| None).collect();
    let mut settle = |i: usize, outcome: Result<T, Crash>, results: &mut Vec<Option<_>>| {
        done(&members[i], &outcome);
        results[i] = Some(outcome);
    };
    let mut workers = 0;
    for _ in 0..parallel.clamp(1, members.len().max(1)) {
        if worker(workers).is_ok() {
            workers += 1;
        }
    }
    let mut running: Vec<(usize, Instant)> = Vec::new();
    let mut left = members.len();
    while left > 0 {
        let due = deadline.and_then(|d| running.iter().map(|(_, at)| *at + d).min());
        let event = match due {
            Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Started(i)) => running.push((i, Instant::now())),
            Ok(Event::Finished(i, outcome)) => {
                // A job already given up on keeps its "no result" outcome.
                if let Some(at) = running.iter().position(|(r, _)| *r == i) {
                    running.remove(at);
                    settle(i, outcome, &mut results);
                    left -= 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let d = deadline.unwrap_or_default();
                let now = Instant::now();
                let (late, on_time): (Vec<_>, Vec<_>) =
                    running.iter().partition(|(_, at)| now >= *at + d);
                running = on_time;
                for (i, _) in late {
                    let message = format!(
                        "no result {} s after it started; it was left running and may still change the cluster until okscript exits",
                        d.as_secs()
                    );
                    let crash = Crash {
                        message,
                        timed_out: true,
                    };
                    settle(i, Err(crash), &mut results);
                    left -= 1;
                    if worker(workers).is_ok() {
                        workers += 1;
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(Crash {
                    message: "its thread ended without a result".into(),
                    timed_out: false,
                })
            })
        })
        .collect()
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// One line of a fleet's summary table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// The cluster.
    pub cluster: String,
    /// Its region.
    pub region: String,
    /// Its authenticationMode, when the job learnt it.
    pub mode: Option<String>,
    /// What was (or would be) written: `aws-auth`, `access entries`.
    pub mechanism: Option<String>,
    /// Added, changed and removed principals, when the job got that far.
    pub summary: Option<Summary>,
    /// `written`, `no changes`, `changes pending`, `ok`, or `failed: WHY`.
    pub result: String,
    /// Whether the cluster's job succeeded.
    pub ok: bool,
}

/// The summary table: a header, a line per cluster, and a closing count.
pub fn table(rows: &[Row]) -> String {
    let dash = || "-".to_string();
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            let n = |f: fn(&Summary) -> usize| {
                r.summary.as_ref().map_or_else(dash, |s| f(s).to_string())
            };
            [
                r.cluster.clone(),
                r.region.clone(),
                r.mode.clone().unwrap_or_else(dash),
                r.mechanism.clone().unwrap_or_else(dash),
                n(|s| s.added),
                n(|s| s.changed),
                n(|s| s.removed),
                r.result.clone(),
            ]
        })
        .collect();
    let header = [
        "CLUSTER",
        "REGION",
        "MODE",
        "MECHANISM",
        "ADDED",
        "CHANGED",
        "REMOVED",
        "RESULT",
    ];
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    out.push_str(&format!(
        "{} cluster{}: {} succeeded, {failed} failed\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        rows.len() - failed
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> Vec<Member> {
        (0..n)
            .map(|i| Member::named(&format!("c{i}"), "--cluster"))
            .collect()
    }

    #[test]
    fn at_most_parallel_jobs_run_at_once_and_results_keep_the_fleets_order() {
        let members = fleet(9);
        let (running, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut finished = Vec::new();
        let (running, peak) = (Arc::new(running), Arc::new(peak));
        let (r, p) = (running.clone(), peak.clone());
        let results = run_all(
            &members,
            3,
            None,
            move |m| {
                let (running, peak) = (&r, &p);
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(30));
                running.fetch_sub(1, Ordering::SeqCst);
                m.name.clone()
            },
            |m, _| finished.push(m.name.clone()),
        );
        assert_eq!(peak.load(Ordering::SeqCst), 3, "bounded by --parallel");
        let names: Vec<_> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(names, (0..9).map(|i| format!("c{i}")).collect::<Vec<_>>());
        assert_eq!(finished.len(), 9, "done is called once per cluster");
    }

    #[test]
    fn a_panicking_job_fails_its_cluster_only() {
        let members = fleet(4);
        let results = run_all(
            &members,
            2,
            None,
            |m| {
                if m.name == "c1" {
                    panic!("boom in {}", m.name);
                }
                m.name.len()
            },
            |_, _| {},
        );
        assert_eq!(
            results[1],
            Err(Crash {
                message: "boom in c1".into(),
                timed_out: false,
            })
        );
        for i in [0, 2, 3] {
            assert_eq!(results[i], Ok(2));
        }
    }

    #[test]
    fn a_slow_cluster_does_not_hold_up_the_others() {
        let members = fleet(5);
        let mut order = Vec::new();
        run_all(
            &members,
            2,
            None,
            |m| {
                if m.name == "c0" {
                    std::thread::sleep(Duration::from_millis(300));
                }
            },
            |m, _| order.push(m.name.clone()),
        );
        assert_eq!(order.last().map(String::as_str), Some("c0"), "{order:?}");
    }

    #[test]
    fn a_job_past_the_deadline_is_given_up_on_and_the_rest_still_run() {
        let members = fleet(4);
        let started = Instant::now();
        let results = run_all(
            &members,
            1,
            Some(Duration::from_millis(200)),
            |m| {
                if m.name == "c0" {
                    std::thread::sleep(Duration::from_secs(5));
                }
                m.name.clone()
            },
            |_, _| {},
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let crash = results[0].as_ref().unwrap_err();
        assert!(crash.timed_out, "{crash:?}");
        assert!(
            crash.message.starts_with("no result 0 s after it started"),
            "{crash:?}"
        );
        for (i, r) in results.iter().enumerate().skip(1) {
            assert_eq!(r.as_deref(), Ok(format!("c{i}").as_str()));
        }
    }

    #[test]
    fn the_table_lines_up_and_counts_failures() {
        let rows = vec![
            Row {
                cluster: "prod".into(),
                region: "eu-west-1".into(),
                mode: Some("CONFIG_MAP".into()),
                mechanism: Some("aws-auth".into()),
                summary: Some(Summary {
                    added: 1,
                    changed: 0,
                    removed: 0,
                }),
                result: "written".into(),
                ok: true,
            },
            Row {
                cluster: "a-much-longer-name".into(),
                region: "eu-west-1".into(),
                result: "failed: cannot read aws-auth".into(),
                ..Row::default()
            },
        ];
        assert_eq!(
            table(&rows),
            "\
CLUSTER             REGION     MODE        MECHANISM  ADDED  CHANGED  REMOVED  RESULT
prod                eu-west-1  CONFIG_MAP  aws-auth   1      0        0        written
a-much-longer-name  eu-west-1  -           -          -      -        -        failed: cannot read aws-auth
2 clusters: 1 succeeded, 1 failed
"
        );
    }
}
