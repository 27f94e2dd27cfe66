//! The fake apiserver proven with the real `kubectl`: discovery, get, apply (create and
//! update), patch, `auth can-i`, RBAC denials, bad tokens and injected faults, each checked
//! against what kubectl printed and what the request log shows it did.

use super::{have_kubectl, kubectl, kubectl_with_stdin, Outcome};
use crate::support::kube_api::{KubeApi, LoggedRequest, Options, Rule, User};
use serde_json::Value;

const AWS_AUTH_ROLES: &str = "- rolearn: arn:aws:iam::123456789012:role/eks-admin\n  username: admin:{{SessionName}}\n  groups:\n  - system:masters\n";

const SETTINGS_V1: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: \"1\"\n  b: \"2\"\n";
const SETTINGS_V2: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: \"1\"\n  c: \"3\"\n";

struct Cluster {
    api: KubeApi,
    home: tempfile::TempDir,
    admin: std::path::PathBuf,
    viewer: std::path::PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let api = KubeApi::start(
            Options::new()
                .admin_token("admin-token")
                .token("viewer-token", User::new("viewer").group("viewers"))
                .allow(Rule::user("viewer", &["get"], &["configmaps"]).in_namespace("kube-system")),
        );
        let home = tempfile::tempdir().expect("temp HOME");
        let admin = home.path().join("admin.kubeconfig");
        let viewer = home.path().join("viewer.kubeconfig");
        api.write_kubeconfig(&admin, "admin-token");
        api.write_kubeconfig(&viewer, "viewer-token");
        Cluster {
            api,
            home,
            admin,
            viewer,
        }
    }

    fn admin(&self, args: &[&str]) -> Outcome {
        kubectl(self.home.path(), &self.admin, args)
    }

    fn viewer(&self, args: &[&str]) -> Outcome {
        kubectl(self.home.path(), &self.viewer, args)
    }

    fn apply(&self, manifest: &str) -> Outcome {
        kubectl_with_stdin(
            self.home.path(),
            &self.admin,
            &["apply", "-f", "-"],
            Some(manifest),
        )
    }

    /// Requests other than discovery, as `METHOD path -> status`.
    fn calls(&self) -> Vec<LoggedRequest> {
        self.api
            .requests()
            .into_iter()
            .filter(|r| !is_discovery(&r.path))
            .collect()
    }
}

fn is_discovery(path: &str) -> bool {
    path == "/version"
        || path == "/api"
        || path == "/apis"
        || path == "/api/v1"
        || path.starts_with("/apis/authentication.k8s.io/v1") && !path.ends_with("reviews")
        || path.starts_with("/apis/authorization.k8s.io/v1") && !path.ends_with("reviews")
        || path.starts_with("/openapi")
}

fn ok(outcome: Outcome) -> String {
    assert_eq!(outcome.code, 0, "kubectl failed: {outcome:#?}");
    outcome.stdout
}

#[test]
fn kubectl_reads_version_and_a_seeded_config_map() {
    if !have_kubectl() {
        return;
    }
    let c = Cluster::start();
    c.api.seed_aws_auth(&[("mapRoles", AWS_AUTH_ROLES)]);

    let version: Value = serde_json::from_str(&ok(c.admin(&["get", "--raw", "/version"]))).unwrap();
    assert!(version["gitVersion"]
        .as_str()
        .unwrap()
        .starts_with("v1.31."));

    let cm: Value = serde_json::from_str(&ok(c.admin(&[
        "-n",
        "kube-system",
        "get",
        "configmap",
        "aws-auth",
        "-o",
        "json",
    ])))
    .unwrap();
    assert_eq!(cm["data"]["mapRoles"], AWS_AUTH_ROLES);
    assert_eq!(
        cm["metadata"]["resourceVersion"],
        c.api.config_map("kube-system", "aws-auth").unwrap()["metadata"]["resourceVersion"]
    );

    let calls = c.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(
        calls[0].summary(),
        "GET /api/v1/namespaces/kube-system/configmaps/aws-auth -> 200"
    );
    assert_eq!(calls[0].user.as_deref(), Some("kubernetes-admin"));

    let missing = c.admin(&["-n", "kube-system", "get", "configmap", "nope"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("configmaps \"nope\" not found"),
        "{missing:?}"
    );
}

#[test]
fn kubectl_apply_creates_then_updates_with_a_strategic_merge_patch() {
    if !have_kubectl() {
        return;
    }
    let c = Cluster::start();
    let created = ok(c.apply(SETTINGS_V1));
    assert_eq!(created.trim(), "configmap/settings created");
    let first = c.api.config_map("default", "settings").unwrap();
    assert_eq!(first["data"], serde_json::json!({"a": "1", "b": "2"}));
    assert!(
        first["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );

    let configured = ok(c.apply(SETTINGS_V2));
    assert_eq!(configured.trim(), "configmap/settings configured");
    let second = c.api.config_map("default", "settings").unwrap();
    assert_eq!(second["data"], serde_json::json!({"a": "1", "c": "3"}));
    let rv = |v: &Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&second) > rv(&first));
    assert_eq!(second["metadata"]["uid"], first["metadata"]["uid"]);

    let writes: Vec<LoggedRequest> = c
        .calls()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert_eq!(writes.len(), 2, "{writes:#?}");
    assert_eq!(writes[0].method, "POST");
    assert!(
        writes[0].query.contains("fieldValidation=Strict"),
        "{:?}",
        writes[0]
    );
    assert_eq!(writes[1].method, "PATCH");
    assert_eq!(
        writes[1].content_type,
        "application/strategic-merge-patch+json"
    );
    let patch: Value = serde_json::from_str(&writes[1].body).unwrap();
    assert_eq!(patch["data"], serde_json::json!({"b": null, "c": "3"}));

    // Applying the same manifest again changes nothing.
    assert_eq!(
        ok(c.apply(SETTINGS_V2)).trim(),
        "configmap/settings unchanged"
    );

    // Server-side apply works too.
    let ssa = kubectl_with_stdin(
        c.home.path(),
        &c.admin,
        &["apply", "--server-side", "-f", "-"],
        Some(SETTINGS_V1),
    );
    assert_eq!(ok(ssa).trim(), "configmap/settings serverside-applied");
    let last = c
        .api
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(last.content_type, "application/apply-patch+yaml");

    // A typo'd field is refused by the server's strict field validation.
    let typo = c.apply(&SETTINGS_V1.replace("\ndata:", "\ndtaa:"));
    assert_eq!(typo.code, 1);
    assert!(typo.stderr.contains("unknown field \"dtaa\""), "{typo:?}");
}

#[test]
fn kubectl_patch_merge_and_get_pods() {
    if !have_kubectl() {
        return;
    }
    let c = Cluster::start();
    c.api.seed_pod("default", "web-0");
    c.api.seed_pod("default", "web-1");
    c.api.seed_pod("other", "elsewhere");
    ok(c.apply(SETTINGS_V1));

    let patched = ok(c.admin(&[
        "patch",
        "configmap",
        "settings",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"d":"4","a":null}}"#,
    ]));
    assert_eq!(patched.trim(), "configmap/settings patched");
    assert_eq!(
        c.api.config_map("default", "settings").unwrap()["data"],
        serde_json::json!({"b": "2", "d": "4"})
    );
    let patch = c
        .calls()
        .into_iter()
        .rev()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.content_type, "application/merge-patch+json");

    let json_patch = ok(c.admin(&[
        "patch",
        "configmap",
        "settings",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/data/b","value":"two"}]"#,
    ]));
    assert_eq!(json_patch.trim(), "configmap/settings patched");
    assert_eq!(
        c.api.config_map("default", "settings").unwrap()["data"]["b"],
        "two"
    );

    let pods = ok(c.admin(&["get", "pods"]));
    assert!(
        pods.contains("web-0") && pods.contains("web-1") && !pods.contains("elsewhere"),
        "{pods}"
    );
    assert!(
        pods.starts_with("NAME"),
        "kubectl printed the server's Table: {pods}"
    );
    let names = ok(c.admin(&[
        "get",
        "pods",
        "-A",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]));
    let mut names: Vec<&str> = names.split_whitespace().collect();
    names.sort();
    assert_eq!(names, ["elsewhere", "web-0", "web-1"]);

    let deleted = ok(c.admin(&["delete", "configmap", "settings"]));
    assert_eq!(deleted.trim(), "configmap \"settings\" deleted");
    assert!(c.api.config_map("default", "settings").is_none());
}

#[test]
fn kubectl_auth_can_i_and_rbac_denials() {
    if !have_kubectl() {
        return;
    }
    let c = Cluster::start();
    c.api.seed_aws_auth(&[("mapRoles", AWS_AUTH_ROLES)]);

    let admin = c.admin(&["auth", "can-i", "list", "pods"]);
    assert_eq!((admin.code, admin.stdout.trim()), (0, "yes"));
    let viewer = c.viewer(&["auth", "can-i", "list", "pods"]);
    assert_eq!((viewer.code, viewer.stdout.trim()), (1, "no"));
    let viewer_get = c.viewer(&["auth", "can-i", "get", "configmaps", "-n", "kube-system"]);
    assert_eq!((viewer_get.code, viewer_get.stdout.trim()), (0, "yes"));
    let reviews: Vec<LoggedRequest> = c
        .calls()
        .into_iter()
        .filter(|r| r.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .collect();
    assert_eq!(reviews.len(), 3);
    assert_eq!(reviews[1].user.as_deref(), Some("viewer"));

    let whoami: Value =
        serde_json::from_str(&ok(c.viewer(&["auth", "whoami", "-o", "json"]))).unwrap();
    assert_eq!(whoami["status"]["userInfo"]["username"], "viewer");
    assert_eq!(
        whoami["status"]["userInfo"]["groups"],
        serde_json::json!(["viewers", "system:authenticated"])
    );

    // The viewer may read aws-auth but not change it or list pods.
    ok(c.viewer(&["-n", "kube-system", "get", "configmap", "aws-auth"]));
    let denied = c.viewer(&[
        "-n",
        "kube-system",
        "patch",
        "configmap",
        "aws-auth",
        "--type",
        "merge",
        "-p",
        "{}",
    ]);
    assert_eq!(denied.code, 1);
    assert!(denied.stderr.contains(r#"configmaps "aws-auth" is forbidden: User "viewer" cannot patch resource "configmaps" in API group "" in the namespace "kube-system""#), "{denied:?}");
    let pods = c.viewer(&["get", "pods"]);
    assert!(pods.stderr.contains(r#"pods is forbidden: User "viewer" cannot list resource "pods" in API group "" in the namespace "default""#), "{pods:?}");

    // A bad token is 401, which kubectl reports as not logged in.
    let bad = kubectl(
        c.home.path(),
        &c.admin,
        &["--token", "wrong", "get", "pods"],
    );
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("Unauthorized"), "{bad:?}");
    let last = c.api.requests().pop().unwrap();
    assert_eq!((last.status, last.user), (401, None));
}

#[test]
fn faults_reach_kubectl() {
    if !have_kubectl() {
        return;
    }
    let c = Cluster::start();
    ok(c.apply(SETTINGS_V1));

    // kubectl apply retries a patch that meets a 409.
    c.api.faults().conflict_next_writes(1);
    assert_eq!(
        ok(c.apply(SETTINGS_V2)).trim(),
        "configmap/settings configured"
    );
    let patches: Vec<u16> = c
        .calls()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(patches, vec![409, 200]);

    // kubectl patch does not: it reports the apiserver's message.
    c.api.faults().conflict_next_writes(1);
    let conflict = c.admin(&[
        "patch",
        "configmap",
        "settings",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"x":"1"}}"#,
    ]);
    assert_eq!(conflict.code, 1);
    assert!(conflict.stderr.contains(r#"Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again"#), "{conflict:?}");
    assert!(c.api.config_map("default", "settings").unwrap()["data"]["x"].is_null());

    // 500s.
    c.api.clear_requests();
    c.api.faults().fail_next_requests(1);
    let failed = c.admin(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps/settings",
    ]);
    assert_eq!(
        failed.code,
        1,
        "{failed:?} {:#?}",
        c.api
            .requests()
            .iter()
            .map(|r| r.summary())
            .collect::<Vec<_>>()
    );
    assert!(failed.stderr.contains("injected fault"), "{failed:?}");

    // A dropped connection.
    c.api.faults().drop_next_requests(1);
    let dropped = c.admin(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps/settings",
    ]);
    let log = c.api.requests();
    assert!(log.iter().any(|r| r.status == 0), "{log:#?}");
    // kubectl reports the broken connection (it does not retry the GET).
    assert_eq!(dropped.code, 1, "{dropped:?}");
    // Depending on timing Go sees the close as an EOF or a reset.
    assert!(
        dropped.stderr.contains("EOF") || dropped.stderr.contains("connection reset by peer"),
        "{dropped:?}"
    );

    // A delay.
    c.api
        .faults()
        .set_delay(std::time::Duration::from_millis(300));
    let start = std::time::Instant::now();
    ok(c.admin(&["get", "--raw", "/version"]));
    assert!(start.elapsed() >= std::time::Duration::from_millis(300));
    c.api.faults().clear();
}
