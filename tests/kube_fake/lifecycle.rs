//! The fake's life: one per test, on its own port with its own CA, gone when dropped; and
//! the aws-auth fixtures of `tests/data/aws-auth` (read with `util::fixture_text`, under
//! `CARGO_MANIFEST_DIR`) seeded into it map callers the way the authenticator would.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::kube_api::{map_identity, Identity, KubeApi, MapError, Options};
use crate::util::fixture_text;

fn port(api: &KubeApi) -> u16 {
    api.url().rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn two_servers_share_nothing_and_each_stops_on_drop() {
    let a = KubeApi::start(Options::new().admin_token("a"));
    let b = KubeApi::start(Options::new().admin_token("b"));
    assert_ne!(a.url(), b.url());
    assert_ne!(a.ca_pem(), b.ca_pem());
    assert!(a.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(std::fs::read_to_string(a.ca_file()).unwrap(), a.ca_pem());
    a.seed_aws_auth(&[("mapRoles", "[]")]);
    assert!(b.config_map("kube-system", "aws-auth").is_none());

    let (port, ca_file) = (port(&a), a.ca_file().to_path_buf());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "port {port} still accepts after drop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!ca_file.exists(), "the temp dir goes with the server");
    assert!(TcpStream::connect(("127.0.0.1", self::port(&b))).is_ok());
}

#[tokio::test]
async fn it_can_be_started_and_dropped_inside_an_async_test() {
    let api = KubeApi::start(Options::new());
    assert!(api.url().starts_with("https://127.0.0.1:"));
    drop(api);
}

fn identity(arn: &str) -> Identity {
    Identity::from_sts(arn, "123456789012", "AROAEXAMPLE:s", "ASIAEXAMPLE").unwrap()
}

fn data_of(api: &KubeApi) -> std::collections::BTreeMap<String, String> {
    serde_json::from_value(api.config_map("kube-system", "aws-auth").unwrap()["data"].clone())
        .unwrap()
}

#[test]
fn aws_auth_fixtures_map_like_the_authenticator() {
    let api = KubeApi::start(Options::new());

    // sso-and-users: the SSO role (as a session) is an admin with its session in the name.
    let seeded = api.seed_config_map_yaml(&fixture_text("sso-and-users"));
    assert_ne!(
        seeded["metadata"]["resourceVersion"], "48213",
        "server-set fields are fresh"
    );
    let sso = identity("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef/jane@example.com");
    let user = map_identity(&data_of(&api), &sso).unwrap();
    assert_eq!(user.username, "admin:jane-example.com");
    assert!(user.groups.contains(&"system:masters".to_string()));

    // broken-tabs: mapRoles does not parse, so even the admin role is gone.
    api.seed_config_map_yaml(&fixture_text("broken-tabs"));
    let admin = identity("arn:aws:sts::123456789012:assumed-role/admin/s");
    assert!(matches!(
        map_identity(&data_of(&api), &admin),
        Err(MapError::NotMapped(_))
    ));

    // broken-shape: mapUsers is a mapping, not a list, so the user is not mapped.
    api.seed_config_map_yaml(&fixture_text("broken-shape"));
    let user = Identity::from_sts(
        "arn:aws:iam::123456789012:user/someone@email.com",
        "123456789012",
        "AIDA",
        "AKIA",
    )
    .unwrap();
    assert!(matches!(
        map_identity(&data_of(&api), &user),
        Err(MapError::NotMapped(_))
    ));
}
