//! EKS tokens end to end: moto plays IAM and STS, `aws eks get-token` (the AWS CLI) makes
//! the token, `kubectl` runs it as an exec plugin, and the fake apiserver verifies it like
//! aws-iam-authenticator (shape, STS call, aws-auth mapping).

use super::{aws, aws_cli, have_kubectl, kubectl};
use crate::support::kube_api::{
    presign_get_caller_identity, token_for_url, Credentials, EksAuth, ExecPlugin, KubeApi, Options,
};
use crate::support::{token_url, MotoServer, ACCOUNT, TRUST_ALL};
use serde_json::Value;

const TESTING: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
];

/// Creates role `name` in moto and assumes it as `session`; returns its credentials.
fn assume_role(
    home: &std::path::Path,
    moto: &MotoServer,
    name: &str,
    session: &str,
) -> Credentials {
    let created = aws(
        home,
        moto,
        &TESTING,
        &[
            "iam",
            "create-role",
            "--role-name",
            name,
            "--assume-role-policy-document",
            TRUST_ALL,
            "--output",
            "json",
        ],
    );
    assert_eq!(created.code, 0, "{created:?}");
    let assumed = aws(
        home,
        moto,
        &TESTING,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            "--role-session-name",
            session,
            "--output",
            "json",
        ],
    );
    assert_eq!(assumed.code, 0, "{assumed:?}");
    let json: Value = serde_json::from_str(&assumed.stdout).unwrap();
    let c = &json["Credentials"];
    Credentials {
        access_key_id: c["AccessKeyId"].as_str().unwrap().into(),
        secret_access_key: c["SecretAccessKey"].as_str().unwrap().into(),
        session_token: c["SessionToken"].as_str().map(str::to_string),
    }
}

fn env_of(creds: &Credentials) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.clone()),
        (
            "AWS_SESSION_TOKEN",
            creds.session_token.clone().unwrap_or_default(),
        ),
    ]
}

/// `aws eks get-token` with these credentials; returns the token.
fn cli_token(
    home: &std::path::Path,
    moto: &MotoServer,
    creds: &Credentials,
    cluster: &str,
) -> String {
    let env = env_of(creds);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = aws(
        home,
        moto,
        &env,
        &["eks", "get-token", "--cluster-name", cluster],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let cred: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(cred["kind"], "ExecCredential");
    cred["status"]["token"].as_str().unwrap().to_string()
}

#[test]
fn an_assumed_role_mapped_in_aws_auth_gets_in_and_an_unmapped_one_does_not() {
    if !have_kubectl() {
        return;
    }
    let moto = MotoServer::start();
    let moto_url = moto.endpoint();
    let home = tempfile::tempdir().unwrap();
    let admin = assume_role(home.path(), &moto, "eks-admin", "alice@example.com");
    let stranger = assume_role(home.path(), &moto, "eks-stranger", "mallory");

    let api = KubeApi::start(
        Options::new().admin_token("admin-token").eks(
            EksAuth::new("my-cluster", &moto_url)
                .with_secret(&admin.access_key_id, &admin.secret_access_key),
        ),
    );
    api.seed_aws_auth(&[(
        "mapRoles",
        &format!("- rolearn: arn:aws:iam::{ACCOUNT}:role/eks-admin\n  username: admin:{{{{SessionName}}}}\n  groups:\n  - system:masters\n"),
    )]);

    // The AWS CLI presigns against moto, as the token shows.
    let token = cli_token(home.path(), &moto, &admin, "my-cluster");
    let url = token_url(&token);
    assert!(
        url.starts_with(&format!(
            "{}/?Action=GetCallerIdentity&Version=2011-06-15",
            moto_url
        )),
        "{url}"
    );

    // kubectl with `aws eks get-token` as its exec plugin.
    let kubeconfig = home.path().join("eks.kubeconfig");
    let mut env: Vec<(String, String)> = env_of(&admin)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("AWS_ENDPOINT_URL".into(), moto_url.clone()));
    env.push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
    env.push((
        "AWS_CONFIG_FILE".into(),
        home.path().join("aws-config").display().to_string(),
    ));
    api.write_kubeconfig_exec(
        &kubeconfig,
        &ExecPlugin {
            command: aws_cli().display().to_string(),
            args: ["eks", "get-token", "--cluster-name", "my-cluster"]
                .map(String::from)
                .to_vec(),
            env,
        },
    );
    let whoami = kubectl(home.path(), &kubeconfig, &["auth", "whoami", "-o", "json"]);
    assert_eq!(whoami.code, 0, "{whoami:?} {:#?}", api.requests());
    let review: Value = serde_json::from_str(&whoami.stdout).unwrap();
    let info = &review["status"]["userInfo"];
    assert_eq!(info["username"], "admin:alice-example.com");
    assert_eq!(
        info["groups"],
        serde_json::json!(["system:masters", "system:authenticated"])
    );
    assert_eq!(
        info["extra"]["arn"][0],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/eks-admin/alice@example.com")
    );
    assert_eq!(
        info["extra"]["canonicalArn"][0],
        format!("arn:aws:iam::{ACCOUNT}:role/eks-admin")
    );
    assert_eq!(info["extra"]["sessionName"][0], "alice@example.com");
    let get = kubectl(
        home.path(),
        &kubeconfig,
        &[
            "-n",
            "kube-system",
            "get",
            "configmap",
            "aws-auth",
            "-o",
            "name",
        ],
    );
    assert_eq!(
        (get.code, get.stdout.trim()),
        (0, "configmap/aws-auth"),
        "{get:?}"
    );
    assert!(api
        .requests()
        .iter()
        .all(|r| r.user.as_deref() == Some("admin:alice-example.com")));

    // The same token as a plain bearer token, and one presigned by the test's own SigV4.
    let raw = kubectl(
        home.path(),
        &kubeconfig,
        &[
            "--token",
            &token,
            "auth",
            "can-i",
            "update",
            "configmaps",
            "-n",
            "kube-system",
        ],
    );
    assert_eq!((raw.code, raw.stdout.trim()), (0, "yes"), "{raw:?}");
    let own = token_for_url(&presign_get_caller_identity(
        &moto_url,
        "us-east-1",
        "my-cluster",
        &admin,
        now(),
    ));
    let own_out = kubectl(
        home.path(),
        &kubeconfig,
        &[
            "--token",
            &own,
            "get",
            "--raw",
            "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        ],
    );
    assert_eq!(own_out.code, 0, "{own_out:?}");

    // A token signed for another cluster fails the signature check, like STS would.
    let other_cluster = cli_token(home.path(), &moto, &admin, "other-cluster");
    let denied = kubectl(
        home.path(),
        &kubeconfig,
        &["--token", &other_cluster, "get", "pods"],
    );
    assert_eq!(denied.code, 1);
    assert!(denied.stderr.contains("Unauthorized"), "{denied:?}");
    let note = api.requests().last().unwrap().note.clone();
    assert!(note.contains("SignatureDoesNotMatch"), "{note}");

    // An assumed role with no aws-auth entry is 401.
    api.clear_requests();
    let stranger_token = cli_token(home.path(), &moto, &stranger, "my-cluster");
    let unmapped = kubectl(
        home.path(),
        &kubeconfig,
        &["--token", &stranger_token, "get", "pods"],
    );
    assert_eq!(unmapped.code, 1);
    assert!(unmapped.stderr.contains("Unauthorized"), "{unmapped:?}");
    let log = api.requests();
    assert!(
        log.iter().all(|r| r.status == 401 && r.user.is_none()),
        "{log:#?}"
    );
    assert!(
        log[0].note.contains(
            "ARN is not mapped: arn:aws:sts::123456789012:assumed-role/eks-stranger/mallory"
        ),
        "{:?}",
        log[0]
    );

    // Mapping the stranger through mapAccounts lets it in, with no groups but its ARN.
    api.seed_aws_auth(&[("mapAccounts", "- \"123456789012\"\n")]);
    let whoami = kubectl(
        home.path(),
        &kubeconfig,
        &[
            "--token",
            &stranger_token,
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(
        (whoami.code, whoami.stdout.as_str()),
        (0, "arn:aws:iam::123456789012:role/eks-stranger"),
        "{whoami:?}"
    );
    let pods = kubectl(
        home.path(),
        &kubeconfig,
        &["--token", &stranger_token, "get", "pods"],
    );
    assert!(pods.stderr.contains("is forbidden"), "{pods:?}");
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
