//! Environment settings of the example brokers: `OSB_LISTEN`, `OSB_USERNAME`, `OSB_PASSWORD`,
//! `OSB_PASSWORD_HASH`, `OSB_METRICS_LISTEN`, `OSB_ASYNC_DELAY_MS`, `OSB_DATA_DIR`, `OSB_STATE`, and the
//! echo broker's test hooks `OSB_SYNC_DELAY_MS`, `OSB_CALL_LOG`, `OSB_REQUEST_LOG`, `OSB_RESUME`,
//! `OSB_LEASE_MS`.

use std::sync::Arc;
use std::time::Duration;

use osb_server_mini::store::{MemoryStore, Store, StoreError};

/// The default state file of the example brokers, in the working directory.
pub const DEFAULT_STATE: &str = "osb-state.sqlite";

/// Where the broker keeps its records, from `OSB_STATE`: a file path for an SQLite file
/// (default [`DEFAULT_STATE`] in the working directory), `memory` for the in-memory store
/// (forgotten on restart), or a `postgres://` / `postgresql://` URL for a PostgreSQL database
/// shared by several replicas (cargo feature `postgres`, on by default).
///
/// # Errors
/// The state file cannot be opened (see [`SqliteStore::open`](osb_server_mini::store::SqliteStore::open)),
/// or the database cannot be reached or migrated.
pub async fn store() -> Result<Arc<dyn Store>, StoreError> {
    store_from(std::env::var("OSB_STATE").ok().as_deref()).await
}

/// [`store`] for an `OSB_STATE` value.
///
/// # Errors
/// As [`store`].
pub async fn store_from(value: Option<&str>) -> Result<Arc<dyn Store>, StoreError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some("memory") => Ok(Arc::new(MemoryStore::default())),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            postgres(url).await
        }
        Some(path) => Ok(Arc::new(osb_server_mini::store::SqliteStore::open(path)?)),
        None => Ok(Arc::new(osb_server_mini::store::SqliteStore::open(
            DEFAULT_STATE,
        )?)),
    }
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(
        osb_server_mini::store::PostgresStore::connect(url).await?,
    ))
}

#[cfg(not(feature = "postgres"))]
async fn postgres(_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Err(StoreError::new(
        "OSB_STATE names a PostgreSQL database, but this build has no PostgreSQL store (build with the `postgres` feature)",
    ))
}

/// A description of the `OSB_STATE` setting for the start-up banner.
#[must_use]
pub fn state_description() -> String {
    match std::env::var("OSB_STATE").ok().as_deref().map(str::trim) {
        Some("memory") => "in memory (OSB_STATE=memory): a restart forgets every record".to_owned(),
        Some(v) if !v.is_empty() && v.contains("://") => {
            "in the PostgreSQL database of OSB_STATE (shared with every replica using it)".to_owned()
        }
        Some(v) if !v.is_empty() => format!("in the SQLite file {v} (from OSB_STATE)"),
        _ => format!("in the SQLite file {DEFAULT_STATE} (default; set OSB_STATE to change)"),
    }
}

fn millis(var: &str) -> Option<Duration> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

/// The echo broker as the example programs configure it from the environment: the async
/// delay, and the hooks the crash tests use (`OSB_SYNC_DELAY_MS`, `OSB_CALL_LOG`,
/// `OSB_RESUME=0`), and `OSB_REQUEST_LOG` (what each request carried, see
/// [`EchoBroker::with_request_log`](crate::echo::EchoBroker::with_request_log)).
#[must_use]
pub fn echo_broker(dashboard_base: impl Into<String>) -> crate::echo::EchoBroker {
    let mut broker = crate::echo::EchoBroker::new(dashboard_base, async_delay());
    if let Some(d) = millis("OSB_SYNC_DELAY_MS") {
        broker = broker.with_sync_delay(d);
    }
    if let Some(path) = std::env::var_os("OSB_CALL_LOG") {
        broker = broker.with_call_log(path);
    }
    if let Some(path) = std::env::var_os("OSB_REQUEST_LOG") {
        broker = broker.with_request_log(path);
    }
    if std::env::var("OSB_RESUME").is_ok_and(|v| v == "0") {
        broker = broker.without_resume();
    }
    broker
}

/// The lease of running work, from `OSB_LEASE_MS` (default: the runtime's 30 s).
#[must_use]
pub fn lease() -> Option<Duration> {
    millis("OSB_LEASE_MS")
}

/// Where the example brokers listen, from `OSB_LISTEN` (default `127.0.0.1:8080`).
#[must_use]
pub fn listen() -> String {
    std::env::var("OSB_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
}

/// Basic-auth credentials from `OSB_USERNAME` / `OSB_PASSWORD` (defaults `admin` / `password`).
#[must_use]
pub fn credentials() -> (String, String) {
    (
        std::env::var("OSB_USERNAME").unwrap_or_else(|_| "admin".to_owned()),
        std::env::var("OSB_PASSWORD").unwrap_or_else(|_| "password".to_owned()),
    )
}

/// The argon2 PHC hash of the Basic-auth password, from `OSB_PASSWORD_HASH`; when set, it
/// replaces `OSB_PASSWORD`, so the environment holds no password. Make one with
/// `echo_broker hash-password` (reads the password from standard input).
#[must_use]
pub fn password_hash() -> Option<String> {
    std::env::var("OSB_PASSWORD_HASH")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Where the metrics and health endpoints listen (`GET /metrics`, `/healthz`, `/readyz`),
/// from `OSB_METRICS_LISTEN` (e.g. `127.0.0.1:9090`); unset: not served.
///
/// # Errors
/// `OSB_METRICS_LISTEN` is not an `IP:PORT` address.
pub fn metrics_listen() -> Result<Option<std::net::SocketAddr>, String> {
    match std::env::var("OSB_METRICS_LISTEN") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("OSB_METRICS_LISTEN={v:?} is not an IP:PORT address")),
        _ => Ok(None),
    }
}

/// How long the echo broker's asynchronous `large` plan takes, from `OSB_ASYNC_DELAY_MS`
/// (default 1000 ms).
#[must_use]
pub fn async_delay() -> Duration {
    let ms = std::env::var("OSB_ASYNC_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

/// Installs a `tracing` subscriber that honours `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Prints (to stdout, whatever `RUST_LOG` says) and logs where the broker listens and who may
/// call it. The password is printed only when it is the built-in default (which is no
/// secret); a password from `OSB_PASSWORD` never is.
pub fn announce(listen: &str, username: &str) {
    let banner = banner(listen, username, |name| std::env::var_os(name).is_some());
    println!("{banner}");
    let password_from_env = std::env::var_os("OSB_PASSWORD").is_some();
    tracing::info!(%listen, %username, password_from_env, "broker listening");
}

/// The start-up lines of [`announce`]; `is_set` tells whether an environment variable is set.
/// It is never given the password, so it cannot print one the user chose.
#[must_use]
pub fn banner(listen: &str, username: &str, is_set: impl Fn(&str) -> bool) -> String {
    let source = |var: &str| {
        if is_set(var) {
            format!("from {var}")
        } else {
            format!("default; set {var} to change")
        }
    };
    let password = if is_set("OSB_PASSWORD_HASH") {
        "hashed, from OSB_PASSWORD_HASH".to_owned()
    } else if is_set("OSB_PASSWORD") {
        "from OSB_PASSWORD (not shown)".to_owned()
    } else {
        "`password` (default; set OSB_PASSWORD to change)".to_owned()
    };
    let mut text = format!(
        "broker listening on http://{listen} ({})\nBasic auth: username `{username}` ({}), password {password}",
        source("OSB_LISTEN"),
        source("OSB_USERNAME"),
    );
    if is_set("OSB_METRICS_LISTEN") {
        text.push_str("\nmetrics and health (/metrics, /healthz, /readyz) on OSB_METRICS_LISTEN");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::banner;

    #[test]
    fn defaults_are_printed_including_the_default_password() {
        let text = banner("127.0.0.1:8080", "admin", |_| false);
        assert_eq!(
            text,
            "broker listening on http://127.0.0.1:8080 (default; set OSB_LISTEN to change)\n\
             Basic auth: username `admin` (default; set OSB_USERNAME to change), \
             password `password` (default; set OSB_PASSWORD to change)"
        );
    }

    #[test]
    fn a_password_from_the_environment_is_never_printed() {
        let text = banner("0.0.0.0:9000", "ops", |v| {
            v != "OSB_PASSWORD_HASH" && v != "OSB_METRICS_LISTEN"
        });
        assert_eq!(
            text,
            "broker listening on http://0.0.0.0:9000 (from OSB_LISTEN)\n\
             Basic auth: username `ops` (from OSB_USERNAME), password from OSB_PASSWORD (not shown)"
        );
        let hashed = banner("0.0.0.0:9000", "ops", |_| true);
        assert!(
            hashed.contains("password hashed, from OSB_PASSWORD_HASH"),
            "{hashed}"
        );
        assert!(hashed.ends_with("on OSB_METRICS_LISTEN"), "{hashed}");
        assert!(!text.contains("`password`"));
    }
}
