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

struct EchoBroker {
    prefix: String,
}

impl EchoBroker {
    fn dashboard(&self, ctx: &RequestContext) -> String {
        format!("{}/{}", self.prefix, ctx.instance_id())
    }
}

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(&self, ctx: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done().dashboard_url(self.dashboard(ctx)))
    }

    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

fn main() {
    let broker = EchoBroker { prefix: "http://x".to_owned() };
    assert_eq!(broker.catalog().services.len(), 1);
}
