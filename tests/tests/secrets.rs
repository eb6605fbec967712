//! Secrets never appear in logs or `Debug` output (issue 7 item 5).
//!
//! One test captures everything the broker and the client log at TRACE level while a full
//! provision + bind (with a password in the credentials) and a wrong-password request run,
//! and checks the text holds none of the secrets. The others format every type that holds a
//! secret with `{:?}`.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use osb_client::types::{BindRequest, ProvisionRequest};
use osb_client::{BindOutcome, Client};
use osb_examples::echo::EchoBroker;
use osb_server_mini::Server;
use osb_tests::echo_ids;
use osb_types::catalog::DashboardClient;
use osb_types::{BindResponse, Credentials, FetchBindingResponse};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

const USER: &str = "admin";
const BROKER_PASSWORD: &str = "pa55-SECRET-word";
const CREDENTIAL_PASSWORD: &str = "cred-SECRET-value";
const WRONG_PASSWORD: &str = "wrong-SECRET-pass";
const TOKEN: &str = "bearer-SECRET-token";

fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// Every secret of these tests, with the encodings a header would carry.
fn secrets() -> Vec<String> {
    vec![
        BROKER_PASSWORD.to_owned(),
        CREDENTIAL_PASSWORD.to_owned(),
        WRONG_PASSWORD.to_owned(),
        TOKEN.to_owned(),
        basic(USER, BROKER_PASSWORD),
        basic(USER, WRONG_PASSWORD),
        // The bare word, in case a secret is cut or re-encoded around it.
        "SECRET".to_owned(),
    ]
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for s in secrets() {
        assert!(!text.contains(&s), "{what} leaks `{s}`:\n{text}");
    }
}

/// A `MakeWriter` appending to a shared in-memory buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// The global TRACE subscriber of this test binary, writing into a buffer (the broker runs
/// on runtime worker threads, so a thread-local default would miss its events).
fn captured_logs() -> &'static Buffer {
    static LOGS: OnceLock<Buffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(FmtSpan::FULL)
            .with_writer(buffer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        buffer
    })
}

fn echo_server() -> Server<EchoBroker> {
    Server::new(EchoBroker::new("http://dash.test", Duration::from_millis(10)))
        .basic_auth(USER, BROKER_PASSWORD)
}

fn bind_request() -> BindRequest {
    BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL).with_parameters(
        json!({ "password": CREDENTIAL_PASSWORD })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_contain_secrets() {
    let logs = captured_logs();
    let broker = echo_server().spawn("127.0.0.1:0").await.expect("broker starts");
    let client = Client::builder(broker.url())
        .basic_auth(USER, BROKER_PASSWORD)
        .build()
        .expect("client");

    client.catalog().await.expect("catalog");
    let instance = client.instance("secret-instance");
    instance
        .provision(
            &ProvisionRequest::new(echo_ids::SERVICE, echo_ids::SMALL).with_org_space("org-1", "space-1"),
        )
        .await
        .expect("provision");
    let binding = instance.binding("secret-binding");
    let bound = binding.bind(&bind_request()).await.expect("bind");
    let BindOutcome::Created(created) = &bound else {
        panic!("expected 201 Created: {bound:?}");
    };
    // The secret really travels in the credentials, so its absence from the logs means something.
    assert_eq!(
        created.credentials.as_ref().unwrap()["echo"]["password"],
        CREDENTIAL_PASSWORD
    );
    let fetched = binding.get().await.expect("fetch binding");
    assert_eq!(
        fetched.credentials.as_ref().unwrap()["echo"]["password"],
        CREDENTIAL_PASSWORD
    );

    // A wrong password, through the client and raw.
    let wrong = Client::builder(broker.url())
        .basic_auth(USER, WRONG_PASSWORD)
        .build()
        .expect("client");
    let err = wrong.catalog().await.expect_err("401");
    assert_eq!(err.status(), Some(401), "{err}");
    let res = reqwest::Client::new()
        .put(format!(
            "{}/v2/service_instances/raw/service_bindings/raw",
            broker.url()
        ))
        .header("X-Broker-API-Version", "2.17")
        .header("Authorization", format!("Basic {}", basic(USER, WRONG_PASSWORD)))
        .header("Content-Type", "application/json")
        .body(
            json!({ "service_id": echo_ids::SERVICE, "plan_id": echo_ids::SMALL,
                    "parameters": { "password": CREDENTIAL_PASSWORD } })
            .to_string(),
        )
        .send()
        .await
        .expect("raw request");
    assert_eq!(res.status(), 401);

    broker.shutdown().await;
    let text = logs.text();
    // The capture works and sees the requests, so the test can fail.
    assert!(text.contains("osb_request"), "no request span captured:\n{text}");
    assert!(
        text.contains(r#"route="bind""#),
        "no bind request captured:\n{text}"
    );
    assert!(
        text.contains("request not authenticated"),
        "no auth failure captured:\n{text}"
    );
    assert_no_secret("the TRACE log", &text);
}

#[test]
fn client_debug_hides_basic_password_and_bearer_token() {
    let basic = Client::builder("http://127.0.0.1:1")
        .basic_auth(USER, BROKER_PASSWORD)
        .build()
        .expect("client");
    let debug = format!("{basic:?}");
    assert!(debug.contains(USER), "{debug}");
    assert_no_secret("Client (basic) Debug", &debug);
    assert_no_secret("Client (basic) Debug", &format!("{basic:#?}"));

    let bearer = Client::builder("http://127.0.0.1:1")
        .bearer_auth(TOKEN)
        .build()
        .expect("client");
    assert_no_secret("Client (bearer) Debug", &format!("{bearer:?}"));

    let builder = Client::builder("http://127.0.0.1:1").basic_auth(USER, BROKER_PASSWORD);
    assert_no_secret("ClientBuilder Debug", &format!("{builder:?}"));
    let builder = Client::builder("http://127.0.0.1:1").bearer_auth(TOKEN);
    assert_no_secret("ClientBuilder (bearer) Debug", &format!("{builder:?}"));
}

#[test]
fn server_and_auth_debug_hide_passwords() {
    let server = echo_server().basic_auth("ops", WRONG_PASSWORD);
    let debug = format!("{server:?}");
    assert!(debug.contains(USER), "{debug}");
    assert_no_secret("Server Debug", &debug);

    let auth = osb_server_mini::auth::BasicAuth::new(USER, BROKER_PASSWORD).user("ops", WRONG_PASSWORD);
    assert_no_secret("BasicAuth Debug", &format!("{auth:?}"));
    assert_no_secret("BasicAuth Debug", &format!("{auth:#?}"));
    let bearer = osb_server_mini::auth::BearerToken::new(TOKEN);
    assert_no_secret("BearerToken Debug", &format!("{bearer:?}"));
}

#[test]
fn credentials_and_responses_debug_hide_values() {
    let credentials = Credentials::from_value(json!({
        "uri": format!("postgres://u:{CREDENTIAL_PASSWORD}@db/x"),
        "password": CREDENTIAL_PASSWORD,
        "nested": { "password": CREDENTIAL_PASSWORD },
    }))
    .unwrap();
    let debug = format!("{credentials:?}");
    assert!(debug.contains("password"), "keys stay visible: {debug}");
    assert_no_secret("Credentials Debug", &debug);

    let bind = BindResponse {
        credentials: Some(credentials.clone()),
        ..BindResponse::default()
    };
    assert_no_secret("BindResponse Debug", &format!("{bind:?}"));
    assert_no_secret("BindResponse Debug", &format!("{bind:#?}"));

    let fetched = FetchBindingResponse {
        credentials: Some(credentials),
        ..FetchBindingResponse::default()
    };
    assert_no_secret("FetchBindingResponse Debug", &format!("{fetched:?}"));

    let dashboard = DashboardClient {
        id: "sso-client".into(),
        secret: BROKER_PASSWORD.into(),
        redirect_uri: Some("http://dash.test".into()),
        ..DashboardClient::default()
    };
    let debug = format!("{dashboard:?}");
    assert!(debug.contains("sso-client"), "{debug}");
    assert_no_secret("DashboardClient Debug", &debug);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_hide_secrets() {
    let broker = echo_server().spawn("127.0.0.1:0").await.expect("broker starts");

    // 401 for a wrong password.
    let wrong = Client::builder(broker.url())
        .basic_auth(USER, WRONG_PASSWORD)
        .build()
        .expect("client");
    let err = wrong.catalog().await.expect_err("401");
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(matches!(err, osb_client::Error::Broker { .. }), "{err:?}");
    assert_no_secret("Error (401) Debug", &format!("{err:?}"));
    assert_no_secret("Error (401) Display", &format!("{err}"));

    // 409 for a second bind of the same id with other (secret) parameters.
    let client = Client::builder(broker.url())
        .basic_auth(USER, BROKER_PASSWORD)
        .build()
        .expect("client");
    let instance = client.instance("err-instance");
    instance
        .provision(
            &ProvisionRequest::new(echo_ids::SERVICE, echo_ids::SMALL).with_org_space("org-1", "space-1"),
        )
        .await
        .expect("provision");
    let binding = instance.binding("err-binding");
    binding
        .bind(&BindRequest::new(echo_ids::SERVICE, echo_ids::SMALL))
        .await
        .expect("first bind");
    let err = binding.bind(&bind_request()).await.expect_err("conflicting bind");
    assert_eq!(err.status(), Some(409), "{err}");
    assert_no_secret("Error (409) Debug", &format!("{err:?}"));
    assert_no_secret("Error (409) Display", &format!("{err}"));

    broker.shutdown().await;
}
