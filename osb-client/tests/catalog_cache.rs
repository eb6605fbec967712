//! The catalog cache (spec "Catalog Management": `ETag` and `If-Modified-Since`, RFC 9110
//! §13): a catalog sent with validators is revalidated, and `304 Not Modified` answers from
//! the kept catalog.

mod support;

use support::{Reply, Stub};

const V1: &str = r#"{"services":[{"id":"s1","name":"one","description":"d","bindable":false,
    "plans":[{"id":"p1","name":"small","description":"d"}]}]}"#;
const V2: &str = r#"{"services":[{"id":"s2","name":"two","description":"d","bindable":false,
    "plans":[{"id":"p2","name":"small","description":"d"}]}]}"#;
const DATE: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

#[tokio::test]
async fn catalog_is_revalidated_with_if_none_match_and_if_modified_since() {
    let stub = Stub::script(vec![
        Reply::json(200, V1)
            .header("etag", "\"v1\"")
            .header("last-modified", DATE),
        Reply::json(304, "").header("etag", "\"v1\""),
        Reply::json(200, V2).header("etag", "\"v2\""),
        Reply::json(304, ""),
    ])
    .await;
    let client = stub.client().build().unwrap();
    let first = client.catalog().await.unwrap();
    assert_eq!(first.services[0].name, "one");
    // a clone shares the cache
    let again = client.clone().catalog().await.unwrap();
    assert_eq!(again, first, "304: the kept catalog");
    let changed = client.catalog().await.unwrap();
    assert_eq!(changed.services[0].name, "two");
    let kept = client.catalog().await.unwrap();
    assert_eq!(kept, changed);

    let r = stub.requests();
    assert_eq!(r.len(), 4);
    assert_eq!(r[0].header("if-none-match"), None);
    assert_eq!(r[0].header("if-modified-since"), None);
    assert_eq!(r[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(r[1].header("if-modified-since"), Some(DATE));
    assert_eq!(r[2].header("if-none-match"), Some("\"v1\""));
    assert_eq!(r[3].header("if-none-match"), Some("\"v2\""));
    assert_eq!(
        r[3].header("if-modified-since"),
        None,
        "the new catalog had no date"
    );
}

#[tokio::test]
async fn catalog_without_validators_is_not_kept_and_a_stray_304_is_an_error() {
    let stub = Stub::script(vec![Reply::json(200, V1), Reply::json(304, "")]).await;
    let client = stub.client().build().unwrap();
    client.catalog().await.unwrap();
    let err = client.catalog().await.unwrap_err();
    assert_eq!(err.status(), Some(304), "{err}");
    let r = stub.requests();
    assert_eq!(r[1].header("if-none-match"), None);
    assert_eq!(r[1].header("if-modified-since"), None);
}

#[tokio::test]
async fn catalog_cache_is_per_api_version() {
    let stub = Stub::script(vec![
        Reply::json(200, V1).header("etag", "\"v1\""),
        Reply::json(200, V1).header("etag", "\"v1\""),
    ])
    .await;
    let client = stub.client().build().unwrap();
    client.catalog().await.unwrap();
    let older = client
        .with_api_version(osb_client::types::ApiVersion::V2_14)
        .unwrap();
    older.catalog().await.unwrap();
    assert_eq!(stub.requests()[1].header("if-none-match"), None);
}
