//! The EKS fake's questions to IAM and STS, asked of the AWS emulator (moto) over plain
//! HTTP: GetRole/GetUser to resolve a principal's exact ARN and unique ID, and
//! GetCallerIdentity to learn who created a cluster.
//!
//! Owns those three calls and nothing else. moto accepts any credentials by default and
//! routes a request by the service in the `Authorization` header's credential scope, so the
//! header names the service but carries no real signature.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// What IAM says about a role or user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamPrincipal {
    /// The exact ARN, path included.
    pub arn: String,
    /// `RoleId` (`AROA…`) or `UserId` (`AIDA…`).
    pub unique_id: String,
}

/// An IAM/STS client for one emulator endpoint (`http://127.0.0.1:PORT`).
#[derive(Debug, Clone)]
pub struct Iam {
    host: String,
    port: u16,
}

/// The text of the first `<tag>…</tag>` in an XML answer.
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim().to_string())
}

impl Iam {
    /// A client for `endpoint`; `None` unless it is `http://HOST:PORT`.
    pub fn new(endpoint: &str) -> Option<Iam> {
        let url = url::Url::parse(endpoint).ok()?;
        (url.scheme() == "http").then_some(())?;
        Some(Iam {
            host: url.host_str()?.to_string(),
            port: url.port_or_known_default()?,
        })
    }

    async fn query(
        &self,
        service: &str,
        access_key: &str,
        form: &str,
    ) -> Result<(u16, String), String> {
        let call = async {
            let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| e.to_string())?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let request = hyper::Request::post("/")
                .header("host", format!("{}:{}", self.host, self.port))
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "authorization",
                    format!(
                        "AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=fake"
                    ),
                )
                .body(Full::new(Bytes::from(form.to_string())))
                .map_err(|e| e.to_string())?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, String::from_utf8_lossy(&body).into_owned()))
        };
        tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .map_err(|_| "IAM emulator timed out".to_string())?
    }

    /// GetRole (`kind` = `role`) or GetUser (`user`) by name; `Ok(None)` when IAM has none.
    pub async fn get(&self, kind: &str, name: &str) -> Result<Option<IamPrincipal>, String> {
        let (action, param, id_tag) = if kind == "role" {
            ("GetRole", "RoleName", "RoleId")
        } else {
            ("GetUser", "UserName", "UserId")
        };
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", action)
            .append_pair("Version", "2010-05-08")
            .append_pair(param, name)
            .finish();
        let (status, body) = self.query("iam", "AKIDEKSFAKE", &form).await?;
        if status == 404 || body.contains("NoSuchEntity") {
            return Ok(None);
        }
        if status != 200 {
            return Err(format!("IAM {action} answered {status}: {body}"));
        }
        match (xml_field(&body, "Arn"), xml_field(&body, id_tag)) {
            (Some(arn), Some(unique_id)) => Ok(Some(IamPrincipal { arn, unique_id })),
            _ => Err(format!("IAM {action} answer without Arn/{id_tag}: {body}")),
        }
    }

    /// GetCallerIdentity for the caller behind `access_key`: `(Arn, UserId)`.
    pub async fn caller(&self, access_key: &str) -> Result<(String, String), String> {
        let (status, body) = self
            .query(
                "sts",
                access_key,
                "Action=GetCallerIdentity&Version=2011-06-15",
            )
            .await?;
        match (status, xml_field(&body, "Arn"), xml_field(&body, "UserId")) {
            (200, Some(arn), Some(id)) => Ok((arn, id)),
            _ => Err(format!("STS GetCallerIdentity answered {status}: {body}")),
        }
    }
}
