//! `RequestContext`: what the runtime knows about a request before the broker method runs.

use osb_types::catalog::{ServiceOffering, ServicePlan};
use osb_types::operation::LastOperationParams;
use osb_types::{ApiVersion, BindingId, InstanceId, OperationId, OriginatingIdentity, RequestIdentity};

use crate::auth::Caller;
use crate::store::{BindingRecord, InstanceRecord};

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
    pub(crate) caller: Option<Caller>,
    pub(crate) accepts_incomplete: bool,
    pub(crate) offering: Option<std::sync::Arc<ServiceOffering>>,
    pub(crate) plan: Option<std::sync::Arc<ServicePlan>>,
    pub(crate) instance: Option<InstanceRecord>,
    pub(crate) predecessor: Option<BindingRecord>,
    pub(crate) last_operation: Option<LastOperationParams>,
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

    /// Who made the request, as the server's authenticator established it (a Basic
    /// username, a bearer token's name, a client certificate's common name); `None` when the
    /// server has no authentication. Never a secret.
    #[must_use]
    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }

    /// Whether the request had `accepts_incomplete=true`.
    #[must_use]
    pub fn accepts_incomplete(&self) -> bool {
        self.accepts_incomplete
    }

    /// The catalog offering the request concerns (known for every instance and binding operation).
    #[must_use]
    pub fn offering(&self) -> Option<&ServiceOffering> {
        self.offering.as_deref()
    }

    /// The catalog plan the request concerns (the new plan for a plan-changing update).
    #[must_use]
    pub fn plan(&self) -> Option<&ServicePlan> {
        self.plan.as_deref()
    }

    /// The runtime's record of the instance, for operations on an existing instance.
    #[must_use]
    pub fn instance(&self) -> Option<&InstanceRecord> {
        self.instance.as_ref()
    }

    /// For a rotation ([`Broker::rotate_binding`](crate::Broker::rotate_binding)): the
    /// runtime's record of the predecessor binding (its parameters, its response), which
    /// the runtime checked is a non-expired binding of the same instance. `None` otherwise.
    #[must_use]
    pub fn predecessor(&self) -> Option<&BindingRecord> {
        self.predecessor.as_ref()
    }

    /// For a `last_operation` request (instance or binding): its query parameters, the
    /// `operation` the broker returned in its 202 and the `service_id`/`plan_id` hints, as
    /// the Platform sent them (percent-decoded). `None` for every other operation.
    ///
    /// Useful in [`Broker::instance_last_operation`](crate::Broker::instance_last_operation)
    /// and [`Broker::binding_last_operation`](crate::Broker::binding_last_operation) when
    /// operations are tracked outside this process.
    ///
    /// ```
    /// use osb_server_mini::RequestContext;
    /// use osb_server_mini::types::operation::LastOperationParams;
    /// let params = LastOperationParams::from_query("operation=op-1&plan_id=small").unwrap();
    /// let ctx = RequestContext::for_tests("inst-1").with_last_operation(params);
    /// assert_eq!(ctx.operation().map(|o| o.as_str()), Some("op-1"));
    /// assert_eq!(ctx.last_operation().unwrap().plan_id.as_ref().unwrap(), "small");
    /// ```
    #[must_use]
    pub fn last_operation(&self) -> Option<&LastOperationParams> {
        self.last_operation.as_ref()
    }

    /// The `operation` query parameter of a `last_operation` request, if sent.
    #[must_use]
    pub fn operation(&self) -> Option<&OperationId> {
        self.last_operation.as_ref().and_then(|p| p.operation.as_ref())
    }

    /// A context for unit-testing broker methods without a server.
    pub fn for_tests(instance_id: impl Into<InstanceId>) -> Self {
        Self {
            instance_id: instance_id.into(),
            binding_id: BindingId::default(),
            api_version: ApiVersion::LATEST,
            originating_identity: None,
            request_identity: None,
            caller: None,
            accepts_incomplete: false,
            offering: None,
            plan: None,
            instance: None,
            predecessor: None,
            last_operation: None,
        }
    }

    /// Sets the binding id (for tests).
    #[must_use]
    pub fn with_binding_id(mut self, binding_id: impl Into<BindingId>) -> Self {
        self.binding_id = binding_id.into();
        self
    }

    /// Sets the `last_operation` query parameters (for tests).
    #[must_use]
    pub fn with_last_operation(mut self, params: LastOperationParams) -> Self {
        self.last_operation = Some(params);
        self
    }

    /// Sets the caller (for tests).
    #[must_use]
    pub fn with_caller(mut self, caller: Caller) -> Self {
        self.caller = Some(caller);
        self
    }

    /// Sets `accepts_incomplete` (for tests).
    #[must_use]
    pub fn with_accepts_incomplete(mut self, accepts: bool) -> Self {
        self.accepts_incomplete = accepts;
        self
    }
}
