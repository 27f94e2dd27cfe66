//! Script functions over aws-auth: grant and revoke roles, users and accounts, read the
//! staged mappings and findings, show the plan and apply it. Each is documented where it is
//! registered; Rust errors become script errors only here, so positions survive.

use rhai::{Array, Dynamic, Map};

use super::api::{self, error_with_hint, Api, FnDoc, FnResult, Opts};
use super::state::Shared;
use crate::access::arn::PrincipalKind;
use crate::access::intent::Intent;
use crate::access::lint;
use crate::access::model::MappingView;
use crate::access::plan::{self, Summary};

fn stage(state: &Shared, intent: Intent, note: Option<String>) -> FnResult<bool> {
    let mut st = state.borrow_mut();
    st.check_not_blocked()?;
    if let Some(n) = note {
        st.printer.note(&n);
    }
    let applied = st
        .changes()?
        .stage(intent)
        .map_err(|r| error_with_hint(&r.message, &r.hint))?;
    for n in &applied.notes {
        st.printer.note(n);
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

fn grant(
    state: &Shared,
    kind: PrincipalKind,
    arn: &Dynamic,
    groups: &Dynamic,
    username: Option<&Dynamic>,
    opts: Opts,
) -> FnResult<Dynamic> {
    let arn = api::string("the ARN", arn)?;
    let groups = api::groups(groups)?;
    let username = username
        .map(|u| api::string("the username", u))
        .transpose()?;
    let (intent, note) = Intent::grant(kind, &arn, &groups, username.as_deref(), opts.force)
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

fn account(state: &Shared, id: &Dynamic, grant: bool) -> FnResult<bool> {
    let id = match id.as_int() {
        Ok(n) => n.to_string(),
        Err(_) => api::string("the account id", id)?,
    };
    let intent = Intent::account(&id, grant).map_err(|e| e.to_string())?;
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
    map.into()
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
            doc: "Like grant_role(arn, groups), also setting the username (a string), or with options (#{force: true} passes guards).",
            example: r#"grant_role("arn:aws:iam::123456789012:role/admin", ["system:masters"], "admin:{{SessionName}}");"#,
        },
        move |arn: Dynamic, groups: Dynamic, third: Dynamic| {
            if api::is_map(&third) {
                grant(&s, PrincipalKind::Role, &arn, &groups, None, api::opts(&third)?)
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
            doc: "Like grant_role(arn, groups, username) with options: #{force: true} passes guards.",
            example: r#"grant_role("arn:aws:iam::123456789012:role/admin", ["system:masters"], "admin", #{force: true});"#,
        },
        move |arn: Dynamic, groups: Dynamic, username: Dynamic, options: Dynamic| {
            grant(&s, PrincipalKind::Role, &arn, &groups, Some(&username), api::opts(&options)?)
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
            doc: "Like grant_user(arn, username, groups) with options: #{force: true} passes guards.",
            example: r#"grant_user("arn:aws:iam::123456789012:user/bob", "bob", ["devs"], #{force: true});"#,
        },
        move |arn: Dynamic, username: Dynamic, groups: Dynamic, options: Dynamic| {
            grant(&s, PrincipalKind::User, &arn, &groups, Some(&username), api::opts(&options)?)
        },
    );
    for (name, grant_it, doc, example) in [
        ("grant_account", true, "Ensure a mapAccounts entry: every IAM principal of the account maps to its own ARN as username, with no groups. Returns whether anything changed.", r#"grant_account("210987654321");"#),
        ("revoke_account", false, "Remove the account from mapAccounts. Returns whether anything changed.", r#"revoke_account("210987654321");"#),
    ] {
        let s = state.clone();
        api.def(
            FnDoc { name, params: "account_id: string", returns: "bool", doc, example },
            move |id: Dynamic| account(&s, &id, grant_it),
        );
        let s = state.clone();
        api.def(
            FnDoc {
                name,
                params: "account_id: string, options: map",
                returns: "bool",
                doc: "The same, with an options map (accepted for symmetry; no guard applies to accounts).",
                example: if grant_it { r#"grant_account("210987654321", #{force: false});"# } else { r#"revoke_account("210987654321", #{force: false});"# },
            },
            move |id: Dynamic, options: Dynamic| {
                api::opts(&options)?;
                account(&s, &id, grant_it)
            },
        );
    }
    for (kind, name) in [
        (PrincipalKind::Role, "revoke_role"),
        (PrincipalKind::User, "revoke_user"),
    ] {
        let (d1, e1, d2, e2, d3, e3) = match kind {
            PrincipalKind::Role => (
                "Remove every mapRoles entry for the role (node roles, the last system:masters and your own mapping need #{force: true}). Returns whether anything changed.",
                r#"revoke_role("arn:aws:iam::123456789012:role/dev");"#,
                "Remove only these groups from the role's entry (a map instead of groups: options for removing the whole entry).",
                r#"revoke_role("arn:aws:iam::123456789012:role/dev", ["devs"]);"#,
                "Remove these groups from the role's entry, with options: #{force: true} passes guards.",
                r#"revoke_role("arn:aws:iam::123456789012:role/dev", ["devs"], #{force: true});"#,
            ),
            PrincipalKind::User => (
                "Remove every mapUsers entry for the user (the last system:masters and your own mapping need #{force: true}). Returns whether anything changed.",
                r#"revoke_user("arn:aws:iam::123456789012:user/bob");"#,
                "Remove only these groups from the user's entry (a map instead of groups: options for removing the whole entry).",
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
            name: "mappings",
            params: "",
            returns: "array",
            doc: "Every mapping as staged (including this script's changes): #{kind: \"role\"|\"user\"|\"account\", arn, username, groups, account}.",
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
            doc: "Problems the authenticator silently ignores in the staged aws-auth: #{code, section, line, arn, message} (codes: duplicate, role-path, template, empty-groups, bad-arn, wrong-kind, bad-account, whitespace).",
            example: r#"for f in findings() { print(f.message); }"#,
        },
        move || -> FnResult<Array> {
            let mut st = s.borrow_mut();
            let found = lint::findings(st.changes()?.staged());
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
