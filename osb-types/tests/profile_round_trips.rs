//! Property-style round trips of the context profile and the originating identity, including
//! unknown platforms and unknown fields (CHECKLIST C, A8).

use osb_types::OriginatingIdentity;
use osb_types::context::{CloudFoundryContext, Context, KubernetesContext};
use osb_types::identity::{CloudFoundryIdentity, KubernetesIdentity};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields: keys that no profile type defines (prefixed like vendor extensions).
fn unknown_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x-[a-z]{1,8}", json_value(), 0..4).prop_map(|m| m.into_iter().collect())
}

fn opt_string() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[ -~]{1,16}")
}

fn annotations() -> impl Strategy<Value = Option<Map<String, Value>>> {
    prop::option::of(
        prop::collection::btree_map(
            "[a-z.]{1,8}/[a-z]{1,6}",
            "[ -~]{0,8}".prop_map(Value::String),
            0..3,
        )
        .prop_map(|m| m.into_iter().collect()),
    )
}

fn cf_context() -> impl Strategy<Value = Context> {
    (
        (opt_string(), opt_string(), annotations(), opt_string()),
        (opt_string(), annotations(), opt_string(), annotations()),
        unknown_fields(),
    )
        .prop_map(|((og, on, oa, sg), (sn, sa, inn, ia), extra)| {
            Context::CloudFoundry(CloudFoundryContext {
                organization_guid: og,
                organization_name: on,
                organization_annotations: oa,
                space_guid: sg,
                space_name: sn,
                space_annotations: sa,
                instance_name: inn,
                instance_annotations: ia,
                extra,
            })
        })
}

fn k8s_context() -> impl Strategy<Value = Context> {
    (
        opt_string(),
        annotations(),
        annotations(),
        opt_string(),
        opt_string(),
        unknown_fields(),
    )
        .prop_map(|(namespace, na, ia, clusterid, instance_name, extra)| {
            Context::Kubernetes(KubernetesContext {
                namespace,
                namespace_annotations: na,
                instance_annotations: ia,
                clusterid,
                instance_name,
                extra,
            })
        })
}

proptest! {
    #[test]
    fn c_typed_contexts_round_trip(ctx in prop_oneof![cf_context(), k8s_context()]) {
        let json = serde_json::to_value(&ctx).unwrap();
        prop_assert_eq!(json["platform"].as_str(), ctx.platform());
        let back: Context = serde_json::from_value(json.clone()).unwrap();
        prop_assert_eq!(&back, &ctx);
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }

    #[test]
    fn c_unknown_platform_context_round_trips_unchanged(
        platform in "[a-z]{1,10}".prop_filter("not a typed platform", |p| p != "cloudfoundry" && p != "kubernetes"),
        fields in unknown_fields(),
        props in prop::collection::btree_map("[a-z_]{1,8}", json_value(), 0..4),
    ) {
        let mut obj: Map<String, Value> = props.into_iter().collect();
        obj.extend(fields);
        obj.insert("platform".into(), Value::String(platform.clone()));
        let json = Value::Object(obj);
        let ctx: Context = serde_json::from_value(json.clone()).unwrap();
        prop_assert!(matches!(ctx, Context::Other(_)));
        prop_assert_eq!(ctx.platform(), Some(platform.as_str()));
        prop_assert_eq!(serde_json::to_value(&ctx).unwrap(), json);
    }

    #[test]
    fn c_originating_identity_round_trips_through_the_header(
        which in 0..3u8,
        user in "[ -~]{1,20}",
        groups in prop::option::of(prop::collection::vec("[a-z]{1,6}", 0..3)),
        extra in unknown_fields(),
        platform in "[a-z]{1,10}".prop_filter("not a typed platform", |p| p != "cloudfoundry" && p != "kubernetes"),
    ) {
        let id = match which {
            0 => OriginatingIdentity::CloudFoundry(CloudFoundryIdentity { user_id: Some(user), extra }),
            1 => OriginatingIdentity::Kubernetes(KubernetesIdentity {
                username: Some(user.clone()),
                uid: Some(user),
                groups,
                extra: Some([("k".to_owned(), vec!["v".to_owned()])].into_iter().collect()),
                unknown: extra,
            }),
            _ => OriginatingIdentity::Other { platform, value: extra },
        };
        let header = id.to_header_value();
        let prefix = format!("{} ", id.platform());
        prop_assert!(header.starts_with(&prefix));
        prop_assert_eq!(header.parse::<OriginatingIdentity>().unwrap(), id);
    }

    #[test]
    fn garbage_identity_headers_never_panic(s in ".{0,64}") {
        let _ = s.parse::<OriginatingIdentity>();
    }
}

#[test]
fn c_context_with_wrong_typed_property_is_an_error() {
    let err =
        serde_json::from_value::<Context>(json!({ "platform": "kubernetes", "namespace": 5 })).unwrap_err();
    assert!(err.to_string().contains("invalid kubernetes context"), "{err}");
}

#[test]
fn a8_unknown_fields_are_kept_everywhere() {
    let body = json!({
        "service_id": "s", "plan_id": "p", "x-acme-foo": 1,
        "context": { "platform": "cloudfoundry", "x-acme-foo": 2 },
        "maintenance_info": { "version": "1.0.0", "x-acme-foo": 3 }
    });
    let req: osb_types::ProvisionRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(req.extra["x-acme-foo"], 1);
    assert_eq!(serde_json::to_value(&req).unwrap(), body);
}

#[test]
fn typed_parameters_decode_and_default_to_empty_object() {
    #[derive(serde::Deserialize, Debug, PartialEq, Default)]
    struct P {
        #[serde(default)]
        size: u32,
    }
    let req: osb_types::ProvisionRequest =
        serde_json::from_value(json!({ "service_id": "s", "plan_id": "p", "parameters": { "size": 3 } }))
            .unwrap();
    assert_eq!(req.parameters_as::<P>().unwrap(), P { size: 3 });
    let bare = osb_types::ProvisionRequest::new("s", "p");
    assert_eq!(bare.parameters_as::<P>().unwrap(), P::default());
    let bad: osb_types::BindRequest =
        serde_json::from_value(json!({ "service_id": "s", "plan_id": "p", "parameters": { "size": "x" } }))
            .unwrap();
    assert!(
        bad.parameters_as::<P>()
            .unwrap_err()
            .to_string()
            .contains("invalid type")
    );
}
