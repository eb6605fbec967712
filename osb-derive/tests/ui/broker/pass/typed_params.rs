//! Operations with a fourth argument receive the request's `parameters` decoded into it;
//! parameters that do not decode fail with 400 before the method runs.

use std::sync::Mutex;

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Updated};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_server_mini::{Broker, BrokerError, Offering, Plan, RequestContext, broker};
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CreateParams {
    size: u32,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ChangeParams {
    size: Option<u32>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct BindParams {
    #[serde(default)]
    read_only: bool,
}

#[derive(Offering)]
#[osb(id = "svc", name = "disk", description = "Disks", bindable, plan_updateable, plans(Small))]
struct Disk;

#[derive(Plan)]
#[osb(
    id = "plan",
    name = "small",
    description = "Small",
    provision_params = CreateParams,
    update_params = ChangeParams,
    bind_params = BindParams
)]
struct Small;

#[derive(Default)]
struct DiskBroker {
    sizes: Mutex<Vec<u32>>,
}

#[broker(catalog(Disk))]
impl DiskBroker {
    async fn provision(
        &self,
        _: &RequestContext,
        _: ProvisionRequest,
        params: CreateParams,
    ) -> Result<Provisioned, BrokerError> {
        self.sizes.lock().unwrap().push(params.size);
        Ok(Provisioned::done())
    }

    async fn update(&self, _: &RequestContext, _: UpdateRequest, params: ChangeParams) -> Result<Updated, BrokerError> {
        self.sizes.lock().unwrap().extend(params.size);
        Ok(Updated::done())
    }

    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, _: &RequestContext, _: BindRequest, params: BindParams) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(json!({ "read_only": params.read_only })))
    }
}

fn params(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let broker = DiskBroker::default();
    let ctx = RequestContext::for_tests("i1");

    let ok = ProvisionRequest::new("svc", "plan").with_parameters(params(json!({ "size": 3 })));
    assert!(Broker::provision(&broker, &ctx, ok).await.is_ok());
    let bad = ProvisionRequest::new("svc", "plan").with_parameters(params(json!({ "size": "big" })));
    let err = Broker::provision(&broker, &ctx, bad).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.body().description.as_deref(),
        Some("invalid parameters: invalid type: string \"big\", expected u32 (at `/size`)")
    );
    // Absent parameters decode as `{}`: `size` is required.
    let err = Broker::provision(&broker, &ctx, ProvisionRequest::new("svc", "plan")).await.unwrap_err();
    assert_eq!(err.body().description.as_deref(), Some("invalid parameters: missing field `size`"));

    assert!(Broker::update(&broker, &ctx, UpdateRequest::new("svc")).await.is_ok());
    let grow = UpdateRequest::new("svc").with_parameters(params(json!({ "size": 5 })));
    assert!(Broker::update(&broker, &ctx, grow).await.is_ok());
    assert_eq!(*broker.sizes.lock().unwrap(), [3, 5], "only decoded parameters reach the methods");

    let read_only = BindRequest::new("svc", "plan").with_parameters(params(json!({ "read_only": true })));
    assert!(Broker::bind(&broker, &ctx, read_only).await.is_ok());
    let bad = BindRequest::new("svc", "plan").with_parameters(params(json!({ "read_only": "yes" })));
    let err = Broker::bind(&broker, &ctx, bad).await.unwrap_err();
    assert_eq!(
        err.body().description.as_deref(),
        Some("invalid parameters: invalid type: string \"yes\", expected a boolean (at `/read_only`)")
    );
}
