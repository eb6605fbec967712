//! `RequestContext`: what the runtime knows about a request before the broker method runs.

use osb_types::catalog::{ServiceOffering, ServicePlan};
use osb_types::{ApiVersion, BindingId, InstanceId, OriginatingIdentity, RequestIdentity};

use crate::store::InstanceRecord;

/// Ids, headers and catalog entries of the request being served.
///
/// ```
/// use osb_server_mini::RequestContext;
/// let ctx = RequestContext::for_tests("inst-1");
/// assert_eq!(ctx.instance_id(), "inst-1");
/// assert!(!ctx.accepts_incomplete());
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub(crate) instance_id: InstanceId,
    pub(crate) binding_id: BindingId,
    pub(crate) api_version: ApiVersion,
    pub(crate) originating_identity: Option<OriginatingIdentity>,
    pub(crate) request_identity: Option<RequestIdentity>,
    pub(crate) accepts_incomplete: bool,
    pub(crate) offering: Option<ServiceOffering>,
    pub(crate) plan: Option<ServicePlan>,
    pub(crate) instance: Option<InstanceRecord>,
}

impl RequestContext {
    /// The `:instance_id` of the URL (empty for the catalog).
    #[must_use]
    pub fn instance_id(&self) -> &InstanceId {
        &self.instance_id
    }

    /// The `:binding_id` of the URL (empty for instance operations).
    #[must_use]
    pub fn binding_id(&self) -> &BindingId {
        &self.binding_id
    }

    /// The `X-Broker-API-Version` the Platform sent.
    #[must_use]
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// The parsed `X-Broker-API-Originating-Identity`, if sent.
    #[must_use]
    pub fn originating_identity(&self) -> Option<&OriginatingIdentity> {
        self.originating_identity.as_ref()
    }

    /// The `X-Broker-API-Request-Identity`, if sent.
    #[must_use]
    pub fn request_identity(&self) -> Option<&RequestIdentity> {
        self.request_identity.as_ref()
    }

    /// Whether the request had `accepts_incomplete=true`.
    #[must_use]
    pub fn accepts_incomplete(&self) -> bool {
        self.accepts_incomplete
    }

    /// The catalog offering the request concerns (known for every instance and binding operation).
    #[must_use]
    pub fn offering(&self) -> Option<&ServiceOffering> {
        self.offering.as_ref()
    }

    /// The catalog plan the request concerns (the new plan for a plan-changing update).
    #[must_use]
    pub fn plan(&self) -> Option<&ServicePlan> {
        self.plan.as_ref()
    }

    /// The runtime's record of the instance, for operations on an existing instance.
    #[must_use]
    pub fn instance(&self) -> Option<&InstanceRecord> {
        self.instance.as_ref()
    }

    /// A context for unit-testing broker methods without a server.
    pub fn for_tests(instance_id: impl Into<InstanceId>) -> Self {
        Self {
            instance_id: instance_id.into(),
            binding_id: BindingId::default(),
            api_version: ApiVersion::LATEST,
            originating_identity: None,
            request_identity: None,
            accepts_incomplete: false,
            offering: None,
            plan: None,
            instance: None,
        }
    }

    /// Sets the binding id (for tests).
    #[must_use]
    pub fn with_binding_id(mut self, binding_id: impl Into<BindingId>) -> Self {
        self.binding_id = binding_id.into();
        self
    }

    /// Sets `accepts_incomplete` (for tests).
    #[must_use]
    pub fn with_accepts_incomplete(mut self, accepts: bool) -> Self {
        self.accepts_incomplete = accepts;
        self
    }
}
