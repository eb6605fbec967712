//! What each OSB API version allows a client to send.

use osb_types::ApiVersion;

use crate::error::Error;

/// The oldest API version this client can send (2.11).
pub const MIN_SUPPORTED: ApiVersion = ApiVersion::V2_11;
/// The newest API version this client can send (2.17).
///
/// Newer versions are refused by [`ClientBuilder::build`](crate::ClientBuilder::build): the
/// version header promises the broker the behaviour of that version, and this client only
/// implements up to 2.17. Older brokers are reached by pinning an older version
/// or by [`Client::negotiate`](crate::Client::negotiate).
pub const MAX_SUPPORTED: ApiVersion = ApiVersion::V2_17;

/// `Ok(())` when `version` is in 2.11–2.17.
///
/// ```
/// use osb_client::types::ApiVersion;
/// assert!(osb_client::version::check_supported(ApiVersion::V2_14).is_ok());
/// let e = osb_client::version::check_supported(ApiVersion::new(2, 18)).unwrap_err();
/// assert_eq!(e.to_string(), "invalid client configuration: OSB API version 2.18 is not supported; \
///     this client sends 2.11 to 2.17");
/// ```
///
/// # Errors
/// [`Error::Config`] naming the supported range.
pub fn check_supported(version: ApiVersion) -> Result<(), Error> {
    if (MIN_SUPPORTED..=MAX_SUPPORTED).contains(&version) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "OSB API version {version} is not supported; this client sends {MIN_SUPPORTED} to {MAX_SUPPORTED}"
        )))
    }
}

/// A feature that only exists from some API version on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `context` in provision/update bodies (2.12).
    InstanceContext,
    /// `context` in bind bodies (2.13).
    BindingContext,
    /// The `X-Broker-API-Originating-Identity` header (2.13).
    OriginatingIdentity,
    /// `GET` of an instance (2.14).
    FetchInstance,
    /// `GET` of a binding (2.14).
    FetchBinding,
    /// Asynchronous bind/unbind (`accepts_incomplete` on bindings) (2.14).
    AsyncBindings,
    /// The binding `last_operation` endpoint (2.14).
    BindingLastOperation,
    /// The `X-Broker-API-Request-Identity` header (2.15).
    RequestIdentity,
    /// `maintenance_info` in provision/update bodies (2.15).
    MaintenanceInfo,
    /// Updates that change only `context` (2.15; the offering must also declare
    /// `allow_context_updates`, see [`Client::check_update`](crate::Client::check_update)).
    ContextOnlyUpdate,
    /// Binding rotation with `predecessor_binding_id` (2.17).
    BindingRotation,
}

impl Capability {
    /// The first version with this capability.
    #[must_use]
    pub fn since(self) -> ApiVersion {
        match self {
            Self::InstanceContext => ApiVersion::new(2, 12),
            Self::BindingContext | Self::OriginatingIdentity => ApiVersion::V2_13,
            Self::FetchInstance | Self::FetchBinding | Self::AsyncBindings | Self::BindingLastOperation => {
                ApiVersion::V2_14
            }
            Self::RequestIdentity | Self::MaintenanceInfo | Self::ContextOnlyUpdate => ApiVersion::V2_15,
            Self::BindingRotation => ApiVersion::V2_17,
        }
    }

    /// A human name, used in [`Error::Unsupported`].
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::InstanceContext => "context on instance requests",
            Self::BindingContext => "context on binding requests",
            Self::OriginatingIdentity => "the originating identity header",
            Self::FetchInstance => "fetching a service instance",
            Self::FetchBinding => "fetching a service binding",
            Self::AsyncBindings => "asynchronous bindings",
            Self::BindingLastOperation => "binding last_operation",
            Self::RequestIdentity => "the request identity header",
            Self::MaintenanceInfo => "maintenance_info",
            Self::ContextOnlyUpdate => "a context-only update",
            Self::BindingRotation => "binding rotation",
        }
    }

    /// Whether `version` has this capability.
    ///
    /// ```
    /// use osb_client::version::Capability;
    /// use osb_client::types::ApiVersion;
    /// assert!(Capability::BindingRotation.supported_by(ApiVersion::V2_17));
    /// assert!(!Capability::FetchInstance.supported_by(ApiVersion::V2_13));
    /// ```
    #[must_use]
    pub fn supported_by(self, version: ApiVersion) -> bool {
        version >= self.since()
    }

    /// `Ok(())` when supported, else [`Error::Unsupported`].
    ///
    /// # Errors
    /// [`Error::Unsupported`] when `version` is older than [`Capability::since`].
    pub fn require(self, version: ApiVersion) -> Result<(), Error> {
        if self.supported_by(version) {
            Ok(())
        } else {
            Err(Error::Unsupported {
                feature: self.name(),
                version,
            })
        }
    }
}
