//! A fake of the EKS control-plane API for integration tests: clusters with `accessConfig`,
//! asynchronous authentication-mode updates, access entries, access policy associations and
//! the access policy catalogue, over plain HTTP on `127.0.0.1:0` (point
//! `AWS_ENDPOINT_URL_EKS` at it). One per test; stopped on drop.
//!
//! It follows botocore's service model (`eks/2017-11-01`) and EKS's real error codes and
//! messages (`shared/REFERENCE.md`), because moto has none of this. Principals are checked
//! against moto's IAM (exact ARN with path, unique IDs), so the path rule and recreated
//! roles behave as on EKS. The fake apiserver (`kube_api`) can authenticate through its
//! entries: pass [`EksApi::access_entries`] to `kube_api::Options::access_entries`.
//!
//! ```ignore
//! let eks = EksApi::start(EksOptions::new().iam(&moto.endpoint()));
//! eks.seed_cluster("my-cluster", AuthMode::Api, kube.url(), kube.ca_pem());
//! // AWS_ENDPOINT_URL_EKS=eks.endpoint() aws eks list-access-entries --cluster-name my-cluster
//! assert_eq!(eks.count("ListAccessEntries"), 1);
//! ```

mod catalogue;
mod errors;
mod handlers;
mod iam;
mod model;
mod rules;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::{AccessEntries, AuthMode, EntryGrant, Identity};

/// moto's default account, which owns every principal the fake checks against.
const ACCOUNT: &str = "123456789012";

#[allow(unused_imports)]
pub use catalogue::{policy_arn, POLICY_ARN_PREFIX, POLICY_NAMES};
#[allow(unused_imports)]
pub use errors::{EksError, CONFIG_MAP_MODE_MESSAGE};
#[allow(unused_imports)]
pub use model::Timing;

use handlers::Shared;
use model::Model;

/// How an [`EksApi`] starts.
#[derive(Debug, Clone)]
pub struct EksOptions {
    region: String,
    iam_endpoint: Option<String>,
    timing: Timing,
}

impl Default for EksOptions {
    fn default() -> Self {
        EksOptions {
            region: "eu-west-1".into(),
            iam_endpoint: None,
            timing: Timing {
                update_delay: Duration::from_millis(300),
                entry_visibility_delay: Duration::ZERO,
            },
        }
    }
}

impl EksOptions {
    /// Region `eu-west-1`, no IAM (any well-formed principal accepted), mode updates done
    /// after 300 ms, new entries visible at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// The region of the cluster ARNs.
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    /// Resolves principals through this AWS emulator's IAM (and cluster creators through its
    /// STS), e.g. `moto.endpoint()`.
    pub fn iam(mut self, endpoint: &str) -> Self {
        self.iam_endpoint = Some(endpoint.into());
        self
    }

    /// How long a mode update stays InProgress (the cluster UPDATING).
    pub fn update_delay(mut self, delay: Duration) -> Self {
        self.timing.update_delay = delay;
        self
    }

    /// How long a new access entry stays invisible to every call but CreateAccessEntry
    /// (EKS writes are eventually consistent).
    pub fn entry_visibility_delay(mut self, delay: Duration) -> Self {
        self.timing.entry_visibility_delay = delay;
        self
    }
}

/// The kind of fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 ServerException.
    Server,
    /// 429 ThrottlingException (SDKs retry it).
    Throttling,
    /// 503 ServiceUnavailableException.
    Unavailable,
}

/// Faults armed per operation, each consumed one request at a time.
#[derive(Debug, Default)]
pub struct EksFaults {
    armed: Mutex<Vec<(String, Fault, u32)>>,
}

impl EksFaults {
    /// The next `n` calls of `operation` (e.g. `CreateAccessEntry`, or `*` for any) fail
    /// with `fault` without touching the state.
    pub fn fail_next(&self, operation: &str, fault: Fault, n: u32) {
        self.armed
            .lock()
            .expect("faults lock")
            .push((operation.into(), fault, n));
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.armed.lock().expect("faults lock").clear();
    }

    fn take(&self, operation: &str) -> Option<EksError> {
        let mut armed = self.armed.lock().expect("faults lock");
        let slot = armed
            .iter_mut()
            .find(|(op, _, n)| *n > 0 && (op == operation || op == "*"))?;
        slot.2 -= 1;
        Some(match slot.1 {
            Fault::Server => EksError::server("An internal error occurred (injected fault)."),
            Fault::Throttling => EksError::throttling(),
            Fault::Unavailable => EksError::unavailable(),
        })
    }
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksRequest {
    /// The operation, e.g. `CreateAccessEntry` (`Unknown` for an unrouted path).
    pub operation: &'static str,
    /// The cluster name of the path, if any.
    pub cluster: Option<String>,
    /// The principal ARN of the path or body, if any.
    pub principal: Option<String>,
    /// The caller's access key id (from the SigV4 header), if signed.
    pub access_key: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The `x-amzn-ErrorType` answered, if an error.
    pub error: Option<String>,
}

/// The fake's state as the apiserver's access-entry source.
#[derive(Debug, Clone)]
pub struct EntrySource(Arc<Mutex<Model>>);

impl AccessEntries for EntrySource {
    fn mode(&self, cluster: &str) -> Option<AuthMode> {
        let mut model = self.0.lock().expect("EKS model lock");
        model.tick(Instant::now());
        model.mode(cluster)
    }

    fn entry(&self, cluster: &str, identity: &Identity) -> Option<EntryGrant> {
        let mut model = self.0.lock().expect("EKS model lock");
        model.tick(Instant::now());
        model.entry_for(cluster, identity, Instant::now())
    }
}

/// A running EKS fake. Dropping it stops the server.
pub struct EksApi {
    endpoint: String,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl EksApi {
    /// Starts a server on `127.0.0.1:0` on its own runtime (usable from sync and async tests).
    ///
    /// # Panics
    /// When the port or the runtime cannot be set up.
    pub fn start(options: EksOptions) -> EksApi {
        let (runtime, listener, addr) = crate::loopback_server("eks-fake");
        let shared = Arc::new(Shared {
            model: Arc::new(Mutex::new(Model::new(
                &options.region,
                ACCOUNT,
                options.timing,
            ))),
            iam: options
                .iam_endpoint
                .as_deref()
                .map(|e| iam::Iam::new(e).expect("an http://HOST:PORT IAM endpoint")),
            faults: EksFaults::default(),
            log: Mutex::new(Vec::new()),
        });
        runtime.spawn(serve(listener, shared.clone()));
        EksApi {
            endpoint: format!("http://{addr}"),
            shared,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_EKS`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The state as an access-entry source for `kube_api::Options::access_entries`.
    pub fn access_entries(&self) -> Arc<dyn AccessEntries> {
        Arc::new(EntrySource(self.shared.model.clone()))
    }

    /// Adds an ACTIVE cluster in `mode` whose endpoint and CA are the given apiserver's.
    pub fn seed_cluster(&self, name: &str, mode: AuthMode, endpoint: &str, ca_pem: &str) {
        self.shared
            .model()
            .seed_cluster(name, mode, endpoint, ca_pem);
    }

    /// Points an existing cluster at another apiserver; `false` if there is no such cluster.
    pub fn set_endpoint(&self, name: &str, endpoint: &str, ca_pem: &str) -> bool {
        self.shared.model().set_endpoint(name, endpoint, ca_pem)
    }

    /// The cluster's mode now (pending updates completed if due).
    pub fn mode(&self, name: &str) -> Option<AuthMode> {
        self.shared.model().mode(name)
    }

    /// Changes the update delay and entry visibility delay from now on.
    pub fn set_timing(&self, update_delay: Duration, entry_visibility_delay: Duration) {
        self.shared.model().set_timing(Timing {
            update_delay,
            entry_visibility_delay,
        });
    }

    /// The fault switches.
    pub fn faults(&self) -> &EksFaults {
        &self.shared.faults
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<EksRequest> {
        self.shared.log.lock().expect("log lock").clone()
    }

    /// How many calls of `operation` were answered (errors included).
    pub fn count(&self, operation: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.operation == operation)
            .count()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        self.shared.log.lock().expect("log lock").clear();
    }
}

impl Drop for EksApi {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handlers::handle(shared.clone(), req));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}
