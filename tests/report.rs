//! Issue 12, part 1: `okscript report`. A realistic organisation in moto's Identity Center
//! (two permission sets, groups with several members, a user in two groups), IAM (the
//! AWSReservedSSO roles under their real path, a directly mapped user, a role a user of the
//! account may assume) and an API_AND_CONFIG_MAP cluster in the EKS fake (aws-auth rows, one
//! of them dead and one shadowed by an access entry) — checked row by row through the binary.

use aws_credential_types::Credentials;
use serde_json::Value;

use crate::auth_mode::{block_on, CLUSTER, REGION};
use crate::support::kube_api::AuthMode;
use crate::support::{admin_config, admin_iam, create_user_with_key, EksWorld, ACCOUNT};
use crate::util::{Cmd, Outcome, TestDir};

const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
const ADMIN_ROLE: &str = "AWSReservedSSO_AdminAccess_0123456789abcdef";
const READ_ROLE: &str = "AWSReservedSSO_ReadOnly_abcdef0123456789";
const ODD_GROUP: &str = "Ops \"prod\" [break] {x}";
const POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/";

/// The organisation, the cluster and the caller `ops` (system:masters in aws-auth).
struct Org {
    eks: EksWorld,
    key: String,
    secret: String,
    dir: TestDir,
    store: String,
    instance: String,
    users: Vec<(String, String)>,
    groups: Vec<(String, String)>,
}

fn iam_arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn ic_clients(w: &EksWorld) -> (aws_sdk_ssoadmin::Client, aws_sdk_identitystore::Client) {
    let c = admin_config(
        &w.moto,
        Credentials::new("AKIDADMIN", "admin-secret", None, None, "test"),
    );
    (
        aws_sdk_ssoadmin::Client::new(&c),
        aws_sdk_identitystore::Client::new(&c),
    )
}

impl Org {
    fn new() -> Org {
        let eks = EksWorld::start(CLUSTER, REGION, AuthMode::ApiAndConfigMap);
        let (key, secret) = block_on(create_user_with_key(&eks.moto, "ops", None, true));
        let iam = admin_iam(&eks.moto);
        let trust_ci = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}},{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}"#,
            iam_arn("user", "ci")
        );
        let saml = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO"}},"Action":"sts:AssumeRoleWithSAML"}}]}}"#
        );
        block_on(async {
            for (name, path, trust) in [
                (ADMIN_ROLE, SSO_PATH, saml.as_str()),
                (READ_ROLE, SSO_PATH, saml.as_str()),
                ("deployer", "/", trust_ci.as_str()),
            ] {
                iam.create_role()
                    .role_name(name)
                    .path(path)
                    .assume_role_policy_document(trust)
                    .send()
                    .await
                    .expect("create role");
            }
            for user in ["ci", "bob"] {
                iam.create_user()
                    .user_name(user)
                    .send()
                    .await
                    .expect("user");
            }
        });
        let (admin, ids) = ic_clients(&eks);
        let (instance, store) = block_on(async {
            let i = admin.list_instances().send().await.expect("instances");
            let i = &i.instances()[0];
            (
                i.instance_arn().unwrap().to_string(),
                i.identity_store_id().unwrap().to_string(),
            )
        });
        let mut org = Org {
            eks,
            key,
            secret,
            dir: TestDir::new(),
            store,
            instance,
            users: Vec::new(),
            groups: Vec::new(),
        };
        block_on(async {
            for u in ["alice", "carol", "dave", "erin"] {
                let made = ids
                    .create_user()
                    .identity_store_id(&org.store)
                    .user_name(format!("{u}@example.com"))
                    .display_name(u)
                    .name(
                        aws_sdk_identitystore::types::Name::builder()
                            .given_name(u)
                            .family_name("Example")
                            .build(),
                    )
                    .send()
                    .await
                    .expect("create user");
                org.users.push((u.to_string(), made.user_id().to_string()));
            }
            for g in ["platform-admins", "developers", ODD_GROUP] {
                let made = ids
                    .create_group()
                    .identity_store_id(&org.store)
                    .display_name(g)
                    .send()
                    .await
                    .expect("create group");
                org.groups
                    .push((g.to_string(), made.group_id().to_string()));
            }
        });
        for (g, u) in [
            ("platform-admins", "alice"),
            ("platform-admins", "carol"),
            ("developers", "carol"),
            ("developers", "dave"),
        ] {
            org.join(g, u);
        }
        let admin_set = org.permission_set("AdminAccess");
        let read_set = org.permission_set("ReadOnly");
        org.assign(&admin_set, "GROUP", &org.group("platform-admins"));
        org.assign(&read_set, "GROUP", &org.group("developers"));
        org.assign(&read_set, "USER", &org.user("erin"));
        org.assign(&read_set, "GROUP", &org.group(ODD_GROUP));

        org.eks.kube.seed_aws_auth(&[
            (
                "mapRoles",
                &format!(
                    "- rolearn: {}\n  username: admin:{{{{SessionName}}}}\n  groups:\n  - system:masters\n- rolearn: {}\n  username: deployer\n  groups:\n  - deployers\n",
                    iam_arn("role", ADMIN_ROLE),
                    iam_arn("role", "deployer")
                ),
            ),
            (
                "mapUsers",
                &format!(
                    "- userarn: {}\n  username: ops\n  groups:\n  - system:masters\n- userarn: {}\n  username: bob\n  groups:\n  - viewers\n- userarn: {}\n  username: gone\n  groups:\n  - system:masters\n",
                    iam_arn("user", "ops"),
                    iam_arn("user", "bob"),
                    iam_arn("user", "gone")
                ),
            ),
            ("mapAccounts", "- \"444455556666\"\n"),
        ]);
        org.entry(
            &iam_arn("role", &format!("{}{READ_ROLE}", &SSO_PATH[1..])),
            "AmazonEKSViewPolicy",
            None,
        );
        org.entry(&iam_arn("user", "bob"), "AmazonEKSEditPolicy", Some("dev"));
        org
    }

    fn user(&self, name: &str) -> String {
        self.users.iter().find(|u| u.0 == name).unwrap().1.clone()
    }

    fn group(&self, name: &str) -> String {
        self.groups.iter().find(|g| g.0 == name).unwrap().1.clone()
    }

    fn join(&self, group: &str, user: &str) {
        let (_, ids) = ic_clients(&self.eks);
        block_on(
            ids.create_group_membership()
                .identity_store_id(&self.store)
                .group_id(self.group(group))
                .member_id(aws_sdk_identitystore::types::MemberId::UserId(
                    self.user(user),
                ))
                .send(),
        )
        .expect("membership");
    }

    fn permission_set(&self, name: &str) -> String {
        let (admin, _) = ic_clients(&self.eks);
        let out = block_on(
            admin
                .create_permission_set()
                .instance_arn(&self.instance)
                .name(name)
                // moto's default is the number 3600 where AWS (and the SDK) use an ISO 8601
                // duration string; given one, moto echoes it.
                .session_duration("PT1H")
                .send(),
        )
        .expect("permission set");
        out.permission_set()
            .unwrap()
            .permission_set_arn()
            .unwrap()
            .to_string()
    }

    fn assign(&self, set: &str, kind: &str, id: &str) {
        let (admin, _) = ic_clients(&self.eks);
        block_on(
            admin
                .create_account_assignment()
                .instance_arn(&self.instance)
                .target_id(ACCOUNT)
                .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
                .permission_set_arn(set)
                .principal_type(kind.into())
                .principal_id(id)
                .send(),
        )
        .expect("assignment");
    }

    fn entry(&self, arn: &str, policy: &str, namespace: Option<&str>) {
        let eks = self.eks.eks_client();
        let scope = match namespace {
            None => aws_sdk_eks::types::AccessScope::builder()
                .r#type(aws_sdk_eks::types::AccessScopeType::Cluster)
                .build(),
            Some(ns) => aws_sdk_eks::types::AccessScope::builder()
                .r#type(aws_sdk_eks::types::AccessScopeType::Namespace)
                .namespaces(ns)
                .build(),
        };
        block_on(async {
            eks.create_access_entry()
                .cluster_name(CLUSTER)
                .principal_arn(arn)
                .send()
                .await
                .expect("create entry");
            eks.associate_access_policy()
                .cluster_name(CLUSTER)
                .principal_arn(arn)
                .policy_arn(format!("{POLICY}{policy}"))
                .access_scope(scope)
                .send()
                .await
                .expect("associate");
        });
    }

    /// `okscript report --cluster my-cluster ARGS...` as ops.
    fn report(&self, args: &[&str]) -> Outcome {
        self.okscript()
            .arg("report")
            .args(["--cluster", CLUSTER])
            .args(args)
            .run()
    }

    fn okscript(&self) -> Cmd {
        let mut cmd = self
            .dir
            .cmd()
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("OKSCRIPT_AWS_CREDENTIALS_TYPE", "access-key");
        for (k, v) in self.eks.env() {
            cmd = cmd.env(&k, &v);
        }
        cmd
    }

    /// Every output must be free of the caller's secret key.
    fn assert_no_secret(&self, out: &Outcome) {
        assert!(
            !out.stdout.contains(&self.secret) && !out.stderr.contains(&self.secret),
            "the secret key leaked:\n{out}"
        );
    }
}

fn json(out: &Outcome) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{out}"))
}

/// `access | effective | principal | path` of every row, in the report's order.
fn rows(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let path: Vec<&str> = r["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["name"].as_str().unwrap())
                .collect();
            format!(
                "{} | {} | {} | {}",
                r["access"].as_str().unwrap(),
                r["effective"],
                r["principal"].as_str().unwrap(),
                path.join(" > ")
            )
        })
        .collect()
}

#[test]
fn the_json_report_follows_every_path_from_people_to_access_row_by_row() {
    let org = Org::new();
    let out = org.report(&["--output", "json"]);
    out.expect_code(0);
    org.assert_no_secret(&out);
    let r = json(&out);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["cluster"], CLUSTER);
    assert_eq!(r["account"], ACCOUNT);
    assert_eq!(r["authentication_mode"], "API_AND_CONFIG_MAP");
    assert_eq!(r["partial"], false, "{out}");
    assert_eq!(r["identity_center"], org.instance.as_str());
    let admin = iam_arn("role", ADMIN_ROLE);
    let read = iam_arn("role", READ_ROLE);
    let ops = iam_arn("user", "ops");
    let bob = iam_arn("user", "bob");
    let ci = iam_arn("user", "ci");
    let deployer = iam_arn("role", "deployer");
    let gone = iam_arn("user", "gone");
    let expected = vec![
        format!("cluster-admin | true | alice@example.com | alice@example.com > platform-admins > AdminAccess > {admin} > aws-auth mapRoles"),
        format!("cluster-admin | true | {ops} | {ops} > aws-auth mapUsers"),
        format!("cluster-admin | true | carol@example.com | carol@example.com > platform-admins > AdminAccess > {admin} > aws-auth mapRoles"),
        format!("edit | true | {bob} | {bob} > access entry"),
        format!("view | true | {ODD_GROUP} | {ODD_GROUP} > ReadOnly > {read} > access entry"),
        format!("view | true | carol@example.com | carol@example.com > developers > ReadOnly > {read} > access entry"),
        format!("view | true | dave@example.com | dave@example.com > developers > ReadOnly > {read} > access entry"),
        format!("view | true | erin@example.com | erin@example.com > ReadOnly > {read} > access entry"),
        format!("custom | true | {ci} | {ci} > {deployer} > aws-auth mapRoles"),
        "none | true | every principal of account 444455556666 | every principal of account 444455556666 > aws-auth mapAccounts".to_string(),
        format!("cluster-admin | false | {gone} | {gone} > aws-auth mapUsers"),
        format!("custom | false | {bob} | {bob} > aws-auth mapUsers"),
    ];
    assert_eq!(rows(&r), expected, "{out}");
    let all = r["rows"].as_array().unwrap();
    let alice = &all[0];
    assert_eq!(alice["principal_kind"], "sso-user");
    assert_eq!(alice["mapping"]["source"], "aws-auth");
    assert_eq!(alice["mapping"]["username"], "admin:{{SessionName}}");
    assert_eq!(alice["mapping"]["groups"][0], "system:masters");
    let bob_entry = &all[3];
    assert_eq!(
        bob_entry["mapping"]["policies"][0]["name"],
        "AmazonEKSEditPolicy"
    );
    assert_eq!(bob_entry["mapping"]["policies"][0]["scope"], "namespace");
    assert_eq!(bob_entry["mapping"]["policies"][0]["namespaces"][0], "dev");
    assert_eq!(all[4]["principal_kind"], "sso-group");
    assert_eq!(all[4]["notes"][0], "the group has no members");
    assert_eq!(all[8]["custom_groups"][0], "deployers");
    let dead = &all[10];
    assert!(
        dead["dead"]
            .as_str()
            .unwrap()
            .contains("IAM user arn:aws:iam::123456789012:user/gone does not exist"),
        "{dead}"
    );
    let shadowed = &all[11];
    assert_eq!(shadowed["shadowed"], true);
    assert_eq!(shadowed["dead"], Value::Null);
}

#[test]
fn the_table_groups_by_access_cluster_admin_first() {
    let org = Org::new();
    let out = org.report(&[]);
    out.expect_code(0);
    org.assert_no_secret(&out);
    let t = &out.stdout;
    assert!(t.starts_with(&format!("Access report: cluster {CLUSTER} (account {ACCOUNT}, region {REGION}, authenticationMode API_AND_CONFIG_MAP)\n")), "{out}");
    let order = [
        "\ncluster-admin (3)\n  alice@example.com",
        "\nedit (1)\n",
        "\nview (4)\n",
        "\ncustom: deployers (1)\n",
        "\nnone (1)\n",
        "\nnot in effect (2)\n",
    ];
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s:?} missing:\n{out}"));
    for w in order.windows(2) {
        assert!(at(w[0]) < at(w[1]), "{:?} before {:?}:\n{out}", w[0], w[1]);
    }
    assert!(t.contains("[shadowed by an access entry]"), "{out}");
    assert!(
        t.contains(
            "[dead: IAM user arn:aws:iam::123456789012:user/gone does not exist (deleted?)]"
        ),
        "{out}"
    );
}

#[test]
fn markdown_carries_a_mermaid_flowchart_no_odd_name_can_break() {
    let org = Org::new();
    let out = org.report(&["--output", "markdown"]);
    out.expect_code(0);
    let md = &out.stdout;
    assert!(
        md.starts_with("# Access report: cluster my-cluster"),
        "{out}"
    );
    let block = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("no mermaid block:\n{out}"));
    assert!(block.starts_with("flowchart LR\n"), "{block}");
    for needle in [
        "[\"sso-user: alice@example.com\"]",
        "[\"permission-set: AdminAccess\"]",
        "[\"sso-group: Ops #34;prod#34; #91;break#93; #123;x#125;\"]",
        "[\"cluster-admin\"]",
        " -. shadowed .-> ",
        " -. dead .-> ",
    ] {
        assert!(block.contains(needle), "{needle}\n{block}");
    }
    for line in block.lines().skip(1) {
        let node =
            line.starts_with("    n") && line.ends_with("\"]") && line.matches('"').count() == 2;
        let edge = line.starts_with("    n")
            && !line.contains('"')
            && (line.contains(" --> n") || line.contains(" .-> n"));
        assert!(node || edge, "a line the diagram cannot parse: {line}");
    }
}

#[test]
fn diff_exits_0_unchanged_and_2_after_a_new_admin_grant() {
    let org = Org::new();
    let base = org.report(&["--output", "json"]);
    base.expect_code(0);
    org.dir.write("old.json", &base.stdout);
    let same = org.report(&["--diff", "old.json", "--detailed-exitcode"]);
    same.expect_code(0)
        .expect_stdout(&["no change in who can reach the cluster"]);
    // dave joins the admins in Identity Center: a new path to cluster-admin.
    org.join("platform-admins", "dave");
    let out = org.report(&["--diff", "old.json", "--detailed-exitcode"]);
    out.expect_code(2).expect_stdout(&[&format!(
        "+ dave@example.com gained cluster-admin via dave@example.com → platform-admins → AdminAccess → {} → aws-auth mapRoles",
        iam_arn("role", ADMIN_ROLE)
    )]);
    org.assert_no_secret(&out);
    let j = json(&org.report(&["--diff", "old.json", "--output", "json"]));
    assert_eq!(j["gained"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(j["gained"][0]["after"], "cluster-admin");
    assert_eq!(j["lost"].as_array().unwrap().len(), 0);
    // Without --detailed-exitcode a change is still a success.
    org.report(&["--diff", "old.json"]).expect_code(0);

    let mut other: Value = serde_json::from_str(&base.stdout).unwrap();
    other["schema_version"] = 2.into();
    org.dir.write("v2.json", other.to_string());
    org.report(&["--diff", "v2.json"])
        .expect_code(64)
        .expect_stderr(&[
            "v2.json has schema_version 2, this okscript writes 1",
            "hint: make a new baseline",
        ]);
    other["schema_version"] = 1.into();
    other["cluster"] = "staging".into();
    org.dir.write("staging.json", other.to_string());
    org.report(&["--diff", "staging.json"])
        .expect_code(64)
        .expect_stderr(&["staging.json is a report of cluster staging, not my-cluster"]);
}

/// A server that answers every request as AWS does when IAM denies the call.
fn denying_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then the body by its length, then the answer.
            while let Ok(n) = s.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let body = r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sso:ListInstances"}"#;
            let _ = write!(
                s,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: AccessDeniedException\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn without_identity_center_access_the_report_is_partial_and_says_why() {
    let org = Org::new();
    let denied = denying_server();
    let out = org
        .okscript()
        .env("AWS_ENDPOINT_URL_SSO_ADMIN", &denied)
        .args(["report", "--cluster", CLUSTER, "--output", "json"])
        .run();
    out.expect_code(0).expect_stderr(&[
        "warning: partial report: identity-center not visible: ",
        "AccessDeniedException",
    ]);
    org.assert_no_secret(&out);
    let r = json(&out);
    assert_eq!(r["partial"], true);
    assert_eq!(r["not_visible"][0]["part"], "identity-center");
    assert!(
        r["not_visible"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("sso:ListInstances"),
        "{r}"
    );
    assert_eq!(r["identity_center"], Value::Null);
    let got = rows(&r);
    // The IAM, aws-auth and entry parts are all there; SSO paths end at the permission set.
    assert_eq!(
        got[0],
        format!(
            "cluster-admin | true | AdminAccess | AdminAccess > {} > aws-auth mapRoles",
            iam_arn("role", ADMIN_ROLE)
        )
    );
    assert!(
        got.contains(&format!(
            "view | true | ReadOnly | ReadOnly > {} > access entry",
            iam_arn("role", READ_ROLE)
        )),
        "{got:#?}"
    );
    assert!(
        got.iter().any(|l| l
            .ends_with("user/ci > arn:aws:iam::123456789012:role/deployer > aws-auth mapRoles")),
        "{got:#?}"
    );
    let text = org
        .okscript()
        .env("AWS_ENDPOINT_URL_SSO_ADMIN", &denied)
        .args(["report", "--cluster", CLUSTER])
        .run();
    text.expect_code(0)
        .expect_stdout(&["PARTIAL REPORT: not visible:\n  identity-center: "]);
}

#[test]
fn a_report_needs_an_eks_cluster_name() {
    let dir = TestDir::new();
    dir.cmd()
        .arg("report")
        .run()
        .expect_code(64)
        .expect_stderr(&["needs the EKS cluster's name", "hint: pass --cluster NAME"]);
    dir.cmd()
        .args(["report", "--detailed-exitcode", "--cluster", "x"])
        .run()
        .expect_code(64)
        .expect_stderr(&["--diff"]);
}

#[test]
fn scripts_get_the_same_rows_from_report() {
    let org = Org::new();
    let script = org.dir.write(
        "who.rhai",
        "let r = report();\nfor row in r.rows { if row.access == \"cluster-admin\" && row.effective { print(row.principal); } }\nprint(`partial=${r.partial} rows=${r.rows.len()}`);\n",
    );
    let out = org
        .okscript()
        .args(["run", &script, "--cluster", CLUSTER])
        .run();
    out.expect_code(0).expect_stdout(&[&format!(
        "alice@example.com\n{}\ncarol@example.com\npartial=false rows=12\n",
        iam_arn("user", "ops")
    )]);
    org.assert_no_secret(&out);
    let typo = org
        .dir
        .write("typo.rhai", "report(#{sso_regoin: \"us-east-1\"});\n");
    org.okscript()
        .args(["run", &typo, "--cluster", CLUSTER])
        .run()
        .expect_code(1)
        .expect_stderr(&["report() has no option `sso_regoin`", "sso_region"]);
}

#[test]
fn an_entry_whose_role_was_deleted_and_recreated_is_flagged_dead() {
    let org = Org::new();
    // IAM gives a new unique ID to the new role; the entry still holds the old one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let iam = admin_iam(&org.eks.moto);
    block_on(async {
        iam.delete_role()
            .role_name(READ_ROLE)
            .send()
            .await
            .expect("delete");
        iam.create_role()
            .role_name(READ_ROLE)
            .path(SSO_PATH)
            .assume_role_policy_document(crate::support::TRUST_ALL)
            .send()
            .await
            .expect("recreate");
    });
    let r = json(&org.report(&["--output", "json"]));
    let dave = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["principal"] == "dave@example.com")
        .expect("dave's row");
    assert_eq!(dave["effective"], false, "{dave}");
    assert!(
        dave["dead"]
            .as_str()
            .unwrap()
            .contains("was created after its access entry (deleted and recreated?)"),
        "{dave}"
    );
}

#[test]
fn identity_center_is_read_where_the_flags_say() {
    let org = Org::new();
    // The management account's login, by profile (here: the same keys, another name).
    org.dir.write(
        ".aws/credentials",
        format!(
            "[management]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            org.key, org.secret
        ),
    );
    let r = json(&org.report(&["--output", "json", "--sso-profile", "management"]));
    assert_eq!(r["partial"], false, "{r}");
    assert_eq!(r["identity_center"], org.instance.as_str());
    assert_eq!(r["rows"][0]["principal"], "alice@example.com");

    // Another region holds another instance, without these assignments.
    let r = json(&org.report(&["--output", "json", "--sso-region", "us-east-1"]));
    assert_ne!(r["identity_center"], org.instance.as_str(), "{r}");
    assert_eq!(r["rows"][0]["principal"], "AdminAccess");
    assert!(r["rows"][0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("permission set AdminAccess has no assignment on this account"));

    let out = org.report(&[
        "--output",
        "json",
        "--sso-instance-arn",
        "arn:aws:sso:::instance/ssoins-nope",
    ]);
    out.expect_code(0);
    let r = json(&out);
    assert_eq!(r["partial"], true);
    assert!(r["not_visible"][0]["reason"].as_str().unwrap().contains(
        "Identity Center instance arn:aws:sso:::instance/ssoins-nope is not among the instances in region eu-west-1"
    ), "{r}");

    let out = org.report(&["--output", "json", "--sso-profile", "nobody"]);
    out.expect_code(0).expect_stderr(&[
        "partial report: identity-center not visible: cannot log in with --sso-profile nobody",
    ]);
    org.assert_no_secret(&out);
}
