//! trybuild UI tests: one failing case per distinct macro error, and the passing shapes.
//! Re-bless with `TRYBUILD=overwrite cargo test -p osb-derive --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/fail/*.rs");
    t.pass("tests/ui/*/pass/*.rs");
}
