//! IAM lookups and AssumeRole, against moto.

use okscript::aws::{
    assume_role, iam_role, iam_user, login, principal_exists, sso_role_arn, whoami, AwsError,
    CredentialType, Session,
};

use crate::support::{create_role, create_user_with_key, MotoServer, TestHome};

const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
const ADMIN_ROLE: &str = "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";

async fn admin_session(moto: &MotoServer, home: &TestHome) -> Session {
    let (key, secret) = create_user_with_key(moto, "admin", None, true).await;
    let ctx = home.ctx(
        Some(moto),
        &[
            ("AWS_ACCESS_KEY_ID", &key),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    login(&ctx, CredentialType::AccessKey).await.unwrap()
}

#[tokio::test]
async fn sso_role_found_across_pages_with_path_stripped() {
    let moto = MotoServer::start();
    // moto pages ListRoles at 100: put the wanted role on the second page
    for i in 0..101 {
        create_role(
            &moto,
            &format!("AWSReservedSSO_Decoy{i}_{i:016x}"),
            Some(SSO_PATH),
        )
        .await;
    }
    create_role(&moto, "AWSAdministratorAccess", None).await; // not an SSO role
    create_role(&moto, ADMIN_ROLE, Some(SSO_PATH)).await;
    let home = TestHome::new();
    let session = admin_session(&moto, &home).await;
    let arn = sso_role_arn(&session, "AWSAdministratorAccess")
        .await
        .unwrap();
    assert_eq!(arn, format!("arn:aws:iam::123456789012:role/{ADMIN_ROLE}"));
}

#[tokio::test]
async fn sso_role_not_found_lists_permission_sets() {
    let moto = MotoServer::start();
    create_role(&moto, ADMIN_ROLE, Some(SSO_PATH)).await;
    create_role(
        &moto,
        "AWSReservedSSO_Read_Only_abcdef0123456789",
        Some(SSO_PATH),
    )
    .await;
    create_role(
        &moto,
        "AWSReservedSSO_Billing_1111111111111111",
        Some("/other/"),
    )
    .await;
    let home = TestHome::new();
    let session = admin_session(&moto, &home).await;
    let err = sso_role_arn(&session, "awsadministratoraccess")
        .await
        .unwrap_err();
    match &err {
        AwsError::SsoRoleNotFound {
            available, account, ..
        } => {
            assert_eq!(available, &["AWSAdministratorAccess", "Read_Only"]);
            assert_eq!(account, "123456789012");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("permission sets provisioned there: AWSAdministratorAccess, Read_Only"),
        "{err}"
    );
}

#[tokio::test]
async fn sso_role_in_two_regions_is_ambiguous() {
    let moto = MotoServer::start();
    create_role(&moto, ADMIN_ROLE, Some(SSO_PATH)).await;
    create_role(
        &moto,
        "AWSReservedSSO_AWSAdministratorAccess_fedcba9876543210",
        Some("/aws-reserved/sso.amazonaws.com/us-east-1/"),
    )
    .await;
    let home = TestHome::new();
    let session = admin_session(&moto, &home).await;
    let err = sso_role_arn(&session, "AWSAdministratorAccess")
        .await
        .unwrap_err();
    match &err {
        AwsError::SsoRoleAmbiguous { roles, .. } => assert_eq!(roles.len(), 2),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("matches 2 roles"), "{err}");
}

#[tokio::test]
async fn assume_role_into_the_sso_role() {
    let moto = MotoServer::start();
    create_role(&moto, ADMIN_ROLE, Some(SSO_PATH)).await;
    let home = TestHome::new();
    let session = admin_session(&moto, &home).await;
    let role = sso_role_arn(&session, "AWSAdministratorAccess")
        .await
        .unwrap();
    // AssumeRole takes the role's full ARN, path included (moto cannot find the role by
    // the path-less one); the principal STS reports is path-less all the same.
    let full = iam_role(&session, ADMIN_ROLE).await.unwrap().arn;
    assert_ne!(full, role);

    let assumed = assume_role(&session, &full, None).await.unwrap();
    let id = assumed.identity();
    assert_eq!(
        id.arn,
        format!("arn:aws:sts::123456789012:assumed-role/{ADMIN_ROLE}/okscript-admin")
    );
    assert_eq!(id.principal_arn, role);
    assert_eq!(whoami(&assumed).await.unwrap(), *id);
    // the original session is unchanged
    assert_eq!(
        whoami(&session).await.unwrap().arn,
        "arn:aws:iam::123456789012:user/admin"
    );

    // explicit session names, validated
    let named = assume_role(&session, &full, Some("alice@example.com"))
        .await
        .unwrap();
    assert!(named.identity().arn.ends_with("/alice@example.com"));
    let err = assume_role(&session, &full, Some("no spaces"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AwsError::InvalidSessionName { .. }),
        "{err:?}"
    );
    let err = assume_role(&session, "arn:aws:iam::123456789012:user/admin", None)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::InvalidArn { .. }), "{err:?}");

    // chaining from an assumed role: the default name comes from the session name
    let again = assume_role(&assumed, &full, None).await.unwrap();
    assert!(
        again.identity().arn.ends_with("/okscript-okscript-admin"),
        "{}",
        again.identity().arn
    );
}

#[tokio::test]
async fn iam_role_and_user_lookups() {
    let moto = MotoServer::start();
    create_role(&moto, ADMIN_ROLE, Some(SSO_PATH)).await;
    create_user_with_key(&moto, "alice", Some("/team/"), false).await;
    let home = TestHome::new();
    let session = admin_session(&moto, &home).await;

    let role = iam_role(&session, ADMIN_ROLE).await.unwrap();
    assert_eq!(role.name, ADMIN_ROLE);
    assert_eq!(role.path, SSO_PATH);
    assert_eq!(
        role.arn,
        format!("arn:aws:iam::123456789012:role{SSO_PATH}{ADMIN_ROLE}")
    );
    assert_eq!(
        role.principal_arn,
        format!("arn:aws:iam::123456789012:role/{ADMIN_ROLE}")
    );
    assert_eq!(role.account, "123456789012");
    assert!(role.created.ends_with('Z'), "{}", role.created);
    // an ARN works as input too
    assert_eq!(iam_role(&session, &role.arn).await.unwrap(), role);

    let user = iam_user(&session, "alice").await.unwrap();
    assert_eq!(user.arn, "arn:aws:iam::123456789012:user/team/alice");
    assert_eq!(user.path, "/team/");

    let err = iam_role(&session, "ghost").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "no such role ghost in account 123456789012"
    );
    let err = iam_user(&session, "ghost").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "no such user ghost in account 123456789012"
    );
}

#[tokio::test]
async fn principal_exists_checks_roles_users_and_paths() {
    let moto = MotoServer::start();
    create_role(&moto, ADMIN_ROLE, Some(SSO_PATH)).await;
    create_user_with_key(&moto, "alice", Some("/team/"), false).await;
    let home = TestHome::new();
    let session = admin_session(&moto, &home).await;
    let yes = [
        format!("arn:aws:iam::123456789012:role/{ADMIN_ROLE}"),
        format!("arn:aws:iam::123456789012:role{SSO_PATH}{ADMIN_ROLE}"),
        format!("arn:aws:sts::123456789012:assumed-role/{ADMIN_ROLE}/bob"),
        "arn:aws:iam::123456789012:user/team/alice".to_string(),
        "arn:aws:iam::123456789012:root".to_string(),
    ];
    for arn in &yes {
        assert!(principal_exists(&session, arn).await.unwrap(), "{arn}");
    }
    let no = [
        "arn:aws:iam::123456789012:role/ghost",
        "arn:aws:iam::123456789012:user/ghost",
        // the user exists, but not at this path: aws-auth would never match it
        "arn:aws:iam::123456789012:user/alice",
    ];
    for arn in no {
        assert!(!principal_exists(&session, arn).await.unwrap(), "{arn}");
    }
    let err = principal_exists(&session, "arn:aws:iam::210987654321:role/x")
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::OtherAccount { .. }), "{err:?}");
    let err = principal_exists(&session, "arn:aws:s3:::bucket")
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::InvalidArn { .. }), "{err:?}");
}
