#![allow(unused_imports)]

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::ProvisionRequest;
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small")]
struct Small;

struct Params {
    size: u32,
}

struct B;

#[broker(catalog(Echo))]
impl B {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest, params: Option<Params>) -> Result<Provisioned, BrokerError> {
        let _ = params.map(|p| p.size);
        Ok(Provisioned::done())
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}
fn main() {}
