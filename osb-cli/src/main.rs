//! The `osb` command line: talk to any Open Service Broker from a terminal.
//!
//! ```text
//! osb --url http://127.0.0.1:8080 -u admin -p secret catalog
//! osb provision inst-1 --service echo --plan large --wait
//! ```
//!
//! Exit codes: `0` success, `1` the broker or the connection failed, `2` nothing was sent
//! (bad arguments or a request the catalog forbids). With `--json`, a failure is one JSON
//! object on stdout (`error`, `description`, `status`, `exit_code`, `orphan_mitigation`).

mod cli;
mod commands;
mod render;

use std::process::ExitCode;
use std::time::Duration;

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
        v
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
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
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
                eprintln!("error: {}", f.message);
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
    let version = cli
        .api_version
        .parse()
        .map_err(|e| Failure::usage(format!("--api-version: {e}")))?;
    osb_client::version::check_supported(version).map_err(|_| {
        Failure::usage(format!(
            "--api-version: {version} is not supported; use {} to {}",
            osb_client::version::MIN_SUPPORTED,
            osb_client::version::MAX_SUPPORTED
        ))
    })?;
    let mut builder = osb_client::Client::builder(url)
        .api_version(version)
        .timeout(Duration::from_secs(cli.timeout));
    match (&cli.username, &cli.password) {
        (Some(user), password) => {
            builder = builder.basic_auth(user, password.as_ref().map(|p| p.0.clone()).unwrap_or_default());
        }
        (None, Some(_)) => {
            return Err(Failure::usage(
                "a password (--password or OSB_PASSWORD) needs a username (--username or OSB_USERNAME)"
                    .to_owned(),
            ));
        }
        (None, None) => {}
    }
    let ctx = Ctx {
        client: builder.build()?,
        json: cli.json,
    };
    match &cli.command {
        Command::Catalog => commands::catalog::run(&ctx).await,
        Command::Provision(a) => commands::instance::provision(&ctx, a).await,
        Command::Update(a) => commands::instance::update(&ctx, a).await,
        Command::Deprovision(a) => commands::instance::deprovision(&ctx, a).await,
        Command::Instance { instance } => commands::instance::get(&ctx, instance).await,
        Command::Bind(a) => commands::binding::bind(&ctx, a).await,
        Command::Unbind(a) => commands::binding::unbind(&ctx, a).await,
        Command::Binding { instance, binding } => commands::binding::get(&ctx, instance, binding).await,
        Command::LastOperation(a) => commands::instance::last_operation(&ctx, a).await,
        Command::Check(_) => Ok(()), // handled in main
    }
}
