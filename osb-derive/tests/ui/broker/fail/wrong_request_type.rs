//! A request type of another operation, a request by reference, a context by value: the
//! macro says what each argument is, at the wrong type.

use osb_server_mini::reply::{Deprovisioned, Provisioned, Unbound, Updated};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::{BindRequest, ProvisionRequest, UpdateRequest};
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", bindable, plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small")]
struct Small;

struct B;

#[broker(catalog(Echo))]
impl B {
    async fn provision(&self, _: &RequestContext, _: &ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }
    async fn update(&self, _: RequestContext, _: UpdateRequest) -> Result<Updated, BrokerError> {
        Ok(Updated::done())
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
    async fn unbind(&self, _: &RequestContext, _: BindRequest) -> Result<Unbound, BrokerError> {
        Ok(Unbound::done())
    }
}

fn main() {
    let _ = std::mem::size_of::<UnbindRequest>();
}
