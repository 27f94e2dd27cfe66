//! Declared script inputs: a script names the `--set` values it takes in one place, its first
//! statement after imports:
//!
//! ```rhai
//! let input = inputs(#{
//!     arn: #{required: true, form: "arn", help: "the IAM role to map"},
//!     groups: #{required: true, form: "list", help: "Kubernetes groups, comma-separated"},
//!     force: #{fallback: false, help: "pass the guards"},
//! });
//! ```
//!
//! okscript reads that map literal from the syntax tree without running the script, so an
//! unknown `--set` key (a typo such as `group=` for `groups=`), a missing required input or a
//! value of the wrong form is refused before the script logs in or writes anything. At run
//! time `inputs(...)` returns the values typed by their form. Scripts without a declaration
//! keep `arg()`/`has_arg()` and take any key.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rhai::{Array, Dynamic, Engine, Expr, Map, OptimizationLevel, Stmt};

use super::api::{error_with_hint, Api, FnDoc, FnResult};
use super::state::Shared;
use crate::access::arn;

/// The function a declaration calls.
const DECLARE_FN: &str = "inputs";

/// What a `--set` value must look like, and what the script gets for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Any text.
    String,
    /// Comma-separated items: an array of trimmed, non-empty, distinct strings.
    List,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`).
    Bool,
    /// A whole number.
    Int,
    /// An IAM role or user ARN (a role path or an STS assumed-role ARN is accepted).
    Arn,
    /// A 12-digit AWS account id.
    Account,
}

impl Form {
    const NAMES: &'static [&'static str] = &["string", "list", "bool", "int", "arn", "account"];

    fn parse(text: &str) -> Option<Form> {
        Some(match text {
            "string" => Form::String,
            "list" => Form::List,
            "bool" => Form::Bool,
            "int" => Form::Int,
            "arn" => Form::Arn,
            "account" => Form::Account,
            _ => return None,
        })
    }

    /// The form's name as declared.
    pub fn name(self) -> &'static str {
        match self {
            Form::String => "string",
            Form::List => "list",
            Form::Bool => "bool",
            Form::Int => "int",
            Form::Arn => "arn",
            Form::Account => "account",
        }
    }

    /// The `--set` value as the script receives it, or why it does not fit.
    fn convert(self, value: &str) -> Result<Dynamic, String> {
        let v = value.trim();
        match self {
            Form::String => Ok(value.into()),
            Form::List => {
                let mut items: Vec<String> = Vec::new();
                for item in v.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                    if !items.iter().any(|i| i == item) {
                        items.push(item.to_string());
                    }
                }
                if items.is_empty() {
                    return Err("an empty list: give one or more items, comma-separated".into());
                }
                Ok(items
                    .into_iter()
                    .map(Dynamic::from)
                    .collect::<Array>()
                    .into())
            }
            Form::Bool => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(true.into()),
                "false" | "no" | "0" => Ok(false.into()),
                _ => Err("not a bool: use true or false".into()),
            },
            Form::Int => v
                .parse::<rhai::INT>()
                .map(Dynamic::from)
                .map_err(|_| "not a whole number".into()),
            Form::Arn => {
                if arn::role_arn(v).is_ok() || arn::user_arn(v).is_ok() {
                    Ok(v.into())
                } else {
                    Err(arn::parse_principal(v).map_or_else(
                        |e| e.to_string(),
                        |_| "not an IAM role or user ARN".to_string(),
                    ))
                }
            }
            Form::Account => {
                if arn::is_account_id(v) {
                    Ok(v.into())
                } else {
                    Err("not a 12-digit AWS account id".into())
                }
            }
        }
    }
}

/// One declared input.
#[derive(Debug, Clone)]
pub struct Input {
    /// The `--set` key.
    pub name: String,
    /// Whether a run without it is refused.
    pub required: bool,
    /// The value when it is not given (already of its form).
    pub default: Option<Dynamic>,
    /// What the value must look like.
    pub form: Form,
    /// One line on what it is for.
    pub help: String,
}

impl Input {
    /// `required`, `default: X` or `optional`, for listings.
    pub fn presence(&self) -> String {
        match (&self.default, self.required) {
            (_, true) => "required".to_string(),
            (Some(d), _) => format!("default: {}", show(d)),
            (None, false) => "optional".to_string(),
        }
    }
}

fn show(value: &Dynamic) -> String {
    if let Some(items) = value.read_lock::<Array>() {
        return items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
    }
    value.to_string()
}

/// Every input a script declares, in the order written.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    /// The inputs.
    pub inputs: Vec<Input>,
}

/// Why a declaration or the `--set` values given for it are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The declaration itself is wrong (the script's fault, not the caller's).
    #[error("{script}:{line}: the inputs declaration {message}")]
    Malformed {
        /// The script's name.
        script: String,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// `--set KEY=...` names no declared input.
    #[error("`--set {key}={value}`: {script} declares no input `{key}`")]
    Unknown {
        /// The script's name.
        script: String,
        /// The key given.
        key: String,
        /// The value given.
        value: String,
        /// The declared key closest to it.
        nearest: Option<String>,
        /// Every declared key.
        declared: Vec<String>,
    },
    /// A required input was not given.
    #[error("{script} needs `--set {name}=...`: {help}")]
    Missing {
        /// The script's name.
        script: String,
        /// The input.
        name: String,
        /// Its help line.
        help: String,
        /// Its form.
        form: &'static str,
    },
    /// A value does not fit its input's form.
    #[error("`--set {name}={value}`: {why} ({name} is a {form}: {help})")]
    BadValue {
        /// The input.
        name: String,
        /// The value given.
        value: String,
        /// The form it must have.
        form: &'static str,
        /// Why it does not fit.
        why: String,
        /// The input's help line.
        help: String,
    },
}

impl InputError {
    /// Advice for the person who ran the script.
    pub fn hint(&self) -> String {
        match self {
            InputError::Malformed { .. } => format!(
                "declare inputs as the first statement after imports: `let input = {DECLARE_FN}(#{{name: #{{required: true, form: \"string\", help: \"...\"}}}});` with constant values; forms: {}",
                Form::NAMES.join(", ")
            ),
            InputError::Unknown {
                script,
                value,
                nearest,
                declared,
                ..
            } => {
                let list = if declared.is_empty() {
                    "it takes no --set values".to_string()
                } else {
                    format!("its inputs: {}", declared.join(", "))
                };
                let mut hint = match nearest {
                    Some(n) => format!("did you mean `--set {n}={value}`? "),
                    None => String::new(),
                };
                let _ = write!(
                    hint,
                    "{list} (`okscript run {script} --help` describes them); nothing was run"
                );
                hint
            }
            InputError::Missing {
                name, form, script, ..
            } => format!(
                "pass it with `--set {name}=VALUE` (a {form}); `okscript run {script} --help` lists every input"
            ),
            InputError::BadValue { name, form, .. } => {
                format!("give `--set {name}=` a {form}; nothing was run")
            }
        }
    }

    /// True when the caller's command line is at fault (a usage error), not the script.
    pub fn is_usage(&self) -> bool {
        !matches!(self, InputError::Malformed { .. })
    }
}

/// The declaration call in a statement, if the statement is one: its single argument (`None`
/// when it has another number of arguments) and position.
fn declaration_call(stmt: &Stmt) -> Option<(Option<&Expr>, rhai::Position)> {
    let call = match stmt {
        Stmt::Var(x, _, _) => match &x.1 {
            Expr::FnCall(call, _) => call,
            _ => return None,
        },
        Stmt::FnCall(call, _) => call,
        Stmt::Expr(e) => match &**e {
            Expr::FnCall(call, _) => call,
            _ => return None,
        },
        _ => return None,
    };
    if call.name.as_str() != DECLARE_FN || !call.namespace.is_empty() {
        return None;
    }
    let arg = match call.args.as_slice() {
        [arg] => Some(arg),
        _ => None,
    };
    Some((arg, stmt.position()))
}

/// Reads the declaration of a script without running it: `Ok(None)` when it declares none
/// (or does not compile: the run reports that with its position).
pub fn declaration(script: &str, text: &str) -> Result<Option<Declaration>, InputError> {
    let mut engine = Engine::new_raw();
    engine.set_optimization_level(OptimizationLevel::None);
    // A raw engine allows less nesting than the run: a deep function body would not
    // compile here, and the script would seem to declare no inputs at all.
    engine.set_max_expr_depths(super::limits::EXPR_DEPTHS.0, super::limits::EXPR_DEPTHS.1);
    let Ok(ast) = engine.compile(text) else {
        return Ok(None);
    };
    let malformed = |pos: rhai::Position, message: String| InputError::Malformed {
        script: script.to_string(),
        line: pos.line().unwrap_or(1),
        message,
    };
    let statements = ast.statements();
    let first = statements
        .iter()
        .position(|s| !matches!(s, Stmt::Import(..)));
    let mut found = None;
    for (i, stmt) in statements.iter().enumerate() {
        let call = declaration_call(stmt);
        if let Some((arg, pos)) = call {
            if Some(i) != first || found.is_some() {
                return Err(malformed(
                    pos,
                    "must be the script's first statement after its imports, and only once".into(),
                ));
            }
            found = Some((arg, pos));
        }
    }
    // A call anywhere else (inside a block or function) would be read too late.
    let mut nested = None;
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        let (call, pos, top) = match path.last() {
            Some(rhai::ASTNode::Expr(Expr::FnCall(call, pos))) => (call, pos, 2),
            Some(rhai::ASTNode::Stmt(Stmt::FnCall(call, pos))) => (call, pos, 1),
            _ => return true,
        };
        if call.name.as_str() == DECLARE_FN && call.namespace.is_empty() && path.len() > top {
            nested.get_or_insert(*pos);
        }
        true
    });
    if let Some(p) = nested {
        return Err(malformed(
            p,
            "must be the script's first statement after its imports, not inside a block or call"
                .into(),
        ));
    }
    let Some((arg, pos)) = found else {
        return Ok(None);
    };
    let Some(Expr::Map(map, _)) = arg else {
        return Err(malformed(
            pos,
            "must be a map literal: #{name: #{...}, ...}".into(),
        ));
    };
    let mut entries = Vec::new();
    for (name, value) in &map.0 {
        let Some(value) = value.get_literal_value(None) else {
            return Err(malformed(
                value.position(),
                format!(
                    "of `{}` must be a constant map (no variables or calls)",
                    name.name
                ),
            ));
        };
        entries.push((name.name.to_string(), value, value_pos(pos, name.pos)));
    }
    Declaration::from_entries(entries)
        .map(Some)
        .map_err(|(p, m)| malformed(p, m))
}

fn value_pos(fallback: rhai::Position, pos: rhai::Position) -> rhai::Position {
    if pos.is_none() {
        fallback
    } else {
        pos
    }
}

impl Declaration {
    /// Builds a declaration from `(name, spec map, position)` entries, checking each spec.
    fn from_entries(
        entries: Vec<(String, Dynamic, rhai::Position)>,
    ) -> Result<Declaration, (rhai::Position, String)> {
        let mut inputs = Vec::new();
        for (name, spec, pos) in entries {
            let bad = |m: String| (pos, format!("of `{name}` {m}"));
            let Some(spec) = spec.read_lock::<Map>().map(|m| m.clone()) else {
                return Err(bad(
                    "must be a map such as #{required: true, help: \"...\"}".into(),
                ));
            };
            for key in spec.keys() {
                if !["required", "fallback", "form", "help"].contains(&key.as_str()) {
                    return Err(bad(format!(
                        "has an unknown key `{key}`: use required, fallback (the default value; `default` is a Rhai keyword), form and help"
                    )));
                }
            }
            let required = match spec.get("required") {
                None => false,
                Some(v) => v
                    .as_bool()
                    .map_err(|_| bad("has a `required` that is not true or false".into()))?,
            };
            let help = spec
                .get("help")
                .and_then(|h| h.clone().into_string().ok())
                .filter(|h| !h.trim().is_empty())
                .ok_or_else(|| bad("needs `help`: one line on what it is for".into()))?;
            let default = spec.get("fallback").filter(|d| !d.is_unit()).cloned();
            let form = match spec.get("form") {
                Some(f) => {
                    let text = f.clone().into_string().unwrap_or_default();
                    Form::parse(&text).ok_or_else(|| {
                        bad(format!(
                            "has form `{text}`: use one of {}",
                            Form::NAMES.join(", ")
                        ))
                    })?
                }
                None => match &default {
                    Some(d) if d.is_bool() => Form::Bool,
                    Some(d) if d.is_int() => Form::Int,
                    Some(d) if d.is_array() => Form::List,
                    _ => Form::String,
                },
            };
            if required && default.is_some() {
                return Err(bad("is required and has a fallback: choose one".into()));
            }
            let default = match default {
                None => None,
                Some(d) => {
                    let text = show(&d);
                    Some(form.convert(&text).map_err(|why| {
                        bad(format!(
                            "has a fallback that is not a {}: {why}",
                            form.name()
                        ))
                    })?)
                }
            };
            inputs.push(Input {
                name,
                required,
                default,
                form,
                help,
            });
        }
        Ok(Declaration { inputs })
    }

    /// The declared names, in order.
    pub fn names(&self) -> Vec<String> {
        self.inputs.iter().map(|i| i.name.clone()).collect()
    }

    /// Checks the `--set` values against the declaration and returns each input typed by its
    /// form (`()` for an optional one not given).
    pub fn validate(
        &self,
        script: &str,
        args: &BTreeMap<String, String>,
    ) -> Result<Map, InputError> {
        let names = self.names();
        for (key, value) in args {
            if !names.contains(key) {
                let nearest = names
                    .iter()
                    .map(|n| (strsim::damerau_levenshtein(key, n), n))
                    .filter(|(d, n)| {
                        *d <= (n.len() / 3).max(2)
                            || n.contains(key.as_str())
                            || key.contains(n.as_str())
                    })
                    .min()
                    .map(|(_, n)| n.clone());
                return Err(InputError::Unknown {
                    script: script.to_string(),
                    key: key.clone(),
                    value: value.clone(),
                    nearest,
                    declared: names,
                });
            }
        }
        let mut out = Map::new();
        for input in &self.inputs {
            let value = match (args.get(&input.name), &input.default) {
                (Some(v), _) => input.form.convert(v).map_err(|why| InputError::BadValue {
                    name: input.name.clone(),
                    value: v.clone(),
                    form: input.form.name(),
                    why,
                    help: input.help.clone(),
                })?,
                (None, Some(d)) => d.clone(),
                (None, None) if input.required => {
                    return Err(InputError::Missing {
                        script: script.to_string(),
                        name: input.name.clone(),
                        help: input.help.clone(),
                        form: input.form.name(),
                    })
                }
                (None, None) => Dynamic::UNIT,
            };
            out.insert(input.name.as_str().into(), value);
        }
        Ok(out)
    }

    /// The inputs as aligned lines: name, required/default, form, help.
    pub fn describe(&self) -> Vec<String> {
        let name_w = self.inputs.iter().map(|i| i.name.len()).max().unwrap_or(0);
        let presence: Vec<String> = self.inputs.iter().map(Input::presence).collect();
        let pres_w = presence.iter().map(String::len).max().unwrap_or(0);
        self.inputs
            .iter()
            .zip(&presence)
            .map(|(i, p)| {
                format!(
                    "  --set {:name_w$}  {:pres_w$}  {:7}  {}",
                    i.name,
                    p,
                    i.form.name(),
                    i.help
                )
            })
            .collect()
    }
}

/// Registers `inputs()`.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: DECLARE_FN,
            params: "declaration: map",
            returns: "map",
            doc: "Declare the script's --set inputs (first statement after imports; each #{required: true | fallback: VALUE, form: string|list|bool|int|arn|account, help}); returns their typed values. Unknown keys, missing required inputs and malformed values are refused before the script runs.",
            example: r#"let input = inputs(#{arn: #{required: true, form: "arn", help: "the IAM role"}, force: #{fallback: false, help: "pass the guards"}});"#,
        },
        move |declaration: Map| -> FnResult<Map> {
            let entries = declaration
                .into_iter()
                .map(|(k, v)| (k.to_string(), v, rhai::Position::NONE))
                .collect();
            let decl = Declaration::from_entries(entries)
                .map_err(|(_, m)| format!("the inputs declaration {m}"))?;
            let args = s.borrow().args.clone();
            decl.validate("this script", &args)
                .map_err(|e| error_with_hint(e.to_string(), e.hint()))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRANT: &str = r#"import "okctl" as okctl;
let input = inputs(#{
    arn: #{required: true, form: "arn", help: "the role"},
    groups: #{required: true, form: "list", help: "Kubernetes groups"},
    force: #{fallback: false, help: "pass the guards"},
    username: #{help: "Kubernetes username"},
});
grant_role(input.arn, input.groups);
"#;

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn decl() -> Declaration {
        declaration("grant.rhai", GRANT).unwrap().unwrap()
    }

    #[test]
    fn the_declaration_is_read_in_order_without_running_the_script() {
        let d = decl();
        assert_eq!(d.names(), ["arn", "groups", "force", "username"]);
        assert_eq!(d.inputs[2].form, Form::Bool);
        assert_eq!(d.inputs[2].presence(), "default: false");
        assert_eq!(d.inputs[3].presence(), "optional");
    }

    #[test]
    fn an_unknown_key_names_the_closest_declared_one() {
        let e = decl()
            .validate(
                "grant.rhai",
                &args(&[
                    ("arn", "arn:aws:iam::123456789012:role/dev"),
                    ("group", "readers"),
                ]),
            )
            .unwrap_err();
        assert!(
            matches!(&e, InputError::Unknown { nearest: Some(n), .. } if n == "groups"),
            "{e:?}"
        );
        assert!(
            e.hint().contains("did you mean `--set groups=readers`?"),
            "{}",
            e.hint()
        );
        assert!(e.is_usage());
    }

    #[test]
    fn required_inputs_and_forms_are_checked() {
        let d = decl();
        let e = d
            .validate("g", &args(&[("arn", "arn:aws:iam::123456789012:role/dev")]))
            .unwrap_err();
        assert!(
            matches!(&e, InputError::Missing { name, .. } if name == "groups"),
            "{e:?}"
        );
        let e = d
            .validate("g", &args(&[("arn", "not-an-arn"), ("groups", "a")]))
            .unwrap_err();
        assert!(
            matches!(&e, InputError::BadValue { name, .. } if name == "arn"),
            "{e:?}"
        );
        let e = d
            .validate(
                "g",
                &args(&[
                    ("arn", "arn:aws:iam::123456789012:role/dev"),
                    ("groups", "a"),
                    ("force", "maybe"),
                ]),
            )
            .unwrap_err();
        assert!(
            matches!(&e, InputError::BadValue { name, .. } if name == "force"),
            "{e:?}"
        );
        let ok = d
            .validate(
                "g",
                &args(&[
                    ("arn", "arn:aws:iam::123456789012:role/dev"),
                    ("groups", " a, b,a ,"),
                ]),
            )
            .unwrap();
        assert_eq!(ok["groups"].to_string(), r#"["a", "b"]"#);
        assert!(!ok["force"].as_bool().unwrap());
        assert!(ok["username"].is_unit());
    }

    #[test]
    fn scripts_without_a_declaration_have_none() {
        assert!(declaration("x", "let a = arg(\"a\"); print(a);")
            .unwrap()
            .is_none());
        assert!(declaration("x", "this does not compile (")
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_misplaced_or_malformed_declaration_is_refused() {
        for text in [
            "print(1);\nlet i = inputs(#{a: #{help: \"x\"}});",
            "if true { let i = inputs(#{a: #{help: \"x\"}}); }",
            "let i = inputs(#{a: #{help: \"x\"}});\nlet j = inputs(#{a: #{help: \"x\"}});",
            "let x = 1; let i = inputs(#{a: #{help: \"x\"}});",
            "let i = inputs(#{a: #{help: arg(\"x\"), required: true}});",
            "let i = inputs(#{a: #{required: true}});",
            "let i = inputs(#{a: #{help: \"x\", form: \"lst\"}});",
            "let i = inputs(#{a: #{help: \"x\", required: true, fallback: 1}});",
            "let i = inputs(#{a: #{help: \"x\", reqired: true}});",
            "let i = inputs(#{a: #{help: \"x\", form: \"bool\", fallback: \"maybe\"}});",
            "let v = 1; let i = inputs(v);",
        ] {
            let e = declaration("x", text).expect_err(text);
            assert!(!e.is_usage(), "{text}: {e}");
        }
    }
}
