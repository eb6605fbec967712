//! CHECKLIST A.8 Fetch binding: `GET …/service_bindings/:binding_id`.

use crate::support::*;

// ---- over sockets

#[tokio::test]
async fn a112_fetch_binding_returns_credentials_and_parameters() {
    library_checks(&["fetch.binding", "fetch.binding_unknown"]).await;
    let h = Harness::new().await;
    h.provision_sync("a112", "sync").await;
    let b = format!("{I}/a112/service_bindings/b");
    let res = h.put(&b, bind_body(json!({ "role": "reader" }))).await;
    assert_eq!(res.status, 201);
    let res = h.get(&b).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["credentials"]["uri"], "test://a112/b");
    assert_eq!(res.body["parameters"], json!({ "role": "reader" }));
    assert!(res.body.get("operation").is_none());
}
