//! Run with: `cargo run -p osb-examples --example demo`
//!
//! The main job: starts the derived echo broker in-process on a free loopback port, then
//! drives it with `osb-client` through catalog → provision → poll → bind → fetch binding →
//! unbind → deprovision, for the synchronous `small` plan and the asynchronous `large` plan
//! (whose operations take `OSB_ASYNC_DELAY_MS`, default 1000 ms), printing each step. Exits
//! non-zero if any step fails.

use std::time::Instant;

use osb_client::types::{BindRequest, Catalog, ProvisionRequest, context::Context};
use osb_client::{Client, DeprovisionOutcome, ProvisionOutcome, UnbindOutcome, WaitOptions};
use osb_examples::{echo::EchoBroker, settings};
use osb_server_mini::Server;
use osb_server_mini::store::SqliteStore;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (user, password) = ("demo", "demo-password");
    // The broker's records live in an SQLite file in a temporary directory, as a production
    // broker's would in a persistent one.
    let state_dir = std::env::temp_dir().join(format!("osb-demo-{}", std::process::id()));
    std::fs::create_dir_all(&state_dir)?;
    let state = state_dir.join("state.sqlite");
    let broker = Server::new(EchoBroker::new("http://127.0.0.1", settings::async_delay()))
        .basic_auth(user, password)
        .store(SqliteStore::open(&state)?)
        .spawn("127.0.0.1:0")
        .await?;
    println!(
        "echo broker listening on {} (records in {})",
        broker.url(),
        state.display()
    );

    let client = Client::builder(broker.url()).basic_auth(user, password).build()?;
    let catalog = client.catalog().await?;
    let echo = catalog
        .offering_by_name("echo")
        .ok_or("no `echo` offering in the catalog")?;
    println!(
        "catalog: service `{}` with plans {}",
        echo.name,
        echo.plans
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    );

    for plan_name in ["small", "large"] {
        lifecycle(&client, &catalog, plan_name).await?;
    }

    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&state_dir);
    println!(
        "demo finished: full lifecycle for both plans in {:.1?}",
        started.elapsed()
    );
    Ok(())
}

async fn lifecycle(
    client: &Client,
    catalog: &Catalog,
    plan_name: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let (offering, plan) = catalog
        .plan_by_name("echo", plan_name)
        .ok_or_else(|| format!("plan `echo/{plan_name}` not in the catalog"))?;
    let (service_id, plan_id) = (offering.id.clone(), plan.id.clone());
    let wait = WaitOptions::default()
        .plan(plan)
        .on_progress(|p| println!("    … {} ({:.1?})", p.state, p.elapsed));
    println!("\n== plan `{plan_name}`");

    let instance = client.instance(format!("demo-{plan_name}"));
    // a Kubernetes context: organization_guid and space_guid are sent as the cluster id and
    // the namespace, as Kubernetes Service Catalog did
    let request = ProvisionRequest::new(service_id.clone(), plan_id.clone())
        .with_context(Context::kubernetes("default", "demo-cluster"));
    let outcome = instance.provision(&request).await?;
    match &outcome {
        ProvisionOutcome::Accepted { operation, .. } => println!(
            "provision: 202 Accepted, operation {}",
            operation.as_ref().map_or("(none)", |o| o.as_str())
        ),
        ProvisionOutcome::AlreadyExists(_) => println!("provision: 200 already exists"),
        _ => println!(
            "provision: 201 Created, dashboard {}",
            outcome.dashboard_url().unwrap_or("(none)")
        ),
    }
    instance.wait_with(&outcome, &wait).await?;
    let on_plan = instance.get().await?.plan_id;
    let on_plan = on_plan
        .as_ref()
        .map(|id| {
            offering
                .plan(id.as_str())
                .map_or(id.as_str(), |p| p.name.as_str())
        })
        .unwrap_or("(not reported)");
    println!("provision: done; instance is on plan `{on_plan}`");

    let binding = instance.binding(format!("demo-{plan_name}-binding"));
    let bound = binding
        .bind(
            &BindRequest::new(service_id.clone(), plan_id.clone())
                .with_parameters(json!({ "hello": plan_name })),
        )
        .await?;
    // a synchronous bind carries the credentials; an asynchronous one delivers them via GET
    let uri = match bound.credentials() {
        Some(credentials) => {
            println!("bind: 201 Created with {} credential field(s)", credentials.len());
            credentials.get("uri").and_then(|u| u.as_str()).map(str::to_owned)
        }
        None => {
            println!(
                "bind: 202 Accepted (no credentials yet), operation {}",
                bound.operation().map_or("(none)", |o| o.as_str())
            );
            binding.wait_with(&bound, &wait).await?;
            let fetched = binding.get().await?.credentials;
            fetched.and_then(|c| c.get("uri").and_then(|u| u.as_str()).map(str::to_owned))
        }
    };
    let uri = uri.ok_or("the binding has no `uri` credential")?;
    println!("binding: credentials uri = {uri}");

    let unbound = binding.unbind(service_id.clone(), plan_id.clone()).await?;
    match &unbound {
        UnbindOutcome::Unbound(_) => println!("unbind: 200 OK"),
        UnbindOutcome::Accepted { .. } => println!("unbind: 202 Accepted"),
        _ => println!("unbind: 410 Gone"),
    }
    binding.wait_with(&unbound, &wait).await?;

    let gone = instance.deprovision(service_id, plan_id).await?;
    match &gone {
        DeprovisionOutcome::Deleted(_) => println!("deprovision: 200 OK"),
        DeprovisionOutcome::Accepted { .. } => println!("deprovision: 202 Accepted"),
        _ => println!("deprovision: 410 Gone"),
    }
    instance.wait_with(&gone, &wait).await?;
    if instance.get_opt().await?.is_some() {
        return Err("the instance still exists after deprovisioning".into());
    }
    println!("deprovision: done, instance gone");
    Ok(())
}
