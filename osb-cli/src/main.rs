//! The `osb` command line.
fn main() {}
