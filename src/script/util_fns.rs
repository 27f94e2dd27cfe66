//! Script functions that are not about aws-auth itself: `--set` values, the environment
//! (an allow-list, never okscript's credentials), failing with a message, warnings, and ARN helpers.

use rhai::Dynamic;

use super::api::{error_with_hint, Api, FnDoc, FnResult};
use super::state::Shared;
use crate::access::arn;

/// Environment variables whose names contain one of these are never handed to scripts
/// unless the user names them with `--allow-env`.
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

/// Variables scripts may read without `--allow-env`: settings that say where and as whom a run
/// works, never what proves it. A script copied from elsewhere must not reach a CI's secrets,
/// so this is an allow-list, not a deny-list.
pub const ENV_ALLOWED: &[&str] = &[
    // Who and where.
    "USER",
    "LOGNAME",
    "HOME",
    "KUBECONFIG",
    // AWS settings (not credentials).
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    // CI systems: whether, which repository, which commit, who.
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_OWNER",
    "GITHUB_REF",
    "GITHUB_REF_NAME",
    "GITHUB_HEAD_REF",
    "GITHUB_BASE_REF",
    "GITHUB_SHA",
    "GITHUB_ACTOR",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_NUMBER",
    "GITHUB_WORKFLOW",
    "GITHUB_EVENT_NAME",
    "GITHUB_SERVER_URL",
    "GITLAB_CI",
    "GITLAB_USER_LOGIN",
    "CI_PROJECT_PATH",
    "CI_COMMIT_SHA",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_TAG",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "CI_ENVIRONMENT_NAME",
    "CI_MERGE_REQUEST_IID",
];

/// Prefixes of okscript's and okctl's own settings, readable unless the name looks secret.
pub const ENV_ALLOWED_PREFIXES: &[&str] = &["OKSCRIPT_", "OKCTL_"];

/// okscript's own AWS login; functions that need it read it themselves, so not even
/// `--allow-env` hands it to a script.
pub const ENV_NEVER: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
];

/// Why a script may not read `name`, or `None` when it may. `allowed` holds the names given
/// with `--allow-env`: the user's explicit word wins over the secret-looking heuristic.
pub fn env_refusal(name: &str, allowed: &std::collections::BTreeSet<String>) -> Option<String> {
    if ENV_NEVER.contains(&name) {
        return Some(format!(
            "env(\"{name}\") refused: okscript never hands secrets to scripts, and {name} is part of its own AWS login\nhint: the functions that need credentials read them themselves; pass other values with --set"
        ));
    }
    if allowed.contains(name) {
        return None;
    }
    let listed = ENV_ALLOWED.contains(&name);
    let prefixed = ENV_ALLOWED_PREFIXES.iter().any(|p| name.starts_with(p));
    if (listed || prefixed) && !is_secret_env(name) {
        return None;
    }
    Some(format!(
        "env(\"{name}\") refused: scripts read only the variables on okscript's allow-list (AWS settings, OKSCRIPT_*, OKCTL_*, CI variables: `okscript fns` lists them under env) and those the user allows\nhint: if this script should read it, run it with `--allow-env {name}` (or OKSCRIPT_ALLOW_ENV={name}); pass other values with --set"
    ))
}

fn env_value(state: &Shared, name: &str) -> FnResult<Option<String>> {
    let st = state.borrow();
    if let Some(why) = env_refusal(name, &st.env_allowed) {
        return Err(why.into());
    }
    Ok(st.env.get(name).cloned())
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
            doc: "An environment variable; an error when it is unset. Only an allow-list is readable: USER, LOGNAME, HOME, KUBECONFIG, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME, OKSCRIPT_* and OKCTL_* (unless the name looks secret: SECRET, TOKEN, PASSWORD, _KEY, ...), CI, GITHUB_ACTIONS, GITHUB_REPOSITORY(_OWNER), GITHUB_REF(_NAME), GITHUB_HEAD_REF, GITHUB_BASE_REF, GITHUB_SHA, GITHUB_ACTOR, GITHUB_RUN_ID, GITHUB_RUN_NUMBER, GITHUB_WORKFLOW, GITHUB_EVENT_NAME, GITHUB_SERVER_URL, GITLAB_CI, GITLAB_USER_LOGIN, CI_PROJECT_PATH, CI_COMMIT_SHA, CI_COMMIT_REF_NAME, CI_COMMIT_BRANCH, CI_COMMIT_TAG, CI_PIPELINE_ID, CI_JOB_ID, CI_ENVIRONMENT_NAME, CI_MERGE_REQUEST_IID; any other name only when the user runs with --allow-env NAME (or OKSCRIPT_ALLOW_ENV=A,B), which wins even over a secret-looking name. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are never readable.",
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
            doc: "An environment variable, or the default when it is unset; names off the allow-list are refused as with env(name), set or not.",
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::env_refusal;

    #[test]
    fn env_reads_only_the_allow_list_and_what_the_user_names() {
        let none = BTreeSet::new();
        for ok in [
            "AWS_REGION",
            "OKSCRIPT_CLUSTER",
            "OKCTL_ENV",
            "GITHUB_SHA",
            "CI",
            "USER",
        ] {
            assert_eq!(env_refusal(ok, &none), None, "{ok}");
        }
        for refused in [
            "DB_PASS",
            "GITHUB_PAT",
            "AUTH",
            "API_SIGNATURE",
            "GITHUB_TOKEN",
            "OKSCRIPT_SSO_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            let why = env_refusal(refused, &none).unwrap_or_default();
            assert!(why.contains("refused"), "{refused}: {why}");
        }
        let allowed: BTreeSet<String> = ["DB_PASS", "GITHUB_TOKEN", "AWS_SESSION_TOKEN"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(env_refusal("DB_PASS", &allowed), None);
        assert_eq!(env_refusal("GITHUB_TOKEN", &allowed), None);
        assert!(env_refusal("AWS_SESSION_TOKEN", &allowed)
            .is_some_and(|w| w.contains("never hands secrets")));
        assert!(env_refusal("OTHER", &allowed).is_some_and(|w| w.contains("--allow-env OTHER")));
    }
}
