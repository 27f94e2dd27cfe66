//! Issue 5 end to end, as two people would do it: the cluster creator runs allow-sso.rhai
//! (finds the SSO role in IAM, maps it in the live aws-auth), then a new colleague runs
//! onboard.rhai (configures SSO, logs in with the device flow against the fake SSO servers,
//! writes a kubeconfig, verifies) and is let in by the fake apiserver through an EKS token
//! signed with the SSO role's credentials — moto issued them, moto checks them.

use crate::support::fake_sso::{FakeSso, Step};
use crate::support::kube_api::{EksAuth, KubeApi, Options};
use crate::support::{
    create_cluster, create_role, create_user_with_key, sts_with, MotoServer, ACCOUNT,
};
use crate::util::{script, TestDir};

const CLUSTER: &str = "my-cluster";
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
const SSO_ROLE: &str = "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn allow_sso_then_onboard_lets_the_sso_user_in() {
    let moto = MotoServer::start();
    block_on(create_cluster(&moto, "eu-north-1", CLUSTER));
    let role = block_on(create_role(&moto, SSO_ROLE, Some(SSO_PATH)));
    let (creator_key, creator_secret) =
        block_on(create_user_with_key(&moto, "creator", None, true));
    // What the SSO portal hands the colleague: moto credentials of the SSO role.
    let (sso_key, sso_secret, sso_token) = block_on(async {
        let out = sts_with(&moto, &creator_key, &creator_secret, None)
            .assume_role()
            .role_arn(&role)
            .role_session_name("someone@email.com")
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        (
            c.access_key_id().to_string(),
            c.secret_access_key().to_string(),
            c.session_token().to_string(),
        )
    });
    let kube = KubeApi::start(
        Options::new().admin_token("static-admin").eks(
            EksAuth::new(CLUSTER, &moto.endpoint())
                .with_secret(&creator_key, &creator_secret)
                .with_secret(&sso_key, &sso_secret),
        ),
    );
    kube.seed_aws_auth(&[(
        "mapUsers",
        &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/creator\n  username: creator\n  groups:\n  - system:masters\n"),
    )]);
    let connect = |cmd: crate::util::Cmd| {
        cmd.args(["--cluster", CLUSTER, "--server", kube.url()])
            .arg("--certificate-authority")
            .arg(kube.ca_file())
    };

    // Runbook, "Allow SSO logins to cluster" — the creator, with access keys.
    let creator = TestDir::new();
    let out = connect(
        creator
            .cmd()
            .env("AWS_ACCESS_KEY_ID", &creator_key)
            .env("AWS_SECRET_ACCESS_KEY", &creator_secret)
            .env("AWS_ENDPOINT_URL", &moto.endpoint())
            .env("AWS_REGION", "eu-north-1")
            .env(
                "OKSCRIPT_BACKUP_DIR",
                &creator.join("backups").display().to_string(),
            )
            .arg("run")
            .arg(script("allow-sso.rhai"))
            .args(["-a", "access-key"]),
    )
    .run();
    out.expect_code(0).expect_stdout(&[&format!("verified: cluster:{CLUSTER}/kube-system/aws-auth maps arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}")]);
    let roles = kube.config_map("kube-system", "aws-auth").unwrap()["data"]["mapRoles"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(roles.contains(&format!("rolearn: arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE}\n  username: admin:{{{{SessionName}}}}\n")), "{roles}");

    // Runbook, "Configure AWS SSO" + "Logging in with AWS SSO" + "Verify" — the colleague.
    let sso = FakeSso::start();
    sso.interval(1)
        .steps(&[Step::Pending])
        .role_credentials(&sso_key, &sso_secret, &sso_token);
    let colleague = TestDir::new();
    let out = connect(
        colleague
            .cmd()
            .env("AWS_ENDPOINT_URL", &moto.endpoint())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &sso.oidc_endpoint)
            .env("AWS_ENDPOINT_URL_SSO", &sso.portal_endpoint)
            .arg("run")
            .arg(script("onboard.rhai"))
            .args(["-a", "sso", "--no-browser"])
            .set("profile", "my-cluster-admin")
            .set("start_url", "https://corp.awsapps.com/start")
            .set("account_id", ACCOUNT),
    )
    .run();
    out.expect_code(0).expect_stdout(&[
        &format!("AWS:      arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/someone@email.com"),
        "you have access as admin:someone-email.com with groups system:masters",
    ]);
    let config = colleague.read(".aws/config");
    assert!(
        config.contains("[profile my-cluster-admin]")
            && config.contains("sso_start_url = https://corp.awsapps.com/start"),
        "{config}"
    );
    let kubeconfig = colleague.read(".kube/config");
    assert!(
        kubeconfig.contains(kube.url()) && kubeconfig.contains("- token"),
        "{kubeconfig}"
    );
    // The second onboarding changes nothing and needs no new login.
    let before = sso.requests().len();
    connect(
        colleague
            .cmd()
            .env("AWS_ENDPOINT_URL", &moto.endpoint())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &sso.oidc_endpoint)
            .env("AWS_ENDPOINT_URL_SSO", &sso.portal_endpoint)
            .arg("run")
            .arg(script("onboard.rhai"))
            .args(["-a", "sso", "--no-browser"])
            .set("profile", "my-cluster-admin"),
    )
    .run()
    .expect_code(0)
    .expect_stdout(&[
        "already set up",
        "you have access as admin:someone-email.com",
    ]);
    assert!(sso.requests()[before..]
        .iter()
        .all(|r| r.path.starts_with("/federation")));
}
