//! [`ClientBuilder`]: every setting of a [`Client`]; errors surface from [`ClientBuilder::build`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use osb_types::{ApiVersion, OriginatingIdentity};

use crate::catalog_cache::CatalogCache;
use crate::client::{Client, Inner};
use crate::error::Error;
use crate::orphan::OrphanMitigation;
use crate::transport::{Auth, IdentityProvider, RequestIdGenerator, Transport};

impl Client {
    /// Starts configuring a client for the broker at `base_url` (a path prefix is kept).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}

/// Configures and builds a [`Client`]. Setters never fail (except the two that parse PEM);
/// [`build`](Self::build) reports problems.
///
/// ```
/// use std::time::Duration;
/// let client = osb_client::Client::builder("https://broker.example.com/prefix")
///     .basic_auth("admin", "secret")
///     .timeout(Duration::from_secs(60))
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("secret"));
/// ```
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    api_version: ApiVersion,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    originating_identity: Option<IdentityProvider>,
    request_identity: RequestIdGenerator,
    http_client: Option<reqwest::Client>,
    root_certificates: Vec<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
    accepts_incomplete: bool,
    orphan_mitigation: OrphanMitigation,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("originating_identity", &self.originating_identity.is_some())
            .field("extra_root_certificates", &self.root_certificates.len())
            .field("client_identity", &self.identity.is_some())
            .field("accepts_incomplete", &self.accepts_incomplete)
            .field("orphan_mitigation", &self.orphan_mitigation)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            auth: Auth::None,
            api_version: ApiVersion::V2_17,
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Some(Duration::from_secs(10)),
            originating_identity: None,
            request_identity: Arc::new(|| uuid::Uuid::new_v4().to_string()),
            http_client: None,
            root_certificates: Vec::new(),
            identity: None,
            accepts_incomplete: true,
            orphan_mitigation: OrphanMitigation::default(),
        }
    }

    /// HTTP Basic authentication on every request.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Auth::Basic {
            username: username.into(),
            password: password.into(),
        };
        self
    }

    /// `Authorization: Bearer <token>` on every request.
    pub fn bearer_auth(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Bearer(token.into());
        self
    }

    /// The `X-Broker-API-Version` to send (default 2.17; [`build`](Self::build) refuses
    /// versions outside 2.11–2.17). Features newer than it are refused with
    /// [`Error::Unsupported`] before anything is sent.
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Total time allowed per request (default 60 s, the common platform value).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sends this `X-Broker-API-Originating-Identity` on every request tied to a user action.
    pub fn originating_identity(mut self, identity: OriginatingIdentity) -> Self {
        self.originating_identity = Some(Arc::new(move || Some(identity.clone())));
        self
    }

    /// Asks `provider` for the originating identity of each request (`None` omits the header).
    pub fn originating_identity_provider(
        mut self,
        provider: impl Fn() -> Option<OriginatingIdentity> + Send + Sync + 'static,
    ) -> Self {
        self.originating_identity = Some(Arc::new(provider));
        self
    }

    /// Generates `X-Broker-API-Request-Identity` values (default: a random UUID v4).
    pub fn request_identity(mut self, generator: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.request_identity = Arc::new(generator);
        self
    }

    /// Whether provision/update/deprovision/bind/unbind send `accepts_incomplete=true`
    /// (default `true`); each [`InstanceApi`](crate::InstanceApi) and
    /// [`BindingApi`](crate::BindingApi) can override it.
    pub fn accepts_incomplete(mut self, yes: bool) -> Self {
        self.accepts_incomplete = yes;
        self
    }

    /// The orphan-mitigation policy (default: on).
    pub fn orphan_mitigation(mut self, policy: OrphanMitigation) -> Self {
        self.orphan_mitigation = policy;
        self
    }

    /// Trusts the CA certificate(s) in `pem` as well as the system's roots, e.g. a broker's
    /// private CA.
    ///
    /// # Errors
    /// [`Error::Config`] when `pem` holds no valid PEM certificate.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Config(format!("invalid CA certificate PEM: {e}")))?;
        if certificates.is_empty() {
            return Err(Error::Config(
                "the CA certificate PEM holds no certificate".to_owned(),
            ));
        }
        self.root_certificates.extend(certificates);
        Ok(self)
    }

    /// Presents this client certificate to brokers that ask for one (mutual TLS):
    /// `cert_and_key_pem` holds the certificate (chain) and its private key (PKCS#8, RSA or
    /// SEC1), PEM-encoded.
    ///
    /// # Errors
    /// [`Error::Config`] when the PEM does not hold a certificate and a private key.
    pub fn client_identity_pem(mut self, cert_and_key_pem: &[u8]) -> Result<Self, Error> {
        let identity = reqwest::Identity::from_pem(cert_and_key_pem)
            .map_err(|e| Error::Config(format!("invalid client certificate or key PEM: {e}")))?;
        self.identity = Some(identity);
        Ok(self)
    }

    /// Uses this `reqwest::Client` (its TLS roots, proxies, pools). The builder's timeout is
    /// then applied per request; its connect timeout is ignored.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a base URL that is not absolute `http(s)`, an API version outside
    /// 2.11–2.17, a username containing `:`, a credential that cannot be a header value, TLS
    /// settings together with [`http_client`](Self::http_client), or a failure building the
    /// HTTP client.
    pub fn build(self) -> Result<Client, Error> {
        crate::version::check_supported(self.api_version)?;
        let mut base = url::Url::parse(self.base_url.trim())
            .map_err(|e| Error::Config(format!("invalid base URL {:?}: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "invalid base URL {:?}: expected an http:// or https:// URL",
                self.base_url
            )));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::Config(
                "the base URL must not have a query or fragment".to_owned(),
            ));
        }
        if let Ok(mut segs) = base.path_segments_mut() {
            segs.pop_if_empty();
        }
        match &self.auth {
            Auth::Basic { username, .. } if username.contains(':') => {
                return Err(Error::Config(
                    "a Basic auth username must not contain ':'".to_owned(),
                ));
            }
            Auth::Bearer(t) if reqwest::header::HeaderValue::from_str(&format!("Bearer {t}")).is_err() => {
                return Err(Error::Config(
                    "the bearer token is not a valid header value".to_owned(),
                ));
            }
            _ => {}
        }
        let tls_settings = !self.root_certificates.is_empty() || self.identity.is_some();
        let (http, per_request_timeout) = match self.http_client {
            Some(_) if tls_settings => {
                return Err(Error::Config(
                    "CA certificates and client certificates apply to the client the builder makes; \
                     set them on the reqwest::Client given to http_client instead"
                        .to_owned(),
                ));
            }
            Some(c) => (c, self.timeout),
            None => {
                let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
                for certificate in self.root_certificates {
                    b = b.add_root_certificate(certificate);
                }
                if let Some(identity) = self.identity {
                    b = b.identity(identity);
                }
                if let Some(t) = self.timeout {
                    b = b.timeout(t);
                }
                if let Some(t) = self.connect_timeout {
                    b = b.connect_timeout(t);
                }
                let c = b
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
                (c, None)
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport: Transport {
                    base,
                    auth: self.auth,
                    api_version: self.api_version,
                    http,
                    per_request_timeout,
                    originating_identity: self.originating_identity,
                    request_identity: self.request_identity,
                },
                catalog_cache: CatalogCache::default(),
                accepts_incomplete: self.accepts_incomplete,
                orphan_mitigation: self.orphan_mitigation,
            }),
        })
    }
}
