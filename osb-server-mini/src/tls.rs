//! HTTPS: serving over TLS with rustls (the `tls` cargo feature).
//!
//! ```no_run
//! # use osb_server_mini::{Broker, BrokerError, RequestContext, Server, reply::*, request::*};
//! # use osb_server_mini::types::{Catalog, ProvisionRequest};
//! # struct MyBroker;
//! # impl Broker for MyBroker {
//! #   fn catalog(&self) -> Catalog { Catalog::default() }
//! #   async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> { Ok(Provisioned::done()) }
//! #   async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> { Ok(Deprovisioned::done()) }
//! # }
//! # #[tokio::main] async fn main() -> Result<(), osb_server_mini::ServeError> {
//! use osb_server_mini::tls::TlsConfig;
//!
//! Server::new(MyBroker)
//!     .basic_auth("admin", "secret")
//!     .tls(TlsConfig::from_pem_files("cert.pem", "key.pem")?)
//!     .serve("0.0.0.0:8443")
//!     .await
//! # }
//! ```

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::ServeError;

/// The TLS settings of a server: a certificate chain and its private key.
///
/// The server offers HTTP/2 and HTTP/1.1 by ALPN (`h2`, `http/1.1`), TLS 1.2 and 1.3 with
/// rustls' safe defaults and the *ring* crypto provider, and does not ask clients for
/// certificates unless [`with_client_ca`](TlsConfig::with_client_ca) says which CA signs
/// them. Use [`TlsConfig::from_rustls`] for anything else (other protocol versions).
///
/// Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) config: Arc<ServerConfig>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let alpn: Vec<String> = self
            .config
            .alpn_protocols
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        f.debug_struct("TlsConfig")
            .field("alpn_protocols", &alpn)
            .finish_non_exhaustive()
    }
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> ServeError {
    ServeError::Tls(format!("{what}: {e}"))
}

impl TlsConfig {
    /// From PEM text: `cert_chain` holds the server certificate first, then any
    /// intermediates; `private_key` holds one PKCS#8, PKCS#1 (RSA) or SEC1 (EC) key.
    ///
    /// # Errors
    /// [`ServeError::Tls`] when there is no certificate or key, the PEM is malformed, or
    /// the key does not match the certificate.
    pub fn from_pem(cert_chain: &[u8], private_key: &[u8]) -> Result<Self, ServeError> {
        let certs = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_error("the certificate chain could not be read", e))?;
        if certs.is_empty() {
            return Err(ServeError::Tls(
                "the certificate chain contains no PEM certificate".to_owned(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(private_key)
            .map_err(|e| tls_error("the private key could not be read", e))?;
        Self::from_der(certs, key)
    }

    /// From PEM files (see [`TlsConfig::from_pem`]).
    ///
    /// # Errors
    /// [`ServeError::Tls`] naming the file that could not be read, or as for
    /// [`TlsConfig::from_pem`].
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<Self, ServeError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| tls_error(&format!("{} could not be read", path.display()), e))
        };
        let certs = read(cert_chain.as_ref())?;
        let key = read(private_key.as_ref())?;
        Self::from_pem(&certs, &key)
    }

    /// From DER certificates (server certificate first) and a DER private key.
    ///
    /// # Errors
    /// [`ServeError::Tls`] when the key is unsupported or does not match the certificate.
    pub fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
    ) -> Result<Self, ServeError> {
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| tls_error("unsupported TLS protocol versions", e))?
                .with_no_client_auth()
                .with_single_cert(cert_chain, private_key)
                .map_err(|e| tls_error("the certificate and key cannot be used", e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// Requires every client to present a certificate signed by one of the CAs in
    /// `client_ca_pem` (mutual TLS): a client without one, or with another, fails the TLS
    /// handshake. The verified chain reaches the authenticator
    /// ([`AuthRequest::peer_certificates`](crate::auth::AuthRequest::peer_certificates));
    /// [`ClientCertificate`](crate::auth::ClientCertificate) turns it into the caller.
    ///
    /// # Errors
    /// [`ServeError::Tls`] when the PEM holds no usable CA certificate.
    pub fn with_client_ca(self, client_ca_pem: &[u8]) -> Result<Self, ServeError> {
        self.client_auth(client_ca_pem, true)
    }

    /// As [`with_client_ca`](Self::with_client_ca), but a client without a certificate
    /// still connects (a client with a certificate the CAs did not sign still fails): the
    /// authenticator decides (e.g. Basic for some callers, certificates for others).
    ///
    /// # Errors
    /// As [`with_client_ca`](Self::with_client_ca).
    pub fn with_optional_client_ca(self, client_ca_pem: &[u8]) -> Result<Self, ServeError> {
        self.client_auth(client_ca_pem, false)
    }

    fn client_auth(self, client_ca_pem: &[u8], required: bool) -> Result<Self, ServeError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(client_ca_pem) {
            let cert = cert.map_err(|e| tls_error("the client CA could not be read", e))?;
            roots
                .add(cert)
                .map_err(|e| tls_error("the client CA cannot be used", e))?;
        }
        if roots.is_empty() {
            return Err(ServeError::Tls(
                "the client CA contains no PEM certificate".to_owned(),
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&provider),
        );
        let builder = if required {
            builder
        } else {
            builder.allow_unauthenticated()
        };
        let verifier = builder
            .build()
            .map_err(|e| tls_error("the client CA cannot be used", e))?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("unsupported TLS protocol versions", e))?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::clone(&self.config.cert_resolver));
        config.alpn_protocols.clone_from(&self.config.alpn_protocols);
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// A rustls configuration of your own, used as it is. If it offers no ALPN protocols,
    /// `h2` and `http/1.1` are offered.
    #[must_use]
    pub fn from_rustls(mut config: ServerConfig) -> Self {
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }
        Self {
            config: Arc::new(config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_a_tls_error_and_never_panics() {
        for (cert, key) in [
            (&b""[..], &b""[..]),
            (
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
                b"",
            ),
            (b"garbage", b"garbage"),
        ] {
            let err = TlsConfig::from_pem(cert, key).unwrap_err();
            assert!(matches!(err, ServeError::Tls(_)), "{err}");
            assert!(err.to_string().starts_with("TLS configuration: "), "{err}");
        }
        let err = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }
}
