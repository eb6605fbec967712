//! Run with: cargo run -p osb-examples --example readme_broker
//!
//! The broker of the README's "Writing a broker with the macros" section, on 127.0.0.1:8080
//! with Basic auth `admin`/`secret`. Its code is `examples/readme/broker.rs`, included here
//! verbatim (and left as compact as it reads in the README); `tests/tests/readme_broker.rs`
//! checks that the README shows exactly that file and runs it through the full lifecycle.

include!("../readme/broker.rs");
