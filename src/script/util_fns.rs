//! Script functions that are not about aws-auth itself: `--set` values, the environment
//! (never secrets), failing with a message, warnings, and ARN helpers.

use rhai::Dynamic;

use super::api::{error_with_hint, Api, FnDoc, FnResult};
use super::state::Shared;
use crate::access::arn;

/// Environment variables whose names contain one of these are never handed to scripts.
const SECRET_MARKERS: &[&str] = &[
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "PRIVATE",
    "_KEY",
];

/// True when an environment variable may hold a secret and must stay out of scripts.
pub fn is_secret_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_MARKERS.iter().any(|m| upper.contains(m))
}

fn env_value(state: &Shared, name: &str) -> FnResult<Option<String>> {
    if is_secret_env(name) {
        return Err(error_with_hint(
            format!("env(\"{name}\") refused: okscript never hands secrets (keys, tokens, passwords) to scripts"),
            "the functions that need credentials read them themselves; pass other values with --set",
        ));
    }
    Ok(state.borrow().env.get(name).cloned())
}

/// Registers the utility functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "arg",
            params: "name: string",
            returns: "string",
            doc: "The value given with --set NAME=VALUE; an error naming the flag when it is missing.",
            example: r#"let arn = arg("arn");"#,
        },
        move |name: &str| -> FnResult<String> {
            s.borrow().args.get(name).cloned().ok_or_else(|| {
                error_with_hint(
                    format!("this script needs a value for `{name}`"),
                    format!("pass it with `--set {name}=VALUE`"),
                )
            })
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "arg",
            params: "name: string, default: any",
            returns: "string",
            doc: "The value given with --set NAME=VALUE, or the default when it is not given.",
            example: r#"let groups = arg("groups", "system:masters").split(",");"#,
        },
        move |name: &str, default: Dynamic| -> Dynamic {
            s.borrow()
                .args
                .get(name)
                .map_or(default, |v| v.clone().into())
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "has_arg",
            params: "name: string",
            returns: "bool",
            doc: "Whether --set NAME=VALUE was given.",
            example: r#"if has_arg("username") { print(arg("username")); }"#,
        },
        move |name: &str| -> bool { s.borrow().args.contains_key(name) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "env",
            params: "name: string",
            returns: "string",
            doc: "An environment variable; an error when it is unset. Variables that may hold secrets (SECRET, TOKEN, PASSWORD, _KEY, ...) are refused.",
            example: r#"let cluster = env("OKSCRIPT_CLUSTER");"#,
        },
        move |name: &str| -> FnResult<String> {
            env_value(&s, name)?.ok_or_else(|| format!("the environment variable `{name}` is not set").into())
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "env",
            params: "name: string, default: any",
            returns: "string",
            doc: "An environment variable, or the default when it is unset (secrets are refused as with env(name)).",
            example: r#"let who = env("USER", "someone");"#,
        },
        move |name: &str, default: Dynamic| -> FnResult<Dynamic> {
            Ok(env_value(&s, name)?.map_or(default, Dynamic::from))
        },
    );
    api.def(
        FnDoc {
            name: "fail",
            params: "message: string",
            returns: "()",
            doc: "Stop the script with this message; nothing staged is written, and the exit code is 1.",
            example: r#"if arg("env", "dev") == "prod" { fail("use the prod pipeline"); }"#,
        },
        |message: &str| -> FnResult<()> { Err(message.to_string().into()) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "warn",
            params: "message: string",
            returns: "()",
            doc: "Print a warning on stderr (and into --output json's warnings).",
            example: r#"warn("this cluster has no admin role yet");"#,
        },
        move |message: &str| s.borrow_mut().printer.warn(message),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "is_dry_run",
            params: "",
            returns: "bool",
            doc: "Whether the run is a --dry-run (nothing will be written).",
            example: r#"if is_dry_run() { print("nothing will be written"); }"#,
        },
        move || -> bool { s.borrow().dry_run },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "target",
            params: "",
            returns: "string",
            doc: "The target the run writes to, such as file:aws-auth.yaml or cluster:NAME/kube-system/aws-auth, or \"\" when none was given.",
            example: r#"print(`editing ${target()}`);"#,
        },
        move || -> String {
            let st = s.borrow();
            if let Some(c) = &st.changes {
                return c.describe();
            }
            match (&st.target_spec, &st.kube.connect) {
                (Some(t), Some(spec)) if t.is_cluster() => format!("cluster:{}/kube-system/aws-auth", spec.name()),
                (spec, _) => spec.as_ref().map(ToString::to_string).unwrap_or_default(),
            }
        },
    );
    api.def(
        FnDoc {
            name: "role_arn",
            params: "arn: string",
            returns: "string",
            doc: "The canonical, path-less role ARN the authenticator matches, for a role ARN with a path or an STS assumed-role ARN; an error for anything else.",
            example: r#"let r = role_arn("arn:aws:sts::123456789012:assumed-role/admin/me");"#,
        },
        |text: &str| -> FnResult<String> { Ok(arn::role_arn(text).map_err(|e| e.to_string())?.arn) },
    );
    api.def(
        FnDoc {
            name: "user_arn",
            params: "arn: string",
            returns: "string",
            doc: "The IAM user ARN, checked (user paths are kept: STS reports them); an error for anything else.",
            example: r#"let u = user_arn("arn:aws:iam::123456789012:user/team/bob");"#,
        },
        |text: &str| -> FnResult<String> { Ok(arn::user_arn(text).map_err(|e| e.to_string())?.canonical()) },
    );
    api.def(
        FnDoc {
            name: "is_account_id",
            params: "text: string",
            returns: "bool",
            doc: "Whether the text is a 12-digit AWS account id.",
            example: r#"if !is_account_id(arg("account")) { fail("not an account id"); }"#,
        },
        |text: &str| -> bool { arn::is_account_id(text) },
    );
}
