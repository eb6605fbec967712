//! Regression tests for inputs found by the cargo-fuzz targets in `fuzz/` (one test per
//! finding, named after the target, with the minimised input inline).

use osb_types::{BindResponse, FetchBindingResponse};

/// `responses`: a bind response with a `parameters` object (unknown to `BindResponse`, so it
/// sits in `extra`) converted to a `FetchBindingResponse` kept it in `extra`, where it
/// collides with the typed `parameters` field: the JSON did not parse back to the same value.
#[test]
fn fuzz_responses_fetch_from_bind_parameters() {
    let bind: BindResponse = serde_json::from_str(r#"{"parameters":{}}"#).unwrap();
    let fetched = FetchBindingResponse::from(bind);
    assert_eq!(fetched.parameters, Some(serde_json::Map::new()));
    assert!(!fetched.extra.contains_key("parameters"));
    let json = serde_json::to_string(&fetched).unwrap();
    let back: FetchBindingResponse = serde_json::from_str(&json).unwrap();
    assert_eq!(back, fetched);

    // A non-object `parameters` cannot be the typed field (it would not parse back): it is
    // dropped, and the round trip still holds.
    let bind: BindResponse = serde_json::from_str(r#"{"parameters":1}"#).unwrap();
    let fetched = FetchBindingResponse::from(bind);
    assert_eq!(fetched.parameters, None);
    assert!(!fetched.extra.contains_key("parameters"));
    let back: FetchBindingResponse = serde_json::from_str(&serde_json::to_string(&fetched).unwrap()).unwrap();
    assert_eq!(back, fetched);
}
