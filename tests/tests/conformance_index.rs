//! `tests/CONFORMANCE.md` is complete and only names tests that exist.
//!
//! - Every item of `tests/must_items.txt` (the `[MUST]`/`[MUST NOT]`/`[REQUIRED]` items of
//!   CHECKLIST parts A, B and C, vendored so that CI needs only this repository) has exactly
//!   one row, and every row is for such an item.
//! - Each row names at least one test or gives a reason (`Reason: …`); "not covered yet" is
//!   not an answer.
//! - Each test reference `` `crate::file::fn_name` `` names a test function (`#[test]` or
//!   `#[tokio::test]`) in exactly that file: `<crate dir>/tests/<file>.rs`, or
//!   `<crate dir>/src/<file>.rs` for unit tests (`file` may contain `/`).
//! - When `../shared/osb-spec/CHECKLIST.md` is next to the workspace, the vendored list must
//!   equal what `tests/gen_must_items.py` would produce from it.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workspace_root() -> &'static Path {
    manifest_dir().parent().expect("workspace root")
}

/// Package name (with `_`) → crate directory, for every workspace member.
fn crate_dirs() -> HashMap<String, PathBuf> {
    let mut dirs = HashMap::new();
    for entry in fs::read_dir(workspace_root()).expect("workspace root").flatten() {
        let dir = entry.path();
        let Ok(manifest) = fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let mut in_package = false;
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_package = line == "[package]";
            } else if in_package && let Some(v) = line.strip_prefix("name") {
                let name = v.trim_start().trim_start_matches('=').trim().trim_matches('"');
                dirs.insert(name.replace('-', "_"), dir.clone());
                break;
            }
        }
    }
    dirs
}

fn vendored_items() -> Vec<String> {
    fs::read_to_string(manifest_dir().join("must_items.txt"))
        .expect("tests/must_items.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The rule of `tests/gen_must_items.py`.
fn items_of_checklist(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("- **")?;
            let (id, _) = rest.split_once("**")?;
            let part_ok = id.starts_with(['A', 'B', 'C']);
            let num_ok = id.len() > 1 && id[1..].bytes().all(|b| b.is_ascii_digit());
            let tagged = ["[MUST]", "[MUST NOT]", "[REQUIRED]"]
                .iter()
                .any(|t| line.contains(t));
            (part_ok && num_ok && tagged).then(|| id.to_owned())
        })
        .collect()
}

/// One table row: item id and the "Covered by" cell.
#[derive(Debug)]
struct Row {
    id: String,
    coverage: String,
}

fn rows(md: &str) -> Vec<Row> {
    md.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Item") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split(" | ").collect();
            Row {
                id: cells[0].trim().to_owned(),
                coverage: cells.last().copied().unwrap_or("").trim().to_owned(),
            }
        })
        .collect()
}

/// The `` `crate::file::fn` `` references of a cell.
fn references(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| t.contains("::"))
        .map(str::to_owned)
        .collect()
}

/// Whether `file` defines a test function `name`: `fn name(` preceded by attribute lines of
/// which one is a test attribute.
fn defines_test(file: &str, name: &str) -> bool {
    let lines: Vec<&str> = file.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let Some(pos) = t.find(&format!("fn {name}(")) else {
            continue;
        };
        let before = &t[..pos];
        if !before
            .split_whitespace()
            .all(|w| matches!(w, "async" | "pub" | "pub(crate)"))
        {
            continue;
        }
        let mut j = i;
        while j > 0 {
            j -= 1;
            let attr = lines[j].trim();
            if attr.starts_with("#[") && attr.contains("test") {
                return true;
            }
            if !(attr.starts_with("#[") || attr.starts_with("//") || attr.is_empty()) {
                break;
            }
        }
    }
    false
}

/// Resolves a reference to its file and checks the test exists there; `Err` says why not.
fn check_reference(dirs: &HashMap<String, PathBuf>, reference: &str) -> Result<(), String> {
    let parts: Vec<&str> = reference.split("::").collect();
    let [krate, file, name] = parts[..] else {
        return Err("not of the form crate::file::fn_name".to_owned());
    };
    let dir = dirs
        .get(krate)
        .ok_or_else(|| format!("no workspace crate {krate:?}"))?;
    let candidates = [
        dir.join("tests").join(format!("{file}.rs")),
        dir.join("src").join(format!("{file}.rs")),
        dir.join("src").join(file).join("mod.rs"),
    ];
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no file {file}.rs in {}/tests or src", dir.display()))?;
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    if defines_test(&text, name) {
        Ok(())
    } else {
        Err(format!("no test fn {name} in {}", path.display()))
    }
}

fn conformance_md() -> String {
    fs::read_to_string(manifest_dir().join("CONFORMANCE.md")).expect("CONFORMANCE.md")
}

#[test]
fn every_must_item_has_exactly_one_row_and_no_other_rows() {
    let items = vendored_items();
    assert!(
        items.len() > 150,
        "vendored list looks truncated: {}",
        items.len()
    );
    let md = conformance_md();
    let rows = rows(&md);
    let mut seen = BTreeSet::new();
    let duplicates: Vec<&str> = rows
        .iter()
        .filter(|r| !seen.insert(r.id.as_str()))
        .map(|r| r.id.as_str())
        .collect();
    assert!(duplicates.is_empty(), "items with two rows: {duplicates:?}");
    let missing: Vec<&String> = items.iter().filter(|i| !seen.contains(i.as_str())).collect();
    assert!(
        missing.is_empty(),
        "MUST/REQUIRED items without a row: {missing:?}"
    );
    let extra: Vec<&str> = seen
        .iter()
        .copied()
        .filter(|id| !items.iter().any(|i| i == id))
        .collect();
    assert!(
        extra.is_empty(),
        "rows for items not in must_items.txt: {extra:?}"
    );
}

#[test]
fn every_row_names_a_test_or_gives_a_reason() {
    let md = conformance_md();
    let mut bad = Vec::new();
    for row in rows(&md) {
        let lower = row.coverage.to_ascii_lowercase();
        let refs = references(&row.coverage);
        let reason = row
            .coverage
            .find("Reason:")
            .is_some_and(|at| row.coverage[at + 7..].trim().len() >= 20);
        if lower.contains("not covered") || (refs.is_empty() && !reason) {
            bad.push(row.id.clone());
        }
        let unique: BTreeSet<&String> = refs.iter().collect();
        if unique.len() != refs.len() {
            bad.push(format!("{} (a test listed twice)", row.id));
        }
    }
    assert!(bad.is_empty(), "rows without a test or reason: {bad:?}");
}

#[test]
fn every_test_named_in_conformance_md_exists_in_its_file() {
    let dirs = crate_dirs();
    assert!(
        dirs.contains_key("osb_tests") && dirs.contains_key("osb_server_mini"),
        "{dirs:?}"
    );
    let md = conformance_md();
    let mut all = 0;
    let mut broken = Vec::new();
    for row in rows(&md) {
        for r in references(&row.coverage) {
            all += 1;
            if let Err(why) = check_reference(&dirs, &r) {
                broken.push(format!("{}: {r}: {why}", row.id));
            }
        }
    }
    assert!(all > 300, "the table lists tests: {all}");
    assert!(broken.is_empty(), "broken references:\n{}", broken.join("\n"));
}

#[test]
fn vendored_items_match_the_checklist_when_it_is_present() {
    let checklist = workspace_root().join("../shared/osb-spec/CHECKLIST.md");
    let Ok(text) = fs::read_to_string(&checklist) else {
        eprintln!(
            "{} not found: only the vendored list is used",
            checklist.display()
        );
        return;
    };
    assert_eq!(
        vendored_items(),
        items_of_checklist(&text),
        "tests/must_items.txt is stale: run `python3 tests/gen_must_items.py ../shared/osb-spec/CHECKLIST.md > tests/must_items.txt`"
    );
}

#[test]
fn the_checker_rejects_what_it_should() {
    // The reference and row parsers, on known input.
    assert_eq!(
        references("`osb_tests::endpoints::a1`<br>`x` Reason: y"),
        ["osb_tests::endpoints::a1"]
    );
    let r = rows("| Item | R | C |\n|---|---|---|\n| A4 | `[MUST]` x | `a::b::c` |\n");
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].id.as_str(), r[0].coverage.as_str()), ("A4", "`a::b::c`"));
    // Test detection: a helper with the same name is not a test.
    assert!(defines_test("#[tokio::test]\nasync fn t1() {}", "t1"));
    assert!(defines_test("#[test]\n#[should_panic]\nfn t2() {}", "t2"));
    assert!(!defines_test("fn t3() {}", "t3"));
    assert!(!defines_test("#[test]\nfn t4x() {}", "t4"));
    // A test in another file of the same crate does not count.
    let dirs = crate_dirs();
    assert!(
        check_reference(
            &dirs,
            "osb_tests::conformance_index::the_checker_rejects_what_it_should"
        )
        .is_ok()
    );
    assert!(check_reference(&dirs, "osb_tests::endpoints::the_checker_rejects_what_it_should").is_err());
    assert!(check_reference(&dirs, "osb_tests::the_checker_rejects_what_it_should").is_err());
    // The checklist rule.
    let items = items_of_checklist(
        "- **A1** `[MAY]` x\n- **A4** `[MUST]` y\n- **C8** `s`* `[REQUIRED]`\n- **V3** `[MUST]` z\n  - **B9** `[MUST]`",
    );
    assert_eq!(items, ["A4", "C8"]);
}
