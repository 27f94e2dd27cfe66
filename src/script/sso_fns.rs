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
use crate::aws::config_file::{self, ConfigFile, SectionId};
use crate::aws::sso::configure::{
    conflict_line, describe, diff, is_region, is_role_name, plan, PlanError, SsoProfileConfig,
    DEFAULT_OUTPUT, DEFAULT_SSO_REGION,
};
use crate::aws::AwsContext;

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

fn bad(message: impl std::fmt::Display, hint: impl std::fmt::Display) -> Box<rhai::EvalAltResult> {
    error_with_hint(message, hint)
}

/// Reads and checks the map `configure_sso` takes.
fn wanted_profile(map: &Map) -> FnResult<SsoProfileConfig> {
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
                format!(
                    "give it in the map (#{{{key}: ...}}); scripts take it with --set {key}=VALUE"
                ),
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
    Ok(SsoProfileConfig {
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
    let want = wanted_profile(map)?;
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
        let line = read_answer(
            &format!("{question}{shown}: "),
            question,
            set_name,
            input,
            err,
        )?;
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
        format!("pass it with `--set {set_name}=VALUE`"),
    ))
}

/// Shows `prompt` on `err` and reads one line from `input`; end of input is an error that
/// names the `--set` value to pass instead.
fn read_answer(
    prompt: &str,
    question: &str,
    set_name: &str,
    input: &mut dyn BufRead,
    err: &mut dyn Write,
) -> FnResult<String> {
    let _ = write!(err, "{prompt}");
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
    Ok(line)
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
        let prompt = format!("number (1-{}): ", items.len());
        let line = read_answer(&prompt, question, set_name, input, err)?;
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
        let p = wanted_profile(&map(&base)).unwrap();
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
            let e = wanted_profile(&m).unwrap_err().to_string();
            assert!(e.contains(needle), "{k}={v}: {e}");
        }
        let mut m = map(&base);
        m.remove("account_id");
        assert!(wanted_profile(&m)
            .unwrap_err()
            .to_string()
            .contains("--set account_id"));
        m.insert("account_id".into(), Dynamic::from(123456789012_i64));
        assert!(wanted_profile(&m)
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
        let answer = |default: &str, set: &str, input: &[u8]| {
            ask("Q", default, set, &mut &input[..], &mut Vec::new())
        };
        assert_eq!(
            answer("x", "region", b" eu-west-1 \n").unwrap(),
            "eu-west-1"
        );
        assert_eq!(answer("", "account_id", b"\n\n123\n").unwrap(), "123");
        let e = answer("", "account_id", b"\n").unwrap_err();
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
