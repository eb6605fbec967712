//! The `Broker` trait: one method per OSB operation. The runtime owns every protocol rule
//! (status codes, idempotency, concurrency, async operations); a broker only does the work.

use std::future::Future;
use std::time::Duration;

use osb_types::binding::{FetchBindingResponse, RotateBindingRequest};
use osb_types::catalog::{ServiceOffering, ServicePlan};
use osb_types::instance::FetchInstanceResponse;
use osb_types::operation::LastOperationResponse;
use osb_types::{BindRequest, Catalog, PlanId, ProvisionRequest, UpdateRequest};

use crate::reply::{Bound, Deprovisioned, Interrupted, Provisioned, Resumed, Unbound, Updated};
use crate::request::{DeprovisionRequest, UnbindRequest};
use crate::{BrokerError, RequestContext};

/// How the runtime treats a plan beyond what the catalog says.
///
/// ```
/// use std::time::Duration;
/// use osb_server_mini::PlanPolicy;
/// let p = PlanPolicy::async_only().retry_after(Duration::from_secs(2));
/// assert!(p.async_only);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PlanPolicy {
    /// Every operation of this plan runs in the background: without `accepts_incomplete=true`
    /// the runtime answers 422 `AsyncRequired` before calling the broker.
    pub async_only: bool,
    /// `Retry-After` sent with `in progress` last-operation answers.
    pub retry_after: Option<Duration>,
}

impl PlanPolicy {
    /// A plan whose operations are all asynchronous.
    #[must_use]
    pub fn async_only() -> Self {
        Self {
            async_only: true,
            retry_after: None,
        }
    }

    /// Sets the `Retry-After` hint.
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}

/// An Open Service Broker. Implement it by hand, or let `#[broker]` write the impl.
///
/// Only [`catalog`](Broker::catalog), [`provision`](Broker::provision) and
/// [`deprovision`](Broker::deprovision) are required. The defaults of the others answer the
/// way the specification requires of a broker that does not support them, or let the runtime
/// answer from its own records (fetch and last operation).
///
/// Every method receives the [`RequestContext`] and the typed request, already checked
/// against the catalog (known service and plan, bindable, updateable, maintenance info,
/// parameter schemas). Returning [`BrokerError`] fails the request with that error; returning
/// `later(..)` makes it asynchronous.
///
/// ```
/// use osb_server_mini::{Broker, BrokerError, RequestContext, reply::*, request::*};
/// use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
///
/// struct Hello;
///
/// impl Broker for Hello {
///     fn catalog(&self) -> Catalog {
///         Catalog::new(vec![ServiceOffering::new("svc", "hello", "Says hello",
///             vec![ServicePlan::new("plan", "default", "The only plan")])])
///     }
///     async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
///         Ok(Provisioned::done())
///     }
///     async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
///         Ok(Deprovisioned::done())
///     }
/// }
/// ```
pub trait Broker: Send + Sync + 'static {
    /// The catalog. Called once when the server is built; it is validated then and served
    /// from memory afterwards.
    fn catalog(&self) -> Catalog;

    /// Runtime policy of a plan (async-only, `Retry-After`). Default: synchronous allowed, no hint.
    fn plan_policy(&self, offering: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        let _ = (offering, plan);
        PlanPolicy::default()
    }

    /// Creates a Service Instance.
    fn provision(
        &self,
        ctx: &RequestContext,
        request: ProvisionRequest,
    ) -> impl Future<Output = Result<Provisioned, BrokerError>> + Send;

    /// Updates a Service Instance (plan, parameters, context or maintenance info).
    /// Default: 422 `UpdateNotSupported`.
    fn update(
        &self,
        ctx: &RequestContext,
        request: UpdateRequest,
    ) -> impl Future<Output = Result<Updated, BrokerError>> + Send {
        let _ = (ctx, request);
        async {
            Err(BrokerError::unprocessable(
                "UpdateNotSupported",
                "This service broker does not support updating Service Instances.",
            ))
        }
    }

    /// Deletes a Service Instance.
    fn deprovision(
        &self,
        ctx: &RequestContext,
        request: DeprovisionRequest,
    ) -> impl Future<Output = Result<Deprovisioned, BrokerError>> + Send;

    /// Answers `GET /v2/service_instances/:id` for a retrievable offering. Default `Ok(None)`:
    /// the runtime answers from its record (service, plan, parameters, dashboard URL, metadata).
    fn fetch_instance(
        &self,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Option<FetchInstanceResponse>, BrokerError>> + Send {
        let _ = ctx;
        async { Ok(None) }
    }

    /// Answers instance `last_operation`. Default `Ok(None)`: the runtime answers from the
    /// operation it runs. Override only for operations tracked outside this process.
    fn instance_last_operation(
        &self,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Option<LastOperationResponse>, BrokerError>> + Send {
        let _ = ctx;
        async { Ok(None) }
    }

    /// Creates a Service Binding. Default: 400, the offering is not bindable.
    fn bind(
        &self,
        ctx: &RequestContext,
        request: BindRequest,
    ) -> impl Future<Output = Result<Bound, BrokerError>> + Send {
        let _ = (ctx, request);
        async {
            Err(BrokerError::bad_request(
                "This service broker does not support bindings.",
            ))
        }
    }

    /// Rotates a binding: creates `ctx.binding_id()` from `predecessor_binding_id`, which the
    /// runtime has checked exists on the same instance and whose plan is `binding_rotatable`.
    /// Default: 400, rotation not supported.
    fn rotate_binding(
        &self,
        ctx: &RequestContext,
        request: RotateBindingRequest,
    ) -> impl Future<Output = Result<Bound, BrokerError>> + Send {
        let _ = (ctx, request);
        async {
            Err(BrokerError::bad_request(
                "This service broker does not support binding rotation.",
            ))
        }
    }

    /// Deletes a Service Binding. Default: nothing to clean up.
    fn unbind(
        &self,
        ctx: &RequestContext,
        request: UnbindRequest,
    ) -> impl Future<Output = Result<Unbound, BrokerError>> + Send {
        let _ = (ctx, request);
        async { Ok(Unbound::done()) }
    }

    /// Answers `GET .../service_bindings/:id`. Default `Ok(None)`: the runtime answers from
    /// the bind response and parameters it recorded.
    fn fetch_binding(
        &self,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Option<FetchBindingResponse>, BrokerError>> + Send {
        let _ = ctx;
        async { Ok(None) }
    }

    /// Answers binding `last_operation`. Default `Ok(None)`: the runtime answers.
    fn binding_last_operation(
        &self,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<Option<LastOperationResponse>, BrokerError>> + Send {
        let _ = ctx;
        async { Ok(None) }
    }

    /// Resumes an operation whose process stopped while it ran (a crash, `kill -9`, a
    /// deploy; with a shared store, a replica that died), called once by the process that
    /// recovers it: at the next start, or when the lease of the lost process expires.
    ///
    /// `ctx` is the context of the interrupted request (instance, binding, offering, plan,
    /// the instance record); `interrupted` says which operation, with its request. Return
    /// [`Resumed::later`] to continue or re-run the work in the background,
    /// [`Resumed::done`] / [`Resumed::bound`] if it is complete, or an error to fail it.
    ///
    /// Default [`Resumed::not_supported`]: the operation ends `failed` with a description
    /// saying a restart interrupted it. The records then end where the specification needs
    /// them: a failed provision or bind can be deleted (the Platform's orphan mitigation
    /// reaches the broker), a failed update or delete leaves the resource as it was.
    fn resume(
        &self,
        ctx: &RequestContext,
        interrupted: Interrupted,
    ) -> impl Future<Output = Result<Resumed, BrokerError>> + Send {
        let _ = (ctx, interrupted);
        async { Ok(Resumed::not_supported()) }
    }
}

/// A Service Offering declared as a Rust type; `#[derive(Offering)]` implements it.
///
/// List implementors in `#[broker(catalog(..))]`: the generated [`Broker::catalog`] is
/// made of their [`offering`](Offering::offering)s and the generated
/// [`Broker::plan_policy`] reads their [`plan_policies`](Offering::plan_policies).
///
/// ```
/// use osb_server_mini::{Offering, PlanPolicy};
/// use osb_server_mini::types::{PlanId, ServiceOffering, ServicePlan};
///
/// struct Echo;
/// impl Offering for Echo {
///     fn offering() -> ServiceOffering {
///         ServiceOffering::new("svc", "echo", "Echoes", vec![ServicePlan::new("p", "small", "Small")])
///     }
///     fn plan_policies() -> Vec<(PlanId, PlanPolicy)> {
///         vec![(PlanId::from("p"), PlanPolicy::default())]
///     }
/// }
/// assert_eq!(Echo::offering().plans.len(), 1);
/// ```
pub trait Offering {
    /// The catalog entry, with its plans.
    fn offering() -> ServiceOffering;

    /// The runtime policy of each plan of this offering, by plan id.
    fn plan_policies() -> Vec<(PlanId, PlanPolicy)>;

    /// Each plan's typed parameters, for the compile-time checks of `#[broker]` (see
    /// [`TypedParams`](crate::params::TypedParams)). `#[derive(Offering)]` lists every plan;
    /// the default, no entries, skips the checks.
    const PLAN_PARAMS: &'static [crate::params::PlanParams] = &[];
}

/// A Service Plan declared as a Rust type; `#[derive(Plan)]` implements it.
///
/// ```
/// use osb_server_mini::{Plan, PlanPolicy};
/// use osb_server_mini::types::ServicePlan;
///
/// struct Small;
/// impl Plan for Small {
///     const ID: &'static str = "p";
///     const NAME: &'static str = "small";
///     fn plan() -> ServicePlan {
///         ServicePlan::new(Self::ID, Self::NAME, "Small")
///     }
///     fn policy() -> PlanPolicy {
///         PlanPolicy::default()
///     }
/// }
/// assert_eq!(Small::plan().id, Small::ID);
/// ```
pub trait Plan {
    /// The plan id (`plans[].id`), e.g. to compare with `request.plan_id`.
    const ID: &'static str;
    /// The plan name (`plans[].name`).
    const NAME: &'static str;

    /// The catalog entry.
    fn plan() -> ServicePlan;

    /// How the runtime treats this plan (async-only, `Retry-After`).
    fn policy() -> PlanPolicy;

    /// Which operations of this plan take typed parameters, for the compile-time checks of
    /// `#[broker]` (see [`TypedParams`](crate::params::TypedParams)). `#[derive(Plan)]` sets it
    /// from `provision_params`/`update_params`/`bind_params`; the default, `None` (not
    /// known), skips the checks for this plan.
    const TYPED_PARAMS: Option<crate::params::TypedParams> = None;
}
