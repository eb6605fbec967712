//! Example brokers for osb-rs, shared by the programs in `examples/` and by the tests.
//!
//! - [`hand_written`]: the echo broker implementing [`osb_server_mini::Broker`] by hand.
//! - [`settings`]: the environment variables the example programs read.

pub mod echo;
pub mod file;
pub mod hand_written;
pub mod settings;

/// Ids of the echo service's catalog entries, shared by both echo brokers.
pub mod echo_ids {
    /// The `echo` offering.
    pub const SERVICE: &str = "6c3e3b2e-4b0f-4f3e-9a59-7d0f6c1d0e01";
    /// The synchronous `small` plan.
    pub const SMALL: &str = "1f0a8d6c-2f4e-4a55-8e1b-3c6b5a7d9e02";
    /// The asynchronous-only `large` plan.
    pub const LARGE: &str = "9d2b7c4a-6e1f-4b3d-a2c8-5f4e3d2c1b03";
}

/// The Rust code blocks of the repository's README, compiled as doctests of this crate
/// (`cargo test --doc -p osb-examples`), so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
