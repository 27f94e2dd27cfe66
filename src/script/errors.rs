//! Turns Rhai errors into messages people can act on: `SCRIPT:LINE:COL: message`, the source
//! line with a caret, the chain of calls that led there, and a hint (the flag that raises a
//! limit, the nearest function names for a typo).

use rhai::{EvalAltResult, Position};

use super::limits::{Limits, TIMEOUT_MARKER};
use super::memory::MEMORY_MARKER;
use super::resolver::Sources;

/// A script failure ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// `SCRIPT:LINE:COL: message` followed by the source excerpt and call chain.
    pub message: String,
    /// Advice, when there is some.
    pub hint: Option<String>,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ScriptError {
    /// An error a script function raised outside any script (a fleet's one login): its
    /// message, and the hint `error_with_hint` put after it.
    pub fn from_runtime(e: &EvalAltResult) -> ScriptError {
        let text = match e {
            EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
            other => other.to_string(),
        };
        match text.split_once("\nhint: ") {
            Some((message, hint)) => ScriptError {
                message: message.to_string(),
                hint: Some(hint.to_string()),
            },
            None => ScriptError {
                message: text,
                hint: None,
            },
        }
    }
}

/// What the formatter needs to know about the run.
pub struct Context<'a> {
    /// The main script's name as shown.
    pub script: &'a str,
    /// Sources by name (the main script under `script`).
    pub sources: &'a Sources,
    /// The limits in force.
    pub limits: &'a Limits,
    /// Every function name a script may call, for suggestions.
    pub known: &'a [String],
}

/// Bytes in a MiB, for the memory messages.
const MIB: u64 = 1024 * 1024;

fn location(name: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{name}:{l}:{c}"),
        (Some(l), None) => format!("{name}:{l}"),
        _ => name.to_string(),
    }
}

fn excerpt(text: Option<&String>, pos: Position) -> String {
    let (Some(text), Some(line)) = (text, pos.line()) else {
        return String::new();
    };
    let Some(src) = text.lines().nth(line - 1) else {
        return String::new();
    };
    let num = line.to_string();
    let pad = " ".repeat(num.len());
    let col = pos.position().unwrap_or(1).max(1);
    let lead: String = src
        .chars()
        .take(col - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("\n{pad} |\n{num} | {src}\n{pad} | {lead}^")
}

/// The names in `known` closest to `name`, best first.
pub fn nearest<'a>(name: &str, known: &'a [String]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), k.as_str()))
        .filter(|(d, k)| {
            *d <= (name.len().max(k.len()) / 3).max(2) || k.contains(name) && name.len() > 2
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// Splits `message\nhint: advice` as produced by script functions.
fn split_hint(text: &str) -> (String, Option<String>) {
    match text.split_once("\nhint: ") {
        Some((m, h)) => (m.to_string(), Some(h.to_string())),
        None => (text.to_string(), None),
    }
}

/// Formats a Rhai error from a run or a compile.
pub fn describe(err: EvalAltResult, cx: &Context) -> ScriptError {
    let mut chain: Vec<String> = Vec::new();
    let mut source = cx.script.to_string();
    let mut err = err;
    loop {
        match err {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                chain.push(format!("in `{name}`, called at {}", location(&source, pos)));
                if !src.is_empty() {
                    source = src;
                }
                err = *inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                chain.push(format!(
                    "in module `{name}`, imported at {}",
                    location(&source, pos)
                ));
                source = name;
                err = *inner;
            }
            other => {
                err = other;
                break;
            }
        }
    }
    // Without its position the error's Display is the bare message.
    let pos = err.take_position();
    let limits = cx.limits;
    let (message, hint) = match &err {
        EvalAltResult::ErrorRuntime(v, _) => split_hint(&v.to_string()),
        EvalAltResult::ErrorTooManyOperations(_) => (
            format!(
                "the script ran more than {} operations, the limit (a loop that never ends?)",
                limits.max_operations
            ),
            Some(
                "raise the limit with `--max-operations N` if the script really needs more".into(),
            ),
        ),
        EvalAltResult::ErrorTerminated(v, _) if v.to_string() == TIMEOUT_MARKER => (
            format!(
                "the script ran longer than {} seconds, the limit",
                limits.timeout.as_secs()
            ),
            Some("raise the limit with `--timeout SECS` if the script really needs longer".into()),
        ),
        EvalAltResult::ErrorTerminated(v, _) if v.to_string() == MEMORY_MARKER => (
            format!(
                "the script's values took more than {} MiB of memory, the limit",
                limits.max_memory / MIB
            ),
            Some("raise the limit with `--max-memory MIB` if the script really needs more".into()),
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            format!(
                "function calls nested deeper than {} levels (a recursion that never ends?)",
                limits.max_call_levels
            ),
            None,
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => (
            format!(
                "{what} grew past its limit (strings {} bytes, arrays {} items, maps {} keys)",
                limits.max_string_size, limits.max_array_size, limits.max_map_size
            ),
            Some(if what.contains("array") {
                "raise the limit with `--max-array-size N` if the script really builds arrays that big".to_string()
            } else if what.contains("map") {
                "raise the limit with `--max-map-size N` if the script really builds maps that big"
                    .to_string()
            } else {
                "raise the limit on one string with `--max-string-size MIB` if the script really builds strings that big".to_string()
            }),
        ),
        EvalAltResult::ErrorFunctionNotFound(sig, _) => {
            let name = sig.split(['(', ' ']).next().unwrap_or(sig).to_string();
            let near = nearest(&name, cx.known);
            let exists = cx.known.contains(&name);
            let hint = if exists {
                format!("`{name}` exists, but not for these argument types; `okscript fns` lists its signatures")
            } else if near.is_empty() {
                "`okscript fns` lists every function scripts can call".to_string()
            } else {
                format!(
                    "did you mean {}? (`okscript fns` lists them all)",
                    near.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            (format!("unknown function `{sig}`"), Some(hint))
        }
        EvalAltResult::ErrorParsing(kind, _) => (format!("syntax error: {kind}"), None),
        EvalAltResult::ErrorModuleNotFound(what, _) => (format!("module not found: {what}"), None),
        other => (other.to_string(), None),
    };
    let text = cx.sources.borrow().get(&source).cloned();
    let mut out = format!(
        "{}: {message}{}",
        location(&source, pos),
        excerpt(text.as_ref(), pos)
    );
    for c in chain.iter().rev() {
        out.push_str(&format!("\n  {c}"));
    }
    ScriptError { message: out, hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names_catch_typos() {
        let known: Vec<String> = ["grant_role", "grant_user", "revoke_role", "mappings"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest("grant_rol", &known)[0], "grant_role");
        assert_eq!(nearest("grantrole", &known)[0], "grant_role");
        assert!(nearest("zzzzzzzz", &known).is_empty());
    }

    #[test]
    fn hints_are_split_off() {
        assert_eq!(
            split_hint("a\nhint: b"),
            ("a".to_string(), Some("b".to_string()))
        );
        assert_eq!(split_hint("a"), ("a".to_string(), None));
    }
}
