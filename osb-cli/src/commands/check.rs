//! `osb check`: run the conformance checks of `osb-conformance` against a broker.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use osb_conformance::{Checker, Config, Event, Report, checks};

use crate::cli::Cli;

/// `check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Service offering to use (name or id); default: the first with usable plans.
    #[arg(long)]
    pub(crate) service: Option<String>,
    /// Plan to use (name or id; repeatable); default: the first synchronous and the first
    /// asynchronous plan, found by provisioning each plan once.
    #[arg(long = "plan", value_name = "PLAN")]
    pub(crate) plans: Vec<String>,
    /// Run only these checks: names, families or CHECKLIST items, comma-separated
    /// (e.g. `a44,provision.conflict,errors`).
    #[arg(long, value_delimiter = ',', value_name = "CHECKS")]
    pub(crate) only: Vec<String>,
    /// Skip these checks (same forms as --only).
    #[arg(long, value_delimiter = ',', value_name = "CHECKS")]
    pub(crate) skip: Vec<String>,
    /// Also write a JUnit XML report to FILE (for CI).
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Timeout of each request, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) request_timeout: u64,
    /// How long one asynchronous operation may run before its check gives up, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub(crate) poll_timeout: u64,
    /// List the checks (name, items, level, section, what each sends) and exit.
    #[arg(long)]
    pub(crate) list: bool,
}

fn list(json: bool) -> ExitCode {
    if json {
        let v: Vec<serde_json::Value> = checks()
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.name, "family": c.family, "items": c.items, "section": c.section,
                    "level": c.level.to_string(), "title": c.title, "sends": c.sends, "cleanup": c.cleanup,
                })
            })
            .collect();
        println!("{}", crate::render::json(&serde_json::Value::Array(v)));
    } else {
        for c in checks() {
            println!(
                "{:<36} {:<6} {:<20} {}",
                c.name,
                c.level.to_string(),
                c.items.join(","),
                c.section
            );
            println!("    requires: {}\n    sends:    {}", c.title, c.sends);
        }
    }
    ExitCode::SUCCESS
}

/// Runs `osb check`; exit 0 only when no MUST failed, 1 when one did (or cleanup failed),
/// 2 for bad arguments, 130 when interrupted.
pub(crate) async fn main(cli: &Cli, args: &CheckArgs) -> ExitCode {
    if args.list {
        return list(cli.json);
    }
    let usage = |m: String| {
        crate::style::error(&m);
        ExitCode::from(2)
    };
    let Some(url) = cli.url.clone() else {
        return usage("no broker URL: pass --url or set OSB_BROKER_URL".to_owned());
    };
    if cli.password.is_some() && cli.username.is_none() {
        return usage(
            "a password (--password or OSB_PASSWORD) needs a username (--username or OSB_USERNAME)"
                .to_owned(),
        );
    }
    if let Err(f) = crate::connect::one_way_to_authenticate(cli) {
        return usage(f.message);
    }
    // the checks choose the originating identity of each request themselves
    if cli.originating_identity.is_some() {
        return usage("osb check does not take --originating-identity: the checks send their own".to_owned());
    }
    let mut config = Config::new(url).timeout(Duration::from_secs(args.request_timeout.max(1)));
    config.username.clone_from(&cli.username);
    config.password = cli
        .password
        .as_ref()
        .map(|p| p.0.clone())
        .or_else(|| cli.username.as_ref().map(|_| String::new()));
    config.bearer_token = cli.token.as_ref().map(|t| t.0.clone());
    match (crate::connect::ca_pem(cli), crate::connect::identity_pem(cli)) {
        (Ok(ca), Ok(identity)) => {
            config.root_certificates_pem.extend(ca);
            config.client_identity_pem = identity;
        }
        (Err(f), _) | (_, Err(f)) => return usage(f.message),
    }
    config.accept_invalid_certs = cli.insecure;
    if let Some(v) = &cli.api_version {
        config.api_version.clone_from(v);
    }
    config.poll_timeout = Duration::from_secs(args.poll_timeout.max(1));
    config.service.clone_from(&args.service);
    config.plans.clone_from(&args.plans);
    config.only.clone_from(&args.only);
    config.skip.clone_from(&args.skip);
    let checker = match Checker::new(config) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let pb = ProgressBar::new(0);
    pb.set_draw_target(ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    let json = cli.json;
    let on_event = |e: Event<'_>| match e {
        Event::Probing(m) => pb.set_message(m.to_owned()),
        Event::Started(i, n, def) => {
            pb.set_length(n as u64);
            pb.set_position(i.saturating_sub(1) as u64);
            pb.set_message(def.name);
        }
        Event::Finished(r) => {
            pb.inc(1);
            if !json {
                pb.suspend(|| println!("{}", r.line()));
            }
        }
        Event::CleaningUp(id) => pb.set_message(format!("deleting {id}")),
        _ => {}
    };
    let report = tokio::select! {
        report = checker.run(&on_event) => report,
        _ = tokio::signal::ctrl_c() => {
            pb.finish_and_clear();
            eprintln!("interrupted: deleting the instances this run created …");
            let problems = checker.cleanup().await;
            if problems.is_empty() {
                eprintln!("cleaned up {} instances", checker.created().len());
            } else {
                for p in &problems {
                    eprintln!("could not clean up {p}");
                }
            }
            return ExitCode::from(130);
        }
    };
    pb.finish_and_clear();
    finish(&report, json, args.junit.as_deref())
}

fn finish(report: &Report, json: bool, junit: Option<&std::path::Path>) -> ExitCode {
    if let Some(path) = junit
        && let Err(e) = std::fs::write(path, report.to_junit())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if json {
        println!("{}", crate::render::json(&report.to_json()));
    } else {
        println!("plans: {}", report.plans);
        for p in &report.cleanup_problems {
            println!("could not clean up {p}");
        }
        println!("{}", report.summary());
    }
    if report.passed() && report.cleanup_problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
