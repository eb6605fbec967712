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
    let password = if is_set("OSB_PASSWORD") {
        "from OSB_PASSWORD (not shown)".to_owned()
    } else {
        "`password` (default; set OSB_PASSWORD to change)".to_owned()
    };
    format!(
        "broker listening on http://{listen} ({})\nBasic auth: username `{username}` ({}), password {password}",
        source("OSB_LISTEN"),
        source("OSB_USERNAME"),
    )
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
        let text = banner("0.0.0.0:9000", "ops", |_| true);
        assert_eq!(
            text,
            "broker listening on http://0.0.0.0:9000 (from OSB_LISTEN)\n\
             Basic auth: username `ops` (from OSB_USERNAME), password from OSB_PASSWORD (not shown)"
        );
        assert!(!text.contains("`password`"));
    }
}
