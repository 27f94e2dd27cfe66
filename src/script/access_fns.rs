//! Script functions over aws-auth: grant and revoke roles, users and accounts, read the
//! staged mappings and findings, show the plan and apply it. Each is documented where it is
//! registered; Rust errors become script errors only here, so positions survive.

use rhai::{Array, Dynamic, Map};

use super::api::{self, error_with_hint, Api, FnDoc, FnResult, Opts};
use super::state::Shared;
use crate::access::arn::{self, PrincipalKind};
use crate::access::intent::Intent;
use crate::access::model::MappingView;
use crate::access::plan::{self, Summary};

fn stage(state: &Shared, intent: Intent, note: Option<String>) -> FnResult<bool> {
    let mut st = state.borrow_mut();
    st.check_not_blocked()?;
    // aws-auth's path note; access entries say what they write instead (their vet notes).
    let real_arns = st.changes()?.uses_real_arns();
    if let Some(n) = note.filter(|_| !real_arns) {
        st.printer.note(&n);
    }
    let shadowed = st.changes()?.shadow_warning(&intent);
    let applied = st
        .changes()?
        .stage(intent)
        .map_err(|r| error_with_hint(&r.message, &r.hint))?;
    for n in &applied.notes {
        st.printer.note(n);
    }
    if let Some(w) = shadowed {
        st.printer.warn(&w);
    }
    Ok(applied.changed)
}

fn entry_map(state: &Shared, kind: PrincipalKind, arn: &str, changed: bool) -> FnResult<Dynamic> {
    let mut st = state.borrow_mut();
    let view = st.changes()?.staged().find(kind, arn);
    let mut map: Map = match view {
        Some(v) => api::to_dynamic(&v).cast(),
        None => Map::new(),
    };
    map.insert("changed".into(), changed.into());
    Ok(map.into())
}

/// Options of a grant: `force` passes guards, `exact` makes the groups the whole list.
#[derive(Debug, Clone, Copy, Default)]
struct GrantOpts {
    force: bool,
    exact: bool,
}

impl From<Opts> for GrantOpts {
    fn from(o: Opts) -> Self {
        GrantOpts {
            force: o.force,
            exact: false,
        }
    }
}

fn grant_opts(v: &Dynamic) -> FnResult<GrantOpts> {
    let Some(map) = v.clone().try_cast::<Map>() else {
        return Err(format!(
            "the options must be a map such as #{{exact: true}}, but they are {}",
            v.type_name()
        )
        .into());
    };
    let mut out = GrantOpts::default();
    for (k, value) in map {
        let flag = match k.as_str() {
            "force" => &mut out.force,
            "exact" => &mut out.exact,
            other => {
                return Err(format!(
                    "unknown option `{other}`: a grant takes `force` (pass guards) and `exact` (these groups and no others), e.g. #{{exact: true}}"
                )
                .into())
            }
        };
        *flag = value
            .as_bool()
            .map_err(|t| format!("`{k}` must be true or false, but it is {t}"))?;
    }
    Ok(out)
}

/// The kind of principal an ARN names, for functions that take either.
fn kind_of(arn: &Dynamic) -> FnResult<PrincipalKind> {
    let text = api::string("the ARN", arn)?;
    arn::parse_principal(&text)
        .map(|p| p.kind)
        .map_err(|e| e.to_string().into())
}

fn grant(
    state: &Shared,
    kind: PrincipalKind,
    arn: &Dynamic,
    groups: &Dynamic,
    username: Option<&Dynamic>,
    opts: impl Into<GrantOpts>,
) -> FnResult<Dynamic> {
    let opts = opts.into();
    let arn = api::string("the ARN", arn)?;
    let groups = api::groups(groups)?;
    for w in groups
        .iter()
        .filter_map(|g| crate::access::groups::near_miss_warning(g))
    {
        state.borrow_mut().printer.warn(&w);
    }
    let username = username
        .map(|u| api::string("the username", u))
        .transpose()?;
    let (intent, note) = Intent::grant_with(
        kind,
        &arn,
        &groups,
        username.as_deref(),
        opts.exact,
        opts.force,
    )
    .map_err(|e| e.to_string())?;
    let canonical = match &intent {
        Intent::Grant { arn, .. } => arn.clone(),
        _ => unreachable!("grant builds a grant"),
    };
    let changed = stage(state, intent, note)?;
    if changed {
        super::aws_fns::check_principal(state, &canonical);
    }
    entry_map(state, kind, &canonical, changed)
}

fn revoke(
    state: &Shared,
    kind: PrincipalKind,
    arn: &Dynamic,
    groups: Option<&Dynamic>,
    opts: Opts,
) -> FnResult<bool> {
    let arn = api::string("the ARN", arn)?;
    let groups = groups.map(api::groups).transpose()?;
    let (intent, note) =
        Intent::revoke(kind, &arn, groups.as_deref(), opts.force).map_err(|e| e.to_string())?;
    stage(state, intent, note)
}

fn members(state: &Shared, spec: &Dynamic) -> FnResult<bool> {
    let Some(map) = spec.clone().try_cast::<Map>() else {
        return Err(format!(
            "ensure_members takes a map such as #{{kind: \"role\", group: \"devs\", members: [...]}}, but got {}",
            spec.type_name()
        )
        .into());
    };
    let (mut kind, mut group, mut list, mut force) = (None, None, None, false);
    for (k, v) in map {
        match k.as_str() {
            "kind" => {
                kind = Some(match api::string("`kind`", &v)?.as_str() {
                    "role" => PrincipalKind::Role,
                    "user" => PrincipalKind::User,
                    other => {
                        return Err(format!("`kind` must be \"role\" or \"user\", but it is \"{other}\"").into())
                    }
                })
            }
            "group" => group = Some(api::string("`group`", &v)?),
            "members" => list = Some(api::groups(&v).map_err(|_| {
                format!("`members` must be an array of ARN strings, but it is {}", v.type_name())
            })?),
            "force" => {
                force = v
                    .as_bool()
                    .map_err(|t| format!("`force` must be true or false, but it is {t}"))?
            }
            other => {
                return Err(format!(
                    "unknown key `{other}`: ensure_members takes `kind`, `group`, `members` and `force`"
                )
                .into())
            }
        }
    }
    let missing = |what: &str| -> FnResult<bool> {
        Err(error_with_hint(
            format!("ensure_members needs `{what}`"),
            "pass #{kind: \"role\", group: \"devs\", members: [ARN, ...]}; an empty `members` removes the group from everyone",
        ))
    };
    let Some(kind) = kind else {
        return missing("kind");
    };
    let Some(group) = group else {
        return missing("group");
    };
    let Some(list) = list else {
        return missing("members");
    };
    let (intent, notes) = Intent::members(kind, &group, &list, force).map_err(|e| e.to_string())?;
    let arns = match &intent {
        Intent::Members { members, .. } => members.clone(),
        _ => unreachable!("members builds a team"),
    };
    let changed = stage(state, intent, None)?;
    {
        let mut st = state.borrow_mut();
        for n in &notes {
            st.printer.note(n);
        }
    }
    if changed {
        for a in &arns {
            super::aws_fns::check_principal(state, a);
        }
    }
    Ok(changed)
}

fn account(state: &Shared, id: &Dynamic, grant: bool, opts: Opts) -> FnResult<bool> {
    let id = match id.as_int() {
        Ok(n) => n.to_string(),
        Err(_) => api::string("the account id", id)?,
    };
    let intent = Intent::account(&id, grant, opts.force).map_err(|e| e.to_string())?;
    stage(state, intent, None)
}

/// One `mappings()` row, built directly: the same map serde would give, without its
/// per-field detour, and moving the view's strings instead of copying them.
fn row(v: MappingView) -> Dynamic {
    let groups: Array = v.groups.into_iter().map(Dynamic::from).collect();
    let mut map = Map::new();
    map.insert("kind".into(), v.kind.into());
    map.insert("arn".into(), v.arn.into());
    map.insert("username".into(), v.username.into());
    map.insert("groups".into(), groups.into());
    map.insert("account".into(), v.account.into());
    map.insert("shadowed".into(), v.shadowed.into());
    map.insert("source".into(), v.source.into());
    map.insert("type".into(), v.entry_type.into());
    let policies: Array = v.policies.iter().map(api::to_dynamic).collect();
    map.insert("policies".into(), policies.into());
    map.into()
}

/// A policy scope from a script: `"cluster"`, or an array of namespaces.
fn scope_of(v: &Dynamic) -> FnResult<Vec<String>> {
    if v.is_string() {
        let s = api::string("the scope", v)?;
        return if s == "cluster" {
            Ok(Vec::new())
        } else {
            Err(error_with_hint(
                format!("the scope `{s}` is neither \"cluster\" nor an array of namespaces"),
                "pass \"cluster\", or namespaces such as [\"dev\", \"team-*\"]",
            ))
        };
    }
    let ns = api::groups(v).map_err(|_| {
        format!(
            "the scope must be \"cluster\" or an array of namespaces, but it is {}",
            v.type_name()
        )
    })?;
    if ns.is_empty() {
        return Err(error_with_hint(
            "the scope names no namespace",
            "pass \"cluster\", or at least one namespace",
        ));
    }
    Ok(ns)
}

/// `grant_policy` / `revoke_policy`: access entries only; ClusterAdmin at cluster scope is
/// staged as `system:masters`, the one form both the projection and aws-auth know.
fn policy(
    state: &Shared,
    name: &str,
    arn: &Dynamic,
    policy: &Dynamic,
    scope: Option<&Dynamic>,
    opts: Opts,
) -> FnResult<bool> {
    let kind = kind_of(arn)?;
    let arn = api::string("the ARN", arn)?;
    let policy = api::string("the policy", policy)?;
    let namespaces = scope.map(scope_of).transpose()?;
    if !state.borrow_mut().changes()?.uses_real_arns() {
        return Err(error_with_hint(
            format!("{name} works on EKS access entries only: aws-auth has no access policies, only groups"),
            "run it with `--target cluster` on an API or API_AND_CONFIG_MAP cluster (or `--target access-entries`); with aws-auth, grant a group and bind it to a ClusterRole with RBAC",
        ));
    }
    let (intent, note) =
        Intent::policy(kind, &arn, &policy, namespaces, opts.force).map_err(|e| e.to_string())?;
    stage(state, intent, note)
}

fn summary_map(s: Summary) -> Dynamic {
    api::to_dynamic(&s)
}

/// The text `plan()` returns and `--dry-run` prints: the diff and a one-line summary.
pub fn plan_text(diff: &str, summary: Summary) -> String {
    if summary.is_empty() && diff.is_empty() {
        "no changes\n".to_string()
    } else {
        format!("{diff}{}\n", plan::describe(summary, true))
    }
}

/// Registers the aws-auth functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_role",
            params: "arn: string, groups: array",
            returns: "map",
            doc: "Ensure one mapRoles entry for the role with at least these groups; a path or STS session ARN is made canonical. New entries get the username ROLENAME:{{SessionName}}.",
            example: r#"grant_role("arn:aws:iam::123456789012:role/dev", ["devs"]);"#,
        },
        move |arn: Dynamic, groups: Dynamic| grant(&s, PrincipalKind::Role, &arn, &groups, None, Opts::default()),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_role",
            params: "arn: string, groups: array, username_or_options: string | map",
            returns: "map",
            doc: "Like grant_role(arn, groups), also setting the username (a string), or with options: #{force: true} passes guards; #{exact: true} makes these the role's only groups (extra ones are removed, so a re-run reports drift; no groups removes the entry).",
            example: r#"grant_role("arn:aws:iam::123456789012:role/admin", ["system:masters"], "admin:{{SessionName}}");"#,
        },
        move |arn: Dynamic, groups: Dynamic, third: Dynamic| {
            if api::is_map(&third) {
                grant(&s, PrincipalKind::Role, &arn, &groups, None, grant_opts(&third)?)
            } else {
                grant(&s, PrincipalKind::Role, &arn, &groups, Some(&third), Opts::default())
            }
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_role",
            params: "arn: string, groups: array, username: string, options: map",
            returns: "map",
            doc: "Like grant_role(arn, groups, username) with options: #{force: true} passes guards; #{exact: true} makes these the only groups.",
            example: r#"grant_role("arn:aws:iam::123456789012:role/admin", ["system:masters"], "admin", #{force: true});"#,
        },
        move |arn: Dynamic, groups: Dynamic, username: Dynamic, options: Dynamic| {
            grant(&s, PrincipalKind::Role, &arn, &groups, Some(&username), grant_opts(&options)?)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_user",
            params: "arn: string, username: string, groups: array",
            returns: "map",
            doc: "Ensure one mapUsers entry for the IAM user (path kept) with this username and at least these groups.",
            example: r#"grant_user("arn:aws:iam::123456789012:user/someone@email.com", "someone@email.com", ["system:masters"]);"#,
        },
        move |arn: Dynamic, username: Dynamic, groups: Dynamic| grant(&s, PrincipalKind::User, &arn, &groups, Some(&username), Opts::default()),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_user",
            params: "arn: string, username: string, groups: array, options: map",
            returns: "map",
            doc: "Like grant_user(arn, username, groups) with options: #{force: true} passes guards; #{exact: true} makes these the user's only groups.",
            example: r#"grant_user("arn:aws:iam::123456789012:user/bob", "bob", ["devs"], #{force: true});"#,
        },
        move |arn: Dynamic, username: Dynamic, groups: Dynamic, options: Dynamic| {
            grant(&s, PrincipalKind::User, &arn, &groups, Some(&username), grant_opts(&options)?)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "ensure_exactly",
            params: "arn: string, groups: array",
            returns: "map",
            doc: "Declare a role's or user's whole access: one entry with exactly these groups (extra groups are removed, so --dry-run --detailed-exitcode reports hand-made drift; [] removes the entry). New entries get the default username (ROLENAME:{{SessionName}}, or the user's name). Guards apply. Returns the entry and `changed`.",
            example: r#"ensure_exactly("arn:aws:iam::123456789012:role/dev", ["devs"]);"#,
        },
        move |arn: Dynamic, groups: Dynamic| {
            let kind = kind_of(&arn)?;
            grant(&s, kind, &arn, &groups, None, GrantOpts { force: false, exact: true })
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "ensure_exactly",
            params: "arn: string, groups: array, username_or_options: string | map",
            returns: "map",
            doc: "Like ensure_exactly(arn, groups), also setting the username (a string), or with options: #{force: true} passes guards.",
            example: r#"ensure_exactly("arn:aws:iam::123456789012:user/bob", ["devs"], "bob");"#,
        },
        move |arn: Dynamic, groups: Dynamic, third: Dynamic| {
            let kind = kind_of(&arn)?;
            if api::is_map(&third) {
                let o = grant_opts(&third)?;
                grant(&s, kind, &arn, &groups, None, GrantOpts { exact: true, ..o })
            } else {
                grant(&s, kind, &arn, &groups, Some(&third), GrantOpts { force: false, exact: true })
            }
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "ensure_exactly",
            params: "arn: string, groups: array, username: string, options: map",
            returns: "map",
            doc: "Like ensure_exactly(arn, groups, username) with options: #{force: true} passes guards.",
            example: r#"ensure_exactly("arn:aws:iam::123456789012:role/admin", ["system:masters"], "admin", #{force: true});"#,
        },
        move |arn: Dynamic, groups: Dynamic, username: Dynamic, options: Dynamic| {
            let kind = kind_of(&arn)?;
            let o = grant_opts(&options)?;
            grant(&s, kind, &arn, &groups, Some(&username), GrantOpts { exact: true, ..o })
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "ensure_members",
            params: "team: map",
            returns: "bool",
            doc: "Declare a team: #{kind: \"role\"|\"user\", group, members: [ARN, ...], force?}. Every listed principal gets the group (new entries get the default username); every other principal of that kind loses it, and its entry goes when that was its last group. Guards apply (node roles, the last system:masters, your own mapping); all or nothing. Returns whether anything changed.",
            example: r#"ensure_members(#{kind: "role", group: "devs", members: ["arn:aws:iam::123456789012:role/dev"]});"#,
        },
        move |team: Dynamic| members(&s, &team),
    );
    for (name, grant_it, doc, example) in [
        ("grant_account", true, "Ensure a mapAccounts entry: every IAM principal of the account maps to its own ARN as username, with no groups. Returns whether anything changed.", r#"grant_account("210987654321");"#),
        ("revoke_account", false, "Remove the account from mapAccounts. Returns whether anything changed.", r#"revoke_account("210987654321");"#),
    ] {
        let s = state.clone();
        api.def(
            FnDoc { name, params: "account_id: string", returns: "bool", doc, example },
            move |id: Dynamic| account(&s, &id, grant_it, Opts::default()),
        );
        let s = state.clone();
        api.def(
            FnDoc {
                name,
                params: "account_id: string, options: map",
                returns: "bool",
                doc: "The same, with options: #{force: true} writes mapAccounts even beside a `mapaccounts` key the authenticator never reads.",
                example: if grant_it { r#"grant_account("210987654321", #{force: false});"# } else { r#"revoke_account("210987654321", #{force: false});"# },
            },
            move |id: Dynamic, options: Dynamic| {
                account(&s, &id, grant_it, api::opts(&options)?)
            },
        );
    }
    for (kind, name) in [
        (PrincipalKind::Role, "revoke_role"),
        (PrincipalKind::User, "revoke_user"),
    ] {
        let (d1, e1, d2, e2, d3, e3) = match kind {
            PrincipalKind::Role => (
                "Remove every entry the authenticator would match for the role, in mapRoles and in mapUsers (node roles, the last system:masters and your own mapping need #{force: true}). Returns whether anything changed.",
                r#"revoke_role("arn:aws:iam::123456789012:role/dev");"#,
                "Remove only these groups from the role's entry; removing its last group removes the entry (a map instead of groups: options for removing the whole entry).",
                r#"revoke_role("arn:aws:iam::123456789012:role/dev", ["devs"]);"#,
                "Remove these groups from the role's entry, with options: #{force: true} passes guards.",
                r#"revoke_role("arn:aws:iam::123456789012:role/dev", ["devs"], #{force: true});"#,
            ),
            PrincipalKind::User => (
                "Remove every entry the authenticator would match for the user, in mapUsers and in mapRoles (the last system:masters and your own mapping need #{force: true}). Returns whether anything changed.",
                r#"revoke_user("arn:aws:iam::123456789012:user/bob");"#,
                "Remove only these groups from the user's entry; removing its last group removes the entry (a map instead of groups: options for removing the whole entry).",
                r#"revoke_user("arn:aws:iam::123456789012:user/bob", ["devs"]);"#,
                "Remove these groups from the user's entry, with options: #{force: true} passes guards.",
                r#"revoke_user("arn:aws:iam::123456789012:user/bob", ["devs"], #{force: true});"#,
            ),
        };
        let s = state.clone();
        api.def(
            FnDoc {
                name,
                params: "arn: string",
                returns: "bool",
                doc: d1,
                example: e1,
            },
            move |arn: Dynamic| revoke(&s, kind, &arn, None, Opts::default()),
        );
        let s = state.clone();
        api.def(
            FnDoc {
                name,
                params: "arn: string, groups_or_options: array | map",
                returns: "bool",
                doc: d2,
                example: e2,
            },
            move |arn: Dynamic, second: Dynamic| {
                if api::is_map(&second) {
                    revoke(&s, kind, &arn, None, api::opts(&second)?)
                } else {
                    revoke(&s, kind, &arn, Some(&second), Opts::default())
                }
            },
        );
        let s = state.clone();
        api.def(
            FnDoc {
                name,
                params: "arn: string, groups: array, options: map",
                returns: "bool",
                doc: d3,
                example: e3,
            },
            move |arn: Dynamic, groups: Dynamic, options: Dynamic| {
                revoke(&s, kind, &arn, Some(&groups), api::opts(&options)?)
            },
        );
    }
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_policy",
            params: "arn: string, policy: string, scope: string | array",
            returns: "bool",
            doc: "Access entries only: associate an EKS access policy with the principal's entry (made if missing). policy: ClusterAdmin, Admin, Edit, View, AdminView, a full name (AmazonEKSViewPolicy) or an ARN, checked against EKS's ListAccessPolicies; scope: \"cluster\" or namespaces ([\"dev\", \"team-*\"]); a new scope replaces the old. ClusterAdmin at cluster scope is system:masters. An error on aws-auth, which has no policies. Returns whether anything changed.",
            example: r#"grant_policy("arn:aws:iam::123456789012:role/dev", "Edit", ["team-*"]);"#,
        },
        move |arn: Dynamic, p: Dynamic, scope: Dynamic| policy(&s, "grant_policy", &arn, &p, Some(&scope), Opts::default()),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "grant_policy",
            params: "arn: string, policy: string, scope: string | array, options: map",
            returns: "bool",
            doc: "Like grant_policy(arn, policy, scope) with options: #{force: true} passes guards (node entries).",
            example: r#"grant_policy("arn:aws:iam::123456789012:role/dev", "View", "cluster", #{force: false});"#,
        },
        move |arn: Dynamic, p: Dynamic, scope: Dynamic, options: Dynamic| {
            policy(&s, "grant_policy", &arn, &p, Some(&scope), api::opts(&options)?)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "revoke_policy",
            params: "arn: string, policy: string",
            returns: "bool",
            doc: "Access entries only: disassociate an access policy (any scope) from the principal's entry; ClusterAdmin also takes system:masters. Your own entry needs #{force: true}. An error on aws-auth. Returns whether anything changed.",
            example: r#"revoke_policy("arn:aws:iam::123456789012:role/dev", "Edit");"#,
        },
        move |arn: Dynamic, p: Dynamic| policy(&s, "revoke_policy", &arn, &p, None, Opts::default()),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "revoke_policy",
            params: "arn: string, policy: string, options: map",
            returns: "bool",
            doc: "Like revoke_policy(arn, policy) with options: #{force: true} passes guards (your own entry, the last ClusterAdmin).",
            example: r#"revoke_policy("arn:aws:iam::123456789012:role/dev", "Edit", #{force: true});"#,
        },
        move |arn: Dynamic, p: Dynamic, options: Dynamic| {
            policy(&s, "revoke_policy", &arn, &p, None, api::opts(&options)?)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "mappings",
            params: "",
            returns: "array",
            doc: "Every mapping as staged (including this script's changes): #{kind: \"role\"|\"user\"|\"account\", arn, username, groups, account, shadowed, source, type, policies} (shadowed: an access entry for the principal wins, so EKS ignores the row; source: \"aws-auth\" or \"access-entry\"; type: an entry's type such as STANDARD or EC2_LINUX; policies: an entry's #{name, arn, scope, namespaces}).",
            example: r#"for m in mappings() { print(`${m.kind} ${m.arn}`); }"#,
        },
        move || -> FnResult<Array> {
            let views: Vec<MappingView> = s.borrow_mut().changes()?.mappings();
            Ok(views.into_iter().map(row).collect())
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "findings",
            params: "",
            returns: "array",
            doc: "Problems the authenticator silently ignores in the staged aws-auth: #{code, section, line, arn, message} (codes: duplicate, role-path, template, empty-groups, bad-arn, wrong-kind, bad-account, whitespace, section-case).",
            example: r#"for f in findings() { print(f.message); }"#,
        },
        move || -> FnResult<Array> {
            let mut st = s.borrow_mut();
            let found = st.changes()?.findings();
            Ok(found.iter().map(api::to_dynamic).collect())
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "plan",
            params: "",
            returns: "string",
            doc: "The pending change as text: a unified diff of the data sections and a one-line summary (what --dry-run prints), or \"no changes\".",
            example: r#"print(plan());"#,
        },
        move || -> FnResult<String> {
            let mut st = s.borrow_mut();
            let (diff, summary) = st.changes()?.plan();
            Ok(plan_text(&diff, summary))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "apply",
            params: "",
            returns: "map",
            doc: "Write the staged changes now (the end of a successful run does it anyway); returns #{added, changed, removed}. Under --dry-run it writes nothing and returns the pending counts.",
            example: r#"let done = apply(); print(`${done.added} added`);"#,
        },
        move || -> FnResult<Dynamic> {
            let mut st = s.borrow_mut();
            st.check_not_blocked()?;
            super::aws_fns::check_principals(&mut st);
            if let Some((message, hint)) = super::strict::gate(&mut st) {
                return Err(error_with_hint(message, hint));
            }
            let dry = st.dry_run;
            let changes = st.changes()?;
            if dry {
                let (_, summary) = changes.plan();
                return Ok(summary_map(summary));
            }
            let done = changes.commit().map_err(|e| match e.hint() {
                Some(h) => error_with_hint(&e, h),
                None => e.to_string().into(),
            })?;
            let summary = done.summary;
            for n in &done.notes {
                st.printer.note(n);
            }
            st.commits.push(done);
            Ok(summary_map(summary))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-built row has exactly the fields serde would give the view, so the two
    /// cannot drift apart when MappingView grows a field.
    #[test]
    fn rows_have_every_field_of_the_view() {
        let view = MappingView {
            kind: "role",
            arn: "arn:aws:iam::123456789012:role/dev".into(),
            username: "dev".into(),
            groups: vec!["devs".into()],
            account: "123456789012".into(),
            shadowed: true,
            source: "access-entry",
            entry_type: "STANDARD".into(),
            policies: vec![crate::access::model::PolicyView::new(
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                vec!["dev".into()],
            )],
        };
        let by_hand: Map = row(view.clone()).cast();
        let by_serde: Map = api::to_dynamic(&view).cast();
        assert_eq!(
            by_hand.keys().collect::<Vec<_>>(),
            by_serde.keys().collect::<Vec<_>>()
        );
        assert_eq!(format!("{by_hand:?}"), format!("{by_serde:?}"));
    }
}
