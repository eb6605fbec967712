mod my_reexport {
    pub use osb_server_mini as osb;
}

use my_reexport::osb::reply::{Deprovisioned, Provisioned};
use my_reexport::osb::request::DeprovisionRequest;
use my_reexport::osb::types::ProvisionRequest;
use my_reexport::osb::{Broker, BrokerError, Offering, Plan, RequestContext, broker};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", plans(Small), crate = "my_reexport::osb")]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", crate = "my_reexport::osb")]
struct Small;

struct EchoBroker;

#[broker(catalog(Echo), crate = "my_reexport::osb")]
impl EchoBroker {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }

    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

fn main() {
    assert_eq!(EchoBroker.catalog().services[0].name, "echo");
}
