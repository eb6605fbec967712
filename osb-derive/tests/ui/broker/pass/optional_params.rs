//! `Option<T>` typed parameters on an offering where some plans declare no type; a plain `T`
//! on an offering whose plans are not known at compile time (a hand-written `Plan` keeps
//! `TYPED_PARAMS = None`) compiles and decodes for every plan.

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Updated};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{BindRequest, ProvisionRequest, ServicePlan, UpdateRequest};
use osb_server_mini::{Broker, BrokerError, Offering, Plan, PlanPolicy, RequestContext, broker};
use serde_json::json;

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct KvParams {
    max_keys: u32,
}

#[derive(Offering)]
#[osb(id = "kv", name = "kv", description = "Key-value", bindable, plan_updateable, plans(Free, Dedicated))]
struct Kv;

#[derive(Plan)]
#[osb(id = "kv-free", name = "free", description = "Free")]
struct Free;

#[derive(Plan)]
#[osb(id = "kv-dedicated", name = "dedicated", description = "Dedicated",
      provision_params = KvParams, update_params = KvParams, bind_params = KvParams)]
struct Dedicated;

#[derive(Default)]
struct KvBroker {
    seen: std::sync::Mutex<Vec<Option<u32>>>,
}

#[broker(catalog(Kv))]
impl KvBroker {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest, params: Option<KvParams>) -> Result<Provisioned, BrokerError> {
        self.seen.lock().unwrap().push(params.map(|p| p.max_keys));
        Ok(Provisioned::done())
    }
    async fn update(&self, _: &RequestContext, _: UpdateRequest, params: std::option::Option<KvParams>) -> Result<Updated, BrokerError> {
        let _ = params;
        Ok(Updated::done())
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
    async fn bind(&self, _: &RequestContext, _: BindRequest, params: core::option::Option<KvParams>) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(json!({ "max_keys": params.map(|p| p.max_keys) })))
    }
}

/// A hand-written plan: its typed parameters are not known at compile time.
struct HandWritten;

impl Plan for HandWritten {
    const ID: &'static str = "hw";
    const NAME: &'static str = "hand-written";
    fn plan() -> ServicePlan {
        ServicePlan::new(Self::ID, Self::NAME, "By hand")
    }
    fn policy() -> PlanPolicy {
        PlanPolicy::default()
    }
}

#[derive(Offering)]
#[osb(id = "other", name = "other", description = "Other", plans(HandWritten))]
struct Other;

struct Unchecked;

#[broker(catalog(Other))]
impl Unchecked {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest, params: KvParams) -> Result<Provisioned, BrokerError> {
        let _ = params.max_keys;
        Ok(Provisioned::done())
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(<Free as Plan>::TYPED_PARAMS.unwrap(), Default::default());
    assert!(<Dedicated as Plan>::TYPED_PARAMS.unwrap().provision);
    assert_eq!(<HandWritten as Plan>::TYPED_PARAMS, None);
    assert_eq!(Kv::PLAN_PARAMS.len(), 2);

    // Without a plan in the context (a unit test), parameters decode when sent.
    let ctx = RequestContext::for_tests("i1");
    let kv = KvBroker::default();
    assert!(Broker::provision(&kv, &ctx, ProvisionRequest::new("kv", Free::ID)).await.is_ok());
    let sent = json!({ "max_keys": 7 }).as_object().unwrap().clone();
    let request = ProvisionRequest::new("kv", Dedicated::ID).with_parameters(sent);
    assert!(Broker::provision(&kv, &ctx, request).await.is_ok());
    assert_eq!(*kv.seen.lock().unwrap(), [None, Some(7)]);
    let bad = json!({ "max_keys": "x" }).as_object().unwrap().clone();
    let err = Broker::bind(&kv, &ctx, BindRequest::new("kv", Dedicated::ID).with_parameters(bad)).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(Broker::update(&kv, &ctx, UpdateRequest::new("kv")).await.is_ok());

    let err = Broker::provision(&Unchecked, &ctx, ProvisionRequest::new("other", "hw")).await.unwrap_err();
    assert_eq!(err.body().description.as_deref(), Some("invalid parameters: missing field `max_keys`"));
}
