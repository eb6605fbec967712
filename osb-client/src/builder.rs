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
    accepts_incomplete: bool,
    orphan_mitigation: OrphanMitigation,
    tls: TlsSettings,
}

/// TLS settings applied to the builder's own `reqwest::Client`.
#[derive(Default)]
struct TlsSettings {
    root_certificates: Vec<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
    accept_invalid_certs: bool,
}

impl TlsSettings {
    fn is_default(&self) -> bool {
        self.root_certificates.is_empty() && self.identity.is_none() && !self.accept_invalid_certs
    }
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
            .field("accepts_incomplete", &self.accepts_incomplete)
            .field("orphan_mitigation", &self.orphan_mitigation)
            .field("extra_root_certificates", &self.tls.root_certificates.len())
            .field("client_certificate", &self.tls.identity.is_some())
            .field("accept_invalid_certs", &self.tls.accept_invalid_certs)
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
            accepts_incomplete: true,
            orphan_mitigation: OrphanMitigation::default(),
            tls: TlsSettings::default(),
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

    /// Uses this `reqwest::Client` (its TLS roots, proxies, pools). The builder's timeout is
    /// then applied per request; its connect timeout is ignored.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Also trusts the CA certificates in `pem` (one or more PEM `CERTIFICATE` blocks), on
    /// top of the built-in roots: for brokers whose certificate a private CA signed.
    ///
    /// ```
    /// let builder = osb_client::Client::builder("https://broker.example");
    /// let e = builder.add_root_certificate_pem(b"not a certificate").unwrap_err();
    /// assert_eq!(e.to_string(), "invalid client configuration: the CA certificate PEM holds no \
    ///     CERTIFICATE block");
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when `pem` holds no certificate or one that cannot be read.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Config(format!("the CA certificate PEM cannot be read: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Config(
                "the CA certificate PEM holds no CERTIFICATE block".to_owned(),
            ));
        }
        self.tls.root_certificates.extend(certs);
        Ok(self)
    }

    /// Presents this client certificate (mutual TLS): `cert_and_key_pem` holds the certificate
    /// (then any intermediates) and its private key (PKCS#8, PKCS#1 or SEC1), in PEM.
    ///
    /// ```
    /// let builder = osb_client::Client::builder("https://broker.example");
    /// let e = builder.client_identity_pem(b"no PEM here").unwrap_err();
    /// assert!(e.to_string().starts_with("invalid client configuration: the client certificate \
    ///     and key cannot be used"), "{e}");
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when the PEM lacks the certificate or the key, or cannot be read.
    pub fn client_identity_pem(mut self, cert_and_key_pem: &[u8]) -> Result<Self, Error> {
        let identity = reqwest::Identity::from_pem(cert_and_key_pem)
            .map_err(|e| Error::Config(format!("the client certificate and key cannot be used: {e}")))?;
        self.tls.identity = Some(identity);
        Ok(self)
    }

    /// Accepts any server certificate, even expired, self-signed or for another host
    /// (default `false`). Only for trying things out: anyone on the network path can then read
    /// and change the traffic, credentials included.
    ///
    /// TLS settings apply to the builder's own HTTP client: together with
    /// [`http_client`](Self::http_client), [`build`](Self::build) refuses them.
    ///
    /// ```
    /// let e = osb_client::Client::builder("https://broker.example")
    ///     .http_client(reqwest::Client::new())
    ///     .danger_accept_invalid_certs(true)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(e.to_string().contains("set them on the reqwest::Client given to http_client"), "{e}");
    /// ```
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.tls.accept_invalid_certs = yes;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] for a base URL that is not absolute `http(s)`, an API version outside
    /// 2.11–2.17, a username containing `:`, a credential that cannot be a header value, TLS
    /// settings together with [`http_client`](Self::http_client) (set them on that client
    /// instead), or a failure building the HTTP client.
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
        if self.http_client.is_some() && !self.tls.is_default() {
            return Err(Error::Config(
                "TLS settings (root certificates, client certificate, accepting invalid certificates) \
                 apply to the builder's own HTTP client; set them on the reqwest::Client given to http_client"
                    .to_owned(),
            ));
        }
        let (http, per_request_timeout) = match self.http_client {
            Some(c) => (c, self.timeout),
            None => {
                let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
                for cert in self.tls.root_certificates {
                    b = b.add_root_certificate(cert);
                }
                if let Some(identity) = self.tls.identity {
                    b = b.identity(identity);
                }
                if self.tls.accept_invalid_certs {
                    b = b.danger_accept_invalid_certs(true);
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
