//! Structured output for scripts: `emit(value)` hands `--output json` data instead of text
//! lines, and `to_json`/`to_yaml` render values for `print`. Rendering only; no I/O.

use rhai::Dynamic;
use serde_json::Value;

use super::api::{Api, FnDoc, FnResult};
use super::state::Shared;

fn to_value(value: &Dynamic) -> FnResult<Value> {
    rhai::serde::from_dynamic::<Value>(value)
}

/// One text form of a value for scripts: its name, summary, example and renderer.
type TextForm = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Value) -> String,
);

/// YAML for a JSON value: block style, strings (and keys that are not plain words) quoted
/// as JSON, which YAML reads the same.
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(value, 0, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn scalar(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let plain = !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !k.starts_with(|c: char| c.is_ascii_digit())
                    // Words YAML 1.1 reads as booleans or null stay quoted.
                    && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
                        .contains(&k.to_ascii_lowercase().as_str());
                let key = if plain {
                    k.clone()
                } else {
                    scalar(&Value::String(k.clone()))
                };
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_yaml(v, indent, out);
                    }
                    _ => out.push_str(&format!("{pad}{key}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        write_yaml(item, indent + 2, &mut inner);
                        // The first key goes on the dash's line.
                        let trimmed = inner.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {trimmed}"));
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        write_yaml(item, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// Registers `emit`, `to_json` and `to_yaml`.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "emit",
            params: "value: any",
            returns: "()",
            doc: "Add one item to --output json's `data` list (structured, not text); text output ignores it, so print for people as well.",
            example: r#"emit(#{arn: "arn:aws:iam::123456789012:role/dev", groups: ["devs"]});"#,
        },
        move |value: Dynamic| -> FnResult<()> {
            let v = to_value(&value)?;
            s.borrow_mut().printer.values.push(v);
            Ok(())
        },
    );
    // The two text forms of a value: one declaration each, one body.
    let forms: [TextForm; 2] = [
        (
            "to_json",
            "The value as pretty-printed JSON.",
            r#"print(to_json(#{groups: ["devs"]}));"#,
            |v| serde_json::to_string_pretty(v).unwrap_or_default(),
        ),
        (
            "to_yaml",
            "The value as YAML (block style; strings quoted).",
            r#"print(to_yaml(#{groups: ["devs"]}));"#,
            |v| yaml(v).trim_end().to_string(),
        ),
    ];
    for (name, doc, example, form) in forms {
        api.def(
            FnDoc {
                name,
                params: "value: any",
                returns: "string",
                doc,
                example,
            },
            move |value: Dynamic| -> FnResult<String> { Ok(form(&to_value(&value)?)) },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_of_a_list_of_mappings_is_block_style_and_quoted() {
        let v = serde_json::json!([{"arn": "arn:aws:iam::1:role/a", "groups": ["x", "y"]}, {"account": "1"}]);
        assert_eq!(
            yaml(&v),
            "- arn: \"arn:aws:iam::1:role/a\"\n  groups:\n  - \"x\"\n  - \"y\"\n- account: \"1\"\n"
        );
    }
}
