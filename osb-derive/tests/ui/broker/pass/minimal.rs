use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::ProvisionRequest;
use osb_server_mini::{Broker, BrokerError, Offering, Plan, RequestContext, broker};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", bindable, plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small")]
struct Small;

struct EchoBroker;

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }

    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

fn assert_broker<B: Broker>(_: &B) {}

fn main() {
    assert_broker(&EchoBroker);
    assert_eq!(EchoBroker.catalog().services[0].plans[0].id, Small::ID);
}
