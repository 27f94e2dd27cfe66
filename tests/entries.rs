//! Issue 11: EKS access entries as a target. The same scripts as for aws-auth run against
//! the EKS fake (`support::EksWorld`): grants become the minimal EKS calls, role ARNs their
//! real ARN with the path, `system:masters` the ClusterAdmin policy; dry runs write nothing;
//! a second run makes no write call; what entries cannot hold is refused before any write;
//! grant_policy/revoke_policy and mappings()'s entry fields. Helpers here serve
//! `entries_writes` (writing safely) and `entries_scripts` (verify, migration) too.

use crate::auth_mode::{block_on, parts, World, CLUSTER};
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
pub(crate) const ADMIN_POLICY: &str =
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
pub(crate) const SSO_NAME: &str = "AWSReservedSSO_AWSAdministratorAccess_0123456789abcdef";
pub(crate) const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";

/// An entry as the EKS fake holds it: type, username, groups, and `POLICY@SCOPE` strings.
#[derive(Debug, PartialEq)]
pub(crate) struct Held {
    pub(crate) kind: String,
    pub(crate) username: String,
    pub(crate) groups: Vec<String>,
    pub(crate) policies: Vec<String>,
}

impl World {
    pub(crate) fn eks_writes(&self) -> usize {
        WRITES.iter().map(|op| self.eks.eks.count(op)).sum()
    }

    pub(crate) fn entry(&self, arn: &str) -> Option<Held> {
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

    pub(crate) fn grant_as(&self, arn: &str, groups: &str, args: &[&str]) -> Outcome {
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

/// The cluster admits the caller (a SelfSubjectReview with a fresh token) as `username`.
pub(crate) fn expect_admitted_as(w: &World, username: &str) {
    let s = w.dir.write("who.rhai", "print(cluster_whoami().username);");
    w.okscript()
        .args(["run", &s, "--cluster", CLUSTER])
        .run()
        .expect_code(0)
        .expect_stdout(&[username]);
}

pub(crate) fn role(w: &World, name: &str, path: Option<&str>) -> String {
    block_on(create_role(&w.eks.moto, name, path))
}

/// The SSO role under its real path, assumed by a user as session `alice`: the role's real
/// ARN, and `okscript` as that session.
pub(crate) fn as_sso_role(w: &World) -> (String, impl Fn() -> crate::util::Cmd + '_) {
    let real = role(w, SSO_NAME, Some(SSO_PATH));
    let (key, secret) = block_on(create_user_with_key(&w.eks.moto, "someone", None, true));
    let sts = crate::support::sts_with(&w.eks.moto, &key, &secret, None);
    let out = block_on(
        sts.assume_role()
            .role_arn(&real)
            .role_session_name("alice")
            .send(),
    )
    .expect("assume");
    let c = out.credentials().expect("credentials").clone();
    let cmd = move || {
        w.okscript_as(c.access_key_id(), c.secret_access_key())
            .env("AWS_SESSION_TOKEN", c.session_token())
    };
    (real, cmd)
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
