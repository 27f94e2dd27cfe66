//! The Rhai engine okscript runs scripts in: limits, no `eval`, no shell, imports from next
//! to the script or the bundled stdlib, and the script API (one file per area). A run
//! stages changes and commits them once at the end; a script that fails commits nothing.

pub mod access_fns;
pub mod api;
pub mod aws_fns;
pub mod check;
pub mod cluster_fns;
pub mod data_fns;
pub mod errors;
pub mod inputs;
pub mod limits;
pub mod memory;
pub mod migrate_fns;
pub mod report_fns;
pub mod resolver;
pub mod shipped;
pub mod sso_fns;
pub mod sso_login_fns;
pub mod state;
pub mod strict;
pub mod util_fns;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{Engine, EvalAltResult};

use crate::access::plan::Summary;
use crate::output::Printer;
use api::{Api, FnDoc};
use errors::{Context, ScriptError};
use limits::Limits;
use resolver::{Resolver, Sources};
use state::{Shared, State};

/// A script to run or check: where it came from and its text.
#[derive(Debug, Clone)]
pub struct Script {
    /// The name errors show (the path as given).
    pub name: String,
    /// The folder imports resolve from.
    pub dir: PathBuf,
    /// The source text.
    pub text: String,
}

impl Script {
    /// A script read from `path` by the caller.
    pub fn new(path: &Path, text: String) -> Script {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Script {
            name: path.display().to_string(),
            dir,
            text,
        }
    }
}

/// Everything a run needs besides the script.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--set` values.
    pub args: BTreeMap<String, String>,
    /// The environment snapshot.
    pub env: BTreeMap<String, String>,
    /// Names `env()` may read beyond its allow-list (`--allow-env`).
    pub allow_env: BTreeSet<String>,
    /// `--target`, parsed once by the command line.
    pub target: Option<crate::targets::TargetSpec>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// Resource limits.
    pub limits: Limits,
    /// AWS settings.
    pub aws: crate::settings::AwsSettings,
    /// Cluster settings.
    pub kube: crate::settings::KubeSettings,
    /// A login already made (a fleet's, shared by its clusters), adopted instead of a new one.
    pub login: Option<aws_fns::SharedLogin>,
}

/// What a run found out about its cluster, failed or not: a fleet's summary row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFacts {
    /// The cluster's authenticationMode, when the run connected to an EKS cluster.
    pub mode: Option<String>,
    /// What the run's target writes: `aws-auth`, `access entries` or `file`.
    pub mechanism: Option<&'static str>,
}

/// What a successful run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// The target's description, when the script used one.
    pub target: Option<String>,
    /// What the target writes, for the summary line (a cluster names mechanism and mode).
    pub mechanism: Option<String>,
    /// Whether the script asked for any change to aws-auth (reads alone do not count).
    pub touched: bool,
    /// The diff of what was written, or would be under `--dry-run`.
    pub diff: String,
    /// Counts of what was written, or would be.
    pub summary: Summary,
    /// Whether anything was written.
    pub written: bool,
}

/// Builds an engine with okscript's limits and API around `state`.
pub fn engine(
    state: &Shared,
    limits: &Limits,
    base: PathBuf,
    sources: Sources,
) -> (Engine, Vec<FnDoc>) {
    let mut engine = Engine::new();
    limits.install(&mut engine);
    // No eval: scripts are reviewed as written. Rhai has no shell or file access to remove.
    engine.disable_symbol("eval");
    engine.set_module_resolver(Resolver::new(base, sources));
    let s = state.clone();
    engine.on_print(move |line| s.borrow_mut().printer.data(line));
    let s = state.clone();
    engine.on_debug(move |line, _, _| s.borrow_mut().printer.debug(line));
    let mut api = Api {
        engine: &mut engine,
        docs: Vec::new(),
    };
    access_fns::register(&mut api, state);
    aws_fns::register(&mut api, state);
    cluster_fns::register(&mut api, state);
    migrate_fns::register(&mut api, state);
    report_fns::register(&mut api, state);
    sso_fns::register(&mut api, state);
    sso_login_fns::register(&mut api, state);
    util_fns::register(&mut api, state);
    inputs::register(&mut api, state);
    data_fns::register(&mut api, state);
    let docs = api.docs;
    (engine, docs)
}

/// The documentation of every script function, in registration order.
pub fn docs() -> Vec<FnDoc> {
    let state = detached_state();
    engine(
        &state,
        &Limits::default(),
        PathBuf::from("."),
        Sources::default(),
    )
    .1
}

/// One function of a bundled stdlib module, as `okscript fns` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StdlibFn {
    /// `module::name`.
    pub name: String,
    /// The parameter names.
    pub params: Vec<String>,
    /// Its `///` doc comment, without the leaders, on one line.
    pub doc: String,
}

/// The public functions of the bundled stdlib modules (`import "okctl" as okctl;`), read
/// from their source, doc comments included.
pub fn stdlib_docs() -> Vec<StdlibFn> {
    let mut engine = Engine::new_raw();
    engine.set_max_expr_depths(limits::EXPR_DEPTHS.0, limits::EXPR_DEPTHS.1);
    let mut out = Vec::new();
    for (module, source) in resolver::STDLIB {
        let Ok(ast) = engine.compile(*source) else {
            continue;
        };
        for f in ast.iter_functions() {
            if f.access == rhai::FnAccess::Private {
                continue;
            }
            let doc = f
                .comments
                .iter()
                .flat_map(|c| c.lines())
                .map(|l| l.trim_start_matches('/').trim())
                .collect::<Vec<_>>()
                .join(" ");
            out.push(StdlibFn {
                name: format!("{module}::{}", f.name),
                params: f.params.iter().map(|p| p.to_string()).collect(),
                doc,
            });
        }
    }
    out
}

/// Writes Rhai definition files (`.d.rhai`, for the Rhai language server) of every script
/// function and the bundled stdlib modules into `dir`; returns the files written.
pub fn write_definitions(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    let state = detached_state();
    let (mut engine, _) = engine(
        &state,
        &Limits::default(),
        PathBuf::from("."),
        Sources::default(),
    );
    for (module, source) in resolver::STDLIB {
        // The stdlib modules hold only functions and constants, so evaluating them runs
        // nothing with effects; one that cannot be built is left out rather than guessed at.
        let built = engine
            .compile(*source)
            .ok()
            .and_then(|ast| rhai::Module::eval_ast_as_new(rhai::Scope::new(), &ast, &engine).ok());
        if let Some(m) = built {
            engine.register_static_module(*module, m.into());
        }
    }
    let defs = engine.definitions().include_standard_packages(false);
    defs.write_to_dir(dir)?;
    Ok(defs.iter_files().map(|(name, _)| dir.join(name)).collect())
}

fn detached_state() -> Shared {
    Rc::new(RefCell::new(State {
        target_spec: None,
        changes: None,
        args: BTreeMap::new(),
        env: BTreeMap::new(),
        env_allowed: BTreeSet::new(),
        dry_run: true,
        printer: Printer::new(
            Default::default(),
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        ),
        commits: Vec::new(),
        aws: aws_fns::AwsState::new(Default::default()),
        protected: Vec::new(),
        blocked: None,
        kube: Default::default(),
        connection: None,
    }))
}

/// Names a script may call: okscript's functions and Rhai's own.
pub fn known_functions(engine: &Engine) -> Vec<String> {
    let mut names: Vec<String> = engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|s| {
            let s = s
                .strip_prefix("get$")
                .or_else(|| s.strip_prefix("set$"))
                .unwrap_or(s);
            let name = s.split('(').next()?.trim();
            name.chars()
                .all(|c| c.is_alphanumeric() || c == '_')
                .then(|| name.to_string())
        })
        .collect();
    names.extend(
        [
            "print",
            "debug",
            "type_of",
            "Fn",
            "call",
            "curry",
            "is_def_var",
            "is_def_fn",
            "is_shared",
            "this",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    names.sort();
    names.dedup();
    names
}

/// Runs a script. The printer comes back with whatever the run collected.
pub fn run(
    script: &Script,
    opts: RunOptions,
    printer: Printer,
) -> (Result<RunReport, ScriptError>, Printer) {
    let (result, printer, _) = run_with_facts(script, opts, printer);
    (result, printer)
}

/// Logs in to AWS once, as a script's `login()` would (SSO logins included), for the runs
/// of a fleet to share.
pub fn login_once(
    aws: crate::settings::AwsSettings,
    printer: Printer,
) -> (Result<aws_fns::SharedLogin, ScriptError>, Printer) {
    let state = detached_state();
    {
        let mut st = state.borrow_mut();
        st.aws = aws_fns::AwsState::new(aws);
        st.printer = printer;
    }
    let result = {
        let mut st = state.borrow_mut();
        aws_fns::fleet_login(&mut st).map_err(|e| ScriptError::from_runtime(&e))
    };
    let state = Rc::try_unwrap(state)
        .map(RefCell::into_inner)
        .unwrap_or_else(|_| unreachable!("no engine shared the state"));
    (result, state.printer)
}

/// Runs a script, and says what it found out about its cluster even when it failed.
pub fn run_with_facts(
    script: &Script,
    opts: RunOptions,
    printer: Printer,
) -> (Result<RunReport, ScriptError>, Printer, RunFacts) {
    let mut aws = aws_fns::AwsState::new(opts.aws);
    if let Some(login) = opts.login {
        aws = aws.with_login(login);
    }
    let state: Shared = Rc::new(RefCell::new(State {
        target_spec: opts.target.clone(),
        changes: None,
        args: opts.args,
        env: opts.env,
        env_allowed: opts.allow_env,
        dry_run: opts.dry_run,
        printer,
        commits: Vec::new(),
        aws,
        protected: Vec::new(),
        blocked: None,
        kube: opts.kube,
        connection: None,
    }));
    let sources = Sources::default();
    sources
        .borrow_mut()
        .insert(script.name.clone(), script.text.clone());
    let (engine, _) = engine(&state, &opts.limits, script.dir.clone(), sources.clone());
    let result = execute(&engine, script).map_err(|e| {
        let known = known_functions(&engine);
        errors::describe(
            *e,
            &Context {
                script: &script.name,
                sources: &sources,
                limits: &opts.limits,
                known: &known,
            },
        )
    });
    drop(engine);
    let result = result.and_then(|()| finish(&state, opts.dry_run));
    let mut state = Rc::try_unwrap(state)
        .map(RefCell::into_inner)
        .unwrap_or_else(|_| unreachable!("the engine that shared the state is gone"));
    let facts = RunFacts {
        mode: state
            .connection
            .as_ref()
            .and_then(|c| c.borrow().auth_mode())
            .map(|m| m.as_str().to_string()),
        mechanism: state.changes.as_ref().map(|c| {
            if c.uses_real_arns() {
                "access entries"
            } else if matches!(state.target_spec, Some(crate::targets::TargetSpec::File(_))) {
                "file"
            } else {
                "aws-auth"
            }
        }),
    };
    // The process exits after one run: freeing a 5,000-entry model string by string would
    // take longer than the whole grant did, and the OS takes the memory back at once.
    std::mem::forget(state.changes.take());
    (result, state.printer, facts)
}

fn execute(engine: &Engine, script: &Script) -> Result<(), Box<EvalAltResult>> {
    let mut ast = engine
        .compile(&script.text)
        .map_err(Box::<EvalAltResult>::from)?;
    ast.set_source(script.name.clone());
    engine.run_ast(&ast)
}

/// Commits what the script staged (or describes it under `--dry-run`).
fn finish(state: &Shared, dry_run: bool) -> Result<RunReport, ScriptError> {
    let mut st = state.borrow_mut();
    aws_fns::check_principals(&mut st);
    if let Some((message, hint)) = strict::gate(&mut st) {
        return Err(ScriptError {
            message,
            hint: Some(hint),
        });
    }
    let commits = std::mem::take(&mut st.commits);
    let Some(changes) = st.changes.as_mut() else {
        return Ok(RunReport::default());
    };
    let mut report = RunReport {
        target: Some(changes.describe()),
        mechanism: Some(changes.mechanism()),
        touched: changes.asked,
        ..RunReport::default()
    };
    for c in &commits {
        report.diff.push_str(&c.diff);
        report.summary.add(c.summary);
        report.written |= c.written;
    }
    if dry_run {
        let (diff, summary) = changes.plan();
        report.diff.push_str(&diff);
        report.summary.add(summary);
        return Ok(report);
    }
    let done = changes.commit().map_err(|e| ScriptError {
        message: e.to_string(),
        hint: e.hint(),
    })?;
    for n in &done.notes {
        st.printer.note(n);
    }
    report.diff.push_str(&done.diff);
    report.summary.add(done.summary);
    report.written |= done.written;
    Ok(report)
}

#[cfg(test)]
mod stdlib_docs_tests {
    #[test]
    fn the_stdlib_functions_are_listed_with_their_docs() {
        let docs = super::stdlib_docs();
        let groups = docs
            .iter()
            .find(|f| f.name == "okctl::groups_arg")
            .expect("okctl::groups_arg is listed");
        assert!(groups.doc.contains("no default"), "{groups:?}");
        assert!(
            docs.iter().any(|f| f.name == "table::print_table"),
            "{docs:?}"
        );
    }
}
