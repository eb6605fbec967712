//! The `osb` command line: talk to any Open Service Broker from a terminal.
//!
//! ```text
//! osb --url http://127.0.0.1:8080 -u admin -p secret catalog
//! osb provision inst-1 --service echo --plan large --wait
//! ```

mod cli;
mod commands;
mod render;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::Ctx;

/// Why a command failed, and with which exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A mistake in the arguments (exit code 2).
    pub(crate) fn usage(message: String) -> Self {
        Self { message, code: 2 }
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
        if let Some(body) = e.body() {
            if let Some(code) = &body.error {
                message.push_str(&format!("\n  error code:  {code}"));
            }
            if let Some(d) = &body.description {
                message.push_str(&format!("\n  description: {d}"));
            }
        }
        Self { message, code: 1 }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
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
    let mut builder = osb_client::Client::builder(url)
        .api_version(version)
        .timeout(Duration::from_secs(cli.timeout));
    if let Some(user) = &cli.username {
        builder = builder.basic_auth(
            user,
            cli.password.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
        );
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
    }
}
