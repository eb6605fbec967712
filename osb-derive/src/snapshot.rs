//! Expansion snapshots for unit tests: prettyplease-normalised, compared with
//! `tests/expand/<name>`; `OSB_BLESS=1` rewrites the file.

use proc_macro2::TokenStream;

/// Pretty-prints generated items.
pub(crate) fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

/// Compares with (or, under `OSB_BLESS`, writes) the committed snapshot.
pub(crate) fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expand")
        .join(name);
    if std::env::var_os("OSB_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with OSB_BLESS=1", path.display()));
    // Normalise the committed file too, so hand edits in any formatting compare equal.
    let expected = pretty(expected.parse().expect("snapshot tokenizes"));
    assert_eq!(
        actual, expected,
        "expansion of {name} changed; re-bless with OSB_BLESS=1"
    );
}
