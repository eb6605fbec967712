#![allow(unused_imports)]

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::ProvisionRequest;
use osb_server_mini::{Broker, BrokerError, Offering, Plan, RequestContext, broker};

// One mistake in the offering: one error, none from the broker that serves it.
#[derive(Offering)]
#[osb(id = "svc", name = "echo", descripton = "Echoes", plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small")]
struct Small;

struct B;

#[broker(catalog(Echo))]
impl B {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

fn main() {
    let _ = B.catalog();
}
