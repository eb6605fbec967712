//! The client's tracing spans (issue 15): each call runs in an `osb_call` span naming its
//! method, route, ids, request identity, attempt and status; polling in `osb_wait`, orphan
//! mitigation in `osb_orphan_mitigation`. One test per file: a subscriber set for one thread
//! must not race other tests over tracing's callsite cache.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_client::WaitOptions;
use support::{Reply, Stub};

/// The identity the stub broker logged for request `n`.
fn logged(stub: &Stub, n: usize) -> String {
    stub.requests()[n]
        .header("x-broker-api-request-identity")
        .expect("the request carries an identity")
        .to_owned()
}

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn b_each_call_polling_and_mitigation_run_in_named_spans() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let stub = Stub::start(|r, _| match (r.method.as_str(), r.path.as_str()) {
        ("PUT", _) => Reply::json(202, r#"{"operation":"op-1"}"#),
        ("GET", p) if p.ends_with("/last_operation") => Reply::json(200, r#"{"state":"failed"}"#),
        _ => Reply::json(200, "{}"),
    })
    .await;
    let client = stub.client().build().unwrap();
    let inst = client.instance("inst-7").binding("bind-9");
    let out = inst
        .bind(&osb_client::types::BindRequest::new("s", "p"))
        .await
        .unwrap();
    let opts = WaitOptions::default().interval(Duration::from_millis(5));
    inst.wait_with(&out, &opts).await.unwrap_err();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let put = logged(&stub, 0);
    let bind_line = text
        .lines()
        .find(|l| l.contains("osb response") && l.contains("route=\"bind\""))
        .unwrap_or_else(|| panic!("no bind call span in:\n{text}"));
    for field in [
        "method=PUT".to_owned(),
        "instance_id=\"inst-7\"".to_owned(),
        "binding_id=\"bind-9\"".to_owned(),
        format!("request_identity=\"{put}\""),
        "attempt=1".to_owned(),
        "status=202".to_owned(),
    ] {
        assert!(bind_line.contains(&field), "{field} missing in {bind_line}");
    }
    let poll_line = text
        .lines()
        .find(|l| l.contains("osb response") && l.contains("route=\"binding_last_operation\""))
        .unwrap_or_else(|| panic!("no poll span in:\n{text}"));
    assert!(poll_line.contains("osb_wait{kind=bind"), "{poll_line}");
    assert!(poll_line.contains("operation=\"op-1\""), "{poll_line}");
    let unbind_line = text
        .lines()
        .find(|l| l.contains("osb response") && l.contains("route=\"unbind\""))
        .unwrap_or_else(|| panic!("no mitigation span in:\n{text}"));
    assert!(unbind_line.contains("osb_orphan_mitigation{"), "{unbind_line}");
    assert!(unbind_line.contains("method=DELETE"), "{unbind_line}");
}
