//! # osb-conformance
//!
//! Conformance checks for any Open Service Broker (API v2.17), whatever language it is
//! written in: the library behind `osb check`. Each check names the
//! `CHECKLIST.md` items it proves, the spec section, whether the rule is a `MUST` or a
//! `SHOULD`, what it sends and how it cleans up ([`CheckDef`], [`checks()`]). The checks talk
//! raw HTTP, so they can observe every answer (also wrong ones), and every request has a
//! timeout: a broker that answers garbage, closes connections or never answers fails the
//! check that was running, never hangs the run.
//!
//! The checker only touches instances it created (random ids starting with [`ID_PREFIX`])
//! and deprovisions all of them, also after a failure; [`Checker::cleanup`] does it again after
//! a cancelled run (e.g. Ctrl-C), and [`Report::cleanup_problems`] says what it could not delete.
//!
//! ```
//! use std::time::Duration;
//! use osb_conformance::{Checker, Config, Status};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // nothing listens on port 9: the catalog check fails, everything after it is skipped
//! let config = Config::new("http://127.0.0.1:9").timeout(Duration::from_secs(2));
//! let report = Checker::new(config).unwrap().run(&|_| {}).await;
//! assert!(!report.passed());
//! assert_eq!(report.get("catalog.fetch").unwrap().status, Status::Fail);
//! assert_eq!(report.get("provision.created").unwrap().status, Status::Skip);
//! println!("{}", report.summary());
//! # }
//! ```

#![deny(missing_docs)]

mod checks;
mod cx;
mod http;
mod params;
mod report;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use checks::{CheckDef, checks};
pub use report::{CheckResult, Finding, Level, Report, Status};

use crate::cx::{Cx, Registry};

/// Every instance and binding id the checker creates starts with this.
pub const ID_PREFIX: &str = "osbcheck-";

/// What to check and how to reach the broker.
#[derive(Clone)]
pub struct Config {
    /// Base URL (a path prefix is kept).
    pub url: String,
    /// Basic-auth user; `None` sends no credentials (and skips the auth checks).
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
    /// Bearer token, sent as `Authorization: Bearer <token>` instead of Basic credentials.
    pub bearer_token: Option<String>,
    /// TLS: CA certificates (PEM, one or more) to trust besides the built-in roots.
    pub root_certificates_pem: Vec<Vec<u8>>,
    /// TLS: the client certificate and its private key (PEM), for brokers that ask for one.
    pub client_identity_pem: Option<Vec<u8>>,
    /// TLS: accept any server certificate (for trying things out only).
    pub accept_invalid_certs: bool,
    /// `X-Broker-API-Version` to send, default `2.17`.
    pub api_version: String,
    /// Timeout of every request, default 10 s.
    pub timeout: Duration,
    /// How long one asynchronous operation may take before a check gives up, default 300 s.
    pub poll_timeout: Duration,
    /// Offering to use (name or id); default: any.
    pub service: Option<String>,
    /// Plans to use (names or ids); default: the first synchronous and the first asynchronous
    /// plan found by provisioning each plan once.
    pub plans: Vec<String>,
    /// Run only checks matching one of these (check name, family, or CHECKLIST item such as
    /// `a44`; case-insensitive).
    pub only: Vec<String>,
    /// Skip checks matching one of these (same forms as `only`).
    pub skip: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| osb_types::REDACTED))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| osb_types::REDACTED),
            )
            .field("root_certificates", &self.root_certificates_pem.len())
            .field(
                "client_identity",
                &self.client_identity_pem.as_ref().map(|_| osb_types::REDACTED),
            )
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("service", &self.service)
            .field("plans", &self.plans)
            .field("only", &self.only)
            .field("skip", &self.skip)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults for a broker at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            username: None,
            password: None,
            bearer_token: None,
            root_certificates_pem: Vec::new(),
            client_identity_pem: None,
            accept_invalid_certs: false,
            api_version: "2.17".to_owned(),
            timeout: Duration::from_secs(10),
            poll_timeout: Duration::from_secs(300),
            service: None,
            plans: Vec::new(),
            only: Vec::new(),
            skip: Vec::new(),
        }
    }

    /// Sets Basic-auth credentials.
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(user.into());
        self.password = Some(password.into());
        self
    }

    /// Sends `Authorization: Bearer <token>` (instead of Basic credentials).
    #[must_use]
    pub fn bearer_auth(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Trusts the CA certificates of `pem` (one or more `CERTIFICATE` blocks).
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// Presents this client certificate: `cert_and_key_pem` holds the certificate (then any
    /// intermediates) and its private key, in PEM.
    #[must_use]
    pub fn client_identity_pem(mut self, cert_and_key_pem: impl Into<Vec<u8>>) -> Self {
        self.client_identity_pem = Some(cert_and_key_pem.into());
        self
    }

    /// Sets the per-request timeout.
    #[must_use]
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Whether the check `def` is selected by `only` / `skip`.
    #[must_use]
    pub fn selects(&self, def: &CheckDef) -> bool {
        let matches = |pat: &String| {
            let p = pat.trim().to_ascii_lowercase();
            !p.is_empty()
                && (def.name.eq_ignore_ascii_case(&p)
                    || def.family.eq_ignore_ascii_case(&p)
                    || def.items.iter().any(|i| i.eq_ignore_ascii_case(&p)))
        };
        (self.only.is_empty() || self.only.iter().any(matches)) && !self.skip.iter().any(matches)
    }
}

/// Progress of a run, for a progress display.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Choosing plans (provisioning each candidate once).
    Probing(&'a str),
    /// A check starts: its index (from 1), the number of selected checks, the check.
    Started(usize, usize, &'static CheckDef),
    /// A check ended.
    Finished(&'a CheckResult),
    /// Deleting what the run created.
    CleaningUp(&'a str),
}

/// Runs the checks against one broker.
#[derive(Debug)]
pub struct Checker {
    config: Config,
    http: http::Http,
    registry: Arc<Mutex<Registry>>,
}

impl Checker {
    /// A checker for `config`.
    ///
    /// # Errors
    /// The HTTP client cannot be built (e.g. no TLS backend), or the URL is not http(s).
    pub fn new(config: Config) -> Result<Self, String> {
        if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
            return Err(format!(
                "the broker URL must start with http:// or https://: {}",
                config.url
            ));
        }
        let http = http::Http::new(&config)?;
        Ok(Self {
            config,
            http,
            registry: Arc::default(),
        })
    }

    /// Runs every selected check, in order, cleaning up after each; `on_event` sees the
    /// progress. Never panics on what the broker answers.
    pub async fn run(&self, on_event: &(dyn Fn(Event<'_>) + Sync)) -> Report {
        let mut cx = Cx::new(self.http.clone(), Arc::clone(&self.registry), &self.config);
        let mut report = Report {
            url: self.config.url.clone(),
            ..Report::default()
        };
        cx.fetch_catalog().await;
        if cx.catalog.is_some() {
            on_event(Event::Probing("choosing plans"));
            cx.choose_plans(&self.config).await;
            let probe_problems = cx.cleanup_all(on_event).await;
            report.cleanup_problems.extend(probe_problems);
        }
        report.plans = cx.plans_label();
        let selected: Vec<&'static CheckDef> = checks().iter().filter(|d| self.config.selects(d)).collect();
        let total = selected.len();
        for (i, def) in selected.into_iter().enumerate() {
            on_event(Event::Started(i + 1, total, def));
            let start = Instant::now();
            let outcome = checks::run_one(def, &cx).await;
            let problems = cx.cleanup_all(on_event).await;
            let result = checks::to_result(def, outcome, start.elapsed().as_millis());
            report.cleanup_problems.extend(problems);
            on_event(Event::Finished(&result));
            report.results.push(result);
        }
        report.created = self.created();
        report
    }

    /// Deletes whatever the checker created and has not deleted yet (for a cancelled run);
    /// returns what could not be deleted.
    pub async fn cleanup(&self) -> Vec<String> {
        let cx = Cx::new(self.http.clone(), Arc::clone(&self.registry), &self.config);
        cx.cleanup_all(&|_| {}).await
    }

    /// Every instance id this checker created so far.
    #[must_use]
    pub fn created(&self) -> Vec<String> {
        self.registry
            .lock()
            .map(|r| r.created.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = Config::new("https://broker.test")
            .basic_auth("admin", "basic-secret")
            .bearer_auth("token-secret")
            .client_identity_pem(b"-----BEGIN PRIVATE KEY-----key-secret".to_vec());
        let shown = format!("{config:?}");
        for secret in ["basic-secret", "token-secret", "key-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("admin"), "{shown}");
    }

    #[test]
    fn unusable_tls_material_and_two_kinds_of_credentials_are_refused() {
        let refused = |config: Config| Checker::new(config).unwrap_err();
        let e = refused(
            Config::new("https://broker.test").add_root_certificate_pem(b"not a certificate".to_vec()),
        );
        assert!(e.contains("CA certificate PEM"), "{e}");
        let e = refused(Config::new("https://broker.test").client_identity_pem(b"no key here".to_vec()));
        assert!(e.contains("client certificate and key cannot be used"), "{e}");
        let e = refused(
            Config::new("https://broker.test")
                .basic_auth("admin", "p")
                .bearer_auth("t"),
        );
        assert!(e.contains("not both"), "{e}");
        assert!(Checker::new(Config::new("https://broker.test").bearer_auth("t")).is_ok());
    }
}
