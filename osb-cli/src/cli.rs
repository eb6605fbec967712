//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Talk to an Open Service Broker (API v2.17) from a terminal.
#[derive(Debug, Parser)]
#[command(name = "osb", version, about)]
pub(crate) struct Cli {
    /// Base URL of the broker (a path prefix is kept).
    #[arg(long, env = "OSB_BROKER_URL", global = true, help_heading = "Connection")]
    pub(crate) url: Option<String>,
    /// Basic auth username.
    #[arg(
        short = 'u',
        long,
        env = "OSB_USERNAME",
        global = true,
        help_heading = "Connection"
    )]
    pub(crate) username: Option<String>,
    /// Basic auth password (needs --username).
    #[arg(
        short = 'p',
        long,
        env = "OSB_PASSWORD",
        global = true,
        help_heading = "Connection",
        hide_env_values = true
    )]
    pub(crate) password: Option<Secret>,
    /// Bearer token, sent as `Authorization: Bearer TOKEN` (instead of --username/--password).
    #[arg(
        long,
        env = "OSB_TOKEN",
        global = true,
        help_heading = "Connection",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) token: Option<Secret>,
    /// X-Broker-API-Version to send (2.11 to 2.17). Default: negotiated, the highest version
    /// both this tool and the broker speak (from 2.17 down while the broker answers 412).
    #[arg(
        long,
        env = "OSB_API_VERSION",
        global = true,
        help_heading = "Connection",
        value_name = "VERSION"
    )]
    pub(crate) api_version: Option<String>,
    /// X-Broker-API-Originating-Identity of every request a user causes: the platform, a
    /// colon, and the identity's JSON object (inline, @FILE, or @- for stdin), e.g.
    /// `cloudfoundry:{"user_id":"u-1"}` or `kubernetes:@user.json`.
    #[arg(
        long,
        env = "OSB_ORIGINATING_IDENTITY",
        global = true,
        help_heading = "Connection",
        value_name = "PLATFORM:JSON|@FILE"
    )]
    pub(crate) originating_identity: Option<String>,
    /// Also trust the CA certificates in FILE (PEM) for the broker's TLS certificate.
    #[arg(
        long,
        env = "OSB_CACERT",
        global = true,
        help_heading = "Connection",
        value_name = "FILE"
    )]
    pub(crate) cacert: Option<PathBuf>,
    /// Client certificate for mutual TLS (PEM; the certificate first, then any intermediates).
    /// Its key comes from --key, or from FILE itself when it holds the key too.
    #[arg(
        long,
        env = "OSB_CERT",
        global = true,
        help_heading = "Connection",
        value_name = "FILE"
    )]
    pub(crate) cert: Option<PathBuf>,
    /// Private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "OSB_KEY",
        global = true,
        help_heading = "Connection",
        value_name = "FILE"
    )]
    pub(crate) key: Option<PathBuf>,
    /// Do not verify the broker's TLS certificate. Dangerous: anyone on the network path can
    /// then read and change the traffic, credentials included. Prints a warning.
    #[arg(long, global = true, help_heading = "Connection")]
    pub(crate) insecure: bool,
    /// Print JSON instead of tables. A failure then prints one JSON object on stdout:
    /// {"error", "description", "status", "exit_code"} (plus "orphan_mitigation" when one was
    /// needed, "hint" after a TLS failure), and nothing on stderr (but the --insecure warning).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 60, global = true, help_heading = "Connection")]
    pub(crate) timeout: u64,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// A password or token: never shown by `Debug`.
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
    /// Print a shell completion script (e.g. `osb completions bash > ~/.local/share/bash-completion/completions/osb`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The `context` object of provision, update and bind: `--context`, plus shortcuts that fill
/// the fields of the profile's Cloud Foundry and Kubernetes context objects.
#[derive(Debug, Args, Default)]
pub(crate) struct ContextArgs {
    /// The `context` object (with its "platform"): JSON, @FILE (JSON, or YAML when the file
    /// ends in .yaml/.yml), or @- for stdin. The --cf-* and --k8s-* flags set fields on top.
    #[arg(long, value_name = "JSON|@FILE", help_heading = "Context")]
    pub(crate) context: Option<String>,
    /// Cloud Foundry context: organization_name.
    #[arg(long, value_name = "NAME", help_heading = "Context")]
    pub(crate) cf_org: Option<String>,
    /// Cloud Foundry context: organization_guid (default: --org-guid, else the default GUID).
    #[arg(long, value_name = "GUID", help_heading = "Context")]
    pub(crate) cf_org_guid: Option<String>,
    /// Cloud Foundry context: space_name.
    #[arg(long, value_name = "NAME", help_heading = "Context")]
    pub(crate) cf_space: Option<String>,
    /// Cloud Foundry context: space_guid (default: --space-guid, else the default GUID).
    #[arg(long, value_name = "GUID", help_heading = "Context")]
    pub(crate) cf_space_guid: Option<String>,
    /// Cloud Foundry context: instance_name.
    #[arg(long, value_name = "NAME", help_heading = "Context")]
    pub(crate) cf_instance_name: Option<String>,
    /// Kubernetes context: namespace.
    #[arg(long, value_name = "NAMESPACE", help_heading = "Context")]
    pub(crate) k8s_namespace: Option<String>,
    /// Kubernetes context: clusterid.
    #[arg(long, value_name = "ID", help_heading = "Context")]
    pub(crate) k8s_cluster: Option<String>,
    /// Kubernetes context: instance_name.
    #[arg(long, value_name = "NAME", help_heading = "Context")]
    pub(crate) k8s_instance_name: Option<String>,
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
    /// Parameters: a JSON object, @FILE (JSON, or YAML when the file ends in .yaml/.yml), or
    /// @- for stdin.
    #[arg(long, value_name = "JSON|@FILE")]
    pub(crate) params: Option<String>,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
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
    /// Parameters: a JSON object, @FILE (JSON, or YAML when the file ends in .yaml/.yml), or
    /// @- for stdin.
    #[arg(long, value_name = "JSON|@FILE")]
    pub(crate) params: Option<String>,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
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
    /// Parameters: a JSON object, @FILE (JSON, or YAML when the file ends in .yaml/.yml), or
    /// @- for stdin.
    #[arg(long, value_name = "JSON|@FILE")]
    pub(crate) params: Option<String>,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
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

    #[test]
    fn debug_hides_the_token() {
        let cli = Cli::parse_from(["osb", "--url", "http://x", "--token", "t0k3n-s3cret", "catalog"]);
        let dbg = format!("{cli:?}");
        assert!(!dbg.contains("t0k3n-s3cret"), "{dbg}");
        assert!(dbg.contains("token: Some("), "{dbg}");
    }
}
