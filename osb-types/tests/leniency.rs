//! What the types accept beyond the happy path: `null` where the spec allows it, empty bodies,
//! both rotation shapes, required query parameters, malformed identity headers, and `Debug`
//! redaction (CHECKLIST A8, C2, C4, C48, C43, C57, C66, V26).

use osb_types::binding::{Device, UnbindParams};
use osb_types::instance::DeprovisionParams;
use osb_types::{
    BindRequest, BindResponse, DeprovisionResponse, Error, LastOperationResponse, OriginatingIdentity,
    ProvisionResponse, RotateBindingRequest, UnbindResponse, UpdateResponse,
};
use serde_json::{Value, json};

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

#[test]
fn c4_null_dashboard_url_and_operation_are_accepted_and_mean_absent() {
    let p: ProvisionResponse = parse(json!({ "dashboard_url": null, "operation": null }));
    assert_eq!((p.dashboard_url.as_deref(), p.operation.as_ref()), (None, None));
    assert_eq!(serde_json::to_value(&p).unwrap(), json!({}));

    let u: UpdateResponse = parse(json!({ "dashboard_url": null, "operation": null }));
    assert_eq!(u, UpdateResponse::default());
    let d: DeprovisionResponse = parse(json!({ "operation": null }));
    assert_eq!(d, DeprovisionResponse::default());
    let b: BindResponse = parse(json!({ "operation": null, "credentials": null }));
    assert_eq!(b, BindResponse::default());
    let ub: UnbindResponse = parse(json!({ "operation": null }));
    assert_eq!(ub, UnbindResponse::default());
}

#[test]
fn c2_null_inside_unknown_fields_is_kept() {
    let body = json!({ "dashboard_url": "http://d", "x-acme": null });
    let p: ProvisionResponse = parse(body.clone());
    assert_eq!(serde_json::to_value(&p).unwrap(), body);
}

#[test]
fn v26_empty_object_bodies_parse_as_defaults() {
    assert_eq!(
        parse::<ProvisionResponse>(json!({})),
        ProvisionResponse::default()
    );
    assert_eq!(parse::<UnbindResponse>(json!({})), UnbindResponse::default());
    let lo: LastOperationResponse = parse(json!({ "state": "in progress" }));
    assert_eq!(
        serde_json::to_value(&lo).unwrap(),
        json!({ "state": "in progress" })
    );
}

#[test]
fn c48_rotation_with_create_fields_is_typed() {
    let body = json!({
        "service_id": "svc", "plan_id": "plan",
        "context": { "platform": "kubernetes", "namespace": "ns", "clusterid": "c1" },
        "predecessor_binding_id": "old-binding"
    });
    let full: BindRequest = parse(body.clone());
    assert_eq!(full.predecessor_binding_id.as_ref().unwrap(), "old-binding");
    assert!(full.extra.is_empty(), "{:?}", full.extra);
    assert_eq!(serde_json::to_value(&full).unwrap(), body);

    let minimal: RotateBindingRequest = parse(json!({ "predecessor_binding_id": "old-binding" }));
    assert_eq!(minimal.predecessor_binding_id, "old-binding");
    let plain: BindRequest = parse(json!({ "service_id": "svc", "plan_id": "plan" }));
    assert_eq!(plain.predecessor_binding_id, None);
    assert!(!serde_json::to_string(&plain).unwrap().contains("predecessor"));
}

#[test]
fn c43_c57_delete_ids_are_required_and_non_empty() {
    let ok = DeprovisionParams::from_query("service_id=s&plan_id=p").unwrap();
    let (s, p) = ok.required_ids().unwrap();
    assert_eq!((s.as_str(), p.as_str()), ("s", "p"));

    let missing = DeprovisionParams::from_query("plan_id=p").unwrap();
    assert_eq!(
        missing.required_ids().unwrap_err().to_string(),
        "invalid query parameter `service_id`: is required"
    );
    let empty = UnbindParams::from_query("service_id=s&plan_id=").unwrap();
    assert_eq!(
        empty.required_ids().unwrap_err().to_string(),
        "invalid query parameter `plan_id`: must not be empty"
    );
    assert!(
        UnbindParams::from_query("service_id=s&plan_id=p")
            .unwrap()
            .required_ids()
            .is_ok()
    );
}

fn identity_error(header: &str) -> String {
    match OriginatingIdentity::parse(header) {
        Err(Error::InvalidOriginatingIdentity { reason }) => reason,
        other => panic!("{header:?} parsed as {other:?}"),
    }
}

#[test]
fn c66_malformed_identity_headers_say_what_is_wrong() {
    assert!(identity_error("").starts_with("the header is empty"));
    assert!(identity_error(" eyJ1c2VyX2lkIjoiYSJ9").starts_with("the platform is empty"));
    assert!(identity_error("cloudfoundry").starts_with("expected `<platform> <base64"));
    assert!(identity_error("cloudfoundry ***").starts_with("the value is not valid base64"));
    // base64 of `[1]` and of `nope`
    assert_eq!(
        identity_error("cloudfoundry WzFd"),
        "the decoded value must be a JSON object"
    );
    assert!(identity_error("cloudfoundry bm9wZQ==").starts_with("the decoded value is not JSON"));
    // base64 of {"user_id":5}
    assert!(identity_error("cloudfoundry eyJ1c2VyX2lkIjo1fQ==").starts_with("invalid cloudfoundry identity"));
}

#[test]
fn device_debug_hides_mount_config_values() {
    let d: Device = parse(json!({
        "volume_id": "vol-1",
        "mount_config": { "username": "admin", "password": "p4ssw0rd-value" }
    }));
    let shown = format!("{d:?}");
    assert!(shown.contains("vol-1") && shown.contains("password"), "{shown}");
    assert!(
        !shown.contains("p4ssw0rd-value") && !shown.contains("admin"),
        "{shown}"
    );
}

#[test]
fn c63_retry_after_accepts_seconds_and_http_dates() {
    use osb_types::RetryAfter;
    use std::time::{Duration, SystemTime};
    assert_eq!(" 3 ".parse::<RetryAfter>().unwrap(), RetryAfter::Seconds(3));
    assert_eq!(
        "99999999999999999999999".parse::<RetryAfter>().unwrap(),
        RetryAfter::Seconds(u64::MAX)
    );
    let date = "Sun, 06 Nov 1994 08:49:37 GMT".parse::<RetryAfter>().unwrap();
    let RetryAfter::Date(when) = date else {
        panic!("{date:?}")
    };
    assert_eq!(
        date.delay_from(when - Duration::from_secs(30)),
        Duration::from_secs(30)
    );
    assert_eq!(date.delay_from(SystemTime::now()), Duration::ZERO);
    assert_eq!(date.to_string(), "Sun, 06 Nov 1994 08:49:37 GMT");
    for bad in ["", "-1", "1.5", "soon"] {
        let err = bad.parse::<RetryAfter>().unwrap_err();
        assert!(matches!(err, Error::InvalidRetryAfter { .. }), "{bad:?}: {err}");
    }
    assert_eq!(RetryAfter::from(Duration::from_millis(1500)).to_string(), "2");
    assert_eq!(RetryAfter::from(Duration::from_secs(1)).to_string(), "1");
}
