//! `import "NAME" as x;`: a module next to the importing script first, then the bundled
//! `stdlib/` compiled into the binary (so a copied binary still works). Names are plain
//! relative paths: no absolute paths, no `..`. An import that comes back to a module still
//! being loaded is a cycle: Rhai would recurse until the stack overflows, so it is refused
//! with the chain of files.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

/// The bundled modules: name and source.
pub const STDLIB: &[(&str, &str)] = &[
    ("okctl", include_str!("../../stdlib/okctl.rhai")),
    ("table", include_str!("../../stdlib/table.rhai")),
];

/// Source texts of every script and module loaded, by the name errors report them under.
pub type Sources = Rc<RefCell<BTreeMap<String, String>>>;

/// Deepest chain of nested imports; far beyond real use, well before the stack runs out.
pub const MAX_IMPORT_DEPTH: usize = 32;

/// One file on the chain of imports being loaded: its identity and how errors name it.
#[derive(Debug, Clone)]
struct Link {
    key: PathBuf,
    shown: String,
}

/// Resolves imports for one run.
pub struct Resolver {
    base: PathBuf,
    sources: Sources,
    cache: RefCell<BTreeMap<String, Shared<Module>>>,
    /// The script that started the chain, then every module still being loaded, in order.
    loading: RefCell<Vec<Link>>,
}

impl Resolver {
    /// Resolves relative to `base` (the main script's folder), recording sources in `sources`.
    pub fn new(base: PathBuf, sources: Sources) -> Resolver {
        Resolver {
            base,
            sources,
            cache: RefCell::new(BTreeMap::new()),
            loading: RefCell::new(Vec::new()),
        }
    }

    /// A file as the cycle message shows it: relative to the main script's folder.
    fn link(&self, label: &str) -> Link {
        let path = Path::new(label);
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let shown = path
            .strip_prefix(&self.base)
            .unwrap_or(path)
            .display()
            .to_string();
        Link { key, shown }
    }

    /// Refuses `next` when it is already on the chain (a cycle) or the chain is too deep.
    fn enter(
        &self,
        importer: Option<&str>,
        next: Link,
        pos: Position,
    ) -> Result<(), Box<EvalAltResult>> {
        let mut loading = self.loading.borrow_mut();
        if loading.is_empty() {
            if let Some(root) = importer {
                loading.push(self.link(root));
            }
        }
        if let Some(at) = loading.iter().position(|l| l.key == next.key) {
            let chain: Vec<&str> = loading[at..]
                .iter()
                .chain(std::iter::once(&next))
                .map(|l| l.shown.as_str())
                .collect();
            return Err(Box::new(EvalAltResult::ErrorRuntime(
                format!(
                    "import cycle: {}\nhint: modules cannot import each other in a circle; move what both need into a third module",
                    chain.join(" → ")
                )
                .into(),
                pos,
            )));
        }
        if loading.len() > MAX_IMPORT_DEPTH {
            return Err(Box::new(EvalAltResult::ErrorRuntime(
                format!(
                    "imports nest deeper than {MAX_IMPORT_DEPTH} modules (at {})",
                    next.shown
                )
                .into(),
                pos,
            )));
        }
        loading.push(next);
        Ok(())
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let name = path.strip_suffix(".rhai").unwrap_or(path);
        if !valid_name(name) {
            return Err(Box::new(EvalAltResult::ErrorRuntime(
                format!("cannot import `{path}`: module names are relative paths without `..`, such as \"okctl\" or \"lib/helpers\"").into(),
                pos,
            )));
        }
        let dir = source
            .map(PathBuf::from)
            .and_then(|p| p.parent().map(PathBuf::from))
            .filter(|p| p.is_dir())
            .unwrap_or_else(|| self.base.clone());
        let file = dir.join(format!("{name}.rhai"));
        let (label, text) = if file.is_file() {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Box::new(EvalAltResult::ErrorRuntime(
                    format!("cannot read module {}: {e}", file.display()).into(),
                    pos,
                ))
            })?;
            (file.display().to_string(), text)
        } else if let Some((_, text)) = STDLIB.iter().find(|(n, _)| *n == name) {
            (format!("<stdlib>/{name}.rhai"), text.to_string())
        } else {
            let bundled: Vec<&str> = STDLIB.iter().map(|(n, _)| *n).collect();
            return Err(Box::new(EvalAltResult::ErrorModuleNotFound(
                format!(
                    "{path} (looked for {} and in the bundled modules: {})",
                    file.display(),
                    bundled.join(", ")
                ),
                pos,
            )));
        };
        if let Some(m) = self.cache.borrow().get(&label) {
            return Ok(m.clone());
        }
        let mut ast = engine.compile(&text).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                label.clone(),
                Box::<EvalAltResult>::from(e),
                pos,
            ))
        })?;
        ast.set_source(label.clone());
        self.sources.borrow_mut().insert(label.clone(), text);
        self.enter(source, self.link(&label), pos)?;
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        self.loading.borrow_mut().pop();
        if self.loading.borrow().len() == 1 {
            // Back at the script that started the chain: the next import starts a new one.
            self.loading.borrow_mut().clear();
        }
        let module =
            module.map_err(|e| Box::new(EvalAltResult::ErrorInModule(label.clone(), e, pos)))?;
        let module: Shared<Module> = module.into();
        self.cache.borrow_mut().insert(label, module.clone());
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn module_names_stay_below_the_script() {
        for ok in ["okctl", "lib/helpers", "a-b_c.d"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "./a",
            "a b",
            "a\\b",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
