//! EKS DescribeCluster / ListClusters against moto.

use okscript::aws::{describe_cluster, list_clusters, login, AwsError, CredentialType, Session};

use crate::support::{create_cluster, create_user_with_key, MotoServer, TestHome};

async fn session_in(moto: &MotoServer, home: &TestHome, region: &str) -> Session {
    let (key, secret) = create_user_with_key(moto, "eks-admin", None, true).await;
    let ctx = home
        .ctx(
            Some(moto),
            &[
                ("AWS_ACCESS_KEY_ID", &key),
                ("AWS_SECRET_ACCESS_KEY", &secret),
            ],
        )
        .with_region(region);
    login(&ctx, CredentialType::AccessKey).await.unwrap()
}

#[tokio::test]
async fn describes_an_active_cluster() {
    let moto = MotoServer::start();
    let arn = create_cluster(&moto, "eu-north-1", "my-cluster").await;
    let home = TestHome::new();
    let session = session_in(&moto, &home, "eu-north-1").await;
    let info = describe_cluster(&session, "my-cluster").await.unwrap();
    assert_eq!(info.name, "my-cluster");
    assert_eq!(info.arn, arn);
    assert_eq!(
        info.arn,
        "arn:aws:eks:eu-north-1:123456789012:cluster/my-cluster"
    );
    assert_eq!(info.region, "eu-north-1");
    assert_eq!(info.status, "ACTIVE");
    assert_eq!(info.version.as_deref(), Some("1.31"));
    assert!(
        info.endpoint.starts_with("https://") && info.endpoint.contains(".eu-north-1.eks."),
        "{}",
        info.endpoint
    );
    // moto's CA data is 1400 random letters and digits: valid base64 of random bytes, no PEM
    assert_eq!(info.certificate_authority_data.len(), 1400);
    assert_eq!(info.certificate_authority_pem, None);
    // moto has no accessConfig
    assert_eq!(info.authentication_mode, None);
}

#[tokio::test]
async fn missing_cluster_lists_the_clusters_of_the_region() {
    let moto = MotoServer::start();
    create_cluster(&moto, "eu-north-1", "prod").await;
    create_cluster(&moto, "eu-north-1", "dev").await;
    create_cluster(&moto, "eu-west-1", "elsewhere").await;
    let home = TestHome::new();
    let session = session_in(&moto, &home, "eu-north-1").await;
    assert_eq!(list_clusters(&session).await.unwrap(), ["dev", "prod"]);
    let err = describe_cluster(&session, "staging").await.unwrap_err();
    match &err {
        AwsError::ClusterNotFound {
            name,
            region,
            available,
        } => {
            assert_eq!(name, "staging");
            assert_eq!(region, "eu-north-1");
            assert_eq!(
                available.as_deref(),
                Some(&["dev".to_string(), "prod".to_string()][..])
            );
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("staging") && text.contains("dev, prod"),
        "{text}"
    );
    assert!(err.hint().unwrap().contains("list-clusters"));

    // a region without clusters says so
    let session = session_in_other(&moto, &home, "us-east-2").await;
    let err = describe_cluster(&session, "prod").await.unwrap_err();
    assert!(err.to_string().contains("no EKS clusters"), "{err}");

    // a name EKS would never accept is refused before any call
    let err = describe_cluster(&session, "bad name").await.unwrap_err();
    assert!(
        matches!(err, AwsError::InvalidClusterName { .. }),
        "{err:?}"
    );
}

async fn session_in_other(moto: &MotoServer, home: &TestHome, region: &str) -> Session {
    let ctx = home
        .ctx(
            Some(moto),
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAANYKEY0000000000"),
                ("AWS_SECRET_ACCESS_KEY", "anysecretanysecret"),
            ],
        )
        .with_region(region);
    login(&ctx, CredentialType::AccessKey).await.unwrap()
}

/// moto's cluster → a kubeconfig file → what kubectl reads.
#[tokio::test]
async fn described_cluster_goes_into_a_kubeconfig_kubectl_reads() {
    use okscript::kube::{update_kubeconfig_file, FileOutcome, KubeconfigEntry};
    let moto = MotoServer::start();
    create_cluster(&moto, "eu-north-1", "my-cluster").await;
    let home = TestHome::new();
    let session = session_in(&moto, &home, "eu-north-1").await;
    let info = describe_cluster(&session, "my-cluster").await.unwrap();
    let path = home.path().join(".kube/config");
    let entry = KubeconfigEntry::for_cluster(&info).with_alias("moto");
    assert_eq!(
        update_kubeconfig_file(&path, &entry).unwrap(),
        FileOutcome::Created
    );
    assert_eq!(
        update_kubeconfig_file(&path, &entry).unwrap(),
        FileOutcome::Unchanged
    );
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    if !kubectl.exists() {
        eprintln!("SKIPPED kubectl check: /usr/bin/kubectl is not installed");
        return;
    }
    let out = std::process::Command::new(kubectl)
        .args([
            "config",
            "view",
            "--raw",
            "--minify",
            "-o",
            "json",
            "--kubeconfig",
        ])
        .arg(&path)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["current-context"], "moto");
    assert_eq!(view["clusters"][0]["name"], info.arn);
    assert_eq!(view["clusters"][0]["cluster"]["server"], info.endpoint);
    assert_eq!(
        view["clusters"][0]["cluster"]["certificate-authority-data"],
        info.certificate_authority_data
    );
    assert_eq!(
        view["users"][0]["user"]["exec"]["args"],
        serde_json::json!(["token", "--cluster", "my-cluster", "--region", "eu-north-1"])
    );
}
