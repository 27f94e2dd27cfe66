//! Test helpers: an isolated HOME with AWS files, admin clients for seeding moto, and a
#![allow(dead_code)]
//! stand-in for the IAM Identity Center portal (moto has none).

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
fn admin_config(moto: &MotoServer, creds: Credentials) -> aws_types::SdkConfig {
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
