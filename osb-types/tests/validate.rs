//! `Catalog::validate()`: one failing case per rule, checking where and what it reports.

use osb_types::catalog::{
    Catalog, DashboardClient, InputParametersSchema, MaintenanceInfo, Schemas, ServiceBindingSchema,
    ServiceInstanceSchema, ServiceOffering, ServicePlan,
};
use serde_json::json;

fn plan(id: &str, name: &str) -> ServicePlan {
    ServicePlan::new(id, name, "A plan")
}

fn offering(id: &str, name: &str, plans: Vec<ServicePlan>) -> ServiceOffering {
    ServiceOffering::new(id, name, "An offering", plans).bindable(true)
}

fn good() -> Catalog {
    Catalog::new(vec![
        offering(
            "svc-a",
            "alpha",
            vec![plan("plan-a1", "small"), plan("plan-a2", "large")],
        ),
        offering("svc-b", "beta", vec![plan("plan-b1", "small")]),
    ])
}

/// Validates and returns the single problem's display text.
fn only_problem(catalog: &Catalog) -> String {
    let errors = catalog.validate().expect_err("catalog should be invalid");
    assert_eq!(errors.problems().len(), 1, "{errors}");
    errors.problems()[0].to_string()
}

#[test]
fn valid_catalog_passes() {
    good().validate().unwrap();
    Catalog::default().validate().unwrap(); // `services` MAY be empty (A29)
}

#[test]
fn c_offering_id_must_be_non_empty() {
    let mut c = good();
    c.services[0].id = "".into();
    assert_eq!(
        only_problem(&c),
        "service `alpha` (services[0]): `id` must be a non-empty string"
    );
}

#[test]
fn c_offering_name_and_description_must_be_non_empty() {
    let mut c = good();
    c.services[1].name = String::new();
    c.services[1].description = String::new();
    let errors = c.validate().unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.problems().len(), 2, "{text}");
    assert!(
        text.contains("service `` (services[1]): `name` must be a non-empty string"),
        "{text}"
    );
    assert!(
        text.contains("`description` must be a non-empty string"),
        "{text}"
    );
}

#[test]
fn c_plan_fields_must_be_non_empty() {
    let mut c = good();
    c.services[0].plans[1].description = String::new();
    assert_eq!(
        only_problem(&c),
        "service `alpha` (services[0]), plan `large` (plans[1]): `description` must be a non-empty string"
    );
}

#[test]
fn c_offering_ids_are_globally_unique() {
    let mut c = good();
    c.services[1].id = "svc-a".into();
    let p = only_problem(&c);
    assert!(
        p.starts_with("service `beta` (services[1]): `id` `svc-a` is already used by service `alpha`"),
        "{p}"
    );
}

#[test]
fn c_plan_ids_are_globally_unique_across_offerings() {
    let mut c = good();
    c.services[1].plans[0].id = "plan-a2".into();
    let p = only_problem(&c);
    assert!(p.contains("plan `small` (plans[0]): `id` `plan-a2` is already used by service `alpha` (services[0]), plan `large` (plans[1])"), "{p}");
}

#[test]
fn c_offering_names_are_unique() {
    let mut c = good();
    c.services[1].name = "alpha".into();
    let p = only_problem(&c);
    assert!(p.contains("`name` `alpha` is already used by services[0]"), "{p}");
}

#[test]
fn c_plan_names_are_unique_within_an_offering() {
    let mut c = good();
    c.services[0].plans[1].name = "small".into();
    let p = only_problem(&c);
    assert!(
        p.contains("plan `small` (plans[1]): `name` `small` is already used by plans[0]"),
        "{p}"
    );
    // The same plan name in another offering is fine.
    good().validate().unwrap();
}

#[test]
fn c_offering_needs_at_least_one_plan() {
    let mut c = good();
    c.services[1].plans.clear();
    assert_eq!(
        only_problem(&c),
        "service `beta` (services[1]): `plans` must contain at least one plan"
    );
}

#[test]
fn c_maintenance_info_version_is_required_and_semver() {
    let mut c = good();
    c.services[0].plans[0].maintenance_info = Some(MaintenanceInfo::default());
    assert!(
        only_problem(&c)
            .ends_with("`maintenance_info.version` is required when `maintenance_info` is present")
    );
    c.services[0].plans[0].maintenance_info = Some(MaintenanceInfo::new("1.2"));
    let p = only_problem(&c);
    assert!(
        p.contains("`maintenance_info.version` `1.2` is not a semantic version 2.0"),
        "{p}"
    );
    c.services[0].plans[0].maintenance_info = Some(MaintenanceInfo::new("2.1.1+abcdef"));
    c.validate().unwrap();
}

#[test]
fn c_maximum_polling_duration_is_positive() {
    let mut c = good();
    c.services[0].plans[0].maximum_polling_duration = Some(0);
    assert!(
        only_problem(&c).ends_with("`maximum_polling_duration` must be a positive number of seconds, got 0")
    );
}

#[test]
fn c_dashboard_client_fields_are_non_empty() {
    let mut c = good();
    c.services[0].dashboard_client = Some(DashboardClient {
        id: "client".into(),
        secret: String::new(),
        ..Default::default()
    });
    assert_eq!(
        only_problem(&c),
        "service `alpha` (services[0]): `dashboard_client.secret` must be a non-empty string"
    );
}

fn with_schema(parameters: serde_json::Value) -> Catalog {
    let mut c = good();
    c.services[0].plans[0].schemas = Some(Schemas {
        service_instance: Some(ServiceInstanceSchema {
            create: Some(InputParametersSchema::new(parameters)),
            ..Default::default()
        }),
        ..Default::default()
    });
    c
}

#[test]
fn c_schema_must_declare_dollar_schema() {
    let p = only_problem(&with_schema(json!({ "type": "object" })));
    assert!(p.ends_with("`schemas.service_instance.create.parameters` must declare its JSON Schema version in a `$schema` key"), "{p}");
}

#[test]
fn c_schema_must_be_an_object() {
    let p = only_problem(&with_schema(json!("not a schema")));
    assert!(p.ends_with("must be a JSON schema object"), "{p}");
}

#[test]
fn c_schema_must_not_have_external_refs() {
    let p = only_problem(&with_schema(json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "properties": { "a": { "$ref": "https://example.com/other.json" }, "b": { "$ref": "#/definitions/x" } }
    })));
    assert!(
        p.contains("must not contain external references, found `$ref: https://example.com/other.json`"),
        "{p}"
    );
}

#[test]
fn c_schema_must_not_exceed_64kb() {
    let big: serde_json::Map<String, serde_json::Value> = (0..3000)
        .map(|i| (format!("property_{i:05}"), json!({ "type": "string" })))
        .collect();
    let p = only_problem(&with_schema(json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "properties": big
    })));
    assert!(p.contains("schemas must not be larger than 64kB"), "{p}");
}

#[test]
fn c_binding_schema_is_checked_too() {
    let mut c = good();
    c.services[1].plans[0].schemas = Some(Schemas {
        service_binding: Some(ServiceBindingSchema {
            create: Some(InputParametersSchema::new(json!({}))),
            ..Default::default()
        }),
        ..Default::default()
    });
    let p = only_problem(&c);
    assert!(
        p.contains("`schemas.service_binding.create.parameters` must declare its JSON Schema version"),
        "{p}"
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut c = good();
    c.services[0].id = "".into();
    c.services[0].plans[0].maximum_polling_duration = Some(-5);
    c.services[1].plans.clear();
    let errors = c.validate().unwrap_err();
    assert_eq!(errors.problems().len(), 3);
    assert!(errors.to_string().starts_with("invalid catalog (3 problems):"));
}

#[test]
fn c_plan_id_must_be_non_empty() {
    let mut c = good();
    c.services[1].plans[0].id = "".into();
    assert_eq!(
        only_problem(&c),
        "service `beta` (services[1]), plan `small` (plans[0]): `id` must be a non-empty string"
    );
}

#[test]
fn c_plan_name_must_be_non_empty() {
    let mut c = good();
    c.services[0].plans[0].name = String::new();
    assert_eq!(
        only_problem(&c),
        "service `alpha` (services[0]), plan `` (plans[0]): `name` must be a non-empty string"
    );
}

#[test]
fn c_dashboard_client_id_must_be_non_empty() {
    let mut c = good();
    c.services[0].dashboard_client = Some(DashboardClient {
        id: String::new(),
        secret: "s3cret".into(),
        ..Default::default()
    });
    assert_eq!(
        only_problem(&c),
        "service `alpha` (services[0]): `dashboard_client.id` must be a non-empty string"
    );
}

#[test]
fn c_schema_dollar_schema_must_be_a_non_empty_string() {
    for bad in [json!(4), json!(""), json!(null)] {
        let p = only_problem(&with_schema(json!({ "$schema": bad, "type": "object" })));
        assert!(
            p.ends_with("must declare its JSON Schema version in a `$schema` key"),
            "{bad}: {p}"
        );
    }
}

#[test]
fn c_instance_update_schema_is_checked_too() {
    let mut c = good();
    c.services[0].plans[1].schemas = Some(Schemas {
        service_instance: Some(ServiceInstanceSchema {
            update: Some(InputParametersSchema::new(json!(["not", "an", "object"]))),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        only_problem(&c),
        "service `alpha` (services[0]), plan `large` (plans[1]): \
         `schemas.service_instance.update.parameters` must be a JSON schema object"
    );
}

#[test]
fn c_offering_and_plan_ids_share_one_namespace() {
    let mut c = good();
    c.services[1].plans[0].id = "svc-a".into();
    let p = only_problem(&c);
    assert!(
        p.contains("plan `small` (plans[0]): `id` `svc-a` is already used by service `alpha` (services[0])"),
        "{p}"
    );
}

#[test]
fn c_maximum_polling_duration_must_not_be_negative() {
    let mut c = good();
    c.services[1].plans[0].maximum_polling_duration = Some(-1);
    assert_eq!(
        only_problem(&c),
        "service `beta` (services[1]), plan `small` (plans[0]): \
         `maximum_polling_duration` must be a positive number of seconds, got -1"
    );
    c.services[1].plans[0].maximum_polling_duration = Some(1);
    c.validate().unwrap();
}
