//! [`ContextBuilder`]: a [`RequestContext`] as the runtime would pass it, for calling a
//! broker's methods directly.

use std::sync::Arc;

use osb_types::catalog::{ServiceOffering, ServicePlan};
use osb_types::operation::LastOperationParams;
use osb_types::{ApiVersion, BindingId, Catalog, InstanceId, OriginatingIdentity, RequestIdentity};

use crate::context::RequestContext;
use crate::store::{BindingRecord, InstanceRecord};

/// Builds the [`RequestContext`] a broker method receives: ids, API version, identities,
/// the catalog entries, the instance record and (for a rotation) the predecessor binding.
///
/// Start with [`context`](super::context). What is not set is what the runtime leaves out:
/// API version 2.17, no identities, `accepts_incomplete=false`, no catalog entries.
///
/// ```
/// use osb_server_mini::testing::context;
/// use osb_server_mini::types::{ApiVersion, Catalog, OriginatingIdentity, ServiceOffering, ServicePlan};
/// use osb_server_mini::types::identity::CloudFoundryIdentity;
///
/// let catalog = Catalog::new(vec![ServiceOffering::new(
///     "svc", "db", "A database", vec![ServicePlan::new("p-small", "small", "Small")],
/// )]);
/// let ctx = context("inst-1")
///     .binding("bind-1")
///     .plan_of(&catalog, "small")
///     .provisioned()
///     .originating_identity(OriginatingIdentity::CloudFoundry(CloudFoundryIdentity::new("user-7")))
///     .api_version(ApiVersion::V2_16)
///     .accepts_incomplete(true)
///     .build();
/// assert_eq!(ctx.binding_id(), "bind-1");
/// assert_eq!(ctx.plan().unwrap().id, "p-small");
/// assert_eq!(ctx.offering().unwrap().name, "db");
/// assert_eq!(ctx.instance().unwrap().plan_id, "p-small");
/// assert_eq!(ctx.originating_identity().unwrap().platform(), "cloudfoundry");
/// assert_eq!(ctx.api_version(), ApiVersion::V2_16);
/// assert!(ctx.accepts_incomplete());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ContextBuilder {
    ctx: RequestContext,
}

impl ContextBuilder {
    pub(super) fn new(instance_id: InstanceId) -> Self {
        Self {
            ctx: RequestContext::for_tests(instance_id),
        }
    }

    /// The `:binding_id` of the URL.
    pub fn binding(mut self, binding_id: impl Into<BindingId>) -> Self {
        self.ctx.binding_id = binding_id.into();
        self
    }

    /// The `X-Broker-API-Version` the Platform sent (default 2.17).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.ctx.api_version = version;
        self
    }

    /// `accepts_incomplete=true` (or not) in the query.
    pub fn accepts_incomplete(mut self, accepts: bool) -> Self {
        self.ctx.accepts_incomplete = accepts;
        self
    }

    /// The `X-Broker-API-Originating-Identity` header.
    pub fn originating_identity(mut self, identity: OriginatingIdentity) -> Self {
        self.ctx.originating_identity = Some(identity);
        self
    }

    /// The `X-Broker-API-Request-Identity` header.
    pub fn request_identity(mut self, identity: impl Into<String>) -> Self {
        self.ctx.request_identity = Some(RequestIdentity::new(identity));
        self
    }

    /// The catalog offering the request concerns.
    pub fn offering(mut self, offering: ServiceOffering) -> Self {
        self.ctx.offering = Some(Arc::new(offering));
        self
    }

    /// The catalog plan the request concerns.
    pub fn plan(mut self, plan: ServicePlan) -> Self {
        self.ctx.plan = Some(Arc::new(plan));
        self
    }

    /// The offering and plan of `catalog` whose plan has this id or name (e.g. a broker's
    /// own `catalog()`).
    ///
    /// # Panics
    /// When the catalog has no such plan (a mistake in the test).
    pub fn plan_of(self, catalog: &Catalog, plan: &str) -> Self {
        let found = catalog.find_plan(plan).or_else(|| {
            catalog
                .services
                .iter()
                .find_map(|s| s.plan_by_name(plan).map(|p| (s, p)))
        });
        let Some((offering, plan_entry)) = found else {
            panic!("the catalog has no plan with id or name {plan:?}");
        };
        self.offering(offering.clone()).plan(plan_entry.clone())
    }

    /// The runtime's record of the instance (for operations on an existing instance).
    pub fn instance(mut self, record: InstanceRecord) -> Self {
        self.ctx.instance = Some(record);
        self
    }

    /// A ready instance record on the offering and plan set so far (the record a successful
    /// provision of that plan leaves).
    ///
    /// # Panics
    /// When no offering and plan are set yet ([`plan_of`](Self::plan_of) first).
    pub fn provisioned(self) -> Self {
        let (Some(offering), Some(plan)) = (&self.ctx.offering, &self.ctx.plan) else {
            panic!("set the offering and plan (plan_of) before provisioned()");
        };
        let record = InstanceRecord::new(self.ctx.instance_id.clone(), offering.id.clone(), plan.id.clone());
        self.instance(record)
    }

    /// For a rotation: the predecessor binding's record, which
    /// [`RequestContext::predecessor`] returns.
    pub fn predecessor(mut self, record: BindingRecord) -> Self {
        self.ctx.predecessor = Some(record);
        self
    }

    /// For a `last_operation` request: its query parameters.
    pub fn last_operation(mut self, params: LastOperationParams) -> Self {
        self.ctx.last_operation = Some(params);
        self
    }

    /// The context.
    #[must_use]
    pub fn build(self) -> RequestContext {
        self.ctx
    }
}
