//! `okscript check`: compile a script and lint it without running anything: syntax, calls to
//! functions that exist nowhere (with the nearest names), and imports that do not resolve or
//! import each other in a cycle.

use rhai::{ASTNode, Expr, OptimizationLevel, Stmt};

use super::errors::{self, Context, ScriptError};
use super::limits::Limits;
use super::resolver::Sources;
use super::{detached_state, engine, known_functions, Script};

/// Checks one script; returns every problem found (empty when it is fine).
pub fn check(script: &Script) -> Vec<ScriptError> {
    let state = detached_state();
    let sources = Sources::default();
    sources
        .borrow_mut()
        .insert(script.name.clone(), script.text.clone());
    let limits = Limits::default();
    let (mut engine, _) = engine(&state, &limits, script.dir.clone(), sources.clone());
    engine.set_optimization_level(OptimizationLevel::None);
    let known = known_functions(&engine);
    let cx = Context {
        script: &script.name,
        sources: &sources,
        limits: &limits,
        known: &known,
    };
    let ast = match engine.compile(&script.text) {
        Ok(ast) => ast,
        Err(e) => return vec![errors::describe(*Box::<rhai::EvalAltResult>::from(e), &cx)],
    };
    let defined: Vec<String> = ast.iter_functions().map(|f| f.name.to_string()).collect();
    let mut problems = Vec::new();
    let mut imports: Vec<(String, rhai::Position)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos)))
            | Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                let name = call.name.to_string();
                let plain = call.namespace.is_empty() && call.op_token.is_none();
                if plain && !known.contains(&name) && !defined.contains(&name) {
                    problems.push(errors::describe(
                        rhai::EvalAltResult::ErrorFunctionNotFound(name, *pos),
                        &cx,
                    ));
                }
            }
            Some(ASTNode::Stmt(Stmt::Import(x, pos))) => {
                if let Expr::StringConstant(s, _) = &x.0 {
                    imports.push((s.to_string(), *pos));
                }
            }
            _ => {}
        }
        true
    });
    for (path, pos) in imports {
        // The script as the importer, so an import of itself or a cycle through it is found.
        let importer = Some(script.name.as_str());
        if let Err(e) = engine
            .module_resolver()
            .resolve(&engine, importer, &path, pos)
        {
            let mut e = *e;
            if e.position().is_none() {
                e.set_position(pos);
            }
            problems.push(errors::describe(e, &cx));
        }
    }
    problems
}
