//! Issue 11: EKS access entries as a target. The same scripts as for aws-auth run against
//! the EKS fake (`support::EksWorld`): grants become the minimal EKS calls, role ARNs their
//! real ARN with the path, `system:masters` the ClusterAdmin policy; dry runs write nothing;
//! a second run makes no write call; 409s are adopted; concurrent writers all land; a failed
//! call is reported with what had landed, and a re-run completes.

use crate::auth_mode::{block_on, parts, World, CLUSTER};
use crate::support::eks_api::Fault;
use crate::support::kube_api::AuthMode;
use crate::support::{create_role, create_user_with_key, ACCOUNT};
use crate::util::{script, Outcome};

const WRITES: [&str; 5] = [
    "CreateAccessEntry",
    "UpdateAccessEntry",
    "DeleteAccessEntry",
    "AssociateAccessPolicy",
    "DisassociateAccessPolicy",
];
const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const SSO_NAME: &str = "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";

/// An entry as the EKS fake holds it: type, username, groups, and `POLICY@SCOPE` strings.
#[derive(Debug, PartialEq)]
struct Held {
    kind: String,
    username: String,
    groups: Vec<String>,
    policies: Vec<String>,
}

impl World {
    fn eks_writes(&self) -> usize {
        WRITES.iter().map(|op| self.eks.eks.count(op)).sum()
    }

    fn entry(&self, arn: &str) -> Option<Held> {
        let client = self.eks.eks_client();
        let out = block_on(
            client
                .describe_access_entry()
                .cluster_name(CLUSTER)
                .principal_arn(arn)
                .send(),
        )
        .ok()?;
        let e = out.access_entry()?;
        let policies = block_on(
            client
                .list_associated_access_policies()
                .cluster_name(CLUSTER)
                .principal_arn(arn)
                .send(),
        )
        .expect("policies");
        Some(Held {
            kind: e.r#type().unwrap_or_default().into(),
            username: e.username().unwrap_or_default().into(),
            groups: e.kubernetes_groups().to_vec(),
            policies: policies
                .associated_access_policies()
                .iter()
                .map(|p| {
                    let scope = p
                        .access_scope()
                        .and_then(|s| s.r#type())
                        .map(|t| t.as_str().to_string());
                    format!(
                        "{}@{}",
                        p.policy_arn().unwrap_or_default(),
                        scope.unwrap_or_default()
                    )
                })
                .collect(),
        })
    }

    fn grant_as(&self, arn: &str, groups: &str, args: &[&str]) -> Outcome {
        self.okscript()
            .arg("run")
            .arg(script("grant-role.rhai"))
            .args(["--cluster", CLUSTER])
            .args(args)
            .set("arn", arn)
            .set("groups", groups)
            .run()
    }
}

fn role(w: &World, name: &str, path: Option<&str>) -> String {
    block_on(create_role(&w.eks.moto, name, path))
}

#[test]
fn the_same_grant_script_writes_aws_auth_or_access_entries_by_the_clusters_mode() {
    for (mode, word) in [
        (AuthMode::ConfigMap, "CONFIG_MAP"),
        (AuthMode::ApiAndConfigMap, "API_AND_CONFIG_MAP"),
        (AuthMode::Api, "API"),
    ] {
        let w = World::new(mode);
        let arn = role(&w, "deployer", Some("/team/"));
        let path_less = format!("arn:aws:iam::{ACCOUNT}:role/deployer");
        let before = w.aws_auth();
        let out = w.grant_as(&path_less, "devs", &[]);
        if mode == AuthMode::ConfigMap {
            out.expect_code(0).expect_stdout(&[&format!(
                "aws-auth ConfigMap kube-system/aws-auth in cluster my-cluster (authenticationMode {word}): 1 added"
            )]);
            let roles = w.aws_auth()["data"]["mapRoles"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(roles.contains(&format!("rolearn: {path_less}")), "{roles}");
            assert_eq!(w.eks_writes(), 0, "no access entry on a CONFIG_MAP cluster");
            continue;
        }
        out.expect_code(0)
            .expect_stdout(&[&format!(
                "access entries of cluster my-cluster (authenticationMode {word}): 1 added, 0 changed, 0 removed"
            )])
            .expect_stderr(&[&format!("okscript writes the entry for `{arn}`")]);
        assert_eq!(
            w.entry(&arn),
            Some(Held {
                kind: "STANDARD".into(),
                username: "deployer:{{SessionName}}".into(),
                groups: vec!["devs".into()],
                policies: vec![],
            })
        );
        assert_eq!(w.eks.eks.count("CreateAccessEntry"), 1);
        assert_eq!(w.aws_auth(), before, "aws-auth untouched");
        assert_eq!(w.aws_auth_writes(), 0);
        assert_eq!(w.backups(), 0);
        if mode == AuthMode::ApiAndConfigMap {
            // --target aws-auth still writes aws-auth there, with the warning.
            let out = w.grant_as(&path_less, "ops", &["--target", "aws-auth"]);
            out.expect_code(0)
                .expect_stderr(&["warning: cluster my-cluster authenticates through access entries first"])
                .expect_stdout(&["aws-auth ConfigMap kube-system/aws-auth in cluster my-cluster (authenticationMode API_AND_CONFIG_MAP): 1 added"]);
            assert_eq!(w.eks.eks.count("CreateAccessEntry"), 1, "no entry written");
        }
    }
}

#[test]
fn a_path_less_sso_role_becomes_an_entry_with_its_real_path_and_masters_the_admin_policy() {
    let w = World::new(AuthMode::Api);
    let real = role(&w, SSO_NAME, Some(SSO_PATH));
    let path_less = format!("arn:aws:iam::{ACCOUNT}:role/{SSO_NAME}");
    let out = w.grant_as(
        &path_less,
        "system:masters",
        &["--set", "username=admin:{{SessionName}}"],
    );
    let (code, _, err) = parts(out);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("okscript writes the entry for `{real}`")),
        "{err}"
    );
    assert!(
        err.contains("use {{SessionNameRaw}} to keep the e-mail address"),
        "{err}"
    );
    assert!(
        !err.contains("EKS never matches a role ARN with a path"),
        "no aws-auth note: {err}"
    );
    assert_eq!(
        w.entry(&real),
        Some(Held {
            kind: "STANDARD".into(),
            username: "admin:{{SessionName}}".into(),
            groups: vec![],
            policies: vec![format!("{ADMIN_POLICY}@cluster")],
        }),
        "system:masters is the ClusterAdmin policy at cluster scope, never a group"
    );
    assert!(
        w.entry(&path_less).is_none(),
        "no entry for the path-less ARN"
    );
    // The console form (path and all) and the STS session form are the same principal.
    w.eks.eks.clear_requests();
    for form in [
        real.clone(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_NAME}/alice@example.com"),
    ] {
        let (code, out, err) = parts(w.grant_as(&form, "system:masters", &[]));
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("no changes: access-entries:my-cluster"),
            "{out}"
        );
    }
    assert_eq!(w.eks_writes(), 0);
}

#[test]
fn a_dry_run_shows_the_entries_diff_and_writes_nothing_and_a_second_run_makes_no_write_call() {
    let w = World::new(AuthMode::Api);
    let arn = role(&w, "dev", None);
    let (code, out, err) =
        parts(w.grant_as(&arn, "devs,readers", &["--dry-run", "--detailed-exitcode"]));
    assert_eq!(code, 2, "changes pending: {err}");
    assert!(out.contains("+++ b/access-entries"), "{out}");
    assert!(
        out.contains(&format!("+{arn} type=STANDARD username=dev:{{{{SessionName}}}} groups=[devs,readers] policies=[]")),
        "{out}"
    );
    assert!(
        out.contains(
            "dry run: 1 to add, 0 to change, 0 to remove in access entries of cluster my-cluster"
        ),
        "{out}"
    );
    assert_eq!(w.eks_writes(), 0, "a dry run writes nothing");
    assert!(w.entry(&arn).is_none());
    w.grant_as(&arn, "devs,readers", &[]).expect_code(0);
    assert_eq!(w.eks.eks.count("CreateAccessEntry"), 1);
    assert_eq!(w.eks_writes(), 1, "one create, no association");
    // Again: nothing to do, and no write call at all.
    w.eks.eks.clear_requests();
    let (code, out, err) = parts(w.grant_as(&arn, "devs", &[]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("no changes: access-entries:my-cluster is already as the script wants"),
        "{out}"
    );
    assert_eq!(w.eks_writes(), 0, "{:#?}", w.eks.eks.requests());
    w.grant_as(&arn, "devs", &["--dry-run", "--detailed-exitcode"])
        .expect_code(0);
    // A change: one UpdateAccessEntry with the whole list.
    w.grant_as(&arn, "ops", &[])
        .expect_code(0)
        .expect_stdout(&["0 added, 1 changed, 0 removed"]);
    assert_eq!(w.eks.eks.count("UpdateAccessEntry"), 1);
    assert_eq!(w.entry(&arn).unwrap().groups, ["devs", "readers", "ops"]);
}

#[test]
fn groups_usernames_and_accounts_entries_cannot_hold_are_refused_before_any_write() {
    let w = World::new(AuthMode::Api);
    let arn = role(&w, "nodes", None);
    let (code, _, err) = parts(w.grant_as(&arn, "system:nodes", &[]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("EKS refuses Kubernetes groups that start with `system:`"),
        "{err}"
    );
    assert!(err.contains("EC2_LINUX"), "the reason: {err}");
    let (code, _, err) = parts(w.grant_as(&arn, "devs", &["--set", "username=eks:me"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("EKS refuses usernames that start with `eks:`"),
        "{err}"
    );
    let s = w.dir.write("acct.rhai", "grant_account(\"210987654321\");");
    let (code, _, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("they have no mapAccounts"), "{err}");
    assert_eq!(w.eks_writes(), 0);
}

#[test]
fn revoke_and_exact_membership_translate_to_delete_and_update() {
    let w = World::new(AuthMode::Api);
    let dev = role(&w, "dev", None);
    block_on(create_user_with_key(&w.eks.moto, "bob", None, false));
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    let s = w.dir.write(
        "team.rhai",
        format!(
            "grant_role(\"{dev}\", [\"devs\", \"system:masters\"]);\ngrant_user(\"{bob}\", \"bob\", [\"devs\"]);\ngrant_role(\"{}\", [\"system:masters\"]);",
            crate::auth_mode::ROLE
        ),
    );
    block_on(create_role(&w.eks.moto, "deployer", None));
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0)
        .expect_stdout(&["3 added"]);
    let s = w.dir.write(
        "exact.rhai",
        format!("ensure_exactly(\"{dev}\", [\"ops\"]);\nrevoke_user(\"{bob}\");"),
    );
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0)
        .expect_stdout(&["0 added, 1 changed, 1 removed"]);
    assert_eq!(w.entry(&dev).unwrap().groups, ["ops"]);
    assert!(
        w.entry(&dev).unwrap().policies.is_empty(),
        "masters went: disassociated"
    );
    assert!(w.entry(&bob).is_none());
    assert_eq!(w.eks.eks.count("DeleteAccessEntry"), 1);
    assert_eq!(w.eks.eks.count("DisassociateAccessPolicy"), 1);
}

#[test]
fn node_entries_and_the_last_cluster_admin_need_force() {
    let w = World::new(AuthMode::Api);
    let node = role(&w, "node-role", None);
    let admin = role(&w, "admin", None);
    let client = w.eks.eks_client();
    block_on(
        client
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&node)
            .r#type("EC2_LINUX")
            .send(),
    )
    .expect("node entry");
    w.grant_as(&admin, "system:masters", &[]).expect_code(0);
    for (who, needle) in [
        (&node, "node or Fargate role"),
        (&admin, "last `system:masters`"),
    ] {
        let s = w
            .dir
            .write("revoke.rhai", format!("revoke_role(\"{who}\");"));
        let (code, _, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
    assert_eq!(w.entry(&node).unwrap().kind, "EC2_LINUX");
    let s = w.dir.write(
        "revoke.rhai",
        format!("revoke_role(\"{node}\", #{{force: true}});"),
    );
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0)
        .expect_stdout(&["1 removed"]);
    assert!(w.entry(&node).is_none());
}

#[test]
fn an_entry_eks_made_itself_is_adopted_on_409_and_keeps_its_groups() {
    let w = World::new(AuthMode::Api);
    let arn = role(&w, "dev", None);
    // Entries made right now stay invisible for a while, as on EKS: the script's read misses
    // this one, and its create answers 409.
    w.eks.eks.set_timing(
        std::time::Duration::from_millis(300),
        std::time::Duration::from_millis(1500),
    );
    block_on(
        w.eks
            .eks_client()
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(&arn)
            .kubernetes_groups("existing")
            .send(),
    )
    .expect("entry");
    let (code, out, err) = parts(w.grant_as(&arn, "devs,system:masters", &[]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already had an access entry"), "{err}");
    assert!(err.contains("okscript adopted it"), "{err}");
    assert!(
        out.contains("access entries of cluster my-cluster"),
        "{out}"
    );
    let held = w.entry(&arn).unwrap();
    assert_eq!(held.groups, ["existing", "devs"]);
    assert_eq!(held.policies, [format!("{ADMIN_POLICY}@cluster")]);
    assert!(w
        .eks
        .eks
        .requests()
        .iter()
        .any(|r| r.operation == "CreateAccessEntry" && r.status == 409));
}

#[test]
fn ten_concurrent_writers_granting_different_roles_all_land() {
    let w = World::new(AuthMode::Api);
    let arns: Vec<String> = (0..10)
        .map(|i| role(&w, &format!("team-{i}"), Some("/teams/")))
        .collect();
    let running: Vec<_> = arns
        .iter()
        .map(|arn| {
            w.okscript()
                .arg("run")
                .arg(script("grant-role.rhai"))
                .args(["--cluster", CLUSTER])
                .set("arn", arn)
                .set("groups", "devs")
                .spawn()
        })
        .collect();
    for r in running {
        let (code, _, err) = parts(r.wait());
        assert_eq!(code, 0, "{err}");
    }
    for arn in &arns {
        assert_eq!(
            w.entry(arn).map(|e| e.groups),
            Some(vec!["devs".to_string()]),
            "{arn}"
        );
    }
    assert_eq!(w.eks.eks.count("CreateAccessEntry"), 10);
}

#[test]
fn a_failing_call_lists_what_landed_and_a_re_run_completes() {
    let w = World::new(AuthMode::Api);
    let arn = role(&w, "dev", None);
    // The SDK retries a 500 itself: enough of them make the association fail for good.
    w.eks
        .eks
        .faults()
        .fail_next("AssociateAccessPolicy", Fault::Server, 10);
    let (code, out, err) = parts(w.grant_as(&arn, "devs,system:masters", &[]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "AssociateAccessPolicy {arn} AmazonEKSClusterAdminPolicy (cluster) failed"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("these calls had landed before it: CreateAccessEntry {arn} (groups [devs], username dev:{{{{SessionName}}}}) (nothing else was written)")),
        "{err}"
    );
    assert!(err.contains("hint: run the script again"), "{err}");
    assert!(!out.contains("added"), "{out}");
    assert_eq!(
        w.entry(&arn).unwrap().policies,
        Vec::<String>::new(),
        "the create landed, the association did not"
    );
    w.eks.eks.faults().clear();
    w.eks.eks.clear_requests();
    w.grant_as(&arn, "devs,system:masters", &[])
        .expect_code(0)
        .expect_stdout(&["0 added, 1 changed, 0 removed"]);
    assert_eq!(
        w.eks_writes(),
        1,
        "only the missing association: {:#?}",
        w.eks.eks.requests()
    );
    assert_eq!(
        w.entry(&arn).unwrap().policies,
        [format!("{ADMIN_POLICY}@cluster")]
    );
}

#[test]
fn grant_policy_and_revoke_policy_write_associations_checked_against_the_catalogue() {
    let w = World::new(AuthMode::Api);
    let dev = role(&w, "dev", None);
    let run = |body: String| {
        parts(
            w.okscript()
                .args(["run", &w.dir.write("p.rhai", body), "--cluster", CLUSTER])
                .run(),
        )
    };
    let policies = |arn: &str| {
        let mut p = w.entry(arn).map(|e| e.policies).unwrap_or_default();
        p.sort();
        p
    };
    let (code, out, err) = run(format!(
        r#"grant_policy("{dev}", "Edit", ["team-*", "dev"]);
grant_policy("{dev}", "AmazonEKSViewPolicy", "cluster");
for m in mappings() {{ if m.arn == "{dev}" {{
  print(`${{m.source}} ${{m.type}} ${{m.policies.len()}}`);
  for p in m.policies {{ print(`${{p.name}} ${{p.scope}} ${{p.namespaces}}`); }}
}} }}"#
    ));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("access-entry STANDARD 2"), "{out}");
    assert!(
        out.contains("AmazonEKSEditPolicy namespace [\"dev\", \"team-*\"]"),
        "{out}"
    );
    assert!(out.contains("AmazonEKSViewPolicy cluster []"), "{out}");
    assert!(out.contains("1 added, 0 changed, 0 removed"), "{out}");
    let p =
        |name: &str, scope: &str| format!("arn:aws:eks::aws:cluster-access-policy/{name}@{scope}");
    assert_eq!(
        policies(&dev),
        [
            p("AmazonEKSEditPolicy", "namespace"),
            p("AmazonEKSViewPolicy", "cluster")
        ]
    );
    // A new scope replaces the old; revoke_policy disassociates; ClusterAdmin is system:masters.
    let (code, out, err) = run(format!(
        r#"grant_policy("{dev}", "Edit", "cluster");
revoke_policy("{dev}", "View");
grant_policy("{dev}", "ClusterAdmin", "cluster");
print(mappings().filter(|m| m.arn == "{dev}")[0].groups);"#
    ));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[\"system:masters\"]"), "{out}");
    assert_eq!(
        policies(&dev),
        [
            p("AmazonEKSClusterAdminPolicy", "cluster"),
            p("AmazonEKSEditPolicy", "cluster")
        ]
    );
    assert_eq!(w.eks.eks.count("DisassociateAccessPolicy"), 1);
    // An entry whose access comes from policies alone is no lint finding, even under --strict.
    let viewer = role(&w, "viewer", None);
    let s = w.dir.write(
        "v.rhai",
        format!("grant_policy(\"{viewer}\", \"View\", \"cluster\");\nprint(`findings=${{findings().len()}}`);"),
    );
    let (code, out, err) = parts(
        w.okscript()
            .args(["run", &s, "--cluster", CLUSTER, "--strict"])
            .run(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("findings=0"), "{out}");
    // A policy EKS does not list, before anything is written.
    let writes = w.eks_writes();
    let (code, _, err) = run(format!(r#"grant_policy("{dev}", "Superuser", "cluster");"#));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("EKS has no access policy `AmazonEKSSuperuserPolicy`"),
        "{err}"
    );
    assert!(
        err.contains("AmazonEKSViewPolicy"),
        "the hint lists the catalogue: {err}"
    );
    assert!(w.eks.eks.count("ListAccessPolicies") >= 1);
    assert_eq!(w.eks_writes(), writes);
    // aws-auth has no policies: an error that says why.
    let s = w.dir.write(
        "f.rhai",
        format!(r#"grant_policy("{dev}", "View", "cluster");"#),
    );
    let (code, _, err) = parts(
        w.okscript()
            .args(["run", &s, "--target", "file:aws-auth.yaml"])
            .run(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "grant_policy works on EKS access entries only: aws-auth has no access policies"
        ),
        "{err}"
    );
    assert!(!w.dir.exists("aws-auth.yaml"));
}

#[test]
fn the_callers_own_entry_needs_force() {
    let w = World::new(AuthMode::Api);
    let ops = format!("arn:aws:iam::{ACCOUNT}:user/ops");
    let other = role(&w, "admin", None);
    let s = w.dir.write(
        "admins.rhai",
        format!("grant_user(\"{ops}\", \"ops\", [\"system:masters\"]);\ngrant_role(\"{other}\", [\"system:masters\"]);"),
    );
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0);
    let s = w.dir.write("me.rhai", format!("revoke_user(\"{ops}\");"));
    let (code, _, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("that is who this script is logged in as"),
        "{err}"
    );
    assert!(w.entry(&ops).is_some());
}

#[test]
fn eventual_consistency_is_waited_out_before_the_policy_is_associated() {
    let w = World::new(AuthMode::Api);
    let arn = role(&w, "admin", Some("/ops/"));
    // A new entry stays invisible to everything but create for a second, as on EKS: an
    // association made at once would answer 404.
    w.eks.eks.set_timing(
        std::time::Duration::from_millis(300),
        std::time::Duration::from_millis(1000),
    );
    let (code, out, err) = parts(w.grant_as(&arn, "system:masters", &[]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 added, 0 changed, 0 removed"), "{out}");
    assert!(
        !err.contains("adopted"),
        "its own entry is not adopted: {err}"
    );
    assert_eq!(
        w.entry(&arn).unwrap().policies,
        [format!("{ADMIN_POLICY}@cluster")]
    );
    assert_eq!(w.eks.eks.count("CreateAccessEntry"), 1, "created once");
    // With no call after the create, the verifying read waits the entry out (its own create
    // answering 409 is no adoption).
    let plain = role(&w, "plain", None);
    let (code, _, err) = parts(w.grant_as(&plain, "devs", &[]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("adopted"), "{err}");
    assert_eq!(w.entry(&plain).unwrap().groups, ["devs"]);
}

/// No ETags: each writer describes the principal again just before it updates it, and
/// verifies once more after a pause, replaying what another writer's stale update undid.
#[test]
fn concurrent_writers_granting_groups_to_the_same_role_keep_each_others_groups() {
    let w = World::new(AuthMode::Api);
    let arn = role(&w, "shared", None);
    w.grant_as(&arn, "base", &[]).expect_code(0);
    let running: Vec<_> = (0..5)
        .map(|i| {
            w.okscript()
                .arg("run")
                .arg(script("grant-role.rhai"))
                .args(["--cluster", CLUSTER])
                .set("arn", &arn)
                .set("groups", &format!("g{i}"))
                .spawn()
        })
        .collect();
    for r in running {
        let (code, _, err) = parts(r.wait());
        assert_eq!(code, 0, "{err}");
    }
    let mut groups = w.entry(&arn).unwrap().groups;
    groups.sort();
    assert_eq!(groups, ["base", "g0", "g1", "g2", "g3", "g4"]);
}

#[test]
fn verify_explains_a_401_on_an_entries_cluster_with_the_real_arn_and_the_right_grant() {
    for (mode, words) in [
        (
            AuthMode::Api,
            "only through EKS access entries (authenticationMode API): aws-auth is ignored",
        ),
        (
            AuthMode::ApiAndConfigMap,
            "access entry first and then in aws-auth (authenticationMode API_AND_CONFIG_MAP)",
        ),
    ] {
        let w = World::new(mode);
        let (key, secret) = block_on(create_user_with_key(
            &w.eks.moto,
            "newcomer",
            Some("/team/"),
            false,
        ));
        let arn = format!("arn:aws:iam::{ACCOUNT}:user/team/newcomer");
        let out = w
            .okscript_as(&key, &secret)
            .arg("run")
            .arg(script("verify.rhai"))
            .args(["--cluster", CLUSTER])
            .run();
        out.expect_code(1).expect_stdout(&[
            "does not know who you are (401 Unauthorized)",
            words,
            &format!("okscript run grant-user --cluster {CLUSTER} --set arn={arn} --set groups=viewers\n"),
            &format!("aws eks associate-access-policy --cluster-name {CLUSTER} --principal-arn {arn} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=cluster"),
            "or as cluster admin (system:masters, which becomes AmazonEKSClusterAdminPolicy)",
        ]);
        // The suggested grant works: the newcomer is then admitted through the entry.
        w.okscript()
            .arg("run")
            .arg(script("grant-user.rhai"))
            .args(["--cluster", CLUSTER])
            .set("arn", &arn)
            .set("groups", "system:masters")
            .run()
            .expect_code(0);
        w.okscript_as(&key, &secret)
            .arg("run")
            .arg(script("verify.rhai"))
            .args(["--cluster", CLUSTER])
            .run()
            .expect_code(0)
            .expect_stdout(&["No resources found in default namespace."]);
    }
}

#[test]
fn verify_names_a_roles_real_arn_with_its_path_for_the_entry() {
    let w = World::new(AuthMode::Api);
    let real = role(&w, SSO_NAME, Some(SSO_PATH));
    let (key, secret) = block_on(create_user_with_key(&w.eks.moto, "someone", None, true));
    let sts = crate::support::sts_with(&w.eks.moto, &key, &secret, None);
    let out = block_on(
        sts.assume_role()
            .role_arn(&real)
            .role_session_name("alice")
            .send(),
    )
    .expect("assume");
    let c = out.credentials().expect("credentials");
    let run = w
        .okscript_as(c.access_key_id(), c.secret_access_key())
        .env("AWS_SESSION_TOKEN", c.session_token())
        .arg("run")
        .arg(script("verify.rhai"))
        .args(["--cluster", CLUSTER])
        .run();
    run.expect_code(1).expect_stdout(&[
        "does not know who you are (401 Unauthorized)",
        &format!(
            "okscript run grant-role --cluster {CLUSTER} --set arn={real} --set groups=viewers\n"
        ),
        &format!("aws eks create-access-entry --cluster-name {CLUSTER} --principal-arn {real}\n"),
    ]);
}

#[test]
fn the_migration_plan_maps_every_row_names_the_blockers_and_writes_nothing() {
    let w = World::new(AuthMode::ConfigMap);
    let node = role(&w, "eks-nodes", None);
    let sso = role(&w, SSO_NAME, Some(SSO_PATH));
    block_on(create_user_with_key(&w.eks.moto, "bob", None, false));
    w.eks.kube.seed_aws_auth(&[
        (
            "mapRoles",
            &format!(
                "- rolearn: {node}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n\
                 - rolearn: arn:aws:iam::{ACCOUNT}:role/{SSO_NAME}\n  username: admin:{{{{SessionName}}}}\n  groups:\n  - system:masters\n  - ops\n\
                 - rolearn: arn:aws:iam::{ACCOUNT}:role/gone\n  groups:\n  - devs\n"
            ),
        ),
        (
            "mapUsers",
            &format!("- userarn: arn:aws:iam::{ACCOUNT}:user/bob\n  username: bob\n  groups:\n  - system:monitoring\n- userarn: arn:aws:iam::{ACCOUNT}:user/ops\n  username: ops\n  groups:\n  - system:masters\n"),
        ),
        ("mapAccounts", "- \"210987654321\"\n"),
    ]);
    let before = w.aws_auth();
    let run = |args: &[&str]| {
        parts(
            w.okscript()
                .arg("run")
                .arg(script("migrate-to-access-entries.rhai"))
                .args(["--cluster", CLUSTER])
                .args(args)
                .run(),
        )
    };
    let (code, out, err) = run(&[]);
    assert_eq!(code, 0, "{err}");
    for needle in [
        "Plan: 6 aws-auth mappings -> access entries (cluster mode CONFIG_MAP); nothing is written.".to_string(),
        format!("{node}\n  entry: type=EC2_LINUX username=- groups=[] policies=[]"),
        format!("{sso}\n  entry: type=STANDARD username=admin:{{{{SessionName}}}} groups=[ops] policies=[AmazonEKSClusterAdminPolicy (cluster)]"),
        "{{SessionNameRaw}} keeps the e-mail address".into(),
        format!("arn:aws:iam::{ACCOUNT}:role/gone\n  BLOCKED: IAM has no such role"),
        "BLOCKED: the group system:monitoring: EKS refuses system: groups".into(),
        "mapAccounts 210987654321\n  BLOCKED: access entries have no account-wide form".into(),
        "3 of 6 mappings block the move to API".into(),
    ] {
        assert!(out.contains(&needle), "{needle}\n---\n{out}");
    }
    let (code, _, err) = run(&["--set", "strict=true"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("3 mappings block the move to access entries"),
        "{err}"
    );
    assert_eq!(w.aws_auth(), before);
    assert_eq!(w.aws_auth_writes(), 0);
    assert_eq!(w.eks_writes(), 0);
}

/// Issue 11's benchmark row, measured by hand (`cargo test --test tests -- --ignored
/// entries::bench --nocapture`): 50 roles granted in one okscript run against the EKS fake,
/// beside the same 50 entries made with `aws eks create-access-entry`, one call each.
#[test]
#[ignore = "a measurement, not a check: run it by hand"]
fn bench_fifty_principals_on_entries_vs_the_aws_cli() {
    let w = World::new(AuthMode::Api);
    let arns: Vec<String> = (0..50)
        .map(|i| role(&w, &format!("bench-{i}"), Some("/b/")))
        .collect();
    let body: String = arns
        .iter()
        .map(|a| format!("grant_role(\"{a}\", [\"devs\"]);\n"))
        .collect();
    let s = w.dir.write("fifty.rhai", body);
    w.eks.eks.clear_requests();
    let started = std::time::Instant::now();
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0)
        .expect_stdout(&["50 added"]);
    let took = started.elapsed();
    let log = w.eks.eks.requests();
    let mut ops: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &log {
        *ops.entry(r.operation).or_default() += 1;
    }
    println!(
        "okscript: 50 grants in {took:?}; {} EKS requests: {ops:?}",
        log.len()
    );
    let cli = crate::kube_fake::aws_cli();
    if std::process::Command::new(&cli)
        .arg("--version")
        .output()
        .is_err()
    {
        println!("the AWS CLI is not installed");
        return;
    }
    w.eks
        .eks
        .seed_cluster("peer", AuthMode::Api, "https://127.0.0.1:6443", "CA");
    let started = std::time::Instant::now();
    for arn in &arns {
        let out = std::process::Command::new(&cli)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", w.dir.path())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", crate::auth_mode::REGION)
            .env("AWS_ENDPOINT_URL", w.eks.moto.endpoint())
            .env("AWS_ENDPOINT_URL_EKS", w.eks.eks.endpoint())
            .args([
                "eks",
                "create-access-entry",
                "--cluster-name",
                "peer",
                "--principal-arn",
                arn,
            ])
            .args(["--kubernetes-groups", "devs"])
            .output()
            .expect("aws");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("aws eks create-access-entry x50: {:?}", started.elapsed());
}

#[test]
fn access_entries_on_a_config_map_cluster_are_refused_with_the_mode_step_to_take() {
    let w = World::new(AuthMode::ConfigMap);
    let arn = role(&w, "dev", None);
    let before = w.aws_auth();
    let (code, _, err) = parts(w.grant_as(&arn, "devs", &["--target", "access-entries"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cluster my-cluster has no access entries (authenticationMode CONFIG_MAP)"),
        "{err}"
    );
    assert!(err.contains("aws eks update-cluster-config --name my-cluster --access-config authenticationMode=API_AND_CONFIG_MAP"), "{err}");
    assert_eq!(w.eks_writes(), 0);
    assert_eq!(
        w.eks.eks.count("ListAccessEntries"),
        0,
        "refused before any read"
    );
    assert_eq!(w.aws_auth(), before);
}

#[test]
fn ensure_members_states_a_team_in_access_entries() {
    let w = World::new(AuthMode::Api);
    let (a, b, c) = (
        role(&w, "a", Some("/t/")),
        role(&w, "b", None),
        role(&w, "c", None),
    );
    w.grant_as(&a, "devs", &[]).expect_code(0);
    w.grant_as(&b, "devs,ops", &[]).expect_code(0);
    let s = w.dir.write(
        "team.rhai",
        format!(
            "ensure_members(#{{kind: \"role\", group: \"devs\", members: [\"{a}\", \"{c}\"]}});"
        ),
    );
    let (code, out, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 added, 1 changed, 0 removed"), "{out}");
    assert_eq!(w.entry(&a).unwrap().groups, ["devs"]);
    assert_eq!(
        w.entry(&b).unwrap().groups,
        ["ops"],
        "b is no member any more"
    );
    assert_eq!(w.entry(&c).unwrap().groups, ["devs"]);
    let s = w.dir.write(
        "bad.rhai",
        "ensure_members(#{kind: \"role\", group: \"system:nodes\", members: []});",
    );
    let (code, _, err) = parts(w.okscript().args(["run", &s, "--cluster", CLUSTER]).run());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("EKS refuses Kubernetes groups that start with `system:`"),
        "{err}"
    );
}
