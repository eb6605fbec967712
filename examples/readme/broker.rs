// The README broker: cargo run -p osb-examples --example readme_broker
use osb_server_mini::{broker, BrokerError, Offering, Plan, RequestContext, Server};
use osb_server_mini::{reply::*, request::DeprovisionRequest, types::{BindRequest, ProvisionRequest}};

#[derive(Offering)]
#[osb(id = "echo", name = "echo", description = "Echoes what you send",
      bindable, instances_retrievable, bindings_retrievable, plans(Small, Large))]
struct Echo;
#[derive(Plan)]
#[osb(id = "echo-small", name = "small", description = "Synchronous", free, maintenance_info(version = "1.0.0"))]
struct Small;
#[derive(Plan)] // async_only: without accepts_incomplete=true the runtime answers 422 AsyncRequired
#[osb(id = "echo-large", name = "large", description = "Asynchronous", async_only, retry_after_secs = 1)]
struct Large;

struct EchoBroker;

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(&self, ctx: &RequestContext, req: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        let reply = if req.plan_id == Large::ID { // in the background: 202, last_operation from the runtime
            Provisioned::later(async { tokio::time::sleep(std::time::Duration::from_secs(1)).await; Ok(()) })
        } else { Provisioned::done() };
        Ok(reply.dashboard_url(format!("https://dash.example/{}", ctx.instance_id())))
    }
    async fn deprovision(&self, _: &RequestContext, _: DeprovisionRequest) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
    async fn bind(&self, ctx: &RequestContext, _: BindRequest) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(serde_json::json!({ "uri": format!("echo://{}", ctx.binding_id()) })))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records = osb_server_mini::store::SqliteStore::open("osb-state.sqlite")?; // survive restarts
    Server::new(EchoBroker).basic_auth("admin", "secret").store(records).serve("127.0.0.1:8080").await?;
    Ok(())
}
