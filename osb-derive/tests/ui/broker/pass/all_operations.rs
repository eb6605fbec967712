use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::binding::{FetchBindingResponse, RotateBindingRequest};
use osb_server_mini::types::instance::FetchInstanceResponse;
use osb_server_mini::types::operation::{LastOperationResponse, OperationState};
use osb_server_mini::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_server_mini::{Broker, BrokerError, Offering, Plan, RequestContext, broker};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", bindable, instances_retrievable,
      bindings_retrievable, plan_updateable, plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", binding_rotatable)]
struct Small;

struct EchoBroker;

async fn pause() {}

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        pause().await;
        Ok(Provisioned::later(async { Ok(()) }))
    }

    async fn update(&self, _: &RequestContext, _: UpdateRequest) -> Result<Updated, BrokerError> {
        pause().await;
        Ok(Updated::done())
    }

    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        pause().await;
        Ok(Deprovisioned::done())
    }

    async fn fetch_instance(&self, _: &RequestContext) -> Result<Option<FetchInstanceResponse>, BrokerError> {
        pause().await;
        Ok(None)
    }

    async fn instance_last_operation(&self, _: &RequestContext) -> Result<Option<LastOperationResponse>, BrokerError> {
        pause().await;
        Ok(Some(LastOperationResponse::new(OperationState::Succeeded)))
    }

    async fn bind(&self, _: &RequestContext, _: BindRequest) -> Result<Bound, BrokerError> {
        pause().await;
        Ok(Bound::credentials(serde_json::json!({ "uri": "echo://x" })))
    }

    async fn rotate_binding(&self, _: &RequestContext, _: RotateBindingRequest) -> Result<Bound, BrokerError> {
        pause().await;
        Ok(Bound::credentials(serde_json::json!({ "uri": "echo://y" })))
    }

    async fn unbind(&self, _: &RequestContext, _: UnbindRequest) -> Result<Unbound, BrokerError> {
        pause().await;
        Ok(Unbound::done())
    }

    async fn fetch_binding(&self, _: &RequestContext) -> Result<Option<FetchBindingResponse>, BrokerError> {
        pause().await;
        Ok(None)
    }

    async fn binding_last_operation(&self, _: &RequestContext) -> Result<Option<LastOperationResponse>, BrokerError> {
        pause().await;
        Ok(None)
    }
}

fn assert_broker<B: Broker>(_: &B) {}

fn main() {
    assert_broker(&EchoBroker);
    assert_eq!(EchoBroker.catalog().services[0].plans[0].name, Small::NAME);
}
