//! Script functions for AWS SSO profiles in the AWS CLI's config file: `configure_sso` (the
//! runbook's `aws configure sso`, without the questions), `has_profile`, and `prompt`,
//! `choose` and `can_ask` for the values a script still needs. The file is edited with
//! [`crate::aws::config_file`], so every line okscript does not change stays byte for byte;
//! paths come from the run's environment snapshot (`AWS_CONFIG_FILE`, else `$HOME/.aws/config`), never from the process.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use rhai::{Array, Dynamic, Map};

use super::api::{error_with_hint, Api, FnDoc, FnResult};
use super::state::Shared;
use crate::access::arn;
use crate::aws::config_file::{self, ConfigFile, Conflict, Edit, EditError, SectionId};
use crate::aws::AwsContext;

/// The SSO region of the okctl runbook ("note that the SSO region is eu-west-1").
pub const DEFAULT_SSO_REGION: &str = "eu-west-1";
/// The output format the runbook picks.
pub const DEFAULT_OUTPUT: &str = "json";
/// The scope the AWS CLI registers for an sso-session.
pub const REGISTRATION_SCOPE: &str = "sso:account:access";

/// Settings that give a profile credentials some other way; an SSO profile must not have them.
const OTHER_CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
];

/// Keys accepted by `configure_sso`.
const KEYS: &[&str] = &[
    "profile",
    "session",
    "start_url",
    "sso_region",
    "account_id",
    "role_name",
    "region",
    "output",
    "force",
];

/// What `configure_sso` writes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    /// The profile name (`AWS_PROFILE`).
    pub profile: String,
    /// The sso-session name (the profile name unless given).
    pub session: String,
    /// `https://...awsapps.com/start/`.
    pub start_url: String,
    /// Where IAM Identity Center lives.
    pub sso_region: String,
    /// The 12-digit account.
    pub account_id: String,
    /// The permission set to sign in with.
    pub role_name: String,
    /// The CLI default region.
    pub region: String,
    /// The CLI output format.
    pub output: String,
    /// Overwrite other values.
    pub force: bool,
}

fn bad(message: impl std::fmt::Display, hint: impl std::fmt::Display) -> Box<rhai::EvalAltResult> {
    error_with_hint(message, hint)
}

fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

fn is_role_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

impl SsoProfile {
    /// Reads and checks the map `configure_sso` takes.
    pub fn from_map(map: &Map) -> FnResult<SsoProfile> {
        for k in map.keys() {
            if !KEYS.contains(&k.as_str()) {
                return Err(bad(
                    format!("configure_sso got an unknown key `{k}`"),
                    format!("the keys are: {}", KEYS.join(", ")),
                ));
            }
        }
        let text = |key: &str| -> FnResult<Option<String>> {
            let Some(v) = map.get(key) else {
                return Ok(None);
            };
            if v.is_unit() {
                return Ok(None);
            }
            let s = v.clone().into_immutable_string().map_err(|t| {
                bad(
                    format!("`{key}` must be a string, but it is {t}"),
                    if key == "account_id" {
                        "quote it: an account id such as \"012345678901\" may start with 0"
                    } else {
                        "quote it"
                    },
                )
            })?;
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_string()))
        };
        let required = |key: &str| -> FnResult<String> {
            text(key)?.ok_or_else(|| {
                bad(
                    format!("configure_sso needs `{key}`"),
                    format!("give it in the map (#{{{key}: ...}}); scripts take it with --set {key}=VALUE"),
                )
            })
        };
        let profile = required("profile")?;
        let session = text("session")?.unwrap_or_else(|| profile.clone());
        for (what, name) in [("profile", &profile), ("session", &session)] {
            if !config_file::is_valid_name(name) {
                return Err(bad(
                    format!("{what} name {name:?} cannot be used in the AWS config file"),
                    "use letters, digits and - _ . @ + without spaces or brackets",
                ));
            }
        }
        let start_url = required("start_url")?;
        let host = start_url.strip_prefix("https://").unwrap_or("");
        if host.is_empty() || host.starts_with('/') || start_url.contains(char::is_whitespace) {
            return Err(bad(
                format!("start_url {start_url:?} is not an https:// URL"),
                "it is the AWS access portal URL, such as https://osloorigo.awsapps.com/start/",
            ));
        }
        let sso_region = text("sso_region")?.unwrap_or_else(|| DEFAULT_SSO_REGION.into());
        let region = text("region")?.unwrap_or_else(|| sso_region.clone());
        for (what, r) in [("sso_region", &sso_region), ("region", &region)] {
            if !is_region(r) {
                return Err(bad(
                    format!("{what} {r:?} is not an AWS region"),
                    "regions look like eu-west-1 or eu-north-1",
                ));
            }
        }
        let account_id = required("account_id")?;
        if !arn::is_account_id(&account_id) {
            return Err(bad(
                format!("account_id {account_id:?} is not a 12-digit AWS account id"),
                "the AWS access portal shows it under the account's name, such as 123456789012",
            ));
        }
        let role_name = required("role_name")?;
        if !is_role_name(&role_name) {
            return Err(bad(
                format!("role_name {role_name:?} is not a permission set name"),
                "use the name the AWS access portal shows, such as AWSAdministratorAccess",
            ));
        }
        let output = text("output")?.unwrap_or_else(|| DEFAULT_OUTPUT.into());
        if !["json", "yaml", "yaml-stream", "text", "table"].contains(&output.as_str()) {
            return Err(bad(
                format!("output {output:?} is not an AWS CLI output format"),
                "use json, yaml, yaml-stream, text or table",
            ));
        }
        let force = match map.get("force") {
            None => false,
            Some(v) if v.is_unit() => false,
            Some(v) => match (v.as_bool(), v.clone().into_immutable_string()) {
                (Ok(b), _) => b,
                (_, Ok(s)) if s == "true" => true,
                (_, Ok(s)) if s == "false" || s.is_empty() => false,
                _ => {
                    return Err(bad(
                        format!("`force` must be true or false, but it is {v}"),
                        "force: true overwrites other values of the profile and session",
                    ))
                }
            },
        };
        Ok(SsoProfile {
            profile,
            session,
            start_url,
            sso_region,
            account_id,
            role_name,
            region,
            output,
            force,
        })
    }
}

/// What [`plan`] found: the new text (when it differs) and what changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The file's text after the change.
    pub text: String,
    /// The profile's edit.
    pub profile: Edit,
    /// The session's edit.
    pub session: Edit,
}

impl Plan {
    /// Whether anything changes.
    pub fn changed(&self) -> bool {
        !(self.profile.is_empty() && self.session.is_empty())
    }
}

/// Why [`plan`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The existing file cannot be parsed.
    Parse(config_file::ParseError),
    /// The profile or session holds other values, and `force` was not given.
    Conflicts(Vec<Conflict>),
    /// Something okscript would not write.
    Invalid(String),
}

/// Plans the change to a config file's text (empty for a missing file). Pure.
pub fn plan(old: &str, want: &SsoProfile) -> Result<Plan, PlanError> {
    let mut file = ConfigFile::parse(old).map_err(PlanError::Parse)?;
    let pid = SectionId::Profile(want.profile.clone());
    let sid = SectionId::SsoSession(want.session.clone());
    let mut pset = vec![
        ("sso_session", want.session.as_str()),
        ("sso_account_id", want.account_id.as_str()),
        ("sso_role_name", want.role_name.as_str()),
        ("region", want.region.as_str()),
        ("output", want.output.as_str()),
    ];
    // A profile still holding the legacy keys: the AWS CLI insists they match the session.
    if let Some(p) = file.section(&pid) {
        for (k, v) in [
            ("sso_start_url", want.start_url.as_str()),
            ("sso_region", want.sso_region.as_str()),
        ] {
            if p.get(k).is_some() {
                pset.push((k, v));
            }
        }
    }
    let mut sset = vec![
        ("sso_start_url", want.start_url.as_str()),
        ("sso_region", want.sso_region.as_str()),
    ];
    // Extra scopes are the user's business, as long as account access is among them.
    let has_scope = file
        .section(&sid)
        .and_then(|s| s.get("sso_registration_scopes"))
        .is_some_and(|v| v.split(',').any(|s| s.trim() == REGISTRATION_SCOPE));
    if !has_scope {
        sset.push(("sso_registration_scopes", REGISTRATION_SCOPE));
    }
    let mut conflicts = Vec::new();
    let mut edit =
        |file: &mut ConfigFile, id: &SectionId, set: &[(&str, &str)], absent: &[&str]| match file
            .upsert(id, set, absent, want.force)
        {
            Ok(e) => Ok(e),
            Err(EditError::Conflicts(c)) => {
                conflicts.extend(c);
                Ok(Edit::default())
            }
            Err(e) => Err(PlanError::Invalid(e.to_string())),
        };
    let profile = edit(&mut file, &pid, &pset, OTHER_CREDENTIAL_KEYS)?;
    let session = edit(&mut file, &sid, &sset, &[])?;
    if !conflicts.is_empty() {
        return Err(PlanError::Conflicts(conflicts));
    }
    Ok(Plan {
        text: file.render(),
        profile,
        session,
    })
}

/// Values of keys that may hold secrets are never shown.
fn shown(key: &str, value: &str) -> String {
    let k = key.to_ascii_lowercase();
    if k.contains("secret") || k.contains("session_token") {
        "(hidden)".into()
    } else {
        format!("{value:?}")
    }
}

fn conflict_line(c: &Conflict) -> String {
    match &c.new {
        Some(new) => format!(
            "  {} {}: {} in the file, {} wanted",
            c.section,
            c.key,
            shown(&c.key, &c.old),
            shown(&c.key, new)
        ),
        None => format!(
            "  {} {}: {} in the file, but an SSO profile must not set it",
            c.section,
            c.key,
            shown(&c.key, &c.old)
        ),
    }
}

/// A unified diff of the file, secret values hidden.
fn diff(file: &str, old: &str, new: &str) -> String {
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(false)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string();
    let mut out: String = text
        .split_inclusive('\n')
        .map(|line| {
            let body = line.get(1..).unwrap_or("");
            match body.split_once(['=', ':']) {
                Some((k, _))
                    if !line.starts_with("---")
                        && !line.starts_with("+++")
                        && shown(k.trim(), "") == "(hidden)" =>
                {
                    let end = if line.ends_with('\n') { "\n" } else { "" };
                    format!("{}{} = (hidden){end}", &line[..1], k.trim_end())
                }
                _ => line.to_string(),
            }
        })
        .collect();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn describe(id: &SectionId, e: &Edit, done: bool) -> Option<String> {
    let [add, overwrite, remove] = if done {
        ["added", "overwrote", "removed"]
    } else {
        ["add", "overwrite", "remove"]
    };
    if e.is_empty() {
        return None;
    }
    if e.created {
        return Some(format!("{add} {id}"));
    }
    let keys = |c: &[Conflict]| {
        c.iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !e.added.is_empty() {
        parts.push(format!("{add} {}", e.added.join(", ")));
    }
    if !e.replaced.is_empty() {
        parts.push(format!("{overwrite} {}", keys(&e.replaced)));
    }
    if !e.removed.is_empty() {
        parts.push(format!("{remove} {}", keys(&e.removed)));
    }
    Some(format!("{} in {id}", parts.join("; ")))
}

/// The config file of the run: `AWS_CONFIG_FILE`, else `$HOME/.aws/config` (from the snapshot).
fn config_path(state: &Shared) -> FnResult<PathBuf> {
    AwsContext::new(state.borrow().env.clone())
        .config_file()
        .ok_or_else(|| {
            bad(
                "cannot find the AWS config file: HOME is not set, and AWS_CONFIG_FILE is not either",
                "set HOME, or point AWS_CONFIG_FILE at the file",
            )
        })
}

fn read_parsed(path: &std::path::Path) -> FnResult<(Option<String>, ConfigFile)> {
    let old = config_file::read(path).map_err(|e| e.to_string())?;
    let file =
        ConfigFile::parse(old.as_deref().unwrap_or("")).map_err(|e| parse_error(path, &e))?;
    Ok((old, file))
}

fn parse_error(path: &std::path::Path, e: &config_file::ParseError) -> Box<rhai::EvalAltResult> {
    bad(
        format!("cannot read {}: {e}", path.display()),
        format!(
            "fix line {} (okscript never rewrites an AWS config file it cannot read), then run again",
            e.line
        ),
    )
}

/// `configure_sso(#{...})`.
fn configure_sso(state: &Shared, map: &Map) -> FnResult<Dynamic> {
    let want = SsoProfile::from_map(map)?;
    let path = config_path(state)?;
    let shown_path = path.display().to_string();
    let dry_run = state.borrow().dry_run;
    // Held from reading to writing: concurrent okscript runs then edit one after another,
    // each on the file the previous one wrote, and no profile is lost.
    let _lock = if dry_run {
        None
    } else {
        Some(config_file::lock(&path).map_err(|e| bad(e.to_string(), e.hint()))?)
    };
    let old = config_file::read(&path).map_err(|e| bad(e.to_string(), e.hint()))?;
    let old_text = old.as_deref().unwrap_or("");
    let planned = plan(old_text, &want).map_err(|e| match e {
        PlanError::Parse(e) => parse_error(&path, &e),
        PlanError::Invalid(m) => m.into(),
        PlanError::Conflicts(c) => bad(
            format!(
                "refusing to change {shown_path}: it already has other values for {}:\n{}",
                if want.profile == want.session {
                    format!("profile/sso-session {}", want.profile)
                } else {
                    format!("profile {} / sso-session {}", want.profile, want.session)
                },
                c.iter().map(conflict_line).collect::<Vec<_>>().join("\n")
            ),
            "pass force: true (--set force=true) to overwrite them, or choose another profile name",
        ),
    })?;
    let pid = SectionId::Profile(want.profile.clone());
    let sid = SectionId::SsoSession(want.session.clone());
    let changes = |done: bool| -> String {
        [
            describe(&pid, &planned.profile, done),
            describe(&sid, &planned.session, done),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
    };
    let mut written = false;
    if !planned.changed() {
        state.borrow_mut().printer.data(&format!(
            "no changes: {shown_path} already has {pid} and {sid} as wanted"
        ));
    } else if dry_run {
        let d = diff(&shown_path, old_text, &planned.text);
        let mut st = state.borrow_mut();
        st.printer.raw(&d);
        st.printer.data(&format!(
            "dry run: would {} in {shown_path}; nothing was written",
            changes(false)
        ));
    } else {
        config_file::write_atomic(&path, &planned.text, old.as_deref())
            .map_err(|e| bad(e.to_string(), e.hint()))?;
        written = true;
        let line = format!("{shown_path}: {}", changes(true));
        state.borrow_mut().printer.data(&line);
    }
    let mut out = Map::new();
    out.insert("profile".into(), want.profile.into());
    out.insert("session".into(), want.session.into());
    out.insert("changed".into(), planned.changed().into());
    out.insert("written".into(), written.into());
    out.insert("file".into(), shown_path.into());
    Ok(out.into())
}

/// Asks `question` on `err` and reads one answer from `input`; empty takes `default`. An
/// empty default means an answer is required (asked up to three times).
pub fn ask(
    question: &str,
    default: &str,
    set_name: &str,
    input: &mut dyn BufRead,
    err: &mut dyn Write,
) -> FnResult<String> {
    for _ in 0..3 {
        let shown = if default.is_empty() {
            String::new()
        } else {
            format!(" [{default}]")
        };
        let _ = write!(err, "{question}{shown}: ");
        let _ = err.flush();
        let mut line = String::new();
        let n = input
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the answer to {question:?}: {e}"))?;
        if n == 0 {
            let _ = writeln!(err);
            return Err(bad(
                format!("no answer to {question:?} (end of input)"),
                format!("pass it with --set {set_name}=VALUE"),
            ));
        }
        let answer = line.trim();
        if !answer.is_empty() {
            return Ok(answer.to_string());
        }
        if !default.is_empty() {
            return Ok(default.to_string());
        }
    }
    Err(bad(
        format!("no answer to {question:?}"),
        format!("pass it with --set {set_name}=VALUE"),
    ))
}

/// One entry of a `choose` list: what is returned and what is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Returned when picked.
    pub value: String,
    /// Shown in the numbered list.
    pub label: String,
}

/// Reads `choose`'s items: strings, or maps `#{value, label}` (label defaults to value).
fn choices(items: &Array) -> FnResult<Vec<Choice>> {
    items
        .iter()
        .map(|item| {
            if let Some(m) = item.read_lock::<Map>() {
                let value = m
                    .get("value")
                    .filter(|v| !v.is_unit())
                    .map(|v| v.to_string())
                    .ok_or_else(|| -> Box<rhai::EvalAltResult> {
                        "a choose() item map needs `value` (and may have `label`)".into()
                    })?;
                let label = m
                    .get("label")
                    .filter(|v| !v.is_unit())
                    .map_or_else(|| value.clone(), |v| v.to_string());
                return Ok(Choice { value, label });
            }
            let value = item.to_string();
            Ok(Choice {
                label: value.clone(),
                value,
            })
        })
        .collect()
}

/// Shows `items` numbered from 1 on `err` and reads a number from `input`, asking again on
/// an answer that is not one of the numbers; end of input is an error naming --set.
pub fn pick(
    question: &str,
    items: &[Choice],
    set_name: &str,
    input: &mut dyn BufRead,
    err: &mut dyn Write,
) -> FnResult<String> {
    let _ = writeln!(err, "{question}:");
    for (i, c) in items.iter().enumerate() {
        let _ = writeln!(err, "  {:>2}) {}", i + 1, c.label);
    }
    loop {
        let _ = write!(err, "number (1-{}): ", items.len());
        let _ = err.flush();
        let mut line = String::new();
        let n = input
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the answer to {question:?}: {e}"))?;
        if n == 0 {
            let _ = writeln!(err);
            return Err(bad(
                format!("no answer to {question:?} (end of input)"),
                format!("pass it with `--set {set_name}=VALUE`"),
            ));
        }
        match line.trim().parse::<usize>() {
            Ok(k) if (1..=items.len()).contains(&k) => return Ok(items[k - 1].value.clone()),
            _ => {
                let _ = writeln!(
                    err,
                    "`{}` is not one of the numbers 1 to {}",
                    line.trim(),
                    items.len()
                );
            }
        }
    }
}

/// `choose(set_name, question, items)`.
fn choose(state: &Shared, set_name: &str, question: &str, items: &Array) -> FnResult<String> {
    let list = choices(items)?;
    if let Some(v) = state.borrow().args.get(set_name) {
        return Ok(v.clone());
    }
    match list.as_slice() {
        [] => Err(bad(
            format!("nothing to choose from for `{set_name}` ({question})"),
            format!("pass it with `--set {set_name}=VALUE`"),
        )),
        [only] => {
            state
                .borrow_mut()
                .printer
                .note(&format!("{question}: {} (the only one)", only.label));
            Ok(only.value.clone())
        }
        _ if std::io::stdin().is_terminal() => {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            pick(question, &list, set_name, &mut input, &mut std::io::stderr())
        }
        _ => Err(bad(
            format!(
                "this script needs `{set_name}` ({question}: one of {}), and there is no terminal to ask on",
                list.iter().map(|c| c.value.as_str()).collect::<Vec<_>>().join(", ")
            ),
            format!("pass it with `--set {set_name}=VALUE`"),
        )),
    }
}

/// Registers the SSO configuration functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "configure_sso",
            params: "settings: map",
            returns: "map",
            doc: "Write an SSO profile to AWS_CONFIG_FILE or ~/.aws/config like `aws configure sso`: [profile NAME] and [sso-session NAME] from #{profile, start_url, account_id, role_name, sso_region (eu-west-1), region (= sso_region), output (json), session (= profile), force}; other values are refused without force: true, and every other line is kept; returns #{profile, session, changed, written, file}.",
            example: r#"let r = configure_sso(#{profile: "myprofile", start_url: "https://osloorigo.awsapps.com/start/", account_id: "123456789012", role_name: "AWSAdministratorAccess", region: "eu-north-1"});"#,
        },
        move |map: Map| -> FnResult<Dynamic> { configure_sso(&s, &map) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "has_profile",
            params: "name: string",
            returns: "bool",
            doc: "Whether AWS_CONFIG_FILE or ~/.aws/config has the profile ([profile NAME], or [default]); an error naming the line when the file cannot be read.",
            example: r#"if !has_profile("myprofile") { print("run scripts/configure-sso.rhai first"); }"#,
        },
        move |name: &str| -> FnResult<bool> {
            let path = config_path(&s)?;
            Ok(read_parsed(&path)?.1.has_profile(name))
        },
    );
    api.def(
        FnDoc {
            name: "can_ask",
            params: "",
            returns: "bool",
            doc: "Whether prompt and choose can ask (stdin is a terminal); false in CI and pipes, where values come from --set.",
            example: r#"if !can_ask() { fail("pass --set account_id=... --set role_name=..."); }"#,
        },
        || -> FnResult<bool> { Ok(std::io::stdin().is_terminal()) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "choose",
            params: "set_name: string, question: string, items: array",
            returns: "string",
            doc: "The value of --set SET_NAME; else the only item (saying so); else, on a terminal, a numbered list on stderr and the number read from stdin (asked again when it is not one of them); else (CI) an error naming --set SET_NAME. Items are strings or #{value, label}; returns the value.",
            example: r#"let role = choose("role_name", "Role", ["AWSAdministratorAccess", "ReadOnly"]);"#,
        },
        move |set_name: &str, question: &str, items: Array| -> FnResult<String> {
            choose(&s, set_name, question, &items)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "prompt",
            params: "set_name: string, question: string, default: string",
            returns: "string",
            doc: "The value of --set SET_NAME; else, on a terminal, asks the question on stderr (an empty answer takes the default); else the default; with no default and no terminal (CI), an error naming --set SET_NAME.",
            example: r#"let region = prompt("region", "CLI default client Region", "eu-north-1");"#,
        },
        move |set_name: &str, question: &str, default: &str| -> FnResult<String> {
            if let Some(v) = s.borrow().args.get(set_name) {
                return Ok(v.clone());
            }
            if std::io::stdin().is_terminal() {
                let stdin = std::io::stdin();
                let mut input = stdin.lock();
                return ask(question, default, set_name, &mut input, &mut std::io::stderr());
            }
            if !default.is_empty() {
                return Ok(default.to_string());
            }
            Err(bad(
                format!("this script needs `{set_name}` ({question}), and there is no terminal to ask on"),
                format!("pass it with `--set {set_name}=VALUE`"),
            ))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want() -> SsoProfile {
        SsoProfile {
            profile: "myprofile".into(),
            session: "myprofile".into(),
            start_url: "https://osloorigo.awsapps.com/start/".into(),
            sso_region: "eu-west-1".into(),
            account_id: "123456789012".into(),
            role_name: "AWSAdministratorAccess".into(),
            region: "eu-north-1".into(),
            output: "json".into(),
            force: false,
        }
    }

    const WRITTEN: &str = "[profile myprofile]\nsso_session = myprofile\nsso_account_id = 123456789012\nsso_role_name = AWSAdministratorAccess\nregion = eu-north-1\noutput = json\n\n[sso-session myprofile]\nsso_start_url = https://osloorigo.awsapps.com/start/\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n";

    #[test]
    fn a_new_file_gets_the_profile_and_its_session_and_a_second_plan_changes_nothing() {
        let p = plan("", &want()).unwrap();
        assert_eq!(p.text, WRITTEN);
        let again = plan(&p.text, &want()).unwrap();
        assert!(!again.changed());
        assert_eq!(again.text, WRITTEN);
    }

    #[test]
    fn extra_scopes_are_kept_and_legacy_keys_must_match() {
        let text = WRITTEN.replace(
            "sso:account:access",
            "sso:account:access, codewhisperer:completions",
        );
        assert!(!plan(&text, &want()).unwrap().changed());
        let legacy = WRITTEN.replace(
            "output = json\n",
            "output = json\nsso_start_url = https://other.awsapps.com/start\n",
        );
        let Err(PlanError::Conflicts(c)) = plan(&legacy, &want()) else {
            panic!("legacy start URL accepted")
        };
        assert_eq!(c[0].key, "sso_start_url");
    }

    #[test]
    fn other_credentials_in_the_profile_are_conflicts_and_secrets_are_never_shown() {
        let text = "[profile myprofile]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n";
        let Err(PlanError::Conflicts(c)) = plan(text, &want()) else {
            panic!("keys accepted")
        };
        let lines: Vec<String> = c.iter().map(conflict_line).collect();
        assert!(lines.iter().all(|l| !l.contains("s3cr3t")), "{lines:?}");
        let forced = plan(
            text,
            &SsoProfile {
                force: true,
                ..want()
            },
        )
        .unwrap();
        assert!(!forced.text.contains("aws_secret_access_key"));
        let d = diff("config", text, &forced.text);
        assert!(
            !d.contains("s3cr3t") && d.contains("-aws_secret_access_key = (hidden)"),
            "{d}"
        );
    }

    fn map(pairs: &[(&str, &str)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), Dynamic::from(v.to_string())))
            .collect()
    }

    #[test]
    fn the_map_is_checked_and_defaults_follow_the_runbook() {
        let base = [
            ("profile", "myprofile"),
            ("start_url", "https://osloorigo.awsapps.com/start/"),
            ("account_id", "123456789012"),
            ("role_name", "AWSAdministratorAccess"),
        ];
        let p = SsoProfile::from_map(&map(&base)).unwrap();
        assert_eq!(
            (
                p.sso_region.as_str(),
                p.region.as_str(),
                p.output.as_str(),
                p.session.as_str()
            ),
            ("eu-west-1", "eu-west-1", "json", "myprofile")
        );
        for (k, v, needle) in [
            ("start_url", "http://x.awsapps.com/start", "https://"),
            ("account_id", "12345", "12-digit"),
            ("profile", "my profile", "cannot be used"),
            ("profile", "a]", "cannot be used"),
            ("region", "north", "not an AWS region"),
            ("output", "xml", "output format"),
            ("force", "maybe", "true or false"),
            ("colour", "x", "unknown key"),
        ] {
            let mut m = map(&base);
            m.insert(k.into(), Dynamic::from(v.to_string()));
            let e = SsoProfile::from_map(&m).unwrap_err().to_string();
            assert!(e.contains(needle), "{k}={v}: {e}");
        }
        let mut m = map(&base);
        m.remove("account_id");
        assert!(SsoProfile::from_map(&m)
            .unwrap_err()
            .to_string()
            .contains("--set account_id"));
        m.insert("account_id".into(), Dynamic::from(123456789012_i64));
        assert!(SsoProfile::from_map(&m)
            .unwrap_err()
            .to_string()
            .contains("quote it"));
    }

    #[test]
    fn ask_takes_the_answer_or_the_default_and_fails_at_end_of_input() {
        let mut err = Vec::new();
        let got = ask("Region", "eu-north-1", "region", &mut &b"\n"[..], &mut err).unwrap();
        assert_eq!(got, "eu-north-1");
        assert_eq!(String::from_utf8_lossy(&err), "Region [eu-north-1]: ");
        let got = ask(
            "Region",
            "x",
            "region",
            &mut &b" eu-west-1 \n"[..],
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(got, "eu-west-1");
        let got = ask(
            "Account",
            "",
            "account_id",
            &mut &b"\n\n123\n"[..],
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(got, "123");
        let e = ask(
            "Account",
            "",
            "account_id",
            &mut &b"\n"[..],
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--set account_id=VALUE"), "{e}");
    }

    #[test]
    fn pick_numbers_the_items_asks_again_and_returns_the_value() {
        let items = [
            Choice {
                value: "123456789012".into(),
                label: "123456789012 prod".into(),
            },
            Choice {
                value: "210987654321".into(),
                label: "210987654321 dev".into(),
            },
        ];
        let mut err = Vec::new();
        let got = pick(
            "AWS account",
            &items,
            "account_id",
            &mut &b"0\nprod\n 2 \n"[..],
            &mut err,
        )
        .unwrap();
        assert_eq!(got, "210987654321");
        assert_eq!(
            String::from_utf8_lossy(&err),
            "AWS account:\n   1) 123456789012 prod\n   2) 210987654321 dev\nnumber (1-2): `0` is not one of the numbers 1 to 2\nnumber (1-2): `prod` is not one of the numbers 1 to 2\nnumber (1-2): "
        );
        let e = pick(
            "AWS account",
            &items,
            "account_id",
            &mut &b"3\n"[..],
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--set account_id=VALUE"), "{e}");
    }

    #[test]
    fn choices_take_strings_or_value_label_maps() {
        let mut m = Map::new();
        m.insert("value".into(), "a".into());
        m.insert("label".into(), "A (first)".into());
        let items: Array = vec![Dynamic::from(m), "b".into()];
        assert_eq!(
            choices(&items).unwrap(),
            vec![
                Choice {
                    value: "a".into(),
                    label: "A (first)".into()
                },
                Choice {
                    value: "b".into(),
                    label: "b".into()
                },
            ]
        );
        let items: Array = vec![Dynamic::from(Map::new())];
        assert!(choices(&items).is_err());
    }
}
