//! The client the global flags describe: URL, authentication, API version, originating
//! identity, TLS.

use std::path::Path;
use std::time::Duration;

use osb_client::Client;
use osb_client::types::ApiVersion;

use crate::Failure;
use crate::cli::Cli;

/// Builds the client. Without `--api-version` / `OSB_API_VERSION` it starts at 2.17 and the
/// command negotiates down (see [`crate::commands::Ctx::catalog`]).
pub(crate) fn client(cli: &Cli, url: &str) -> Result<Client, Failure> {
    let version = match &cli.api_version {
        Some(v) => pinned_version(v)?,
        None => osb_client::version::MAX_SUPPORTED,
    };
    let mut builder = osb_client::Client::builder(url)
        .api_version(version)
        .timeout(Duration::from_secs(cli.timeout));
    one_way_to_authenticate(cli)?;
    match (&cli.username, &cli.password, &cli.token) {
        (_, _, Some(token)) => builder = builder.bearer_auth(token.0.clone()),
        (Some(user), password, None) => {
            builder = builder.basic_auth(user, password.as_ref().map(|p| p.0.clone()).unwrap_or_default());
        }
        (None, Some(_), None) => {
            return Err(Failure::usage(
                "a password (--password or OSB_PASSWORD) needs a username (--username or OSB_USERNAME)"
                    .to_owned(),
            ));
        }
        (None, None, None) => {}
    }
    if let Some(raw) = &cli.originating_identity {
        let identity = crate::context::identity(raw)?;
        let missing = crate::context::identity_missing(&identity);
        if !missing.is_empty() && !cli.json {
            crate::style::warning(&format!(
                "the {} originating identity lacks {}, which the profile requires",
                identity.platform(),
                missing.join(", ")
            ));
        }
        builder = builder.originating_identity(identity);
    }
    builder = tls(builder, cli)?;
    Ok(builder.build()?)
}

/// A usage error when both a token and Basic credentials are given.
pub(crate) fn one_way_to_authenticate(cli: &Cli) -> Result<(), Failure> {
    if cli.token.is_some() && (cli.username.is_some() || cli.password.is_some()) {
        return Err(Failure::usage(
            "--token (or OSB_TOKEN) and --username/--password (or OSB_USERNAME/OSB_PASSWORD) \
             cannot be used together: choose one way to authenticate"
                .to_owned(),
        ));
    }
    Ok(())
}

/// `--api-version`: a version in 2.11–2.17.
fn pinned_version(raw: &str) -> Result<ApiVersion, Failure> {
    let version: ApiVersion = raw
        .parse()
        .map_err(|e| Failure::usage(format!("--api-version: {e}")))?;
    osb_client::version::check_supported(version).map_err(|_| {
        Failure::usage(format!(
            "--api-version: {version} is not supported; use {} to {}",
            osb_client::version::MIN_SUPPORTED,
            osb_client::version::MAX_SUPPORTED
        ))
    })?;
    Ok(version)
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("{flag}: cannot read {}: {e}", path.display())))
}

/// `--cacert`, `--cert`/`--key`, `--insecure`.
fn tls(mut builder: osb_client::ClientBuilder, cli: &Cli) -> Result<osb_client::ClientBuilder, Failure> {
    let usage = |flag: &str, e: osb_client::Error| {
        // "invalid client configuration: …" says nothing the flag does not
        let text = e.to_string();
        let text = text
            .strip_prefix("invalid client configuration: ")
            .unwrap_or(&text)
            .to_owned();
        Failure::usage(format!("{flag}: {text}"))
    };
    if let Some(pem) = ca_pem(cli)? {
        builder = builder
            .add_root_certificate_pem(&pem)
            .map_err(|e| usage("--cacert", e))?;
    }
    if let Some(pem) = identity_pem(cli)? {
        builder = builder
            .client_identity_pem(&pem)
            .map_err(|e| usage("--cert/--key", e))?;
    }
    Ok(builder.danger_accept_invalid_certs(cli.insecure))
}

/// The CA certificates of `--cacert`, if given.
pub(crate) fn ca_pem(cli: &Cli) -> Result<Option<Vec<u8>>, Failure> {
    cli.cacert
        .as_deref()
        .map(|path| read("--cacert", path))
        .transpose()
}

/// The client certificate of `--cert`, with the key of `--key` appended when given.
pub(crate) fn identity_pem(cli: &Cli) -> Result<Option<Vec<u8>>, Failure> {
    match (&cli.cert, &cli.key) {
        (Some(cert), key) => {
            let mut pem = read("--cert", cert)?;
            if let Some(key) = key {
                pem.push(b'\n');
                pem.extend(read("--key", key)?);
            }
            Ok(Some(pem))
        }
        (None, Some(_)) => Err(Failure::usage(
            "--key needs --cert (the client certificate it belongs to)".to_owned(),
        )),
        (None, None) => Ok(None),
    }
}
