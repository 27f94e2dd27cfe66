//! Script functions for the SSO login itself: `sso_login`, `sso_logout`, and what the
//! login can reach (`sso_accounts`, `sso_roles`). Tokens stay in the cache file: functions
//! return the profile, start URL and expiry, never a token.

use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{Array, Dynamic, Map};

use super::api::{Api, FnDoc, FnResult};
use super::aws_fns::aws_error;
use super::state::{Shared, State};
use crate::aws::{self, AwsError, LoginFor, SsoLogin, SsoLoginOptions};

/// Whether a Ctrl-C handler has been installed by an SSO login (then a later Ctrl-C must
/// still end the process, as it would have without the handler).
static CTRL_C_EXITS: AtomicBool = AtomicBool::new(false);

/// Makes sure `profile` has a usable cached SSO token, running the device flow when needed
/// (`force`: even when the cached token looks valid, because the portal refused it).
/// The verification URL and code go to stderr; Ctrl-C cancels the wait.
pub fn ensure_login(st: &mut State, profile: &str, force: bool) -> FnResult<SsoLogin> {
    login_who(st, LoginFor::Profile(profile), force)
}

fn login_who(st: &mut State, who: LoginFor<'_>, force: bool) -> FnResult<SsoLogin> {
    let ctx = st.aws.settings().ctx.clone();
    let settings = st.aws.settings().clone();
    let opts = SsoLoginOptions {
        open_browser: !settings.no_browser && settings.display,
        force,
        sleeper: None,
        browser: settings.browser.clone(),
        person: settings.terminal || settings.display,
        // Scripts keep the device code grant; `okscript login` runs the PKCE one.
        authorization_code: false,
    };
    let rt = st.aws.runtime()?;
    let printer = &mut st.printer;
    let mut show = |line: &str| printer.note(line);
    let armed = std::cell::Cell::new(false);
    let cancel = async {
        armed.set(true);
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling on this platform: never cancel.
            std::future::pending::<()>().await;
        }
    };
    let result = rt.block_on(aws::sso_login(&ctx, who, &opts, &mut show, cancel));
    if armed.get() && !CTRL_C_EXITS.swap(true, Ordering::SeqCst) {
        // The handler stays installed for the rest of the process: keep Ctrl-C fatal.
        rt.spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    }
    let login = result.map_err(aws_error)?;
    if login.source != aws::TokenSource::Cached {
        st.printer.verbose(&format!(
            "SSO login for profile {} {} (expires {})",
            login.profile,
            match login.source {
                aws::TokenSource::Refreshed => "refreshed",
                _ => "approved",
            },
            login.expires_at
        ));
    }
    Ok(login)
}

/// Before `login("sso")` / `login("aws-profile")`: when the profile is an SSO profile, make
/// sure its token is usable (refresh or device flow). Anything else is left to the login.
pub fn prepare_login(st: &mut State, profile: &str) -> FnResult<()> {
    if aws::is_sso_profile(&st.aws.settings().ctx, profile) {
        ensure_login(st, profile, false)?;
    }
    Ok(())
}

/// Whether a login error means the cached SSO token was refused and a new login could help.
pub fn needs_new_login(e: &AwsError) -> bool {
    matches!(
        e,
        AwsError::SsoLoginRequired { .. } | AwsError::SsoLoginExpired { .. }
    )
}

fn login_map(l: &SsoLogin) -> Dynamic {
    let mut m = Map::new();
    m.insert("profile".into(), l.profile.clone().into());
    m.insert("start_url".into(), l.start_url.clone().into());
    m.insert("expires_at".into(), l.expires_at.clone().into());
    m.into()
}

fn default_profile(st: &State) -> String {
    st.aws.settings().ctx.profile_name()
}

fn logout(st: &mut State, profile: &str) -> FnResult<bool> {
    let ctx = st.aws.settings().ctx.clone();
    let removed = aws::sso_logout(&ctx, profile).map_err(aws_error)?;
    match &removed {
        Some(p) => st.printer.note(&format!(
            "logged out of SSO for profile {profile}: removed {}",
            p.display()
        )),
        None => st.printer.note(&format!(
            "no cached SSO login for profile {profile}: nothing to remove"
        )),
    }
    Ok(removed.is_some())
}

fn accounts(st: &mut State, profile: &str) -> FnResult<Array> {
    ensure_login(st, profile, false)?;
    let ctx = st.aws.settings().ctx.clone();
    let list = st
        .aws
        .block_on(aws::sso_accounts(&ctx, profile))?
        .map_err(aws_error)?;
    Ok(account_maps(&list))
}

/// Reads `#{profile, session, start_url, sso_region}` (session defaults to the profile).
fn session_spec(map: &Map) -> FnResult<aws::SsoSessionSpec> {
    let get = |k: &str| -> Option<String> {
        map.get(k)
            .filter(|v| !v.is_unit())
            .map(|v| v.to_string())
            .filter(|v| !v.trim().is_empty())
    };
    let need = |k: &str| -> FnResult<String> {
        get(k).ok_or_else(|| {
            format!(
                "the SSO session map needs `{k}` (#{{profile, start_url, sso_region, session}})"
            )
            .into()
        })
    };
    let profile = need("profile")?;
    Ok(aws::SsoSessionSpec {
        session: get("session").unwrap_or_else(|| profile.clone()),
        start_url: need("start_url")?,
        region: need("sso_region")?,
        profile,
    })
}

fn session_accounts(st: &mut State, spec: &aws::SsoSessionSpec) -> FnResult<Array> {
    login_who(st, LoginFor::Session(spec), false)?;
    let ctx = st.aws.settings().ctx.clone();
    let list = st
        .aws
        .block_on(aws::sso_session_accounts(&ctx, spec))?
        .map_err(aws_error)?;
    Ok(account_maps(&list))
}

fn session_roles(st: &mut State, spec: &aws::SsoSessionSpec, account_id: &str) -> FnResult<Array> {
    login_who(st, LoginFor::Session(spec), false)?;
    let ctx = st.aws.settings().ctx.clone();
    let list = st
        .aws
        .block_on(aws::sso_session_roles(&ctx, spec, account_id))?
        .map_err(aws_error)?;
    Ok(list.into_iter().map(Dynamic::from).collect())
}

fn account_maps(list: &[aws::SsoAccount]) -> Array {
    list.iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("account_id".into(), a.account_id.clone().into());
            m.insert("name".into(), a.name.clone().into());
            m.insert("email".into(), a.email.clone().into());
            Dynamic::from(m)
        })
        .collect()
}

fn roles(st: &mut State, profile: &str, account_id: &str) -> FnResult<Array> {
    ensure_login(st, profile, false)?;
    let ctx = st.aws.settings().ctx.clone();
    let list = st
        .aws
        .block_on(aws::sso_roles(&ctx, profile, account_id))?
        .map_err(aws_error)?;
    Ok(list.into_iter().map(Dynamic::from).collect())
}

/// Registers the SSO login functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_login",
            params: "",
            returns: "map",
            doc: "Make sure the SSO profile AWS_PROFILE names has a valid cached login (the AWS CLI v2's cache; refreshed, or a browser login when needed); returns #{profile, start_url, expires_at}.",
            example: r#"let l = sso_login(); print(`logged in until ${l.expires_at}`);"#,
        },
        move || -> FnResult<Dynamic> {
            let mut st = s.borrow_mut();
            let profile = default_profile(&st);
            Ok(login_map(&ensure_login(&mut st, &profile, false)?))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_login",
            params: "profile: string",
            returns: "map",
            doc: "Make sure this SSO profile has a valid cached login (refreshed, or a browser login when needed); returns #{profile, start_url, expires_at}, never the token.",
            example: r#"let l = sso_login("sso-admin"); print(l.start_url);"#,
        },
        move |profile: &str| -> FnResult<Dynamic> {
            Ok(login_map(&ensure_login(&mut s.borrow_mut(), profile, false)?))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_login",
            params: "session: map",
            returns: "map",
            doc: "Log in to an sso-session the config file may not hold yet, #{profile, start_url, sso_region, session (= profile)}: the token is cached under the session name, as `aws configure sso` does; returns #{profile, start_url, expires_at}.",
            example: r#"sso_login(#{profile: "myprofile", start_url: "https://osloorigo.awsapps.com/start/", sso_region: "eu-west-1"});"#,
        },
        move |map: Map| -> FnResult<Dynamic> {
            let spec = session_spec(&map)?;
            Ok(login_map(&login_who(&mut s.borrow_mut(), LoginFor::Session(&spec), false)?))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_accounts",
            params: "session: map",
            returns: "array",
            doc: "The AWS accounts an sso-session (#{profile, start_url, sso_region, session}, as for sso_login) can reach, logging in if needed: an array of #{account_id, name, email}.",
            example: r#"let accounts = sso_accounts(#{profile: "p", start_url: "https://osloorigo.awsapps.com/start/", sso_region: "eu-west-1"});"#,
        },
        move |map: Map| -> FnResult<Array> {
            let spec = session_spec(&map)?;
            session_accounts(&mut s.borrow_mut(), &spec)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_roles",
            params: "session: map, account_id: string",
            returns: "array",
            doc: "The permission sets an sso-session (#{profile, start_url, sso_region, session}) may use in an account, logging in if needed.",
            example: r#"let roles = sso_roles(#{profile: "p", start_url: "https://osloorigo.awsapps.com/start/", sso_region: "eu-west-1"}, "123456789012");"#,
        },
        move |map: Map, account_id: &str| -> FnResult<Array> {
            let spec = session_spec(&map)?;
            session_roles(&mut s.borrow_mut(), &spec, account_id)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_logout",
            params: "",
            returns: "bool",
            doc: "Remove the cached SSO login of the profile AWS_PROFILE names (shared with the AWS CLI); true when there was one.",
            example: r#"if sso_logout() { print("logged out"); }"#,
        },
        move || -> FnResult<bool> {
            let mut st = s.borrow_mut();
            let profile = default_profile(&st);
            logout(&mut st, &profile)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_logout",
            params: "profile: string",
            returns: "bool",
            doc: "Remove the cached SSO login of this profile's SSO session (shared with the AWS CLI); true when there was one.",
            example: r#"sso_logout("sso-admin");"#,
        },
        move |profile: &str| -> FnResult<bool> { logout(&mut s.borrow_mut(), profile) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_accounts",
            params: "",
            returns: "array",
            doc: "The AWS accounts the SSO login of AWS_PROFILE can reach (logging in if needed): an array of #{account_id, name, email}.",
            example: r#"for a in sso_accounts() { print(`${a.account_id} ${a.name}`); }"#,
        },
        move || -> FnResult<Array> {
            let mut st = s.borrow_mut();
            let profile = default_profile(&st);
            accounts(&mut st, &profile)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_roles",
            params: "account_id: string",
            returns: "array",
            doc: "The permission sets (role names) the SSO login of AWS_PROFILE may use in an account, e.g. [\"AWSAdministratorAccess\"].",
            example: r#"let roles = sso_roles("123456789012"); print(roles);"#,
        },
        move |account_id: &str| -> FnResult<Array> {
            let mut st = s.borrow_mut();
            let profile = default_profile(&st);
            roles(&mut st, &profile, account_id)
        },
    );
}
