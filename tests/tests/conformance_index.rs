//! `tests/CONFORMANCE.md` only names tests that exist: every `crate::file::name` in its table
//! must be a `fn name` somewhere under the workspace's `*/src` and `*/tests` directories.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn defined_fns(root: &Path) -> HashSet<String> {
    let mut files = Vec::new();
    for krate in fs::read_dir(root).expect("workspace root").flatten() {
        let k = krate.path();
        if !k.join("Cargo.toml").is_file() {
            continue;
        }
        rust_files(&k.join("src"), &mut files);
        rust_files(&k.join("tests"), &mut files);
    }
    let mut names = HashSet::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap_or_default();
        for part in text.split("fn ").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

fn listed_tests(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Item"))
        .flat_map(|l| {
            l.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|t| t.contains("::"))
        .collect()
}

#[test]
fn every_test_named_in_conformance_md_exists() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = fs::read_to_string(here.join("CONFORMANCE.md")).expect("CONFORMANCE.md");
    let listed = listed_tests(&md);
    assert!(listed.len() > 50, "the table lists tests: {}", listed.len());
    let defined = defined_fns(here.parent().expect("workspace root"));
    let missing: Vec<&String> = listed
        .iter()
        .filter(|t| !defined.contains(t.rsplit("::").next().unwrap_or(t)))
        .collect();
    assert!(missing.is_empty(), "listed but not defined: {missing:?}");
}

#[test]
fn every_must_row_has_a_test_or_a_reason() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = fs::read_to_string(here.join("CONFORMANCE.md")).expect("CONFORMANCE.md");
    for row in md
        .lines()
        .filter(|l| l.starts_with("| A") || l.starts_with("| B") || l.starts_with("| C"))
    {
        let last = row.trim_end_matches('|').rsplit('|').next().unwrap_or("").trim();
        assert!(!last.is_empty(), "row without coverage or reason: {row}");
    }
}
