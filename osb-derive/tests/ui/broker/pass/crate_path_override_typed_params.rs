//! `crate = "…"` on every macro, with a plan naming typed parameters and an operation taking
//! them: the generated code reaches `schemars`, `serde` and the decoding through the
//! overridden path's `__private`, never `::schemars` or `::osb_server_mini`.

mod my_reexport {
    pub use osb_server_mini as osb;
}

use my_reexport::osb::reply::{Deprovisioned, Provisioned};
use my_reexport::osb::request::DeprovisionRequest;
use my_reexport::osb::types::ProvisionRequest;
use my_reexport::osb::{Broker, BrokerError, Offering, Plan, RequestContext, broker};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CreateParams {
    size: u32,
}

#[allow(dead_code)]
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct BindParams {
    read_only: bool,
}

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", bindable, plans(Small), crate = "my_reexport::osb")]
struct Echo;

#[derive(Plan)]
#[osb(
    id = "plan",
    name = "small",
    description = "Small",
    provision_params = CreateParams,
    update_params = CreateParams,
    bind_params = BindParams,
    crate = "my_reexport::osb"
)]
struct Small;

struct EchoBroker;

#[broker(catalog(Echo), crate = "my_reexport::osb")]
impl EchoBroker {
    async fn provision(
        &self,
        _: &RequestContext,
        _: ProvisionRequest,
        params: CreateParams,
    ) -> Result<Provisioned, BrokerError> {
        assert_eq!(params.size, 2);
        Ok(Provisioned::done())
    }

    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let catalog = EchoBroker.catalog();
    let plan = &catalog.services[0].plans[0];
    let create = plan.instance_create_schema().unwrap();
    assert_eq!(create["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(create["properties"]["size"]["type"], "integer");
    assert!(plan.instance_update_schema().is_some());
    assert_eq!(plan.binding_create_schema().unwrap()["properties"]["read_only"]["type"], "boolean");
    catalog.validate().unwrap();

    let ctx = RequestContext::for_tests("i1");
    let size = serde_json::json!({ "size": 2 }).as_object().unwrap().clone();
    let req = ProvisionRequest::new("svc", "plan").with_parameters(size);
    assert!(Broker::provision(&EchoBroker, &ctx, req).await.is_ok());
    let err = Broker::provision(&EchoBroker, &ctx, ProvisionRequest::new("svc", "plan")).await.unwrap_err();
    assert_eq!(err.status(), 400);
}
