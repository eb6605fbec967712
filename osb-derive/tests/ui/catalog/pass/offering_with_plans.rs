use osb_server_mini::{Offering, Plan};

#[allow(dead_code)]
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CreateParams {
    size: u32,
}

#[derive(Offering)]
#[osb(
    id = "6c3e0a52-0000-4000-8000-000000000001",
    name = "echo",
    description = "Echoes what you send",
    bindable,
    instances_retrievable,
    bindings_retrievable,
    tags("echo"),
    metadata(display_name = "Echo", provider_display_name = "ACME", shareable),
    dashboard_client(id = "echo-client", secret = "s3cr3t"),
    plans(Small, Large)
)]
struct Echo;

#[derive(Plan)]
#[osb(id = "1f0a0a52-0000-4000-8000-000000000002", name = "small", description = "Synchronous", free)]
struct Small;

#[derive(Plan)]
#[osb(
    id = "9d2b0a52-0000-4000-8000-000000000003",
    name = "large",
    description = "Asynchronous",
    free = false,
    async_only,
    retry_after_secs = 1,
    maximum_polling_duration = 3600,
    maintenance_info(version = "2.0.0-beta.1", description = "Faster disks"),
    metadata(bullets("2 GB"), display_name = "Large", cost(unit = "MONTHLY", amount(usd = 9.99))),
    provision_params = CreateParams,
    update_params = CreateParams
)]
struct Large;

fn main() {
    let offering = Echo::offering();
    assert_eq!(offering.plans.len(), 2);
    assert_eq!(offering.plans[1].id, Large::ID);
    assert!(Large::policy().async_only);
    osb_server_mini::types::Catalog::new(vec![offering]).validate().unwrap();
}
