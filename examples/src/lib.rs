//! Example brokers for osb-rs, shared by the programs in `examples/` and by the tests.
//!
//! - [`echo`]: the echo broker, derived with `#[derive(Offering)]`, `#[derive(Plan)]` and `#[broker]`.
//! - [`file`](mod@file): the file broker, with typed parameters.
//! - [`kv`]: a key-value broker whose typed parameters follow their plan (`Option<T>`).
//! - [`hand_written`]: the echo broker implementing [`osb_server_mini::Broker`] by hand.
//! - [`settings`]: the environment variables the example programs read.

pub mod echo;
pub mod file;
pub mod hand_written;
pub mod kv;
pub mod settings;

/// Ids of the echo service's catalog entries, shared by both echo brokers. The plan ids are
/// the derived plans' [`Plan::ID`](osb_server_mini::Plan::ID); the offering id is written
/// here and in [`echo::Echo`]'s `#[osb(id = ..)]` (the derive takes literals), and the
/// hand-written broker's test pins the two catalogs equal.
pub mod echo_ids {
    use osb_server_mini::Plan;

    /// The `echo` offering.
    pub const SERVICE: &str = "6c3e3b2e-4b0f-4f3e-9a59-7d0f6c1d0e01";
    /// The synchronous `small` plan.
    pub const SMALL: &str = <crate::echo::Small as Plan>::ID;
    /// The asynchronous-only `large` plan.
    pub const LARGE: &str = <crate::echo::Large as Plan>::ID;
}

/// The Rust code blocks of the repository's README, compiled as doctests of this crate
/// (`cargo test --doc -p osb-examples`), so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
