//! `params: KvParams` while plan `free` declares no `provision_params`: refused at compile
//! time, naming the plan (the request for `free` would otherwise fail with 400).

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::ProvisionRequest;
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct KvParams {
    max_keys: u32,
}

#[derive(Offering)]
#[osb(id = "kv", name = "kv", description = "Key-value store", plans(Dedicated, Free))]
struct Kv;

#[derive(Plan)]
#[osb(id = "kv-dedicated", name = "dedicated", description = "Dedicated", provision_params = KvParams)]
struct Dedicated;

#[derive(Plan)]
#[osb(id = "kv-free", name = "free", description = "Free")]
struct Free;

struct B;

#[broker(catalog(Kv))]
impl B {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest, params: KvParams) -> Result<Provisioned, BrokerError> {
        let _ = params.max_keys;
        Ok(Provisioned::done())
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

fn main() {}
