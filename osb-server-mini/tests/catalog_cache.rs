//! Catalog caching (spec "Catalog Management", checklist A26): `ETag` and `Last-Modified`
//! on `GET /v2/catalog`, 304 to `If-None-Match` and `If-Modified-Since`, and a catalog
//! replaced while serving (validated first; instances of plans that disappeared keep
//! being served).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use osb_server_mini::catalog::CatalogHandle;
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, ServeError, Server};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Counting {
    deprovisions: Arc<AtomicUsize>,
}

fn catalog(plans: &[(&str, &str)], description: &str) -> Catalog {
    Catalog::new(vec![ServiceOffering::new(
        "svc",
        "cached",
        description,
        plans
            .iter()
            .map(|(id, name)| ServicePlan::new(*id, *name, "A plan"))
            .collect(),
    )])
}

impl Broker for Counting {
    fn catalog(&self) -> Catalog {
        catalog(&[("small", "small"), ("large", "large")], "A service")
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.deprovisions.fetch_add(1, Ordering::SeqCst);
        Ok(Deprovisioned::done())
    }
}

async fn start() -> (Running, CatalogHandle, Counting) {
    let broker = Counting::default();
    let server = Server::new(broker.clone()).basic_auth("admin", "secret");
    let handle = server.catalog_handle();
    let running = server.spawn("127.0.0.1:0").await.expect("server starts");
    (running, handle, broker)
}

fn get(running: &Running, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("{}{path}", running.url()))
        .basic_auth("admin", Some("secret"))
        .header("X-Broker-API-Version", "2.17")
}

/// A response body as JSON.
trait ToJson {
    fn to_json(&self) -> Value;
}

impl ToJson for bytes::Bytes {
    fn to_json(&self) -> Value {
        serde_json::from_slice(self).expect("a JSON body")
    }
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a26_catalog_carries_etag_and_last_modified_and_answers_304() {
    let (running, handle, _) = start().await;
    let res = get(&running, "/v2/catalog").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let etag = header(&res, "etag");
    let last_modified = header(&res, "last-modified");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "{etag}"
    );
    assert_eq!(handle.etag().as_deref(), Some(etag.as_str()));
    assert!(
        httpdate::parse_http_date(&last_modified).is_ok(),
        "{last_modified}"
    );
    let body = res.bytes().await.unwrap().to_json();
    assert_eq!(body["services"][0]["plans"].as_array().unwrap().len(), 2);

    // If-None-Match: the same tag (also weak, also in a list, also *) → 304 without a body.
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".to_owned(),
    ] {
        let res = get(&running, "/v2/catalog")
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304, "If-None-Match: {tag}");
        assert_eq!(header(&res, "etag"), etag);
        assert_eq!(header(&res, "last-modified"), last_modified);
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let res = get(&running, "/v2/catalog")
        .header("If-None-Match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "another tag gets the catalog");

    // If-Modified-Since: at or after Last-Modified → 304; before it → 200.
    let res = get(&running, "/v2/catalog")
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let res = get(&running, "/v2/catalog")
        .header("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.bytes().await.unwrap().is_empty());
    // An unparsable date is ignored; If-None-Match wins over If-Modified-Since.
    let res = get(&running, "/v2/catalog")
        .header("If-Modified-Since", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = get(&running, "/v2/catalog")
        .header("If-None-Match", "\"stale\"")
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Conditional headers do not bypass authentication or the version check.
    let res = reqwest::Client::new()
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a26_a_replaced_catalog_gets_a_new_etag_and_the_old_tag_no_longer_matches() {
    let (running, handle, _) = start().await;
    let res = get(&running, "/v2/catalog").send().await.unwrap();
    let old = header(&res, "etag");

    // The same catalog again keeps its tag.
    handle
        .replace(catalog(&[("small", "small"), ("large", "large")], "A service"))
        .unwrap();
    assert_eq!(handle.etag().as_deref(), Some(old.as_str()));

    handle
        .replace(catalog(
            &[("small", "small"), ("large", "large")],
            "A better description",
        ))
        .unwrap();
    let res = get(&running, "/v2/catalog")
        .header("If-None-Match", &old)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the old tag no longer matches");
    let new = header(&res, "etag");
    assert_ne!(new, old);
    let body = res.bytes().await.unwrap().to_json();
    assert_eq!(body["services"][0]["description"], "A better description");
    let res = get(&running, "/v2/catalog")
        .header("If-None-Match", &new)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn a26_a_bad_catalog_is_refused_and_the_old_one_keeps_serving() {
    let (running, handle, _) = start().await;
    let before = get(&running, "/v2/catalog").send().await.unwrap();
    let etag = header(&before, "etag");
    let before: Value = before.bytes().await.unwrap().to_json();

    // Two plans with one id: the catalog rules refuse it.
    let err = handle
        .replace(catalog(&[("p", "one"), ("p", "two")], "Broken"))
        .unwrap_err();
    assert!(matches!(err, ServeError::InvalidCatalog(_)), "{err}");
    // A plan schema that does not compile.
    let mut bad_schema = catalog(&[("small", "small")], "Bad schema");
    bad_schema.services[0].plans[0].schemas = Some(
        serde_json::from_value(json!({
            "service_instance": {"create": {"parameters": {"$schema": "http://json-schema.org/draft-04/schema#", "type": 12}}}
        }))
        .unwrap(),
    );
    let err = handle.replace(bad_schema).unwrap_err();
    assert!(matches!(err, ServeError::InvalidSchema { .. }), "{err}");

    let after = get(&running, "/v2/catalog").send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(header(&after, "etag"), etag);
    assert_eq!(after.bytes().await.unwrap().to_json(), before);
    // Provisioning still works against the old catalog.
    let res = reqwest::Client::new()
        .put(format!("{}/v2/service_instances/i-1", running.url()))
        .basic_auth("admin", Some("secret"))
        .header("X-Broker-API-Version", "2.17")
        .header("content-type", "application/json").body(serde_json::to_vec(&json!({"service_id": "svc", "plan_id": "large", "organization_guid": "o", "space_guid": "s"})).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a26_instances_of_a_removed_plan_keep_answering_and_no_new_ones_are_provisioned() {
    let (running, handle, broker) = start().await;
    let client = reqwest::Client::new();
    let provision = |id: &str, plan: &str| {
        client
            .put(format!("{}/v2/service_instances/{id}", running.url()))
            .basic_auth("admin", Some("secret"))
            .header("X-Broker-API-Version", "2.17")
            .header("content-type", "application/json").body(serde_json::to_vec(&json!({"service_id": "svc", "plan_id": plan, "organization_guid": "o", "space_guid": "s"})).unwrap())
            .send()
    };
    assert_eq!(provision("i-large", "large").await.unwrap().status(), 201);

    handle
        .replace(catalog(&[("small", "small")], "A service"))
        .unwrap();
    let body: Value = get(&running, "/v2/catalog")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_json();
    assert_eq!(body["services"][0]["plans"].as_array().unwrap().len(), 1);

    // No new instance of the removed plan.
    let res = provision("i-new", "large").await.unwrap();
    assert_eq!(res.status(), 400);
    let body = res.bytes().await.unwrap().to_json();
    assert!(body["description"].as_str().unwrap().contains("large"), "{body}");
    // The existing instance's last operation still answers, and it can be deprovisioned.
    let res = get(&running, "/v2/service_instances/i-large/last_operation")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .delete(format!(
            "{}/v2/service_instances/i-large?service_id=svc&plan_id=large",
            running.url()
        ))
        .basic_auth("admin", Some("secret"))
        .header("X-Broker-API-Version", "2.17")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(broker.deprovisions.load(Ordering::SeqCst), 1);
    // Putting the plan back makes it provisionable again.
    handle
        .replace(catalog(&[("small", "small"), ("large", "large")], "A service"))
        .unwrap();
    assert_eq!(provision("i-again", "large").await.unwrap().status(), 201);
}

#[tokio::test]
async fn a_handle_before_the_server_is_built_refuses_to_replace() {
    let server = Server::new(Counting::default());
    let handle = server.catalog_handle();
    assert!(handle.etag().is_none());
    let err = handle.replace(catalog(&[("small", "small")], "x")).unwrap_err();
    assert!(matches!(err, ServeError::NotServing), "{err}");
    drop(server);
}
