//! Round-trip tests for every JSON example of spec.md and profile.md.
//!
//! Each fixture in `tests/fixtures/` (see `tests/fixtures/README.md` for where each one
//! comes from and what was fixed) is parsed into its Rust type, serialized back, and the
//! result must be the same JSON value. A few typed facts per fixture make sure the data
//! landed in the right field and not in the catch-all `extra` map.

use osb_types::binding::{BindRequest, BindResource, BindResponse, FetchBindingResponse, UnbindResponse};
use osb_types::catalog::{Catalog, PlanMetadata};
use osb_types::context::{CloudFoundryContext, Context, KubernetesContext};
use osb_types::identity::{CloudFoundryIdentity, KubernetesIdentity};
use osb_types::instance::{
    DeprovisionResponse, FetchInstanceResponse, ProvisionRequest, ProvisionResponse, UpdateRequest,
    UpdateResponse,
};
use osb_types::operation::{LastOperationResponse, OperationState};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `json` as `T`, serializes it back and asserts the JSON value is unchanged.
fn round_trip<T: DeserializeOwned + Serialize>(json: &str) -> T {
    let type_name = std::any::type_name::<T>();
    let expected: Value = serde_json::from_str(json).expect("fixture is not valid JSON");
    let typed: T =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("fixture does not parse as {type_name}: {e}"));
    let actual =
        serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{type_name} does not serialize: {e}"));
    assert_eq!(
        actual, expected,
        "round trip through {type_name} changed the JSON"
    );
    typed
}

fn cf(ctx: &Context) -> &CloudFoundryContext {
    match ctx {
        Context::CloudFoundry(cf) => cf,
        other => panic!("expected a Cloud Foundry context, got {other:?}"),
    }
}

fn k8s(ctx: &Context) -> &KubernetesContext {
    match ctx {
        Context::Kubernetes(k) => k,
        other => panic!("expected a Kubernetes context, got {other:?}"),
    }
}

/// Decodes the base64 `value` of an `X-Broker-API-Originating-Identity` header line.
fn decode_identity_header(line: &str, platform: &str) -> Value {
    use base64::Engine as _;
    let value = line
        .strip_prefix("X-Broker-API-Originating-Identity: ")
        .and_then(|rest| rest.strip_prefix(platform))
        .and_then(|rest| rest.strip_prefix(' '))
        .expect("header line has the expected shape");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("header value is base64");
    serde_json::from_slice(&bytes).expect("header value decodes to JSON")
}

// ---------------------------------------------------------------------------------------
// spec.md
// ---------------------------------------------------------------------------------------

#[test]
fn cloud_foundry_identity_spec_round_trips() {
    let id: CloudFoundryIdentity = round_trip(include_str!("fixtures/cloud_foundry_identity__spec.json"));
    assert_eq!(
        id.user_id.as_deref(),
        Some("683ea748-3092-4ff4-b656-39cacc4d5360")
    );
    assert!(id.extra.is_empty());
}

#[test]
fn cloud_foundry_identity_header_decodes_to_fixture() {
    // spec.md L204 and profile.md L81 (the same header line).
    let decoded = decode_identity_header(
        "X-Broker-API-Originating-Identity: cloudfoundry eyANCiAgInVzZXJfaWQiOiAiNjgzZWE3NDgtMzA5Mi00ZmY0LWI2NTYtMzljYWNjNGQ1MzYwIg0KfQ==",
        "cloudfoundry",
    );
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/cloud_foundry_identity__spec.json")).unwrap();
    assert_eq!(decoded, fixture);
    let id: CloudFoundryIdentity = serde_json::from_value(decoded).unwrap();
    assert_eq!(
        id.user_id.as_deref(),
        Some("683ea748-3092-4ff4-b656-39cacc4d5360")
    );
    assert!(id.extra.is_empty());
}

#[test]
fn catalog_spec_example_round_trips() {
    let catalog: Catalog = round_trip(include_str!("fixtures/catalog__spec_example.json"));
    assert_eq!(catalog.services.len(), 1);
    let offering = &catalog.services[0];
    assert_eq!(offering.name, "fake-service");
    assert!(offering.bindable);
    assert_eq!(offering.instances_retrievable, Some(true));
    assert_eq!(offering.bindings_retrievable, Some(true));
    assert_eq!(offering.allow_context_updates, Some(true));
    assert_eq!(offering.plan_updateable, Some(true));
    assert_eq!(
        offering.requires.as_deref(),
        Some(&["route_forwarding".to_owned()][..])
    );
    let metadata = offering.metadata.as_ref().unwrap();
    assert_eq!(metadata.display_name.as_deref(), Some("The Fake Service Broker"));
    assert!(metadata.extra.contains_key("provider"));
    assert!(metadata.extra.contains_key("listing"));
    assert_eq!(offering.plans.len(), 2);
    let plan = &offering.plans[0];
    assert_eq!(plan.id, "d3031751-XXXX-XXXX-XXXX-a42377d3320e");
    assert_eq!(plan.free, Some(false));
    let plan_metadata = plan.metadata.as_ref().unwrap();
    assert_eq!(plan_metadata.bullets.as_ref().unwrap().len(), 3);
    let costs = plan_metadata.costs.as_ref().unwrap();
    assert_eq!(costs.len(), 2);
    assert_eq!(costs[0].unit, "MONTHLY");
    assert_eq!(costs[0].amount["usd"].as_f64(), Some(99.0));
    assert!(plan_metadata.extra.contains_key("max_storage_tb"));
    assert!(plan.instance_create_schema().is_some());
    assert!(plan.instance_update_schema().is_some());
    assert!(plan.binding_create_schema().is_some());
    let mi = plan.maintenance_info.as_ref().unwrap();
    assert_eq!(mi.version.as_deref(), Some("2.1.1+abcdef"));
    assert_eq!(
        mi.description.as_deref(),
        Some("OS image update.\nExpect downtime.")
    );
    let plan2 = &offering.plans[1];
    assert!(plan2.schemas.is_none());
    assert!(plan2.maintenance_info.is_none());
    assert_eq!(
        plan2.metadata.as_ref().unwrap().costs.as_ref().unwrap()[0].amount["usd"].as_f64(),
        Some(199.0)
    );
    assert!(catalog.validate().is_ok(), "{:?}", catalog.validate());
}

#[test]
fn last_operation_response_instance_round_trips() {
    let lo: LastOperationResponse =
        round_trip(include_str!("fixtures/last_operation_response__instance.json"));
    assert_eq!(lo.state, OperationState::InProgress);
    assert_eq!(
        lo.description.as_deref(),
        Some("Creating service (10% complete).")
    );
}

#[test]
fn last_operation_response_binding_round_trips() {
    let lo: LastOperationResponse =
        round_trip(include_str!("fixtures/last_operation_response__binding.json"));
    assert_eq!(lo.state, OperationState::InProgress);
    assert_eq!(
        lo.description.as_deref(),
        Some("Creating binding (10% complete).")
    );
}

#[test]
fn provision_request_spec_round_trips() {
    let req: ProvisionRequest = round_trip(include_str!("fixtures/provision_request__spec.json"));
    assert_eq!(req.service_id, "service-offering-id-here");
    assert_eq!(req.plan_id, "service-plan-id-here");
    assert_eq!(req.organization_guid.as_deref(), Some("org-guid-here"));
    assert_eq!(req.space_guid.as_deref(), Some("space-guid-here"));
    assert!(matches!(req.context, Some(Context::CloudFoundry(_))));
    assert_eq!(
        req.parameters.as_ref().unwrap().get("parameter2"),
        Some(&Value::from("foo"))
    );
    assert_eq!(
        req.maintenance_info.as_ref().unwrap().version.as_deref(),
        Some("2.1.1+abcdef")
    );
}

#[test]
fn provision_request_spec_curl_round_trips() {
    let req: ProvisionRequest = round_trip(include_str!("fixtures/provision_request__spec_curl.json"));
    assert_eq!(req.plan_id, "service-plan-id-here");
    assert!(matches!(req.context, Some(Context::CloudFoundry(_))));
    assert!(req.maintenance_info.is_none());
}

#[test]
fn provision_response_spec_round_trips() {
    let resp: ProvisionResponse = round_trip(include_str!("fixtures/provision_response__spec.json"));
    assert_eq!(
        resp.dashboard_url.as_deref(),
        Some("http://example-dashboard.example.com/9189kdfsk0vfnku")
    );
    assert_eq!(resp.operation.as_ref().unwrap(), "task_10");
    let metadata = resp.metadata.as_ref().unwrap();
    assert_eq!(metadata.labels.as_ref().unwrap().len(), 2);
    assert_eq!(metadata.attributes.as_ref().unwrap().len(), 2);
    assert!(metadata.extra.is_empty());
}

#[test]
fn fetch_instance_response_spec_round_trips() {
    let resp: FetchInstanceResponse = round_trip(include_str!("fixtures/fetch_instance_response__spec.json"));
    assert_eq!(
        resp.dashboard_url.as_deref(),
        Some("http://example-dashboard.example.com/9189kdfsk0vfnku")
    );
    assert_eq!(
        resp.parameters.as_ref().unwrap().get("billing-account"),
        Some(&Value::from("abcde12345"))
    );
    let metadata = resp.metadata.as_ref().unwrap();
    assert!(metadata.labels.as_ref().unwrap().contains_key("key1"));
    assert!(
        metadata
            .attributes
            .as_ref()
            .unwrap()
            .contains_key("broker.generated.attr2")
    );
    assert!(resp.extra.is_empty());
}

#[test]
fn update_request_spec_round_trips() {
    let req: UpdateRequest = round_trip(include_str!("fixtures/update_request__spec.json"));
    assert_eq!(req.service_id, "service-offering-id-here");
    assert_eq!(req.plan_id.as_ref().unwrap(), "service-plan-id-here");
    assert!(matches!(req.context, Some(Context::CloudFoundry(_))));
    let pv = req.previous_values.as_ref().unwrap();
    assert_eq!(pv.plan_id.as_ref().unwrap(), "old-service-plan-id-here");
    assert_eq!(pv.organization_id.as_deref(), Some("org-guid-here"));
    assert_eq!(pv.space_id.as_deref(), Some("space-guid-here"));
    assert_eq!(
        pv.maintenance_info.as_ref().unwrap().version.as_deref(),
        Some("2.1.1+abcdef")
    );
    assert_eq!(
        req.maintenance_info.as_ref().unwrap().version.as_deref(),
        Some("2.1.1+abcdef")
    );
}

#[test]
fn update_request_spec_curl_round_trips() {
    let req: UpdateRequest = round_trip(include_str!("fixtures/update_request__spec_curl.json"));
    let pv = req.previous_values.as_ref().unwrap();
    assert_eq!(pv.service_id.as_ref().unwrap(), "service-offering-id-here");
    assert!(pv.maintenance_info.is_none());
    assert!(req.maintenance_info.is_none());
}

#[test]
fn update_response_empty_round_trips() {
    let resp: UpdateResponse = round_trip(include_str!("fixtures/update_response__empty.json"));
    assert!(resp.operation.is_none());
    assert!(resp.dashboard_url.is_none());
}

#[test]
fn update_response_spec_round_trips() {
    let resp: UpdateResponse = round_trip(include_str!("fixtures/update_response__spec.json"));
    assert_eq!(resp.operation.as_ref().unwrap(), "task_10");
    let metadata = resp.metadata.as_ref().unwrap();
    assert_eq!(metadata.labels.as_ref().unwrap().len(), 2);
    assert_eq!(metadata.attributes.as_ref().unwrap().len(), 2);
}

#[test]
fn bind_request_spec_round_trips() {
    let req: BindRequest = round_trip(include_str!("fixtures/bind_request__spec.json"));
    assert_eq!(req.service_id, "service-offering-id-here");
    assert_eq!(req.plan_id, "service-plan-id-here");
    assert!(matches!(req.context, Some(Context::CloudFoundry(_))));
    assert_eq!(
        req.bind_resource.as_ref().unwrap().app_guid.as_deref(),
        Some("app-guid-here")
    );
    assert_eq!(
        req.parameters.as_ref().unwrap().get("parameter1-name-here"),
        Some(&Value::from(1))
    );
}

#[test]
fn bind_response_credentials_round_trips() {
    let resp: BindResponse = round_trip(include_str!("fixtures/bind_response__credentials.json"));
    assert_eq!(
        resp.credentials.as_ref().unwrap().get("port"),
        Some(&Value::from(3306))
    );
    let endpoints = resp.endpoints.as_ref().unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0].host, "mysqlhost");
    assert_eq!(endpoints[0].ports, ["3306"]);
    assert!(resp.volume_mounts.is_none());
}

#[test]
fn bind_response_volume_mounts_round_trips() {
    let resp: BindResponse = round_trip(include_str!("fixtures/bind_response__volume_mounts.json"));
    let mounts = resp.volume_mounts.as_ref().unwrap();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].driver, "cephdriver");
    assert_eq!(mounts[0].container_dir, "/data/images");
    assert_eq!(mounts[0].device.volume_id, "bc2c1eab-05b9-482d-b0cf-750ee07de311");
    assert!(
        mounts[0]
            .device
            .mount_config
            .as_ref()
            .unwrap()
            .contains_key("key")
    );
    assert!(resp.credentials.is_none());
}

#[test]
fn fetch_binding_response_spec_round_trips() {
    let resp: FetchBindingResponse = round_trip(include_str!("fixtures/fetch_binding_response__spec.json"));
    assert!(resp.metadata.as_ref().unwrap().expires_at.is_some());
    assert_eq!(
        resp.credentials.as_ref().unwrap().get("username"),
        Some(&Value::from("mysqluser"))
    );
    assert_eq!(resp.endpoints.as_ref().unwrap()[0].ports, ["3306"]);
    assert_eq!(
        resp.parameters.as_ref().unwrap().get("billing-account"),
        Some(&Value::from("abcde12345"))
    );
}

#[test]
fn unbind_response_empty_round_trips() {
    let resp: UnbindResponse = round_trip(include_str!("fixtures/unbind_response__empty.json"));
    assert!(resp.operation.is_none());
}

#[test]
fn unbind_response_async_round_trips() {
    let resp: UnbindResponse = round_trip(include_str!("fixtures/unbind_response__async.json"));
    assert_eq!(resp.operation.as_ref().unwrap(), "task_10");
}

#[test]
fn deprovision_response_empty_round_trips() {
    let resp: DeprovisionResponse = round_trip(include_str!("fixtures/deprovision_response__empty.json"));
    assert!(resp.operation.is_none());
}

#[test]
fn deprovision_response_async_round_trips() {
    let resp: DeprovisionResponse = round_trip(include_str!("fixtures/deprovision_response__async.json"));
    assert_eq!(resp.operation.as_ref().unwrap(), "task_10");
}

// ---------------------------------------------------------------------------------------
// profile.md: originating identity
// ---------------------------------------------------------------------------------------

#[test]
fn cloud_foundry_identity_profile_round_trips() {
    let id: CloudFoundryIdentity = round_trip(include_str!("fixtures/cloud_foundry_identity__profile.json"));
    assert_eq!(
        id.user_id.as_deref(),
        Some("683ea748-3092-4ff4-b656-39cacc4d5360")
    );
    assert!(id.extra.is_empty());
}

#[test]
fn kubernetes_identity_profile_round_trips() {
    let id: KubernetesIdentity = round_trip(include_str!("fixtures/kubernetes_identity__profile.json"));
    assert_eq!(id.username.as_deref(), Some("duke"));
    assert_eq!(id.uid.as_deref(), Some("c2dde242-5ce4-11e7-988c-000c2946f14f"));
    assert_eq!(
        id.groups.as_deref(),
        Some(&["admin".to_owned(), "dev".to_owned()][..])
    );
    assert_eq!(id.extra.as_ref().unwrap()["mydata"], ["data1", "data3"]);
    assert!(id.unknown.is_empty());
}

#[test]
fn kubernetes_identity_header_decodes_to_fixture() {
    // profile.md L112.
    let decoded = decode_identity_header(
        "X-Broker-API-Originating-Identity: kubernetes ew0KICAidXNlcm5hbWUiOiAiZHVrZSIsDQogICJ1aWQiOiAiYzJkZGUyNDItNWNlNC0xMWU3LTk4OGMtMDAwYzI5NDZmMTRmIiwNCiAgImdyb3VwcyI6IFsgImFkbWluIiwgImRldiIgXSwNCiAgImV4dHJhIjogew0KICAgICJteWRhdGEiOiBbICJkYXRhMSIsICJkYXRhMyIgXQ0KICB9DQp9",
        "kubernetes",
    );
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/kubernetes_identity__profile.json")).unwrap();
    assert_eq!(decoded, fixture);
    let id: KubernetesIdentity = serde_json::from_value(decoded).unwrap();
    assert_eq!(id.username.as_deref(), Some("duke"));
}

// ---------------------------------------------------------------------------------------
// profile.md: context objects
// ---------------------------------------------------------------------------------------

#[test]
fn context_platform_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__platform_template.json"));
    assert!(matches!(ctx, Context::Other(_)), "got {ctx:?}");
}

#[test]
fn context_cf_organization_guid_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_organization_guid_template.json"
    ));
    assert_eq!(
        cf(&ctx).organization_guid.as_deref(),
        Some("organization-guid-here")
    );
}

#[test]
fn context_cf_organization_guid_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_organization_guid_example.json"
    ));
    assert_eq!(
        cf(&ctx).organization_guid.as_deref(),
        Some("1113aa0-124e-4af2-1526-6bfacf61b111")
    );
}

#[test]
fn context_cf_organization_name_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_organization_name_template.json"
    ));
    assert_eq!(
        cf(&ctx).organization_name.as_deref(),
        Some("organization-name-here")
    );
}

#[test]
fn context_cf_organization_name_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_organization_name_example.json"
    ));
    assert_eq!(cf(&ctx).organization_name.as_deref(), Some("system"));
}

#[test]
fn context_cf_organization_annotations_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_organization_annotations_template.json"
    ));
    let annotations = cf(&ctx).organization_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("prefix-here.org/name-here"));
}

#[test]
fn context_cf_organization_annotations_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_organization_annotations_example.json"
    ));
    let annotations = cf(&ctx).organization_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("myprovider.com/send-alerts-to-email"));
}

#[test]
fn context_cf_space_guid_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_space_guid_template.json"));
    assert_eq!(cf(&ctx).space_guid.as_deref(), Some("space-guid-here"));
}

#[test]
fn context_cf_space_guid_example_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_space_guid_example.json"));
    assert_eq!(
        cf(&ctx).space_guid.as_deref(),
        Some("aaaa1234-da91-4f12-8ffa-b51d0336aaaa")
    );
}

#[test]
fn context_cf_space_name_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_space_name_template.json"));
    assert_eq!(cf(&ctx).space_name.as_deref(), Some("space-name-here"));
}

#[test]
fn context_cf_space_name_example_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_space_name_example.json"));
    assert_eq!(cf(&ctx).space_name.as_deref(), Some("development"));
}

#[test]
fn context_cf_space_annotations_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_space_annotations_template.json"
    ));
    let annotations = cf(&ctx).space_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("prefix-here.org/name-here"));
}

#[test]
fn context_cf_space_annotations_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_space_annotations_example.json"
    ));
    let annotations = cf(&ctx).space_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("myprovider.com/send-alerts-to-email"));
}

#[test]
fn context_cf_instance_name_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_instance_name_template.json"));
    assert_eq!(cf(&ctx).instance_name.as_deref(), Some("instance-name-here"));
}

#[test]
fn context_cf_instance_name_example_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_instance_name_example.json"));
    assert_eq!(cf(&ctx).instance_name.as_deref(), Some("my-db"));
}

#[test]
fn context_cf_profile_full_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__cf_profile_full.json"));
    let cf = cf(&ctx);
    assert_eq!(
        cf.organization_guid.as_deref(),
        Some("1113aa0-124e-4af2-1526-6bfacf61b111")
    );
    assert_eq!(cf.organization_name.as_deref(), Some("system"));
    assert_eq!(
        cf.space_guid.as_deref(),
        Some("aaaa1234-da91-4f12-8ffa-b51d0336aaaa")
    );
    assert_eq!(cf.space_name.as_deref(), Some("development"));
    assert_eq!(cf.instance_name.as_deref(), Some("my-db"));
    assert!(cf.extra.is_empty());
}

#[test]
fn context_cf_instance_annotations_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_instance_annotations_template.json"
    ));
    let annotations = cf(&ctx).instance_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("prefix-here.org/name-here"));
}

#[test]
fn context_cf_instance_annotations_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__cf_instance_annotations_example.json"
    ));
    let annotations = cf(&ctx).instance_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("myprovider.com/send-alerts-to-email"));
}

#[test]
fn context_k8s_namespace_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_namespace_template.json"));
    assert_eq!(k8s(&ctx).namespace.as_deref(), Some("namespace-name-here"));
}

#[test]
fn context_k8s_namespace_example_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_namespace_example.json"));
    assert_eq!(k8s(&ctx).namespace.as_deref(), Some("testing"));
}

#[test]
fn context_k8s_namespace_annotations_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__k8s_namespace_annotations_template.json"
    ));
    let annotations = k8s(&ctx).namespace_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("prefix-here.org/name-here"));
}

#[test]
fn context_k8s_namespace_annotations_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__k8s_namespace_annotations_example.json"
    ));
    let annotations = k8s(&ctx).namespace_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("myprovider.com/send-alerts-to-email"));
}

#[test]
fn context_k8s_instance_annotations_template_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__k8s_instance_annotations_template.json"
    ));
    let annotations = k8s(&ctx).instance_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("prefix-here.org/name-here"));
}

#[test]
fn context_k8s_instance_annotations_example_round_trips() {
    let ctx: Context = round_trip(include_str!(
        "fixtures/context__k8s_instance_annotations_example.json"
    ));
    let annotations = k8s(&ctx).instance_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("myprovider.com/send-alerts-to-email"));
}

#[test]
fn context_k8s_clusterid_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_clusterid_template.json"));
    assert_eq!(k8s(&ctx).clusterid.as_deref(), Some("id-goes-here"));
}

#[test]
fn context_k8s_clusterid_example_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_clusterid_example.json"));
    assert_eq!(
        k8s(&ctx).clusterid.as_deref(),
        Some("644e1dd7-2a7f-18fb-b8ed-ed78c3f92c2b")
    );
}

#[test]
fn context_k8s_instance_name_template_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_instance_name_template.json"));
    assert_eq!(k8s(&ctx).instance_name.as_deref(), Some("instance-name-here"));
}

#[test]
fn context_k8s_instance_name_example_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_instance_name_example.json"));
    assert_eq!(k8s(&ctx).instance_name.as_deref(), Some("my-db"));
}

#[test]
fn context_k8s_profile_full_round_trips() {
    let ctx: Context = round_trip(include_str!("fixtures/context__k8s_profile_full.json"));
    let k = k8s(&ctx);
    assert_eq!(k.namespace.as_deref(), Some("development"));
    assert_eq!(
        k.clusterid.as_deref(),
        Some("8263feba-9b8a-23ae-99ed-abcd1234feda")
    );
    assert!(k.instance_name.is_none());
    assert!(k.extra.is_empty());
}

// ---------------------------------------------------------------------------------------
// profile.md: bind resource objects
// ---------------------------------------------------------------------------------------

#[test]
fn bind_resource_cf_space_guid_template_round_trips() {
    let br: BindResource = round_trip(include_str!(
        "fixtures/bind_resource__cf_space_guid_template.json"
    ));
    assert_eq!(br.space_guid.as_deref(), Some("space-guid-here"));
}

#[test]
fn bind_resource_cf_space_guid_example_round_trips() {
    let br: BindResource = round_trip(include_str!("fixtures/bind_resource__cf_space_guid_example.json"));
    assert_eq!(
        br.space_guid.as_deref(),
        Some("15823972-c216-4ba5-9f3f-e75b0b891297")
    );
}

#[test]
fn bind_resource_cf_app_annotations_template_round_trips() {
    let br: BindResource = round_trip(include_str!(
        "fixtures/bind_resource__cf_app_annotations_template.json"
    ));
    let annotations = br.app_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("prefix-here.org/name-here"));
}

#[test]
fn bind_resource_cf_app_annotations_example_round_trips() {
    let br: BindResource = round_trip(include_str!(
        "fixtures/bind_resource__cf_app_annotations_example.json"
    ));
    let annotations = br.app_annotations.as_ref().unwrap();
    assert!(annotations.contains_key("myprovider.com/send-alerts-to-email"));
}

#[test]
fn bind_resource_cf_credential_client_id_template_round_trips() {
    let br: BindResource = round_trip(include_str!(
        "fixtures/bind_resource__cf_credential_client_id_template.json"
    ));
    assert_eq!(br.credential_client_id.as_deref(), Some("client_id-value-here"));
}

#[test]
fn bind_resource_cf_credential_client_id_example_round_trips() {
    let br: BindResource = round_trip(include_str!(
        "fixtures/bind_resource__cf_credential_client_id_example.json"
    ));
    assert_eq!(br.credential_client_id.as_deref(), Some("cc_service_key_client"));
}

#[test]
fn bind_resource_cf_app_binding_round_trips() {
    let br: BindResource = round_trip(include_str!("fixtures/bind_resource__cf_app_binding.json"));
    assert_eq!(
        br.app_guid.as_deref(),
        Some("5e76c9bf-d5e3-46bf-9877-6d8dddfc8a45")
    );
    assert_eq!(
        br.space_guid.as_deref(),
        Some("15823972-c216-4ba5-9f3f-e75b0b891297")
    );
    assert!(br.credential_client_id.is_none());
}

#[test]
fn bind_resource_cf_service_key_round_trips() {
    let br: BindResource = round_trip(include_str!("fixtures/bind_resource__cf_service_key.json"));
    assert_eq!(br.credential_client_id.as_deref(), Some("cc_service_key_client"));
    assert!(br.app_guid.is_none());
}

// ---------------------------------------------------------------------------------------
// profile.md: service metadata and catalog extensions
// ---------------------------------------------------------------------------------------

#[test]
fn plan_metadata_profile_costs_round_trips() {
    let md: PlanMetadata = round_trip(include_str!("fixtures/plan_metadata__profile_costs.json"));
    let costs = md.costs.as_ref().unwrap();
    assert_eq!(costs.len(), 1);
    assert_eq!(costs[0].unit, "MONTHLY");
    assert_eq!(costs[0].amount["usd"].as_f64(), Some(649.0));
}

#[test]
fn catalog_profile_cloudamqp_round_trips() {
    let catalog: Catalog = round_trip(include_str!("fixtures/catalog__profile_cloudamqp.json"));
    let offering = &catalog.services[0];
    assert_eq!(offering.name, "cloudamqp");
    assert_eq!(offering.requires.as_deref(), Some(&[][..]));
    assert_eq!(offering.tags.as_ref().unwrap().len(), 3);
    let metadata = offering.metadata.as_ref().unwrap();
    assert_eq!(metadata.display_name.as_deref(), Some("CloudAMQP"));
    assert_eq!(metadata.provider_display_name.as_deref(), Some("84codes AB"));
    assert_eq!(
        metadata.support_url.as_deref(),
        Some("http://www.cloudamqp.com/support.html")
    );
    assert!(metadata.image_url.is_some());
    assert!(metadata.long_description.is_some());
    assert!(metadata.documentation_url.is_some());
    assert!(metadata.extra.is_empty());
    let client = offering.dashboard_client.as_ref().unwrap();
    assert_eq!(client.id, "p-mysql-client");
    assert_eq!(client.secret, "p-mysql-secret");
    assert_eq!(
        client.redirect_uri.as_deref(),
        Some("http://p-mysql.example.com/auth/create")
    );
    assert_eq!(offering.plans.len(), 1);
    let plan_metadata = offering.plans[0].metadata.as_ref().unwrap();
    assert_eq!(plan_metadata.display_name.as_deref(), Some("Big Bunny"));
    assert_eq!(plan_metadata.bullets.as_ref().unwrap().len(), 2);
    assert_eq!(plan_metadata.costs.as_ref().unwrap().len(), 2);
    assert!(plan_metadata.extra.is_empty());
}

#[test]
fn catalog_profile_dashboard_client_round_trips() {
    let catalog: Catalog = round_trip(include_str!("fixtures/catalog__profile_dashboard_client.json"));
    let offering = &catalog.services[0];
    let client = offering.dashboard_client.as_ref().unwrap();
    assert_eq!(client.id, "398e2f8e-XXXX-XXXX-XXXX-19a71ecbcf64");
    assert_eq!(client.secret, "277cabb0-XXXX-XXXX-XXXX-7822c0a90e5d");
    assert_eq!(client.redirect_uri.as_deref(), Some("http://localhost:1234"));
    assert_eq!(offering.plans.len(), 1);
    assert!(catalog.validate().is_ok(), "{:?}", catalog.validate());
}
