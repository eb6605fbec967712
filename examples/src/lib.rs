//! Example brokers for osb-rs (see `examples/`).
