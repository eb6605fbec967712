//! The derived catalog passes `Catalog::validate()` and serializes to the expected JSON,
//! with the parameter schemas in JSON Schema draft-04.

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::Catalog;
use osb_server_mini::types::{ProvisionRequest, ServicePlan};
use osb_server_mini::{Broker, BrokerError, Offering, Plan, RequestContext, broker};
use serde_json::json;
use std::time::Duration;

#[allow(dead_code)]
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CreateParams {
    /// Size in GB.
    #[schemars(range(min = 1, max = 64))]
    size: u32,
    tier: Tier,
}

#[allow(dead_code)]
#[derive(serde::Deserialize, schemars::JsonSchema)]
enum Tier {
    Gold,
}

#[allow(dead_code)]
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct BindParams {
    read_only: Option<bool>,
}

#[derive(Offering)]
#[osb(
    id = "svc-1",
    name = "echo",
    description = "Echoes",
    tags("echo", "demo"),
    requires("syslog_drain"),
    bindable,
    instances_retrievable,
    bindings_retrievable = true,
    allow_context_updates = false,
    plan_updateable,
    metadata(
        display_name = "Echo",
        image_url = "https://example.com/echo.png",
        long_description = "Echoes what you send",
        provider_display_name = "ACME",
        documentation_url = "https://example.com/docs",
        support_url = "https://example.com/support",
        shareable
    ),
    dashboard_client(id = "client", secret = "s3cr3t", redirect_uri = "https://example.com/sso"),
    plans(Small, Large)
)]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan-small", name = "small", description = "Small", free)]
struct Small;

#[derive(Plan)]
#[osb(
    id = "plan-large",
    name = "large",
    description = "Large",
    free = false,
    bindable,
    binding_rotatable,
    plan_updateable = false,
    maximum_polling_duration = 600,
    maintenance_info(version = "1.2.3-rc.1+build.5", description = "New engine"),
    metadata(
        bullets("2 GB", "backups"),
        display_name = "Large",
        cost(unit = "MONTHLY", amount(usd = 649.0, eur = 600)),
    ),
    async_only,
    retry_after_secs = 3,
    provision_params = CreateParams,
    update_params = CreateParams,
    bind_params = BindParams
)]
struct Large;

struct EchoBroker;

#[broker(catalog(Echo))]
impl EchoBroker {
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }

    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

fn create_schema() -> serde_json::Value {
    json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "CreateParams",
        "type": "object",
        "properties": {
            "size": {
                "description": "Size in GB.",
                "type": "integer",
                "format": "uint32",
                "minimum": 1,
                "maximum": 64
            },
            "tier": { "$ref": "#/definitions/Tier" }
        },
        "required": ["size", "tier"],
        "definitions": {
            "Tier": { "type": "string", "enum": ["Gold"] }
        }
    })
}

#[test]
fn catalog_validates_and_serializes() {
    let catalog: Catalog = EchoBroker.catalog();
    catalog.validate().expect("a valid catalog");
    let bind_schema = json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "BindParams",
        "type": "object",
        "properties": {
            "read_only": { "type": ["boolean", "null"] }
        }
    });
    let expected = json!({
        "services": [{
            "id": "svc-1",
            "name": "echo",
            "description": "Echoes",
            "tags": ["echo", "demo"],
            "requires": ["syslog_drain"],
            "bindable": true,
            "instances_retrievable": true,
            "bindings_retrievable": true,
            "allow_context_updates": false,
            "plan_updateable": true,
            "metadata": {
                "displayName": "Echo",
                "imageUrl": "https://example.com/echo.png",
                "longDescription": "Echoes what you send",
                "providerDisplayName": "ACME",
                "documentationUrl": "https://example.com/docs",
                "supportUrl": "https://example.com/support",
                "shareable": true
            },
            "dashboard_client": {
                "id": "client",
                "secret": "s3cr3t",
                "redirect_uri": "https://example.com/sso"
            },
            "plans": [
                { "id": "plan-small", "name": "small", "description": "Small", "free": true },
                {
                    "id": "plan-large",
                    "name": "large",
                    "description": "Large",
                    "free": false,
                    "bindable": true,
                    "binding_rotatable": true,
                    "plan_updateable": false,
                    "maximum_polling_duration": 600,
                    "maintenance_info": { "version": "1.2.3-rc.1+build.5", "description": "New engine" },
                    "metadata": {
                        "bullets": ["2 GB", "backups"],
                        "displayName": "Large",
                        "costs": [{ "unit": "MONTHLY", "amount": { "eur": 600, "usd": 649.0 } }]
                    },
                    "schemas": {
                        "service_instance": {
                            "create": { "parameters": create_schema() },
                            "update": { "parameters": create_schema() }
                        },
                        "service_binding": {
                            "create": { "parameters": bind_schema }
                        }
                    }
                }
            ]
        }]
    });
    assert_eq!(serde_json::to_value(&catalog).unwrap(), expected);
}

#[test]
fn plan_consts_and_policies() {
    assert_eq!(Large::ID, "plan-large");
    assert_eq!(Small::NAME, "small");
    let large: ServicePlan = Large::plan();
    let offering = Echo::offering();
    let policy = EchoBroker.plan_policy(&offering, &large);
    assert!(policy.async_only);
    assert_eq!(policy.retry_after, Some(Duration::from_secs(3)));
    let small = EchoBroker.plan_policy(&offering, &Small::plan());
    assert!(!small.async_only);
    assert_eq!(small.retry_after, None);
    assert_eq!(Echo::plan_policies().len(), 2);
}

#[test]
fn draft04_conversion() {
    use osb_server_mini::types::schema::draft04;
    let converted = draft04(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:x",
        "type": "object",
        "properties": {
            "a": { "const": 5 },
            "b": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10 },
            "c": true,
            "d": { "type": "array", "prefixItems": [{ "$ref": "#/$defs/X" }], "items": false }
        },
        "additionalProperties": false,
        "$defs": { "X": { "anyOf": [{ "const": "x" }, true] } }
    }));
    assert_eq!(
        converted,
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "properties": {
                "a": { "enum": [5] },
                "b": { "type": "number", "minimum": 0, "exclusiveMinimum": true,
                       "maximum": 10, "exclusiveMaximum": true },
                "c": {},
                "d": { "type": "array", "items": [{ "$ref": "#/definitions/X" }],
                       "additionalItems": false }
            },
            "additionalProperties": false,
            "definitions": { "X": { "anyOf": [{ "enum": ["x"] }, {}] } }
        })
    );
}
