//! Environment settings of the example brokers: `OSB_LISTEN`, `OSB_USERNAME`, `OSB_PASSWORD`,
//! `OSB_ASYNC_DELAY_MS`, `OSB_DATA_DIR`.

use std::time::Duration;

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

/// Logs where the broker listens and who may call it. The password is printed only when it
/// is the built-in default (which is no secret); a password from `OSB_PASSWORD` never is.
pub fn announce(listen: &str, username: &str) {
    if std::env::var_os("OSB_PASSWORD").is_some() {
        tracing::info!(%listen, %username, "broker listening (password from OSB_PASSWORD)");
    } else {
        tracing::info!(%listen, %username, "broker listening with the default password `password`; set OSB_PASSWORD to change it");
    }
}
