//! Script functions about AWS identity: log in the way the okctl runbook does, switch
//! profiles and roles, and look principals up in IAM. Secrets stay in Rust: functions return
//! identities and ARNs, never keys or tokens.

use std::collections::BTreeMap;

use rhai::{Dynamic, Map};

use super::api::{self, error_with_hint, Api, FnDoc, FnResult};
use super::state::{Shared, State};
use crate::access::arn;
use crate::aws::{self, AwsError, CredentialType, Identity, Session};
use crate::settings::AwsSettings;

/// The AWS side of a run: its runtime (created on first use) and the current session.
pub struct AwsState {
    settings: AwsSettings,
    /// Granted principals whose existence in IAM is still to be checked.
    to_check: Vec<String>,
    runtime: Option<std::sync::Arc<tokio::runtime::Runtime>>,
    session: Option<Session>,
    /// A login made once for a whole fleet: what `login()` and the implicit login adopt
    /// instead of logging in again.
    preset: Option<Session>,
}

/// One login and runtime shared by every run of a fleet: logging in once, not per cluster,
/// and one runtime the clusters' threads all block on.
#[derive(Clone)]
pub struct SharedLogin {
    /// The runtime the login was made on (its clients' connections live there).
    pub runtime: std::sync::Arc<tokio::runtime::Runtime>,
    /// The verified session.
    pub session: Session,
}

impl std::fmt::Debug for SharedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLogin")
            .field("session", &self.session)
            .finish()
    }
}

impl std::fmt::Debug for AwsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsState")
            .field("settings", &self.settings)
            .field("session", &self.session)
            .finish()
    }
}

impl AwsState {
    /// AWS state for a run; nothing starts until a script calls an AWS function.
    pub fn new(settings: AwsSettings) -> AwsState {
        AwsState {
            settings,
            to_check: Vec::new(),
            runtime: None,
            session: None,
            preset: None,
        }
    }

    /// AWS state that adopts a login already made (a fleet's) instead of logging in again.
    pub fn with_login(mut self, login: SharedLogin) -> AwsState {
        self.runtime = Some(login.runtime);
        self.preset = Some(login.session);
        self
    }

    /// The runtime and session to share with other runs, once logged in.
    pub fn shared(&self) -> Option<SharedLogin> {
        Some(SharedLogin {
            runtime: self.runtime.clone()?,
            session: self.session.clone()?,
        })
    }

    /// The session, when the script has logged in.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The run's async runtime, started on first use (an empty script never starts it).
    pub fn runtime(&mut self) -> FnResult<std::sync::Arc<tokio::runtime::Runtime>> {
        if self.runtime.is_none() {
            let rt = aws::runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
            self.runtime = Some(std::sync::Arc::new(rt));
        }
        Ok(self.runtime.clone().expect("set above"))
    }

    /// Runs a future on the run's runtime (Rhai is synchronous; the engine's thread blocks).
    pub fn block_on<F: std::future::Future>(&mut self, fut: F) -> FnResult<F::Output> {
        Ok(self.runtime()?.block_on(fut))
    }

    /// The settings.
    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// Logs in with the default credential type unless a session exists; returns it.
    pub fn ensure_session(&mut self) -> Result<Session, Box<rhai::EvalAltResult>> {
        if let Some(s) = &self.session {
            return Ok(s.clone());
        }
        Err(error_with_hint(
            "not logged in to AWS",
            "call login() first (or login(\"sso\"), login(\"access-key\"), assume_profile(\"NAME\"))",
        ))
    }
}

/// An AWS error as a script error with its hint.
pub fn aws_error(e: AwsError) -> Box<rhai::EvalAltResult> {
    api::advised(&e)
}

fn identity_map(id: &Identity) -> Dynamic {
    let mut m = Map::new();
    m.insert("account".into(), id.account.clone().into());
    m.insert("arn".into(), id.arn.clone().into());
    m.insert("user_id".into(), id.user_id.clone().into());
    m.insert("principal_arn".into(), id.principal_arn.clone().into());
    m.insert("type".into(), id.credential_type.as_str().into());
    m.insert(
        "profile".into(),
        id.profile.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    m.into()
}

/// Makes `session` current: checks the cluster declaration's account, protects the caller's
/// own mapping, and returns the identity.
fn adopt(st: &mut State, session: Session) -> FnResult<Dynamic> {
    let id = session.identity().clone();
    if let Err(w) = st.aws.settings.check_account(&id.account) {
        st.blocked = Some(w.message.clone());
        return Err(error_with_hint(
            format!("{}: refusing to go on, so nothing is changed", w.message),
            w.hint,
        ));
    }
    st.printer.verbose(&format!(
        "logged in as {} ({}, account {})",
        id.arn,
        id.credential_type.as_str(),
        id.account
    ));
    st.protect(&id.principal_arn);
    st.aws.session = Some(session);
    Ok(identity_map(&id))
}

fn parse_type(text: &str) -> FnResult<CredentialType> {
    text.parse::<CredentialType>().map_err(aws_error)
}

fn session_or_login_hint(st: &State) -> FnResult<Session> {
    st.aws.session.clone().ok_or_else(|| {
        error_with_hint(
            "not logged in to AWS",
            "call login() first (or login(\"sso\"), login(\"access-key\"), assume_profile(\"NAME\"))",
        )
    })
}

/// Notes a granted principal for [`check_principals`]; the IAM look-ups run together, once,
/// before the write (a script granting 500 principals does not wait for 500 calls in a row).
pub fn check_principal(state: &Shared, canonical: &str) {
    let mut st = state.borrow_mut();
    if st.aws.session.is_some() && !st.aws.to_check.iter().any(|c| c == canonical) {
        st.aws.to_check.push(canonical.to_string());
    }
}

/// How many IAM look-ups run at once.
const CHECK_CONCURRENCY: usize = 16;

/// From this many principals on, list the account's principals instead of asking for each.
const BULK_CHECK_FROM: usize = 20;

/// Warns about granted principals that do not exist in IAM or live in another account:
/// the authenticator would silently never match them.
pub fn check_principals(st: &mut State) {
    let pending = std::mem::take(&mut st.aws.to_check);
    let Some(session) = st.aws.session.clone() else {
        return;
    };
    let mut warnings = Vec::new();
    let mut lookups = Vec::new();
    for canonical in pending {
        let Ok(p) = arn::parse_principal(&canonical) else {
            continue;
        };
        if p.account != session.account() {
            warnings.push(format!(
                "{canonical} belongs to account {}, not to {} where you are logged in: okscript cannot check that it exists",
                p.account,
                session.account()
            ));
        } else {
            lookups.push(canonical);
        }
    }
    // Many principals: list the account's roles and users once instead of asking per principal.
    if lookups.len() > BULK_CHECK_FROM {
        // Without permission to list, fall back to one look-up per principal.
        if let Ok(Ok(known)) = st.aws.block_on(aws::account_principals(&session)) {
            for canonical in &lookups {
                if !known.contains(&canonical.to_ascii_lowercase()) {
                    warnings.push(format!(
                        "{canonical} does not exist in IAM of account {}: a typo? the authenticator would never match it",
                        session.account()
                    ));
                }
            }
            lookups.clear();
        }
    }
    let results = st.aws.block_on(async {
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(CHECK_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, canonical) in lookups.into_iter().enumerate() {
            let (session, limit) = (session.clone(), limit.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let found = aws::principal_exists(&session, &canonical).await;
                (i, canonical, found)
            });
        }
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(r) = done {
                out.push(r);
            }
        }
        out.sort_by_key(|r| r.0);
        out
    });
    for (_, canonical, found) in results.unwrap_or_default() {
        match found {
            Ok(true) => {}
            Ok(false) => warnings.push(format!(
                "{canonical} does not exist in IAM of account {}: a typo? the authenticator would never match it",
                session.account()
            )),
            Err(e) => warnings.push(format!("could not check that {canonical} exists in IAM: {e}")),
        }
    }
    for w in warnings {
        st.printer.warn(&w);
    }
}

/// Registers the AWS functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "login",
            params: "",
            returns: "map",
            doc: "Log in to AWS with -a, else OKSCRIPT_AWS_CREDENTIALS_TYPE, else OKCTL_AWS_CREDENTIALS_TYPE, else the AWS SDK's default chain (keys in the environment, --profile/AWS_PROFILE or a default profile, web identity, container, instance metadata) and verify it with STS; returns #{account, arn, user_id, principal_arn, type, profile}.",
            example: r#"let me = login(); print(me.principal_arn);"#,
        },
        move || -> FnResult<Dynamic> {
            let mut st = s.borrow_mut();
            let t = st.aws.settings.default_type;
            login_with(&mut st, t)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "login",
            params: "type: string",
            returns: "map",
            doc: "Log in with \"access-key\" (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY only), \"aws-profile\" (AWS_PROFILE or default) or \"sso\" (an SSO profile with a cached login), verified with STS.",
            example: r#"let me = login("access-key");"#,
        },
        move |t: &str| -> FnResult<Dynamic> {
            let t = parse_type(t)?;
            login_with(&mut s.borrow_mut(), Some(t))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "assume_profile",
            params: "name: string",
            returns: "map",
            doc: "Switch to a named AWS profile (like `export AWS_PROFILE=name`), verify it and return the identity.",
            example: r#"let me = assume_profile("myprofile");"#,
        },
        move |name: &str| -> FnResult<Dynamic> {
            let mut st = s.borrow_mut();
            let ctx = st.aws.settings.ctx.clone();
            let session = st.aws.block_on(aws::assume_profile(&ctx, name))?.map_err(aws_error)?;
            adopt(&mut st, session)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "assume_role",
            params: "arn: string",
            returns: "map",
            doc: "STS AssumeRole from the current session (session name derived from the caller) and switch to it; returns the new identity.",
            example: r#"let admin = assume_role("arn:aws:iam::123456789012:role/cluster-admin");"#,
        },
        move |role: &str| -> FnResult<Dynamic> { assume(&s, role, None) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "assume_role",
            params: "arn: string, session_name: string",
            returns: "map",
            doc: "STS AssumeRole with this session name (what {{SessionName}} expands to) and switch to it.",
            example: r#"let admin = assume_role("arn:aws:iam::123456789012:role/cluster-admin", "ci-job-42");"#,
        },
        move |role: &str, name: &str| -> FnResult<Dynamic> { assume(&s, role, Some(name)) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "whoami",
            params: "",
            returns: "map",
            doc: "The current AWS identity, as login() returned it, without calling AWS again; an error when not logged in.",
            example: r#"print(whoami().arn);"#,
        },
        move || -> FnResult<Dynamic> {
            let st = s.borrow();
            let session = session_or_login_hint(&st)?;
            Ok(identity_map(session.identity()))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "sso_role_arn",
            params: "permission_set: string",
            returns: "string",
            doc: "The path-less ARN of the IAM Identity Center role for a permission set (AWSReservedSSO_<set>_<hex>), found in IAM; lists the sets that exist when none matches.",
            example: r#"let role = sso_role_arn("AWSAdministratorAccess");"#,
        },
        move |ps: &str| -> FnResult<String> {
            let mut st = s.borrow_mut();
            let session = session_or_login_hint(&st)?;
            st.aws.block_on(aws::sso_role_arn(&session, ps))?.map_err(aws_error)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "iam_role",
            params: "name: string",
            returns: "map",
            doc: "An IAM role of the current account by name (or ARN): #{arn, principal_arn, name, path, account, id, created}.",
            example: r#"let r = iam_role("ci-deployer"); grant_role(r.principal_arn, ["deployers"]);"#,
        },
        move |name: &str| -> FnResult<Dynamic> {
            let mut st = s.borrow_mut();
            let session = session_or_login_hint(&st)?;
            let role = st.aws.block_on(aws::iam_role(&session, name))?.map_err(aws_error)?;
            Ok(api::to_dynamic(&role))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "iam_user",
            params: "name: string",
            returns: "map",
            doc: "An IAM user of the current account by name (or ARN): #{arn, name, path, account, id, created}.",
            example: r#"let u = iam_user("someone@email.com"); grant_user(u.arn, u.name, ["devs"]);"#,
        },
        move |name: &str| -> FnResult<Dynamic> {
            let mut st = s.borrow_mut();
            let session = session_or_login_hint(&st)?;
            let user = st.aws.block_on(aws::iam_user(&session, name))?.map_err(aws_error)?;
            Ok(api::to_dynamic(&user))
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "cluster",
            params: "",
            returns: "map",
            doc: "The okctl cluster declaration given with -c: #{name, region, account_id}; an error when none was given.",
            example: r#"print(`cluster ${cluster().name} in ${cluster().region}`);"#,
        },
        move || -> FnResult<Dynamic> {
            let st = s.borrow();
            let Some((_, c)) = &st.aws.settings.cluster else {
                return Err(error_with_hint(
                    "no cluster declaration was given",
                    "pass -c/--cluster-declaration cluster.yaml",
                ));
            };
            let mut m = BTreeMap::new();
            m.insert("name", c.name.clone());
            m.insert("region", c.region.clone());
            m.insert("account_id", c.account_id.clone());
            Ok(api::to_dynamic(&m))
        },
    );
}

/// Logs in with the default credential type (for functions that need AWS before the
/// script called login()).
pub fn implicit_login(st: &mut State) -> FnResult<Session> {
    if let Some(s) = st.aws.session() {
        return Ok(s.clone());
    }
    let t = st.aws.settings.default_type;
    if st.aws.preset.is_none() {
        st.printer.note(&format!(
            "logging in to AWS with {} to reach the cluster (call login() yourself to choose)",
            t.map_or("the default credential chain", |t| t.as_str())
        ));
    }
    let _ = login_with(st, t)?;
    st.aws.ensure_session()
}

/// Logs in the way a script's `login()` does, for a fleet to share: the session and the
/// runtime it was made on.
pub fn fleet_login(st: &mut State) -> FnResult<SharedLogin> {
    let t = st.aws.settings.default_type;
    let _ = login_with(st, t)?;
    st.aws
        .shared()
        .ok_or_else(|| "the login left no session".into())
}

/// Logs in with `t`, or with the default chain when `None`; an SSO profile without a usable
/// cached token logs in first.
fn login_with(st: &mut State, t: Option<CredentialType>) -> FnResult<Dynamic> {
    // The login a fleet made once is the one every cluster's `login()` asks for.
    if let Some(session) = st
        .aws
        .preset
        .clone()
        .filter(|_| t == st.aws.settings.default_type)
    {
        return adopt(st, session);
    }
    let ctx = st.aws.settings.ctx.clone();
    // The SSO profile the login will use, if any.
    let profile = match t {
        Some(CredentialType::AccessKey) => None,
        Some(_) => Some(ctx.profile_name()),
        None => match aws::default_source(&ctx).map_err(aws_error)? {
            aws::DefaultSource::Profile(p) => Some(p),
            _ => None,
        },
    };
    st.printer.verbose(&format!(
        "logging in with {}{}",
        t.map_or("the default credential chain", |t| t.as_str()),
        profile
            .as_deref()
            .map(|p| format!(" (profile {p})"))
            .unwrap_or_default()
    ));
    if let Some(p) = &profile {
        super::sso_login_fns::prepare_login(st, p)?;
    }
    let once = |st: &mut State| -> FnResult<Result<Session, AwsError>> {
        match t {
            Some(t) => st.aws.block_on(aws::login(&ctx, t)),
            None => st.aws.block_on(aws::login_default(&ctx)),
        }
    };
    let session = match once(st)? {
        Err(e) if profile.is_some() && super::sso_login_fns::needs_new_login(&e) => {
            // The portal refused the cached token (revoked): log in again, then retry once.
            super::sso_login_fns::ensure_login(st, profile.as_deref().unwrap_or_default(), true)?;
            once(st)?
        }
        other => other,
    }
    .map_err(aws_error)?;
    adopt(st, session)
}

fn assume(state: &Shared, role: &str, name: Option<&str>) -> FnResult<Dynamic> {
    let mut st = state.borrow_mut();
    let session = session_or_login_hint(&st)?;
    let next = st
        .aws
        .block_on(aws::assume_role(&session, role, name))?
        .map_err(aws_error)?;
    adopt(&mut st, next)
}
