//! `okscript check` (compile and lint for CI, no side effects) and `okscript fns` (the
//! script API with signatures, docs and examples). The meta-test that every documented
//! example passes `check` lives here too. Running scripts is `run.rs`'s business.

use crate::util::{json, script, TestDir, ROOT};

/// Every shipped script, by file name.
fn shipped_scripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{ROOT}/scripts"))
        .expect("scripts/ exists")
        .filter_map(|e| {
            let name = e
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            name.ends_with(".rhai").then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// The functions the issue promises scripts.
const PROMISED: &[&str] = &[
    "grant_role",
    "grant_user",
    "grant_account",
    "revoke_account",
    "revoke_role",
    "revoke_user",
    "mappings",
    "role_arn",
    "plan",
    "apply",
    "arg",
    "env",
    "fail",
];

#[test]
fn check_passes_every_shipped_script() {
    let names = shipped_scripts();
    assert!(names.len() >= 7, "scripts went missing: {names:?}");
    let dir = TestDir::new();
    let out = dir
        .cmd()
        .arg("check")
        .args(names.iter().map(|n| script(n)))
        .run();
    out.expect_code(0);
    for n in &names {
        assert!(
            out.stdout.contains(&format!("ok: [ROOT]/scripts/{n}\n")),
            "no `ok:` for {n}:\n{out}"
        );
    }
    assert!(dir.list().is_empty(), "check wrote files: {:?}", dir.list());
}

#[test]
fn check_reports_a_syntax_error_with_its_position() {
    let dir = TestDir::new();
    let s = dir.write(
        "syntax.rhai",
        "let groups = [\"devs\"];\nlet more = groups +;\n",
    );
    let out = dir.cmd().args(["check", &s]).run();
    out.expect_code(1).expect_stderr(&[
        "error: syntax.rhai:2:20: syntax error",
        "2 | let more = groups +;",
    ]);
    assert!(!out.stdout.contains("ok:"), "{out}");
}

#[test]
fn check_reports_an_unknown_function_with_its_position_and_a_suggestion() {
    let dir = TestDir::new();
    let s = dir.write(
        "typo.rhai",
        "let arn = \"arn:aws:iam::123456789012:role/dev\";\nif true {\n    revoke_rol(arn);\n}\n",
    );
    dir.cmd()
        .args(["check", &s])
        .run()
        .expect_code(1)
        .expect_stderr(&[
            "error: typo.rhai:3:5: unknown function `revoke_rol`",
            "3 |     revoke_rol(arn);",
            "hint: did you mean `revoke_role`, `revoke_policy`?",
        ]);
}

#[test]
fn check_reports_every_bad_script_and_still_passes_the_good_ones() {
    let dir = TestDir::new();
    let good = dir.write(
        "good.rhai",
        "print(role_arn(\"arn:aws:iam::123456789012:role/a/b\"));\n",
    );
    let bad = dir.write("bad.rhai", "grant_rol(\"x\", []);\n");
    let out = dir.cmd().args(["check", &bad, &good]).run();
    out.expect_code(1)
        .expect_stdout(&["ok: good.rhai\n"])
        .expect_stderr(&["bad.rhai:1:1:"]);
}

#[test]
fn check_has_no_side_effects_and_takes_no_target() {
    let dir = TestDir::new();
    let grant = dir.write(
        "grant.rhai",
        "grant_role(\"arn:aws:iam::123456789012:role/dev\", [\"devs\"]);\napply();\nprint(\"ran\");\n",
    );
    // Even with a target in the environment, check reads nothing and writes nothing.
    let file = dir.fixture("eks-nodes-only");
    let aged = dir.age(&file);
    let out = dir
        .cmd()
        .env("OKSCRIPT_TARGET", "file:created-by-check.yaml")
        .args(["check", &grant])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "ok: grant.rhai\n", "{out}");
    assert_eq!(
        dir.list(),
        ["eks-nodes-only.yaml", "grant.rhai"],
        "check created files"
    );
    assert_eq!(dir.mtime(&file), aged);

    // And there is no --target to give it.
    let out = dir
        .cmd()
        .args(["check", &grant, "--target", &format!("file:{file}")])
        .run();
    out.expect_code(64);
    assert_eq!(dir.read(&file), crate::util::fixture_text("eks-nodes-only"));
    assert_eq!(dir.mtime(&file), aged);
}

#[test]
fn fns_lists_the_script_api_with_signatures_and_docs() {
    let out = TestDir::new().cmd().arg("fns").run();
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    for name in PROMISED {
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{name}(")) && l.contains(") -> "))
            .unwrap_or_else(|| panic!("`{name}` has no signature line:\n{out}"));
        let doc = lines.get(at + 1).copied().unwrap_or_default();
        assert!(
            doc.starts_with("    ") && doc.trim().len() > 10,
            "`{name}` has no doc line:\n{out}"
        );
    }
}

#[test]
fn fns_json_documents_every_function_with_an_example() {
    let out = TestDir::new().cmd().args(["fns", "--json"]).run();
    out.expect_code(0);
    let doc = json(&out.stdout);
    let entries = doc.as_array().expect("an array of functions");
    for entry in entries {
        for key in ["name", "params", "returns", "doc", "example"] {
            assert!(
                entry.get(key).is_some_and(|v| v.is_string()),
                "{key} missing: {entry}"
            );
        }
        for key in ["name", "returns", "doc", "example"] {
            assert!(
                !entry[key].as_str().unwrap_or_default().trim().is_empty(),
                "empty {key}: {entry}"
            );
        }
    }
    for name in PROMISED {
        assert!(
            entries.iter().any(|e| e["name"] == *name),
            "`{name}` is not in fns --json"
        );
    }
}

#[test]
fn every_fns_example_passes_check() {
    let dir = TestDir::new();
    let out = dir.cmd().args(["fns", "--json"]).run();
    out.expect_code(0);
    let doc = json(&out.stdout);
    let files: Vec<String> = doc
        .as_array()
        .expect("an array of functions")
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = e["name"].as_str().expect("a name");
            let example = e["example"].as_str().expect("an example");
            dir.write(&format!("{i:02}-{name}.rhai"), format!("{example}\n"))
        })
        .collect();
    let out = dir.cmd().arg("check").args(&files).run();
    out.expect_code(0);
    for f in &files {
        assert!(out.stdout.contains(&format!("ok: {f}\n")), "{f}:\n{out}");
    }
}

/// Issue 9: the editor definitions come from the same declarations as `okscript fns`, so every
/// function `fns` lists is in the `.d.rhai` files, and the bundled stdlib modules are in both.
#[test]
fn definitions_hold_every_function_fns_lists_and_the_stdlib_modules() {
    let dir = TestDir::new();
    let out = dir.cmd().args(["definitions", "defs"]).run();
    out.expect_code(0)
        .expect_stdout(&["__static__.d.rhai", "okctl.d.rhai"]);
    let mut all = String::new();
    for entry in std::fs::read_dir(dir.join("defs")).unwrap() {
        let path = entry.unwrap().path();
        assert!(path.to_string_lossy().ends_with(".d.rhai"), "{path:?}");
        all.push_str(&std::fs::read_to_string(&path).unwrap());
    }
    let listed = dir.cmd().args(["fns", "--json"]).run();
    listed.expect_code(0);
    let doc = json(&listed.stdout);
    let entries = doc.as_array().expect("an array of functions");
    assert!(entries.len() > 40, "{}", entries.len());
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let summary = e["doc"].as_str().unwrap();
        assert!(
            all.contains(&format!("fn {name}(")),
            "`{name}` is not in the definitions"
        );
        assert!(
            all.contains(&format!("/// {summary}")),
            "the doc of `{name}` is not in the definitions"
        );
    }
    assert!(
        all.contains("module okctl;") && all.contains("fn groups_arg("),
        "{all}"
    );
    let text = dir.cmd().arg("fns").run();
    text.expect_code(0)
        .expect_stdout(&["okctl::groups_arg()", "table::print_table(headers, rows)"]);
}
