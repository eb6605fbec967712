//! TLS client certificates (mTLS) as the caller's identity (the `tls` cargo feature).

use std::collections::BTreeSet;

use super::{AsyncAuthenticator, AuthFuture, AuthRequest, Caller, Decision};

/// Accepts a request whose TLS connection presented a client certificate (which rustls has
/// verified against the client CA of [`TlsConfig::with_client_ca`](crate::tls::TlsConfig::with_client_ca));
/// the caller is the certificate's subject common name (`CN`), or, without one, its
/// subject. With [`allow`](Self::allow), only those names are accepted.
///
/// ```
/// use osb_server_mini::auth::ClientCertificate;
/// let auth = ClientCertificate::new().allow("cloud-controller");
/// # let _ = auth;
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientCertificate {
    allowed: BTreeSet<String>,
}

impl ClientCertificate {
    /// Any certificate the client CA verified.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts only certificates with this subject common name (call again for more).
    #[must_use]
    pub fn allow(mut self, common_name: impl Into<String>) -> Self {
        self.allowed.insert(common_name.into());
        self
    }
}

/// The subject common name of a DER certificate, else its whole subject.
pub(crate) fn subject_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    Some(cn.unwrap_or_else(|| subject.to_string()))
}

impl ClientCertificate {
    /// The caller the leaf certificate names, if it is accepted.
    fn caller(&self, request: AuthRequest<'_>) -> Option<Caller> {
        request
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| subject_name(leaf))
            .filter(|name| self.allowed.is_empty() || self.allowed.contains(name))
            .map(|name| Caller::new(name, "certificate"))
    }
}

impl AsyncAuthenticator for ClientCertificate {
    fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
        Box::pin(std::future::ready(self.caller(request)))
    }

    fn decide_now(&self, request: AuthRequest<'_>) -> Decision {
        Decision::from_caller(self.caller(request))
    }

    fn challenge(&self) -> String {
        // No HTTP scheme asks for a certificate; name what is missing.
        r#"Certificate realm="osb""#.to_owned()
    }
}
