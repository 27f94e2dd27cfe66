//! Connecting to a cluster: an EKS cluster by name (DescribeCluster for the endpoint and CA,
//! an in-process EKS token refreshed before it expires), optionally through `--server` and
//! `--certificate-authority` overrides, or a kubeconfig context (exec plugins included).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::KubeError;
use crate::aws::{self, Session, TokenOptions};

/// How to reach a cluster, resolved from flags and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectSpec {
    /// An EKS cluster by name, with an EKS token for the current AWS session.
    Eks {
        /// The cluster name.
        cluster: String,
        /// `--server`: the API server URL instead of DescribeCluster's endpoint.
        server: Option<String>,
        /// `--certificate-authority`: a PEM file instead of DescribeCluster's CA.
        ca_file: Option<PathBuf>,
        /// `--role-arn`: a role the token is made for.
        role_arn: Option<String>,
    },
    /// A kubeconfig (the files of `--kubeconfig`/`KUBECONFIG`) and an optional context.
    Kubeconfig {
        /// The files, merged in order; empty means `~/.kube/config`.
        paths: Vec<PathBuf>,
        /// `--context`.
        context: Option<String>,
        /// `--cluster`/`-c` given too: the EKS cluster behind the context, described only
        /// for its authentication mode.
        eks_cluster: Option<String>,
    },
}

impl ConnectSpec {
    /// A short name for messages and for the backups folder.
    pub fn name(&self) -> String {
        match self {
            ConnectSpec::Eks { cluster, .. } => cluster.clone(),
            ConnectSpec::Kubeconfig { context, .. } => {
                context.clone().unwrap_or_else(|| "current-context".into())
            }
        }
    }

    /// The EKS cluster's name, when known (a bare kubeconfig context has none): what the
    /// commands that work through the EKS API need.
    pub fn eks_cluster(&self) -> Option<&str> {
        match self {
            ConnectSpec::Eks { cluster, .. } => Some(cluster),
            ConnectSpec::Kubeconfig { eks_cluster, .. } => eks_cluster.as_deref(),
        }
    }
}

/// Tokens are good for 15 minutes; make a new one after this long.
const TOKEN_REFRESH: Duration = Duration::from_secs(10 * 60);

/// A connection to one cluster.
pub struct Connection {
    spec: ConnectSpec,
    client: kube::Client,
    made: Instant,
    eks: Option<EksParts>,
    access: Option<EksAccess>,
    /// `URL` the client talks to.
    pub url: String,
}

/// What DescribeCluster said about how EKS authenticates, and the session to ask EKS more.
#[derive(Clone)]
struct EksAccess {
    cluster: String,
    mode: aws::AuthMode,
    session: Session,
}

/// What an EKS connection needs to make a new token.
#[derive(Clone)]
struct EksParts {
    session: Session,
    url: http::Uri,
    root_cert: Option<Vec<Vec<u8>>>,
    options: TokenOptions,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("spec", &self.spec)
            .field("url", &self.url)
            .finish()
    }
}

/// The DER certificates of a PEM bundle; other PEM blocks (keys, parameters) are skipped.
fn pem_to_der(text: &str, source: &str) -> Result<Vec<Vec<u8>>, KubeError> {
    let blocks = pem::parse_many(text).map_err(|e| KubeError::Ca {
        source_name: source.to_string(),
        message: format!("it is not valid PEM: {e}"),
    })?;
    let certs: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if certs.is_empty() {
        return Err(KubeError::Ca {
            source_name: source.to_string(),
            message: "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        });
    }
    Ok(certs)
}

fn client_for(
    url: &http::Uri,
    root_cert: Option<Vec<Vec<u8>>>,
    token: &str,
) -> Result<kube::Client, KubeError> {
    let mut config = kube::Config::new(url.clone());
    config.root_cert = root_cert;
    config.default_retry = false;
    config.read_timeout = Some(Duration::from_secs(30));
    config.auth_info.token = Some(secrecy::SecretString::from(token.to_string()));
    kube::Client::try_from(config).map_err(|e| KubeError::Client(e.to_string()))
}

impl Connection {
    /// Connects as `spec` says; EKS connections need an AWS session.
    pub async fn open(
        spec: &ConnectSpec,
        session: Option<&Session>,
        region: Option<String>,
    ) -> Result<Connection, KubeError> {
        match spec {
            ConnectSpec::Eks {
                cluster,
                server,
                ca_file,
                role_arn,
            } => {
                let session = session.ok_or(KubeError::NoSession)?.clone();
                // Always described: it refuses a cluster that is not serving, and gives the
                // region; --server and --certificate-authority only replace what it says.
                let described = Some(aws::describe_cluster(&session, cluster).await?);
                let url_text = match (server, &described) {
                    (Some(s), _) => s.clone(),
                    (None, Some(d)) => d.endpoint.clone(),
                    (None, None) => unreachable!("described when no server is given"),
                };
                let url: http::Uri = url_text.parse().map_err(|e| KubeError::Url {
                    url: url_text.clone(),
                    message: format!("{e}"),
                })?;
                let root_cert = match (ca_file, &described) {
                    (Some(path), _) => {
                        let pem = std::fs::read_to_string(path).map_err(|e| KubeError::Ca {
                            source_name: path.display().to_string(),
                            message: e.to_string(),
                        })?;
                        Some(pem_to_der(&pem, &path.display().to_string())?)
                    }
                    (None, Some(d)) => match &d.certificate_authority_pem {
                        Some(pem) => Some(pem_to_der(pem, "the cluster's certificate authority")?),
                        None => None,
                    },
                    (None, None) => None,
                };
                let options = TokenOptions {
                    region: region.or_else(|| described.as_ref().map(|d| d.region.clone())),
                    role_arn: role_arn.clone(),
                    session_name: None,
                };
                let parts = EksParts {
                    session,
                    url: url.clone(),
                    root_cert,
                    options,
                };
                let client = parts.client(cluster).await?;
                let access = described.map(|d| EksAccess {
                    cluster: cluster.clone(),
                    mode: d.auth_mode(),
                    session: parts.session.clone(),
                });
                Ok(Connection {
                    spec: spec.clone(),
                    client,
                    made: Instant::now(),
                    eks: Some(parts),
                    access,
                    url: url_text,
                })
            }
            ConnectSpec::Kubeconfig {
                paths,
                context,
                eks_cluster,
            } => {
                let mut merged: Option<Kubeconfig> = None;
                for p in paths {
                    let k = Kubeconfig::read_from(p)
                        .map_err(|e| KubeError::Kubeconfig(format!("{}: {e}", p.display())))?;
                    merged = Some(match merged {
                        None => k,
                        Some(m) => m
                            .merge(k)
                            .map_err(|e| KubeError::Kubeconfig(e.to_string()))?,
                    });
                }
                let kubeconfig = merged.ok_or_else(|| {
                    KubeError::Kubeconfig(
                        "no kubeconfig file: pass --kubeconfig or set KUBECONFIG".into(),
                    )
                })?;
                let options = KubeConfigOptions {
                    context: context.clone(),
                    ..KubeConfigOptions::default()
                };
                let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| KubeError::Kubeconfig(e.to_string()))?;
                config.default_retry = false;
                let url = config.cluster_url.to_string();
                let client =
                    kube::Client::try_from(config).map_err(|e| KubeError::Client(e.to_string()))?;
                // The context says nothing about EKS; a named cluster is described for its mode.
                let access = match eks_cluster {
                    Some(name) => {
                        let session = session.ok_or(KubeError::NoSession)?.clone();
                        let d = aws::describe_cluster(&session, name).await?;
                        Some(EksAccess {
                            cluster: name.clone(),
                            mode: d.auth_mode(),
                            session,
                        })
                    }
                    None => None,
                };
                Ok(Connection {
                    spec: spec.clone(),
                    client,
                    made: Instant::now(),
                    eks: None,
                    access,
                    url,
                })
            }
        }
    }

    /// The spec this connection was made from.
    pub fn spec(&self) -> &ConnectSpec {
        &self.spec
    }

    /// The cluster's `accessConfig.authenticationMode`; `None` when unknown (a kubeconfig
    /// context without `--cluster`).
    pub fn auth_mode(&self) -> Option<aws::AuthMode> {
        self.access.as_ref().map(|a| a.mode)
    }

    /// Records a mode okscript stepped the cluster to (the next target is chosen by it).
    pub fn set_auth_mode(&mut self, mode: aws::AuthMode) {
        if let Some(a) = self.access.as_mut() {
            a.mode = mode;
        }
    }

    /// The EKS cluster name and an AWS session for EKS calls about it, when known.
    pub fn eks_cluster(&self) -> Option<(&str, &Session)> {
        self.access
            .as_ref()
            .map(|a| (a.cluster.as_str(), &a.session))
    }

    /// The principal the EKS token names: `--role-arn`'s role, else the session's caller
    /// (`None` without an EKS token).
    pub fn token_principal(&self) -> Option<String> {
        self.eks.as_ref().map(|parts| {
            parts
                .options
                .role_arn
                .clone()
                .unwrap_or_else(|| parts.session.identity().principal_arn.clone())
        })
    }

    /// True when the connection authenticates with an EKS token (through aws-auth).
    pub fn uses_eks_token(&self) -> bool {
        self.eks.is_some()
    }

    /// A client, with a new EKS token when the old one is about to expire.
    pub async fn client(&mut self) -> Result<kube::Client, KubeError> {
        if let Some(parts) = &self.eks {
            if self.made.elapsed() > TOKEN_REFRESH {
                self.client = parts.client(&self.spec.name()).await?;
                self.made = Instant::now();
            }
        }
        Ok(self.client.clone())
    }

    /// A client with a token made just now (for checking access after a change).
    pub async fn fresh_client(&self) -> Result<kube::Client, KubeError> {
        match &self.eks {
            Some(parts) => parts.client(&self.spec.name()).await,
            None => Ok(self.client.clone()),
        }
    }
}

impl EksParts {
    async fn client(&self, cluster: &str) -> Result<kube::Client, KubeError> {
        let token = aws::eks_token(&self.session, cluster, &self.options).await?;
        client_for(&self.url, self.root_cert.clone(), token.token())
    }
}
