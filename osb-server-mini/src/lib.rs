//! # osb-server-mini
//!
//! A minimal hyper 1.x runtime for Open Service Broker API v2.17 brokers (work in progress).

pub mod auth;
pub mod broker;
mod config;
pub mod context;
pub mod error;
pub mod reply;
pub mod request;
mod response;
pub mod store;

pub use broker::{Broker, PlanPolicy};
pub use context::RequestContext;
pub use error::{BrokerError, ServeError};
/// The OSB wire model, re-exported.
pub use osb_types as types;
