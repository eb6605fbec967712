//! Command-line arguments.

use clap::{Args, Parser, Subcommand};

/// Talk to an Open Service Broker (API v2.17) from a terminal.
#[derive(Debug, Parser)]
#[command(name = "osb", version, about)]
pub(crate) struct Cli {
    /// Base URL of the broker (a path prefix is kept).
    #[arg(long, env = "OSB_BROKER_URL", global = true)]
    pub(crate) url: Option<String>,
    /// Basic auth username.
    #[arg(short = 'u', long, env = "OSB_USERNAME", global = true)]
    pub(crate) username: Option<String>,
    /// Basic auth password (needs --username).
    #[arg(
        short = 'p',
        long,
        env = "OSB_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub(crate) password: Option<Secret>,
    /// X-Broker-API-Version to send (2.11 to 2.17).
    #[arg(long, default_value = "2.17", global = true)]
    pub(crate) api_version: String,
    /// Print JSON instead of tables. A failure then prints one JSON object on stdout:
    /// {"error", "description", "status", "exit_code"} (plus "orphan_mitigation" when one was
    /// needed), and nothing on stderr.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 60, global = true)]
    pub(crate) timeout: u64,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// A password: never shown by `Debug`.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(osb_types::REDACTED)
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show the broker's catalog.
    Catalog,
    /// Create a service instance.
    Provision(Provision),
    /// Update a service instance (plan and/or parameters).
    Update(Update),
    /// Delete a service instance.
    Deprovision(Target),
    /// Fetch a service instance.
    Instance {
        /// Instance id.
        instance: String,
    },
    /// Create a service binding.
    Bind(Bind),
    /// Delete a service binding.
    Unbind(BindingTarget),
    /// Rotate a service binding: create a successor with new credentials (API 2.17, a
    /// binding_rotatable plan); the old binding works until you unbind it.
    Rotate(Rotate),
    /// Fetch a service binding.
    Binding {
        /// Instance id.
        instance: String,
        /// Binding id.
        binding: String,
    },
    /// Show the last operation of an instance (or of a binding with --binding).
    LastOperation(LastOp),
    /// Check a broker against the OSB specification (conformance checks).
    Check(crate::commands::check::CheckArgs),
}

/// Offering and plan, by name or id.
#[derive(Debug, Args)]
pub(crate) struct ServicePlan {
    /// Service offering name or id.
    #[arg(long)]
    pub(crate) service: String,
    /// Plan name or id.
    #[arg(long)]
    pub(crate) plan: String,
}

/// Offering and plan, by name or id; looked up from the instance when left out.
#[derive(Debug, Args)]
pub(crate) struct MaybeServicePlan {
    /// Service offering name or id (default: the instance's, fetched from the broker when
    /// the offering is instances_retrievable).
    #[arg(long)]
    pub(crate) service: Option<String>,
    /// Plan name or id (default: the instance's, fetched from the broker when the offering is
    /// instances_retrievable).
    #[arg(long)]
    pub(crate) plan: Option<String>,
}

/// The stable `organization_guid` sent when neither `--org-guid` nor `OSB_ORG_GUID` is set.
pub(crate) const DEFAULT_ORG_GUID: &str = "0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0001";
/// The stable `space_guid` sent when neither `--space-guid` nor `OSB_SPACE_GUID` is set.
pub(crate) const DEFAULT_SPACE_GUID: &str = "0b5c1e8a-5f0e-4d6c-9c3e-05b0c11e0002";

/// `provision`.
#[derive(Debug, Args)]
pub(crate) struct Provision {
    /// Instance id.
    pub(crate) instance: String,
    #[command(flatten)]
    pub(crate) sp: ServicePlan,
    /// organization_guid to send (required by the specification and by many brokers).
    /// Default: a fixed GUID, printed with the result.
    #[arg(long, env = "OSB_ORG_GUID")]
    pub(crate) org_guid: Option<String>,
    /// space_guid to send (required by the specification and by many brokers). Default: a
    /// fixed GUID, printed with the result.
    #[arg(long, env = "OSB_SPACE_GUID")]
    pub(crate) space_guid: Option<String>,
    /// Parameters as a JSON object.
    #[arg(long)]
    pub(crate) params: Option<String>,
    /// Wait for an asynchronous operation to finish.
    #[arg(long)]
    pub(crate) wait: bool,
}

/// `update`.
#[derive(Debug, Args)]
pub(crate) struct Update {
    /// Instance id.
    pub(crate) instance: String,
    /// Service offering name or id.
    #[arg(long)]
    pub(crate) service: String,
    /// New plan name or id.
    #[arg(long)]
    pub(crate) plan: Option<String>,
    /// Current plan name or id (sent as previous_values.plan_id, used when polling, and needed
    /// to check that a plan change is allowed; fetched from the broker when it supports that).
    #[arg(long)]
    pub(crate) current_plan: Option<String>,
    /// Parameters as a JSON object.
    #[arg(long)]
    pub(crate) params: Option<String>,
    /// Wait for an asynchronous operation to finish.
    #[arg(long)]
    pub(crate) wait: bool,
}

/// `deprovision`.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// Instance id.
    pub(crate) instance: String,
    #[command(flatten)]
    pub(crate) sp: MaybeServicePlan,
    /// Wait for an asynchronous operation to finish.
    #[arg(long)]
    pub(crate) wait: bool,
}

/// `bind`.
#[derive(Debug, Args)]
pub(crate) struct Bind {
    /// Instance id.
    pub(crate) instance: String,
    /// Binding id.
    pub(crate) binding: String,
    #[command(flatten)]
    pub(crate) sp: MaybeServicePlan,
    /// Parameters as a JSON object.
    #[arg(long)]
    pub(crate) params: Option<String>,
    /// Rotate this existing binding: the new binding gets its credentials (needs a
    /// binding_rotatable plan and API 2.17).
    #[arg(long, value_name = "PREDECESSOR_BINDING")]
    pub(crate) rotate: Option<String>,
    /// Wait for an asynchronous bind, then fetch the binding.
    #[arg(long)]
    pub(crate) wait: bool,
}

/// `rotate`.
#[derive(Debug, Args)]
pub(crate) struct Rotate {
    /// Instance id.
    pub(crate) instance: String,
    /// The binding to rotate (the predecessor).
    pub(crate) binding: String,
    /// Id of the new binding (default: a new UUID, printed with the result).
    #[arg(long, value_name = "NEW_BINDING")]
    pub(crate) to: Option<String>,
    #[command(flatten)]
    pub(crate) sp: MaybeServicePlan,
    /// Rotate only if the binding is due: fetch it and compare its metadata.renew_before with
    /// the current time (needs a bindings_retrievable offering).
    #[arg(long)]
    pub(crate) if_due: bool,
    /// Wait for an asynchronous rotation, then fetch the new binding.
    #[arg(long)]
    pub(crate) wait: bool,
}

/// `unbind`.
#[derive(Debug, Args)]
pub(crate) struct BindingTarget {
    /// Instance id.
    pub(crate) instance: String,
    /// Binding id.
    pub(crate) binding: String,
    #[command(flatten)]
    pub(crate) sp: MaybeServicePlan,
    /// Wait for an asynchronous operation to finish.
    #[arg(long)]
    pub(crate) wait: bool,
}

/// `last-operation`.
#[derive(Debug, Args)]
pub(crate) struct LastOp {
    /// Instance id.
    pub(crate) instance: String,
    /// Binding id (polls the binding instead).
    #[arg(long)]
    pub(crate) binding: Option<String>,
    /// The operation value the broker returned.
    #[arg(long)]
    pub(crate) operation: Option<String>,
    /// Service offering id (hint).
    #[arg(long)]
    pub(crate) service_id: Option<String>,
    /// Plan id (hint).
    #[arg(long)]
    pub(crate) plan_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    #[test]
    fn debug_hides_the_password() {
        let cli = Cli::parse_from([
            "osb", "--url", "http://x", "-u", "admin", "-p", "hunter2", "catalog",
        ]);
        let dbg = format!("{cli:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("admin"));
    }
}
