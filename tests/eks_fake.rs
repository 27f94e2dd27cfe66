//! The EKS control-plane fake (`support::eks_api`) proven with the real clients: boto3 walks
//! the whole access-entry lifecycle (`support/eks_contract.py`), the AWS CLI reads and
//! writes through it, aws-sdk-eks pages, retries and types its errors, and the fake
//! apiserver admits callers through entries by authentication mode. Foundation for issue 11.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AuthenticationMode, UpdateAccessConfigRequest,
};
use serde_json::Value;

use crate::kube_fake::{aws_cli, have_kubectl, kubectl};
use crate::support::eks_api::{EksApi, EksOptions, Fault};
use crate::support::kube_api::{presign_get_caller_identity, token_for_url, AuthMode, Credentials};
use crate::support::{create_user_with_key, eks_client, EksWorld, MotoServer, ACCOUNT};

const CLUSTER: &str = "my-cluster";
const REGION: &str = "eu-west-1";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const CLUSTER_ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn python() -> String {
    std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

#[test]
fn boto3_walks_the_access_entry_lifecycle_against_the_fake() {
    let moto = MotoServer::start();
    let eks = EksApi::start(
        EksOptions::new()
            .iam(&moto.endpoint())
            .update_delay(Duration::from_millis(300)),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/eks_contract.py");
    let out = Command::new(python())
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("EKS_ENDPOINT", eks.endpoint())
        .env("MOTO_ENDPOINT", moto.endpoint())
        .env("EKS_REGION", REGION)
        .stdin(Stdio::null())
        .output()
        .expect("run eks_contract.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let checks: usize = stdout
        .trim()
        .strip_prefix("contract ok: ")
        .and_then(|s| s.strip_suffix(" checks"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output: {stdout}"));
    assert!(checks >= 80, "only {checks} checks ran");
    println!("boto3 contract: {checks} checks passed");
    // Every principal check asked moto's IAM; the log names operations and principals.
    let log = eks.requests();
    let creates: Vec<_> = log
        .iter()
        .filter(|r| r.operation == "CreateAccessEntry")
        .collect();
    assert!(creates.len() >= 12, "{creates:#?}");
    assert!(creates.iter().any(|r| r.status == 409
        && r.error.as_deref() == Some("ResourceInUseException")
        && r.principal
            .as_deref()
            .is_some_and(|p| p.contains("aws-reserved/sso.amazonaws.com"))));
    assert_eq!(eks.mode("cm"), Some(AuthMode::ApiAndConfigMap));
}

/// `aws ARGS` (the AWS CLI) with EKS calls sent to the fake and the rest to moto.
fn aws(home: &Path, moto: &MotoServer, eks: &EksApi, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(aws_cli())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ENDPOINT_URL_EKS", eks.endpoint())
        .args(args)
        .args(["--output", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("run the aws CLI");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_aws_cli_reads_and_writes_access_entries_through_the_fake() {
    let cli = aws_cli();
    if Command::new(&cli).arg("--version").output().is_err() {
        println!(
            "SKIPPED: the AWS CLI ({}) is not installed; pip install awscli",
            cli.display()
        );
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let moto = MotoServer::start();
    let eks = EksApi::start(EksOptions::new().iam(&moto.endpoint()));
    eks.seed_cluster(CLUSTER, AuthMode::Api, "https://127.0.0.1:6443", "CA");
    let role = block_on(crate::support::create_role(&moto, "eks-admin", None));

    let (code, stdout, stderr) = aws(
        home.path(),
        &moto,
        &eks,
        &["eks", "describe-cluster", "--name", CLUSTER],
    );
    assert_eq!(code, 0, "{stderr}");
    let cluster: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        cluster["cluster"]["accessConfig"]["authenticationMode"],
        "API"
    );
    assert_eq!(cluster["cluster"]["endpoint"], "https://127.0.0.1:6443");

    let create = [
        "eks",
        "create-access-entry",
        "--cluster-name",
        CLUSTER,
        "--principal-arn",
        &role,
        "--kubernetes-groups",
        "admins",
    ];
    let (code, stdout, stderr) = aws(home.path(), &moto, &eks, &create);
    assert_eq!(code, 0, "{stderr}");
    let entry: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        entry["accessEntry"]["kubernetesGroups"],
        serde_json::json!(["admins"])
    );
    assert_eq!(
        entry["accessEntry"]["username"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/eks-admin/{{{{SessionName}}}}")
    );
    let (code, _, stderr) = aws(home.path(), &moto, &eks, &create);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("(ResourceInUseException) when calling the CreateAccessEntry operation: The specified access entry resource is already in use on this cluster."),
        "{stderr}"
    );

    let (code, stdout, stderr) = aws(
        home.path(),
        &moto,
        &eks,
        &["eks", "list-access-entries", "--cluster-name", CLUSTER],
    );
    assert_eq!(code, 0, "{stderr}");
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed["accessEntries"], serde_json::json!([role]));

    let (code, _, stderr) = aws(
        home.path(),
        &moto,
        &eks,
        &[
            "eks",
            "describe-access-entry",
            "--cluster-name",
            CLUSTER,
            "--principal-arn",
            &format!("arn:aws:iam::{ACCOUNT}:role/nobody"),
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("(ResourceNotFoundException)"), "{stderr}");
    assert!(
        stderr.contains("You can view your available access entries with 'list-access-entries'."),
        "{stderr}"
    );

    // The CLI pages ListAccessPolicies by itself; every page came from the fake.
    let (code, stdout, stderr) = aws(
        home.path(),
        &moto,
        &eks,
        &["eks", "list-access-policies", "--page-size", "7"],
    );
    assert_eq!(code, 0, "{stderr}");
    let policies: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        policies["accessPolicies"].as_array().unwrap().len() >= 20,
        "{policies}"
    );
    assert!(eks.count("ListAccessPolicies") >= 3);
    assert_eq!(eks.count("CreateAccessEntry"), 2);
}

#[test]
fn aws_sdk_eks_pages_retries_and_types_errors_against_the_fake() {
    let moto = MotoServer::start();
    let eks = EksApi::start(
        EksOptions::new()
            .iam(&moto.endpoint())
            .update_delay(Duration::from_millis(200)),
    );
    let role = block_on(crate::support::create_role(&moto, "eks-admin", None));
    let client = eks_client(eks.endpoint(), REGION);
    block_on(async {
        // Created in CONFIG_MAP, then stepped to API_AND_CONFIG_MAP: an update to poll.
        client
            .create_cluster()
            .name(CLUSTER)
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/eks-cluster"))
            .resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .subnet_ids("subnet-1")
                    .build(),
            )
            .send()
            .await
            .expect("create cluster");
        let err = client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .send()
            .await
            .unwrap_err();
        let err = err.into_service_error();
        assert!(err.is_invalid_request_exception(), "{err:?}");
        let update = client
            .update_cluster_config()
            .name(CLUSTER)
            .access_config(
                UpdateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            .send()
            .await
            .expect("update config")
            .update
            .unwrap();
        let id = update.id().unwrap().to_string();
        let started = Instant::now();
        loop {
            let status = client
                .describe_update()
                .name(CLUSTER)
                .update_id(&id)
                .send()
                .await
                .unwrap()
                .update
                .unwrap()
                .status
                .unwrap();
            if status.as_str() == "Successful" {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "update stuck in {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "the update should take time"
        );
        let cluster = client
            .describe_cluster()
            .name(CLUSTER)
            .send()
            .await
            .unwrap()
            .cluster
            .unwrap();
        assert_eq!(
            cluster.access_config().unwrap().authentication_mode(),
            Some(&AuthenticationMode::ApiAndConfigMap)
        );

        // Typed errors with EKS's messages.
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .send()
            .await
            .expect("create entry");
        let err = client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_in_use_exception(), "{err:?}");
        assert_eq!(
            err.message(),
            Some("The specified access entry resource is already in use on this cluster.")
        );
        let err = client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(format!("arn:aws:iam::{ACCOUNT}:role/some/path/eks-admin"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_parameter_exception(), "{err:?}");
        client
            .associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .policy_arn(VIEW)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Namespace)
                    .namespaces("dev-*")
                    .build(),
            )
            .send()
            .await
            .expect("associate");

        // Paginators over maxResults/nextToken.
        let policies: Vec<_> = client
            .list_access_policies()
            .into_paginator()
            .page_size(4)
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("list access policies");
        assert!(policies.len() >= 20, "{}", policies.len());
        assert!(policies.iter().any(|p| p.arn() == Some(CLUSTER_ADMIN)));
        assert!(eks.count("ListAccessPolicies") >= 5);
        let filtered = client
            .list_access_entries()
            .cluster_name(CLUSTER)
            .associated_policy_arn(VIEW)
            .send()
            .await
            .unwrap();
        assert_eq!(filtered.access_entries(), std::slice::from_ref(&role));

        // Throttling twice: the SDK retries and succeeds on the third attempt.
        eks.clear_requests();
        eks.faults()
            .fail_next("ListAccessEntries", Fault::Throttling, 2);
        let listed = client
            .list_access_entries()
            .cluster_name(CLUSTER)
            .send()
            .await
            .expect("retried");
        assert_eq!(listed.access_entries(), std::slice::from_ref(&role));
        let statuses: Vec<u16> = eks.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![429, 429, 200]);
        // A lasting 500 outlives the SDK's three attempts.
        eks.faults()
            .fail_next("DescribeAccessEntry", Fault::Server, 10);
        let err = client
            .describe_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_server_exception(), "{err:?}");
        assert_eq!(eks.count("DescribeAccessEntry"), 3);
        eks.faults().clear();

        // Eventual consistency: a new entry is invisible for a while.
        eks.set_timing(Duration::from_millis(200), Duration::from_millis(400));
        let bob = create_user_with_key(&moto, "bob", None, false).await;
        drop(bob);
        let bob_arn = format!("arn:aws:iam::{ACCOUNT}:user/bob");
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&bob_arn)
            .send()
            .await
            .expect("create bob");
        let err = client
            .associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(&bob_arn)
            .policy_arn(VIEW)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Cluster)
                    .build(),
            )
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_not_found_exception(), "{err:?}");
        tokio::time::sleep(Duration::from_millis(450)).await;
        let entry = client
            .describe_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&bob_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            entry.access_entry().unwrap().username(),
            Some(bob_arn.as_str())
        );
    });
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An EKS token for these keys, signed for `cluster` against moto's STS.
fn token(world: &EksWorld, key: &(String, String)) -> String {
    let creds = Credentials {
        access_key_id: key.0.clone(),
        secret_access_key: key.1.clone(),
        session_token: None,
    };
    token_for_url(&presign_get_caller_identity(
        &world.moto.endpoint(),
        &world.region,
        &world.cluster,
        &creds,
        now(),
    ))
}

/// Waits until the cluster's mode update is done, as a client would: DescribeUpdate polls.
async fn step_mode(client: &aws_sdk_eks::Client, mode: AuthenticationMode) {
    let update = client
        .update_cluster_config()
        .name(CLUSTER)
        .access_config(
            UpdateAccessConfigRequest::builder()
                .authentication_mode(mode)
                .build(),
        )
        .send()
        .await
        .expect("mode step")
        .update
        .unwrap();
    for _ in 0..200 {
        let u = client
            .describe_update()
            .name(CLUSTER)
            .update_id(update.id().unwrap())
            .send()
            .await
            .unwrap();
        if u.update().and_then(|u| u.status()).map(|s| s.as_str()) == Some("Successful") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mode update never finished");
}

#[test]
fn the_apiserver_admits_through_entries_by_mode_and_refuses_aws_auth_only_callers_in_api_mode() {
    if !have_kubectl() {
        return;
    }
    let world = EksWorld::start(CLUSTER, REGION, AuthMode::ConfigMap);
    let alice = block_on(create_user_with_key(&world.moto, "alice", None, false));
    let carol = block_on(create_user_with_key(&world.moto, "carol", None, false));
    let alice_arn = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    world.kube.seed_aws_auth(&[(
        "mapUsers",
        &format!(
            "- userarn: {alice_arn}\n  username: alice-from-aws-auth\n  groups: [system:masters]\n- userarn: arn:aws:iam::{ACCOUNT}:user/carol\n  username: carol\n  groups: [system:masters]\n"
        ),
    )]);
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    world.kube.write_kubeconfig(&kubeconfig, "static-admin");
    let as_user = |key: &(String, String), args: &[&str]| {
        let t = token(&world, key);
        let mut all = vec!["--token", t.as_str()];
        all.extend_from_slice(args);
        kubectl(home.path(), &kubeconfig, &all)
    };
    let whoami = [
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ];
    let can_update = ["auth", "can-i", "update", "configmaps", "-n", "kube-system"];
    let client = world.eks_client();

    // CONFIG_MAP: only aws-auth counts.
    let out = as_user(&alice, &whoami);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "alice-from-aws-auth"),
        "{out:?}"
    );

    // API_AND_CONFIG_MAP: alice's entry (View in kube-system) wins over her aws-auth row.
    block_on(async {
        step_mode(&client, AuthenticationMode::ApiAndConfigMap).await;
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&alice_arn)
            .send()
            .await
            .expect("entry");
        client
            .associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(&alice_arn)
            .policy_arn(VIEW)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Namespace)
                    .namespaces("kube-*")
                    .build(),
            )
            .send()
            .await
            .expect("associate");
    });
    let out = as_user(&alice, &whoami);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, alice_arn.as_str()),
        "{out:?}"
    );
    let out = as_user(
        &alice,
        &[
            "get",
            "configmap",
            "aws-auth",
            "-n",
            "kube-system",
            "-o",
            "name",
        ],
    );
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, "configmap/aws-auth"),
        "{out:?}"
    );
    let out = as_user(&alice, &can_update);
    assert_eq!(out.stdout.trim(), "no", "{out:?}");
    let out = as_user(&alice, &["get", "configmaps", "-n", "default"]);
    assert!(out.stderr.contains("is forbidden"), "{out:?}");
    let out = as_user(&carol, &can_update);
    assert_eq!((out.code, out.stdout.trim()), (0, "yes"), "{out:?}");

    // API: carol's aws-auth row no longer admits her; alice's entry still does.
    block_on(step_mode(&client, AuthenticationMode::Api));
    world.kube.clear_requests();
    let out = as_user(&carol, &["get", "pods"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Unauthorized"), "{out:?}");
    let log = world.kube.requests();
    assert!(
        log.iter().any(|r| r.status == 401
            && r.note == format!("no access entry for arn:aws:iam::{ACCOUNT}:user/carol (authentication mode API)")),
        "{log:#?}"
    );
    let out = as_user(&alice, &whoami);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, alice_arn.as_str()),
        "{out:?}"
    );

    // DescribeCluster from the EKS fake points at this apiserver.
    let cluster = block_on(client.describe_cluster().name(CLUSTER).send())
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.endpoint(), Some(world.kube.url()));
}

/// An aws-sdk-eks client for the fake with these keys (so the fake sees who calls).
fn eks_client_as(eks: &EksApi, key: &str, secret: &str) -> aws_sdk_eks::Client {
    let config = aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new(REGION))
        .endpoint_url(eks.endpoint())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(key, secret, None, None, "test"),
            ),
        )
        .build();
    aws_sdk_eks::Client::new(&config)
}

#[test]
fn the_cluster_creator_gets_an_admin_entry_and_creating_it_again_is_409() {
    let moto = MotoServer::start();
    let eks = EksApi::start(EksOptions::new().iam(&moto.endpoint()));
    let (key, secret) = block_on(create_user_with_key(&moto, "creator", Some("/ops/"), false));
    let creator = format!("arn:aws:iam::{ACCOUNT}:user/ops/creator");
    let client = eks_client_as(&eks, &key, &secret);
    block_on(async {
        client
            .create_cluster()
            .name(CLUSTER)
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/eks-cluster"))
            .resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .subnet_ids("subnet-1")
                    .build(),
            )
            .access_config(
                aws_sdk_eks::types::CreateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .build(),
            )
            .send()
            .await
            .expect("create cluster");
        let entries = client
            .list_access_entries()
            .cluster_name(CLUSTER)
            .send()
            .await
            .unwrap();
        assert_eq!(entries.access_entries(), std::slice::from_ref(&creator));
        let policies = client
            .list_associated_access_policies()
            .cluster_name(CLUSTER)
            .principal_arn(&creator)
            .send()
            .await
            .unwrap();
        let policies: Vec<_> = policies
            .associated_access_policies()
            .iter()
            .map(|p| {
                (
                    p.policy_arn().unwrap().to_string(),
                    p.access_scope()
                        .unwrap()
                        .r#type()
                        .unwrap()
                        .as_str()
                        .to_string(),
                )
            })
            .collect();
        assert_eq!(
            policies,
            vec![(CLUSTER_ADMIN.to_string(), "cluster".to_string())]
        );
        // The recurring complaint: a tool that adds the creator again gets 409.
        let err = client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&creator)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_resource_in_use_exception(), "{err:?}");
    });
    let create = eks
        .requests()
        .into_iter()
        .find(|r| r.operation == "CreateCluster")
        .unwrap();
    assert_eq!(create.access_key.as_deref(), Some(key.as_str()));
}

#[test]
fn a_recreated_role_keeps_its_entry_but_the_apiserver_admits_nobody_through_it() {
    if !have_kubectl() {
        return;
    }
    let world = EksWorld::start(CLUSTER, REGION, AuthMode::Api);
    let role = block_on(crate::support::create_role(&world.moto, "eks-admin", None));
    let client = world.eks_client();
    block_on(async {
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .send()
            .await
            .expect("entry");
        client
            .associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .policy_arn(CLUSTER_ADMIN)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Cluster)
                    .build(),
            )
            .send()
            .await
            .expect("associate");
    });
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    world.kube.write_kubeconfig(&kubeconfig, "static-admin");
    let assume = || {
        let sts = crate::support::sts_with(&world.moto, "AKIDADMIN", "admin-secret", None);
        let out = block_on(
            sts.assume_role()
                .role_arn(&role)
                .role_session_name("alice@example.com")
                .send(),
        )
        .expect("assume role");
        let c = out.credentials().unwrap();
        Credentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: Some(c.session_token().to_string()),
        }
    };
    let run = |creds: &Credentials, args: &[&str]| {
        let t = token_for_url(&presign_get_caller_identity(
            &world.moto.endpoint(),
            REGION,
            CLUSTER,
            creds,
            now(),
        ));
        let mut all = vec!["--token", t.as_str()];
        all.extend_from_slice(args);
        kubectl(home.path(), &kubeconfig, &all)
    };
    let whoami = [
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ];

    // The entry's default username: the assumed-role ARN with {{SessionName}} (@ → -).
    let out = run(&assume(), &whoami);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/eks-admin/alice-example.com").as_str()
        ),
        "{out:?}"
    );
    let out = run(
        &assume(),
        &["auth", "can-i", "delete", "configmaps", "-n", "kube-system"],
    );
    assert_eq!(out.stdout.trim(), "yes", "{out:?}");

    // Delete and recreate the role under the same ARN: the entry looks right, admits nobody.
    let iam = crate::support::admin_iam(&world.moto);
    block_on(iam.delete_role().role_name("eks-admin").send()).expect("delete role");
    let again = block_on(crate::support::create_role(&world.moto, "eks-admin", None));
    assert_eq!(again, role);
    let described = block_on(
        client
            .describe_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&role)
            .send(),
    )
    .expect("the entry is still there");
    assert_eq!(
        described.access_entry().unwrap().principal_arn(),
        Some(role.as_str())
    );
    world.kube.clear_requests();
    let out = run(&assume(), &["get", "pods"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Unauthorized"), "{out:?}");
    assert!(
        world
            .kube
            .requests()
            .iter()
            .any(|r| r.status == 401 && r.note.starts_with("no access entry for arn:aws:sts::")),
        "{:#?}",
        world.kube.requests()
    );
}

#[test]
fn okscript_finds_the_cluster_through_the_eks_fake_and_gets_in_through_an_entry() {
    // Issue 11's setting: DescribeCluster answered by the EKS fake (AWS_ENDPOINT_URL_EKS),
    // the apiserver in API mode, and the caller's only access an entry with ClusterAdmin.
    let world = EksWorld::start(CLUSTER, REGION, AuthMode::Api);
    let (key, secret) = block_on(create_user_with_key(&world.moto, "ops", None, true));
    let arn = format!("arn:aws:iam::{ACCOUNT}:user/ops");
    let client = world.eks_client();
    block_on(async {
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&arn)
            .send()
            .await
            .expect("entry");
        client
            .associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(&arn)
            .policy_arn(CLUSTER_ADMIN)
            .access_scope(
                AccessScope::builder()
                    .r#type(AccessScopeType::Cluster)
                    .build(),
            )
            .send()
            .await
            .expect("associate");
    });
    let dir = crate::util::TestDir::new();
    let mut cmd = dir
        .cmd()
        .env("AWS_ACCESS_KEY_ID", &key)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key");
    for (k, v) in world.env() {
        cmd = cmd.env(&k, &v);
    }
    let out = cmd
        .arg("run")
        .arg(crate::util::script("verify.rhai"))
        .args(["--cluster", CLUSTER])
        .run();
    out.expect_code(0).expect_stdout(&[
        "No resources found in default namespace.",
        &format!("you have access as {arn}"),
    ]);
    assert!(
        world.eks.count("DescribeCluster") >= 1,
        "{:#?}",
        world.eks.requests()
    );
    assert!(world
        .kube
        .requests()
        .iter()
        .any(|r| r.user.as_deref() == Some(arn.as_str())));
}
