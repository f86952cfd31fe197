//! `cargo xtask layout`: the shape the code promises (docs/architecture.md), checked.
//!
//! - Inside each crate the modules import each other one way only: no circles.
//! - No source file is over [`MAX_LINES`] lines before its unit tests.
//!
//! A module's imports are the `crate::name` paths in its file (the crate root, which re-exports,
//! is left out). The check reads files as text, so it runs in milliseconds, first in `ci`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The longest a source file may be before its `#[cfg(test)]` module.
pub(crate) const MAX_LINES: usize = 450;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`layout` takes no arguments (got {extra:?})"));
    }
    let crates = check(Path::new("."))?;
    println!(
        "\n==> layout\n    {crates} crates: no import circles, no file over {MAX_LINES} lines before its tests, one test binary each"
    );
    Ok(())
}

/// Every rule over the workspace at `root`: how many crates it checked, or every problem.
/// Also a `#[test]` (below), so `cargo test` alone catches a broken rule.
pub(crate) fn check(root: &Path) -> Result<usize, String> {
    let mut problems = Vec::new();
    let mut crates: Vec<_> = fs::read_dir(root.join("crates"))
        .map_err(|e| format!("layout: cannot list crates/: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.push(root.join("xtask"));
    crates.sort();
    for krate in &crates {
        problems.extend(check_dir(&krate.join("src"))?);
        problems.extend(check_tests(&krate.join("tests"))?);
    }
    if problems.is_empty() {
        Ok(crates.len())
    } else {
        Err(format!("layout:\n  {}", problems.join("\n  ")))
    }
}

/// A crate's integration tests are one binary: `tests/<name>/main.rs` with modules, and no
/// `.rs` file directly under `tests/` (each would be a binary of its own, linked against every
/// dependency once per feature set).
fn check_tests(dir: &Path) -> Result<Vec<String>, String> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut binaries = Vec::new();
    let mut problems = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("layout: {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "rs") {
            problems.push(format!(
                "{}: a test binary of its own; make it a module of the crate's one test binary",
                path.display()
            ));
        } else if path.join("main.rs").is_file() {
            binaries.push(path.display().to_string());
        }
    }
    if binaries.len() > 1 {
        binaries.sort();
        problems.push(format!(
            "{}: {} test binaries ({}); keep one",
            dir.display(),
            binaries.len(),
            binaries.join(", ")
        ));
    }
    Ok(problems)
}

fn check_dir(dir: &Path) -> Result<Vec<String>, String> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("layout: {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "rs") {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = fs::read_to_string(&path)
                .map_err(|e| format!("layout: {}: {e}", path.display()))?;
            files.insert(name, text);
        }
    }
    let mut problems = Vec::new();
    for (name, text) in &files {
        let lines = lines_before_tests(text);
        if lines > MAX_LINES {
            problems.push(format!(
                "{}/{name}.rs: {lines} lines before its tests (at most {MAX_LINES})",
                dir.display()
            ));
        }
    }
    let graph = imports(&files);
    if let Some(circle) = find_circle(&graph) {
        problems.push(format!(
            "{}: modules import each other in a circle: {}",
            dir.display(),
            circle.join(" -> ")
        ));
    }
    Ok(problems)
}

/// Lines up to the first `#[cfg(test)]` at the start of a line (the whole file if none).
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or_else(|| text.lines().count())
}

/// Module -> the sibling modules it names as `crate::name`, the crate root left out.
fn imports(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let roots = ["lib", "main"];
    let modules: BTreeSet<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|m| !roots.contains(m))
        .collect();
    let mut graph = BTreeMap::new();
    for (name, text) in files.iter().filter(|(n, _)| !roots.contains(&n.as_str())) {
        let code = text.lines().take(lines_before_tests(text));
        let mut uses = BTreeSet::new();
        for line in code.filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let rest = &line[i + "crate::".len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let target = &rest[..end];
                if target != name && modules.contains(target) {
                    uses.insert(target.to_owned());
                }
                // `crate::{a, b::X}` names several modules at once.
                if target.is_empty() && rest.starts_with('{') {
                    for part in rest[1..].split([',', '}']) {
                        let m = part.trim().split("::").next().unwrap_or("");
                        if m != name && modules.contains(m) {
                            uses.insert(m.to_owned());
                        }
                    }
                }
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

/// A circle in the graph, as the path around it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut circle = path[start..].to_vec();
                circle.push(node.to_owned());
                return Some(circle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut marks, &mut Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn finds_a_circle_through_grouped_and_plain_imports() {
        let f = files(&[
            ("lib", "mod a; mod b; mod c; pub use crate::a::X;"),
            ("a", "use crate::{b::Y, c};\n"),
            ("b", "fn f() { crate::c::g() }\n"),
            ("c", "use crate::a::X;\n"),
        ]);
        let circle = find_circle(&imports(&f)).expect("a -> b -> c -> a");
        assert_eq!(circle.first(), circle.last());
        assert_eq!(circle.len(), 4, "{circle:?}");
    }

    #[test]
    fn one_way_imports_comments_and_tests_are_not_circles() {
        let f = files(&[
            ("a", "use crate::b;\n// crate::c is not an import\n"),
            (
                "b",
                "use crate::c::Z;\n#[cfg(test)]\nmod tests { use crate::a; }\n",
            ),
            ("c", "pub struct Z;\n"),
        ]);
        assert_eq!(find_circle(&imports(&f)), None);
    }

    /// The rules over this workspace itself, as rust-analyzer's `tidy.rs` runs its own.
    #[test]
    fn the_workspace_keeps_its_layout() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let crates = check(&root).unwrap_or_else(|problems| panic!("{problems}"));
        assert!(crates >= 7, "{crates} crates checked");
    }

    #[test]
    fn a_second_test_binary_is_a_problem() {
        let dir = std::env::temp_dir().join(format!("neux-layout-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("one")).unwrap();
        fs::write(dir.join("one/main.rs"), "").unwrap();
        assert!(check_tests(&dir).is_ok_and(|p| p.is_empty()));
        fs::write(dir.join("extra.rs"), "").unwrap();
        let problems = check_tests(&dir).unwrap();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn counts_lines_up_to_the_tests() {
        assert_eq!(lines_before_tests("a\nb\n#[cfg(test)]\nmod tests {}\n"), 2);
        assert_eq!(lines_before_tests("a\nb\nc\n"), 3);
    }
}
