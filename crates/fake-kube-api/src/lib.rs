//! A fake kube-apiserver for integration tests: HTTPS on `127.0.0.1:0` with a fresh CA,
//! discovery, ConfigMaps, Pods, bearer-token authentication (static and EKS), a small RBAC,
//! self-reviews, runtime faults and a request log. One per test; stopped on drop. The
//! [`eks_api`] module is the EKS control plane beside it (clusters, access entries).
//!
//! It imitates what okscript and `kubectl` can observe of a real EKS apiserver (Status
//! objects, resourceVersion conflicts, the 1 MiB limit, aws-iam-authenticator's token and
//! aws-auth rules) and nothing more: no watch, no other resources, no admission.
//!
//! ```ignore
//! use fake_kube_api::{KubeApi, Options};
//! let api = KubeApi::start(Options::new().admin_token("admin-token"));
//! api.write_kubeconfig(std::path::Path::new("/tmp/kubeconfig"), "admin-token");
//! // run `kubectl --kubeconfig /tmp/kubeconfig get --raw /version` …
//! assert!(api.requests().is_empty());
//! ```

#![allow(dead_code)]

mod auth;
mod aws_auth;
mod clock;
mod discovery;
mod eks;
pub mod eks_api;
mod entries;
mod faults;
mod handlers;
mod sigv4;
mod status;
mod store;
mod tls;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

// The API for tests, whether or not a test of this binary uses each name yet.
#[allow(unused_imports)]
pub use auth::{Policy, Rule, Subject, User, AUTHENTICATED, MASTERS};
#[allow(unused_imports)]
pub use aws_auth::{canonicalize, map_identity, Identity, MapError};
#[allow(unused_imports)]
pub use eks::{
    check_token, parse_caller_identity, token_for_url, CheckedToken, EksAuth, TokenError,
};
#[allow(unused_imports)]
pub use entries::{
    default_username, user_from_entry, AccessEntries, AuthMode, EntryError, EntryGrant, PolicyGrant,
};
#[allow(unused_imports)]
pub use faults::{Faults, LoggedRequest, RequestLog};
#[allow(unused_imports)]
pub use sigv4::{presign_get_caller_identity, Credentials};
#[allow(unused_imports)]
pub use status::{ApiError, ResourceAttrs};
#[allow(unused_imports)]
pub use store::{PatchKind, Store, MAX_ANNOTATIONS_BYTES, MAX_CONFIG_MAP_BYTES};

use handlers::State;

/// A listener on a free loopback port and the two-thread runtime that serves it: each fake
/// runs on its own runtime, so sync and async tests start one alike.
///
/// # Panics
/// When the port or the runtime cannot be set up.
pub(crate) fn loopback_server(
    thread_name: &str,
) -> (tokio::runtime::Runtime, TcpListener, std::net::SocketAddr) {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    std_listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = std_listener.local_addr().expect("listener address");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(thread_name)
        .enable_all()
        .build()
        .expect("a tokio runtime for a fake server");
    let listener = {
        let _guard = runtime.enter();
        TcpListener::from_std(std_listener).expect("tokio listener")
    };
    (runtime, listener, addr)
}

/// How a [`KubeApi`] starts: its tokens, rules and EKS token settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    policy: Policy,
    eks: Option<EksAuth>,
    entries: Option<Arc<dyn AccessEntries>>,
}

impl Options {
    /// No tokens, no rules, no EKS: every request is 401 until something is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bearer `token` authenticates as `user` (`system:authenticated` is added).
    pub fn token(mut self, token: &str, user: User) -> Self {
        self.policy.tokens.insert(token.into(), user);
        self
    }

    /// Bearer `token` authenticates as `kubernetes-admin` in `system:masters`.
    pub fn admin_token(self, token: &str) -> Self {
        self.token(token, User::new("kubernetes-admin").group(MASTERS))
    }

    /// Grants a permission beyond `system:masters`.
    pub fn allow(mut self, rule: Rule) -> Self {
        self.policy.rules.push(rule);
        self
    }

    /// Accepts EKS tokens (`k8s-aws-v1.…`), mapped through the stored aws-auth ConfigMap.
    pub fn eks(mut self, eks: EksAuth) -> Self {
        self.eks = Some(eks);
        self
    }

    /// Also maps EKS tokens through access entries, by the cluster's authentication mode
    /// (`API`: entries only; `API_AND_CONFIG_MAP`: an entry wins over aws-auth;
    /// `CONFIG_MAP`, or a cluster the source does not know: aws-auth only).
    pub fn access_entries(mut self, entries: Arc<dyn AccessEntries>) -> Self {
        self.entries = Some(entries);
        self
    }
}

/// A kubeconfig user that runs a credential plugin (`users[].user.exec`).
#[derive(Debug, Clone)]
pub struct ExecPlugin {
    /// The program, e.g. `aws` or the okscript binary.
    pub command: String,
    /// Its arguments, e.g. `["eks", "get-token", "--cluster-name", "my-cluster"]`.
    pub args: Vec<String>,
    /// Extra environment for the plugin.
    pub env: Vec<(String, String)>,
}

/// A running fake apiserver. Dropping it stops the server and deletes its temp files.
pub struct KubeApi {
    url: String,
    ca_pem: String,
    ca_file: PathBuf,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl KubeApi {
    /// Starts a server on `127.0.0.1:0` with a fresh CA, on its own two-thread runtime (so
    /// sync tests and `#[tokio::test]`s can both use it).
    ///
    /// # Panics
    /// When the port, the temp dir or TLS cannot be set up: nothing could be tested then.
    pub fn start(options: Options) -> KubeApi {
        let certs = tls::generate();
        let dir = tempfile::Builder::new()
            .prefix("kube-fake-")
            .tempdir()
            .expect("create a temp dir for the fake apiserver");
        let ca_file = dir.path().join("ca.crt");
        std::fs::write(&ca_file, &certs.ca_pem).expect("write ca.crt");
        let (runtime, listener, addr) = loopback_server("kube-fake");
        let state = Arc::new(State {
            store: Mutex::new(Store::new()),
            policy: RwLock::new(options.policy),
            eks: RwLock::new(options.eks),
            entries: RwLock::new(options.entries),
            faults: Arc::new(Faults::default()),
            log: Arc::new(RequestLog::default()),
            server_address: addr.to_string(),
        });
        let acceptor = TlsAcceptor::from(certs.server_config);
        let task = runtime.spawn(serve(listener, acceptor, state.clone()));
        KubeApi {
            url: format!("https://{addr}"),
            ca_pem: certs.ca_pem,
            ca_file,
            state,
            runtime: Some(runtime),
            task: Some(task),
            _dir: dir,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA certificate (PEM) that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A PEM file holding [`Self::ca_pem`], deleted with the server.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Writes a kubeconfig (context `kube-fake`) that reaches this server with a static
    /// bearer token.
    pub fn write_kubeconfig(&self, path: &Path, token: &str) {
        self.write_kubeconfig_user(path, json!({"token": token}));
    }

    /// Writes a kubeconfig (context `kube-fake`) whose user runs a credential plugin.
    pub fn write_kubeconfig_exec(&self, path: &Path, exec: &ExecPlugin) {
        let env: Vec<Value> = exec
            .env
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        self.write_kubeconfig_user(
            path,
            json!({"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": exec.command,
                "args": exec.args,
                "env": env,
                "interactiveMode": "Never",
            }}),
        );
    }

    fn write_kubeconfig_user(&self, path: &Path, user: Value) {
        // JSON is YAML: kubectl and kube-rs read it as a kubeconfig.
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kube-fake", "cluster": {
                "server": self.url,
                "certificate-authority": self.ca_file,
            }}],
            "users": [{"name": "kube-fake", "user": user}],
            "contexts": [{"name": "kube-fake", "context": {"cluster": "kube-fake", "user": "kube-fake"}}],
            "current-context": "kube-fake",
        });
        let text = serde_json::to_string_pretty(&config).expect("kubeconfig serializes");
        std::fs::write(path, text)
            .unwrap_or_else(|e| panic!("writing kubeconfig {}: {e}", path.display()));
    }

    /// The runtime fault switches.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log.entries()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) {
        self.state.log.clear()
    }

    /// Stores a ConfigMap (a JSON object with at least `metadata.name`; namespace defaults
    /// to `default`) as-is, with fresh uid/resourceVersion. Returns the stored object.
    pub fn seed_config_map(&self, object: Value) -> Value {
        self.state
            .store
            .lock()
            .expect("store lock")
            .seed_config_map(object)
    }

    /// Stores a ConfigMap from a YAML manifest, e.g. a file of `tests/data/aws-auth/`.
    ///
    /// # Panics
    /// When the YAML does not parse.
    pub fn seed_config_map_yaml(&self, yaml: &str) -> Value {
        let object: Value = serde_saphyr::from_str(yaml).expect("a YAML ConfigMap manifest");
        self.seed_config_map(object)
    }

    /// Stores `kube-system/aws-auth` with the given data keys (`mapRoles`, `mapUsers`, …).
    pub fn seed_aws_auth(&self, data: &[(&str, &str)]) -> Value {
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        self.seed_config_map(json!({
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": data,
        }))
    }

    /// The stored ConfigMap, if any.
    pub fn config_map(&self, namespace: &str, name: &str) -> Option<Value> {
        self.state
            .store
            .lock()
            .expect("store lock")
            .get(namespace, name)
            .ok()
    }

    /// Deletes a stored ConfigMap; `true` if it existed.
    pub fn remove_config_map(&self, namespace: &str, name: &str) -> bool {
        self.state
            .store
            .lock()
            .expect("store lock")
            .delete(namespace, name, None)
            .is_ok()
    }

    /// Adds a running Pod `name` in `namespace` (created if missing).
    pub fn seed_pod(&self, namespace: &str, name: &str) {
        self.state
            .store
            .lock()
            .expect("store lock")
            .seed_pod(namespace, name);
    }

    /// Adds a static token while running.
    pub fn add_token(&self, token: &str, user: User) {
        self.state
            .policy
            .write()
            .expect("policy lock")
            .tokens
            .insert(token.into(), user);
    }

    /// Grants a permission while running.
    pub fn allow(&self, rule: Rule) {
        self.state
            .policy
            .write()
            .expect("policy lock")
            .rules
            .push(rule);
    }

    /// Replaces the EKS token settings while running (`None`: EKS tokens get 401).
    pub fn set_eks(&self, eks: Option<EksAuth>) {
        *self.state.eks.write().expect("eks lock") = eks;
    }

    /// Attaches (or with `None` detaches) the access-entry source while running.
    pub fn set_access_entries(&self, entries: Option<Arc<dyn AccessEntries>>) {
        *self.state.entries.write().expect("entries lock") = entries;
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(runtime) = self.runtime.take() {
            // Ends every connection task and closes the listener without blocking, so the
            // fake may be dropped inside an async test too.
            runtime.shutdown_background();
        }
    }
}

/// Accepts connections until aborted; each is served on its own task.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<State>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let kill = Arc::new(Notify::new());
            let service_kill = kill.clone();
            let service =
                service_fn(move |req| handlers::handle(state.clone(), service_kill.clone(), req));
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(tls), service);
            tokio::select! {
                _ = connection => {}
                _ = kill.notified() => {}
            }
        });
    }
}
