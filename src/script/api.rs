//! The registry of script functions: each is registered together with its documentation, so
//! `okscript fns`, the `check` lint and the tests all read one list. Also the helpers that
//! turn Rhai values into checked Rust values with errors that name the argument.

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

/// Documentation of one script function overload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FnDoc {
    /// The function's name.
    pub name: &'static str,
    /// Parameters as written in the signature, e.g. `arn: string, groups: array`.
    pub params: &'static str,
    /// What it returns, e.g. `map`.
    pub returns: &'static str,
    /// One line on what it does.
    pub doc: &'static str,
    /// A Rhai example that compiles.
    pub example: &'static str,
}

impl FnDoc {
    /// `name(params) -> returns`.
    pub fn signature(&self) -> String {
        format!("{}({}) -> {}", self.name, self.params, self.returns)
    }

    /// How many parameters the overload takes.
    pub fn arity(&self) -> usize {
        if self.params.trim().is_empty() {
            0
        } else {
            self.params.split(',').count()
        }
    }
}

/// The engine being built and the documentation gathered while registering.
pub struct Api<'e> {
    /// The engine functions are registered into.
    pub engine: &'e mut Engine,
    /// Every documented overload so far.
    pub docs: Vec<FnDoc>,
}

impl Api<'_> {
    /// Registers `func` under `doc.name` and records its documentation.
    pub fn def<
        A: 'static,
        const N: usize,
        const X: bool,
        R: rhai::Variant + Clone,
        const F: bool,
    >(
        &mut self,
        doc: FnDoc,
        func: impl rhai::RhaiNativeFunc<A, N, X, R, F> + 'static,
    ) {
        // The same declaration feeds `okscript fns` (docs) and the editor definitions
        // (Rhai's metadata), so the two cannot drift.
        let mut info: Vec<String> = doc
            .params
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once(':') {
                Some((name, ty)) => format!("{}: {}", name.trim(), rhai_type(ty)),
                None => p.to_string(),
            })
            .collect();
        if doc.returns.trim() != "()" {
            info.push(rhai_type(doc.returns).to_string());
        }
        rhai::FuncRegistration::new(doc.name)
            .with_params_info(info)
            .with_comments([format!("/// {}", doc.doc)])
            .register_into_engine(self.engine, func);
        self.docs.push(doc);
    }
}

/// The Rhai type name for a documented type (`?` for unions: the definitions language has
/// one word per type).
fn rhai_type(documented: &str) -> &'static str {
    match documented.trim() {
        "string" => "String",
        "array" => "Array",
        "map" => "Map",
        "bool" => "bool",
        "int" => "i64",
        "float" => "f64",
        "()" => "()",
        _ => "?",
    }
}

/// Result type of script functions.
pub type FnResult<T> = Result<T, Box<EvalAltResult>>;

/// A script error with a hint after it; the error printer splits them again.
pub fn error_with_hint(
    message: impl std::fmt::Display,
    hint: impl std::fmt::Display,
) -> Box<EvalAltResult> {
    format!("{message}\nhint: {hint}").into()
}

/// An error of a layer below as a script error, with the hint it brings.
pub fn advised(e: &impl crate::hint::Advice) -> Box<EvalAltResult> {
    match e.advice() {
        Some(h) => error_with_hint(e, h),
        None => e.to_string().into(),
    }
}

/// A string argument, or an error naming it.
pub fn string(what: &str, v: &Dynamic) -> FnResult<String> {
    v.clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|t| format!("{what} must be a string, but it is {t}").into())
}

/// A list of groups: an array of strings, or one string for one group.
pub fn groups(v: &Dynamic) -> FnResult<Vec<String>> {
    if v.is_string() {
        return Ok(vec![string("the group", v)?]);
    }
    let Some(items) = v.clone().try_cast::<Array>() else {
        return Err(format!(
            "groups must be an array of strings such as [\"system:masters\"], but it is {}",
            v.type_name()
        )
        .into());
    };
    items.iter().map(|g| string("each group", g)).collect()
}

/// Options a mutating function accepts as its trailing map.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opts {
    /// `#{force: true}`: the only way past a guard.
    pub force: bool,
}

/// Reads an options map, refusing keys it does not know.
pub fn opts(v: &Dynamic) -> FnResult<Opts> {
    let Some(map) = v.clone().try_cast::<Map>() else {
        return Err(format!(
            "the options must be a map such as #{{force: true}}, but they are {}",
            v.type_name()
        )
        .into());
    };
    let mut out = Opts::default();
    for (k, value) in map {
        match k.as_str() {
            "force" => {
                out.force = value
                    .as_bool()
                    .map_err(|t| format!("`force` must be true or false, but it is {t}"))?
            }
            other => {
                return Err(format!(
                    "unknown option `{other}`: the only option is `force` (#{{force: true}})"
                )
                .into())
            }
        }
    }
    Ok(out)
}

/// True when a value is an options map rather than a username or groups.
pub fn is_map(v: &Dynamic) -> bool {
    v.is_map()
}

/// Turns a serializable value into a Rhai value (maps become object maps).
pub fn to_dynamic<T: serde::Serialize>(value: &T) -> Dynamic {
    rhai::serde::to_dynamic(value).unwrap_or(Dynamic::UNIT)
}
