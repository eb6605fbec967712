//! The `osb` command line: talk to any Open Service Broker from a terminal.
//!
//! ```text
//! osb --url http://127.0.0.1:8080 -u admin -p secret catalog
//! osb provision inst-1 --service echo --plan large --wait
//! osb provision inst-2 --service echo --plan small --cf-org acme --cf-space dev --cf-instance-name db
//! osb --token "$TOKEN" --cacert ca.pem --url https://broker.example catalog
//! ```
//!
//! Exit codes: `0` success, `1` the broker or the connection failed, `2` nothing was sent
//! (bad arguments or a request the catalog forbids). With `--json`, a failure is one JSON
//! object on stdout (`error`, `description`, `status`, `exit_code`, `orphan_mitigation`).

mod cli;
mod commands;
mod connect;
mod context;
mod input;
mod progress;
mod render;
mod style;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::Ctx;

/// Why a command failed, and with which exit code.
///
/// Exit codes: `0` success; `1` the broker or the connection failed (an error answer, a
/// timeout, a failed operation); `2` nothing was sent because the command line or the request
/// is wrong (bad arguments, unknown service or plan, a request the catalog forbids).
#[derive(Debug)]
pub(crate) struct Failure {
    /// The human message (may span lines).
    message: String,
    code: u8,
    /// The broker's `error` code, or the kind of failure.
    kind: String,
    /// The broker's `description`, or the message.
    description: String,
    status: Option<u16>,
    orphan_mitigation: Option<String>,
    /// The broker answered `412`: it does not speak the API version sent.
    version_mismatch: bool,
}

impl Failure {
    /// A mistake in the arguments (exit code 2).
    pub(crate) fn usage(message: String) -> Self {
        Self {
            description: message.clone(),
            message,
            code: 2,
            kind: "UsageError".to_owned(),
            status: None,
            orphan_mitigation: None,
            version_mismatch: false,
        }
    }

    /// The `--json` form.
    fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "error": self.kind,
            "description": self.description,
            "status": self.status,
            "exit_code": self.code,
        });
        if let Some(om) = &self.orphan_mitigation {
            v["orphan_mitigation"] = serde_json::Value::String(om.clone());
        }
        if let Some(hint) = self.hint() {
            v["hint"] = serde_json::Value::String(hint.to_owned());
        }
        v
    }

    /// What to do about a TLS failure, recognised from rustls' error text.
    fn hint(&self) -> Option<&'static str> {
        if self.kind != "TransportError" {
            return None;
        }
        let m = &self.message;
        if m.contains("invalid peer certificate") {
            Some(
                "the broker's TLS certificate is not trusted: pass --cacert FILE with the CA that signed it \
                 (--insecure skips the check, for trying things out only)",
            )
        } else if m.contains("alert: CertificateRequired") {
            Some("the broker asks for a client certificate: pass --cert FILE and --key FILE")
        } else if m.contains("alert: UnknownCA") || m.contains("alert: BadCertificate") {
            Some(
                "the broker refused the client certificate of --cert: it does not trust the CA that signed it",
            )
        } else {
            None
        }
    }
}

fn kind(e: &osb_client::Error) -> &'static str {
    use osb_client::Error as E;
    match e {
        E::Broker { .. } => "BrokerError",
        E::Transport { .. } => "TransportError",
        E::Timeout { .. } => "Timeout",
        E::Decode { .. } => "MalformedResponse",
        E::UnexpectedStatus { .. } => "UnexpectedStatus",
        E::Config(_) => "ConfigError",
        E::InvalidRequest(_) => "InvalidRequest",
        E::Unsupported { .. } => "Unsupported",
        E::PollingTimedOut { .. } => "PollingTimedOut",
        E::OperationFailed { .. } => "OperationFailed",
        _ => "Error",
    }
}

impl From<osb_client::Error> for Failure {
    fn from(e: osb_client::Error) -> Self {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let c = cause.to_string();
            if !message.contains(&c) {
                message.push_str(&format!(": {c}"));
            }
            source = cause.source();
        }
        // The message already names the broker's error code and description (once); the
        // --json form has them as separate fields.
        let first_line = message.clone();
        let code_name = e.error_code().map(ToString::to_string);
        let mut description = e.description().map(str::to_owned);
        if let osb_client::Error::OperationFailed { response, .. } = &e {
            description.clone_from(&response.description);
        }
        // refused before sending: the command line or request is at fault
        let code = match e {
            osb_client::Error::InvalidRequest(_)
            | osb_client::Error::Unsupported { .. }
            | osb_client::Error::Config(_) => 2,
            _ => 1,
        };
        Self {
            message,
            code,
            kind: code_name.unwrap_or_else(|| kind(&e).to_owned()),
            description: description.unwrap_or(first_line),
            status: e.status(),
            orphan_mitigation: e.orphan_mitigation().map(ToString::to_string),
            version_mismatch: e.is_version_mismatch(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = &cli.command {
        commands::completions::run(*shell);
        return ExitCode::SUCCESS;
    }
    if cli.insecure {
        // always, even with --json: the user must not miss it
        style::warning(
            "--insecure: the broker's TLS certificate is NOT verified. Anyone on the network path \
             can read and change this traffic, credentials included. Use --cacert FILE instead.",
        );
    }
    let json = cli.json;
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            style::error(&format!("cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    if let Command::Check(args) = &cli.command {
        return rt.block_on(commands::check::main(&cli, args));
    }
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if json {
                println!("{}", render::json(&f.to_json()));
            } else {
                style::error(&f.message);
                if let Some(hint) = f.hint() {
                    style::hint(hint);
                }
            }
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let Some(url) = cli.url.as_deref() else {
        return Err(Failure::usage(
            "no broker URL: pass --url or set OSB_BROKER_URL".to_owned(),
        ));
    };
    let client = connect::client(&cli, url)?;
    let mut ctx = Ctx {
        client,
        json: cli.json,
        negotiate: cli.api_version.is_none(),
    };
    loop {
        let result = command(&mut ctx, &cli.command).await;
        // Commands that fetch no catalog learn that the version is too new from a 412: they
        // negotiate then and run again (they only read).
        match result {
            Err(f) if f.version_mismatch && ctx.negotiate && reads_only(&cli.command) => {
                ctx.negotiate().await?;
            }
            other => return other,
        }
    }
}

/// Whether the command only reads (and so may be sent again).
fn reads_only(command: &Command) -> bool {
    matches!(
        command,
        Command::Instance { .. } | Command::Binding { .. } | Command::LastOperation(_)
    )
}

async fn command(ctx: &mut Ctx, command: &Command) -> Result<(), Failure> {
    match command {
        Command::Catalog => commands::catalog::run(ctx).await,
        Command::Provision(a) => commands::instance::provision(ctx, a).await,
        Command::Update(a) => commands::instance::update(ctx, a).await,
        Command::Deprovision(a) => commands::instance::deprovision(ctx, a).await,
        Command::Instance { instance } => commands::instance::get(ctx, instance).await,
        Command::Bind(a) => commands::binding::bind(ctx, a).await,
        Command::Unbind(a) => commands::binding::unbind(ctx, a).await,
        Command::Rotate(a) => commands::rotate::run(ctx, a).await,
        Command::Binding { instance, binding } => commands::binding::get(ctx, instance, binding).await,
        Command::LastOperation(a) => commands::instance::last_operation(ctx, a).await,
        // handled in main
        Command::Check(_) | Command::Completions { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::Failure;

    fn transport(message: &str) -> Failure {
        Failure {
            kind: "TransportError".to_owned(),
            code: 1,
            ..Failure::usage(message.to_owned())
        }
    }

    #[test]
    fn tls_failures_get_a_hint() {
        let hint = |m: &str| transport(m).hint();
        assert!(
            hint("… (Connect): invalid peer certificate: UnknownIssuer")
                .is_some_and(|h| h.contains("--cacert FILE"))
        );
        assert!(
            hint("… connection error: received fatal alert: CertificateRequired")
                .is_some_and(|h| h.contains("--cert FILE and --key FILE"))
        );
        assert!(
            hint("… connection error: received fatal alert: UnknownCA")
                .is_some_and(|h| h.contains("does not trust the CA"))
        );
        assert_eq!(hint("… tcp connect error: Connection refused"), None);
        // only transport errors
        assert_eq!(Failure::usage("invalid peer certificate".to_owned()).hint(), None);
        let v = transport("invalid peer certificate: UnknownIssuer").to_json();
        assert!(v["hint"].as_str().is_some_and(|h| h.contains("--cacert")), "{v}");
    }
}
