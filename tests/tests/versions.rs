//! CHECKLIST part V through the real client and server: per-version gating and 412.

use osb_client::Error;
use osb_client::types::{BindRequest, RotateBindingRequest};
use osb_tests::e2e::{client_v, from_json};
use osb_tests::{echo_ids, echo_server};
use osb_types::ApiVersion;
use serde_json::json;

const VERSIONS: [ApiVersion; 7] = [
    ApiVersion::V2_11,
    ApiVersion::V2_12,
    ApiVersion::V2_13,
    ApiVersion::V2_14,
    ApiVersion::V2_15,
    ApiVersion::V2_16,
    ApiVersion::V2_17,
];

fn unsupported(e: &Error) -> bool {
    matches!(e, Error::Unsupported { .. })
}

#[tokio::test]
async fn v3_v15_v18_each_version_gates_get_async_bind_and_rotation() {
    let running = echo_server()
        .min_api_version(ApiVersion::V2_11)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    for v in VERSIONS {
        let c = client_v(&running, v);
        let catalog = c.catalog().await.unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(catalog.services[0].id.as_str(), echo_ids::SERVICE, "{v}");
        let i = c.instance(format!("inst-{}", v.minor));
        let req = from_json(json!({
            "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL,
            "organization_guid": "org", "space_guid": "space"
        }));
        i.provision(&req)
            .await
            .unwrap_or_else(|e| panic!("{v}: provision {e}"));
        let b = i.binding("b-1");
        b.bind(&BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL))
            .await
            .unwrap_or_else(|e| panic!("{v}: bind {e}"));
        let fetch_i = i.get().await;
        let fetch_b = b.get().await;
        let rotate = i.binding("b-2").rotate(&RotateBindingRequest::new("b-1")).await;
        if v < ApiVersion::V2_14 {
            assert!(fetch_i.as_ref().is_err_and(unsupported), "{v}: {fetch_i:?}");
            assert!(fetch_b.as_ref().is_err_and(unsupported), "{v}: {fetch_b:?}");
            let lo = b
                .last_operation(&Default::default())
                .await
                .expect_err("binding last_operation gated");
            assert!(unsupported(&lo), "{v}: {lo:?}");
        } else {
            fetch_i.unwrap_or_else(|e| panic!("{v}: fetch instance {e}"));
            fetch_b.unwrap_or_else(|e| panic!("{v}: fetch binding {e}"));
        }
        if v < ApiVersion::V2_17 {
            assert!(rotate.as_ref().is_err_and(unsupported), "{v}: {rotate:?}");
        } else {
            // The echo plan is not binding_rotatable: the broker refuses, but the request was sent.
            let e = rotate.expect_err("echo plans are not rotatable");
            assert!(e.status().is_some(), "2.17 sends the rotation: {e:?}");
        }
    }
}

#[tokio::test]
async fn v23_server_with_min_2_15_answers_412_to_a_2_14_client_with_description() {
    let running = echo_server()
        .min_api_version(ApiVersion::V2_15)
        .spawn("127.0.0.1:0")
        .await
        .expect("spawn");
    let e = client_v(&running, ApiVersion::V2_14)
        .catalog()
        .await
        .expect_err("412");
    assert_eq!(e.status(), Some(412), "{e:?}");
    assert!(e.is_version_mismatch());
    assert!(
        e.description().is_some_and(|d| !d.is_empty()),
        "the broker's description reaches the caller: {e:?}"
    );
    assert!(e.to_string().contains(e.description().unwrap_or("")));
    client_v(&running, ApiVersion::V2_15)
        .catalog()
        .await
        .expect("2.15 accepted");
}
