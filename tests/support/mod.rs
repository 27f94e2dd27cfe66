//! Test helpers: an isolated HOME with AWS files, admin clients for seeding moto, and a
#![allow(dead_code)]
//! stand-in for the IAM Identity Center portal (moto has none).

pub use fake_kube_api::eks_api;
pub mod fake_sso;
pub use fake_kube_api as kube_api;
pub mod moto;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use okscript::aws::AwsContext;

pub use self::moto::MotoServer;

/// The account moto uses by default.
pub const ACCOUNT: &str = "123456789012";

/// A temporary HOME with `.aws/` in it; every test gets its own.
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        let dir = tempfile::tempdir().expect("temp HOME");
        std::fs::create_dir_all(dir.path().join(".aws/sso/cache")).unwrap();
        TestHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `~/.aws/config`.
    pub fn config(&self, text: &str) -> &Self {
        std::fs::write(self.path().join(".aws/config"), text).unwrap();
        self
    }

    /// Writes `~/.aws/credentials`.
    pub fn credentials(&self, text: &str) -> &Self {
        std::fs::write(self.path().join(".aws/credentials"), text).unwrap();
        self
    }

    /// Writes an executable shell script and returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    /// Writes an SSO token cache file the way the AWS CLI v2 does.
    pub fn sso_token(
        &self,
        key: &str,
        start_url: &str,
        access_token: &str,
        expires_at: &str,
    ) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self
            .path()
            .join(".aws/sso/cache")
            .join(okscript::aws::sso_cache_file_name(key));
        let json = serde_json::json!({
            "startUrl": start_url,
            "region": "eu-west-1",
            "accessToken": access_token,
            "expiresAt": expires_at,
        });
        std::fs::write(&p, json.to_string()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// A context with only HOME, the given variables, and moto as the endpoint.
    pub fn ctx(&self, moto: Option<&MotoServer>, vars: &[(&str, &str)]) -> AwsContext {
        let mut env = BTreeMap::new();
        env.insert("HOME".to_string(), self.path().display().to_string());
        if let Some(m) = moto {
            env.insert("AWS_ENDPOINT_URL".to_string(), m.endpoint());
        }
        env.insert("AWS_REGION".to_string(), "eu-west-1".to_string());
        for (k, v) in vars {
            env.insert(k.to_string(), v.to_string());
        }
        AwsContext::new(env)
    }
}

/// An SDK config for seeding moto directly (test-only, not through the module).
pub fn admin_config(moto: &MotoServer, creds: Credentials) -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("eu-west-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// An IAM client that seeds moto (with moto's accept-anything keys).
pub fn admin_iam(moto: &MotoServer) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&admin_config(
        moto,
        Credentials::new("AKIDADMIN", "admin-secret", None, None, "test"),
    ))
}

/// An STS client with the given keys.
pub fn sts_with(
    moto: &MotoServer,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_sdk_sts::Client {
    let creds = Credentials::new(key, secret, token.map(str::to_string), None, "test");
    aws_sdk_sts::Client::new(&admin_config(moto, creds))
}

/// A trust policy any principal of the account may assume.
pub const TRUST_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

/// An allow-everything policy.
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Creates an IAM user with an access key in moto; returns (key id, secret).
pub async fn create_user_with_key(
    moto: &MotoServer,
    name: &str,
    path: Option<&str>,
    admin: bool,
) -> (String, String) {
    let iam = admin_iam(moto);
    iam.create_user()
        .user_name(name)
        .set_path(path.map(str::to_string))
        .send()
        .await
        .expect("create user");
    if admin {
        iam.put_user_policy()
            .user_name(name)
            .policy_name("all")
            .policy_document(ALLOW_ALL)
            .send()
            .await
            .expect("put user policy");
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("create access key");
    let key = key.access_key().expect("access key");
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

/// Creates a role in moto.
pub async fn create_role(moto: &MotoServer, name: &str, path: Option<&str>) -> String {
    let out = admin_iam(moto)
        .create_role()
        .role_name(name)
        .set_path(path.map(str::to_string))
        .assume_role_policy_document(TRUST_ALL)
        .send()
        .await
        .expect("create role");
    out.role().unwrap().arn().to_string()
}

/// One request the fake portal saw.
#[derive(Debug, Clone)]
pub struct PortalRequest {
    pub request_line: String,
    pub bearer_token: Option<String>,
}

/// A stand-in for the IAM Identity Center portal's GetRoleCredentials
/// (`GET /federation/credentials`), answering with the credentials it was given.
pub struct FakeSsoPortal {
    pub endpoint: String,
    pub requests: Arc<Mutex<Vec<PortalRequest>>>,
}

impl FakeSsoPortal {
    /// A portal that hands out the given role credentials.
    pub fn start(key: &str, secret: &str, token: &str) -> FakeSsoPortal {
        let expiration_ms = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 3_600_000) as u64;
        let body = serde_json::json!({"roleCredentials": {
            "accessKeyId": key, "secretAccessKey": secret, "sessionToken": token,
            "expiration": expiration_ms
        }})
        .to_string();
        Self::serve("200 OK", "", body)
    }

    /// A portal that refuses every token, as the real one does for a revoked login.
    pub fn start_rejecting() -> FakeSsoPortal {
        Self::serve(
            "401 Unauthorized",
            "x-amzn-errortype: UnauthorizedException\r\n",
            r#"{"message":"Session token not found or invalid"}"#.to_string(),
        )
    }

    fn serve(status: &'static str, extra_headers: &'static str, body: String) -> FakeSsoPortal {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            // Serves until the test process ends; each test has its own listener.
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut bearer = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("x-amz-sso_bearer_token") {
                            bearer = Some(v.trim().to_string());
                        }
                    }
                }
                seen.lock().unwrap().push(PortalRequest {
                    request_line: request_line.trim().to_string(),
                    bearer_token: bearer,
                });
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\n{extra_headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
            }
        });
        FakeSsoPortal { endpoint, requests }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, `secs` from now (negative: in the past).
pub fn rfc3339_from_now(secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    aws_sdk_sts::primitives::DateTime::from_secs(now + secs)
        .fmt(aws_sdk_sts::primitives::DateTimeFormat::DateTime)
        .unwrap()
}

/// An EKS client that seeds moto, in `region`.
pub fn admin_eks(moto: &MotoServer, region: &str) -> aws_sdk_eks::Client {
    let config = admin_config(
        moto,
        Credentials::new("AKIDADMIN", "admin-secret", None, None, "test"),
    )
    .to_builder()
    .region(aws_types::region::Region::new(region.to_string()))
    .build();
    aws_sdk_eks::Client::new(&config)
}

/// Creates an EKS cluster in moto (always ACTIVE there); returns its ARN.
pub async fn create_cluster(moto: &MotoServer, region: &str, name: &str) -> String {
    let out = admin_eks(moto, region)
        .create_cluster()
        .name(name)
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/eks-cluster"))
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .build(),
        )
        .version("1.31")
        .send()
        .await
        .expect("create cluster");
    out.cluster().unwrap().arn().unwrap().to_string()
}

/// The URL inside an EKS token (`k8s-aws-v1.` + base64url without padding).
pub fn token_url(token: &str) -> String {
    use base64::Engine as _;
    let b64 = token
        .strip_prefix("k8s-aws-v1.")
        .unwrap_or_else(|| panic!("no k8s-aws-v1. prefix: {token}"));
    assert!(!b64.contains('='), "padding in the token");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .expect("base64url");
    String::from_utf8(bytes).expect("UTF-8 URL")
}

/// The query parameters of a URL, percent-decoded, in order.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("percent escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Checks a presigned URL's SigV4 signature independently of aws-sigv4 and botocore:
/// a few lines of Python stdlib (hmac, hashlib) rebuild the canonical request from the
/// URL, the secret and the `x-k8s-aws-id` value. Returns `valid` or `INVALID ...`.
pub fn verify_presigned(url: &str, secret: &str, cluster: &str) -> String {
    const SCRIPT: &str = r#"
import sys, hmac, hashlib, urllib.parse
url, secret, cluster = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
params = urllib.parse.parse_qsl(u.query, keep_blank_values=True, strict_parsing=True)
p = dict(params)
assert len(p) == len(params), "duplicated query parameter"
enc = lambda s: urllib.parse.quote(s, safe="-_.~")
canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params) if k != "X-Amz-Signature")
headers = {"host": u.netloc, "x-k8s-aws-id": cluster}
signed = p["X-Amz-SignedHeaders"]
canonical_headers = "".join(f"{h}:{headers[h]}\n" for h in signed.split(";"))
creq = "\n".join(["GET", u.path or "/", canonical_query, canonical_headers, signed, hashlib.sha256(b"").hexdigest()])
key_id, date, region, service, term = p["X-Amz-Credential"].split("/")
to_sign = "\n".join(["AWS4-HMAC-SHA256", p["X-Amz-Date"], f"{date}/{region}/{service}/{term}", hashlib.sha256(creq.encode()).hexdigest()])
h = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
k = h(h(h(h(("AWS4" + secret).encode(), date), region), service), term)
calc = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
print("valid" if calc == p["X-Amz-Signature"] else f"INVALID: computed {calc}")
"#;
    let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT, url, secret, cluster])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "verifier failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The server side of an EKS token (`tests/support/sts_verifier.py`): checks a presigned
/// GetCallerIdentity GET the way STS does and answers with the caller's ARN.
pub struct StsVerifier {
    child: std::process::Child,
    port: u16,
}

impl StsVerifier {
    /// Starts one that knows these `(access key id, secret, caller ARN)`.
    pub fn start(keys: &[(&str, &str, &str)]) -> StsVerifier {
        use std::io::BufRead;
        let map: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(k, s, a)| (k.to_string(), serde_json::json!([s, a])))
            .collect();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sts_verifier.py");
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let mut child = std::process::Command::new(python)
            .arg(script)
            .env(
                "STS_VERIFIER_KEYS",
                serde_json::Value::Object(map).to_string(),
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start sts_verifier.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("sts_verifier.py said {line:?}"));
        StsVerifier { child, port }
    }

    /// Replays `url` (path and query, and its host as the Host header) to this server.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
        use std::io::Read;
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .expect("an http(s) URL");
        let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for StsVerifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTPS stand-in for a Kubernetes API server (`tests/support/tls_apiserver.py`) that
/// records the Authorization header of every request.
pub struct TlsApiServer {
    child: std::process::Child,
    port: u16,
    ca: PathBuf,
    auth_log: PathBuf,
}

impl TlsApiServer {
    /// Starts one, keeping its certificate and log in `dir`.
    pub fn start(dir: &Path) -> TlsApiServer {
        let ca = dir.join("apiserver-ca.pem");
        let auth_log = dir.join("apiserver-auth.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls_apiserver.py");
        let python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string());
        let mut child = std::process::Command::new(python)
            .arg(script)
            .arg(&ca)
            .arg(&auth_log)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start tls_apiserver.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("tls_apiserver.py said {line:?}"));
        TlsApiServer {
            child,
            port,
            ca,
            auth_log,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The server's self-signed certificate, PEM.
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(&self.ca).unwrap()
    }

    /// The Authorization header of each request so far (empty string when none was sent).
    pub fn authorizations(&self) -> Vec<String> {
        std::fs::read_to_string(&self.auth_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for TlsApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto (IAM, STS), the EKS fake and the fake apiserver wired together for one cluster, as
/// issue 11 needs them: the EKS fake holds the cluster (endpoint and CA = the apiserver's,
/// `accessConfig.authenticationMode` = `mode`) and resolves principals in moto's IAM; the
/// apiserver checks EKS tokens against moto's STS and maps callers through the EKS fake's
/// access entries by mode, then through its aws-auth. Point okscript at it with
/// [`EksWorld::env`] (`AWS_ENDPOINT_URL` = moto, `AWS_ENDPOINT_URL_EKS` = the EKS fake).
pub struct EksWorld {
    /// IAM and STS.
    pub moto: MotoServer,
    /// The EKS control plane.
    pub eks: eks_api::EksApi,
    /// The cluster's Kubernetes API (static token `static-admin` is a cluster admin).
    pub kube: kube_api::KubeApi,
    /// The cluster name.
    pub cluster: String,
    /// The region of the cluster and of STS.
    pub region: String,
    /// The fleet's other clusters ([`EksWorld::start_fleet`]), each with its own apiserver.
    pub more: Vec<(String, kube_api::KubeApi)>,
}

impl EksWorld {
    /// Starts all three with cluster `cluster` in `region`, in `mode`.
    pub fn start(cluster: &str, region: &str, mode: kube_api::AuthMode) -> EksWorld {
        EksWorld::start_fleet(region, &[(cluster, mode)])
    }

    /// Starts a fleet in one account and region: moto, one EKS fake holding every cluster,
    /// and an apiserver per cluster. The first is [`EksWorld::cluster`] and `kube`, the
    /// others are in `more`; [`EksWorld::kube_of`] finds any by name.
    pub fn start_fleet(region: &str, clusters: &[(&str, kube_api::AuthMode)]) -> EksWorld {
        let moto = MotoServer::start();
        let eks = eks_api::EksApi::start(
            eks_api::EksOptions::new()
                .region(region)
                .iam(&moto.endpoint()),
        );
        let mut kubes = clusters.iter().map(|(cluster, mode)| {
            let kube = kube_api::KubeApi::start(
                kube_api::Options::new()
                    .admin_token("static-admin")
                    .eks(kube_api::EksAuth::new(cluster, &moto.endpoint()))
                    .access_entries(eks.access_entries()),
            );
            eks.seed_cluster(cluster, *mode, kube.url(), kube.ca_pem());
            (cluster.to_string(), kube)
        });
        let (cluster, kube) = kubes.next().expect("a fleet has a cluster");
        let more = kubes.collect();
        EksWorld {
            moto,
            eks,
            kube,
            cluster,
            region: region.into(),
            more,
        }
    }

    /// The apiserver of the fleet's cluster `name`.
    pub fn kube_of(&self, name: &str) -> &kube_api::KubeApi {
        if name == self.cluster {
            return &self.kube;
        }
        self.more
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k)
            .unwrap_or_else(|| panic!("no cluster {name} in this fleet"))
    }

    /// The environment that sends AWS calls to moto and EKS calls to the EKS fake.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.moto.endpoint()),
            ("AWS_ENDPOINT_URL_EKS".into(), self.eks.endpoint().into()),
            ("AWS_REGION".into(), self.region.clone()),
            ("AWS_DEFAULT_REGION".into(), self.region.clone()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }

    /// An aws-sdk-eks client for the EKS fake (moto's accept-anything keys).
    pub fn eks_client(&self) -> aws_sdk_eks::Client {
        eks_client(self.eks.endpoint(), &self.region)
    }
}

/// An aws-sdk-eks client for `endpoint` (e.g. the EKS fake) in `region`.
pub fn eks_client(endpoint: &str, region: &str) -> aws_sdk_eks::Client {
    let config = aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "AKIDADMIN",
                "admin-secret",
                None,
                None,
                "test",
            )),
        )
        .build();
    aws_sdk_eks::Client::new(&config)
}
