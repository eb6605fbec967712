//! The derived file broker: typed parameters advertised as a draft-04 schema and enforced
//! before broker code runs; files stay inside the data directory whatever the instance id.

use osb_client::Client;
use osb_client::types::ProvisionRequest;
use osb_examples::file::FileBroker;
use osb_server_mini::Server;
use serde_json::json;

fn data_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("osb-file-broker-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn typed_parameters_are_advertised_and_enforced() {
    let dir = data_dir("params");
    let broker = FileBroker::new(&dir).unwrap();
    let running = Server::new(broker.clone()).spawn("127.0.0.1:0").await.unwrap();
    let client = Client::builder(running.url()).build().unwrap();

    let catalog = client.catalog().await.unwrap();
    let plan = &catalog.services[0].plans[0];
    let schema = plan
        .instance_create_schema()
        .expect("the plan advertises its parameter schema");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(schema["properties"]["content"]["type"], "string");
    catalog.validate().unwrap();

    let (service, plan) = (catalog.services[0].id.clone(), plan.id.clone());
    let bad = ProvisionRequest::new(service.clone(), plan.clone())
        .with_org_space("org-1", "space-1")
        .with_parameters(json!({ "content": 5 }).as_object().unwrap().clone());
    let err = client.instance("bad").provision(&bad).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        !broker.path_of("bad").exists(),
        "broker code ran with bad parameters"
    );

    let good = ProvisionRequest::new(service.clone(), plan.clone())
        .with_org_space("org-1", "space-1")
        .with_parameters(json!({ "content": "hello" }).as_object().unwrap().clone());
    client.instance("f1").provision(&good).await.unwrap();
    assert_eq!(std::fs::read_to_string(broker.path_of("f1")).unwrap(), "hello");

    let bound = client
        .instance("f1")
        .binding("b1")
        .bind(&osb_client::types::BindRequest::new(
            service.clone(),
            plan.clone(),
        ))
        .await
        .unwrap();
    let creds = match bound {
        osb_client::BindOutcome::Created(r) => r.credentials.unwrap(),
        other => panic!("expected 201, got {other:?}"),
    };
    assert_eq!(creds["path"], broker.path_of("f1").display().to_string());

    client.instance("f1").deprovision(service, plan).await.unwrap();
    assert!(!broker.path_of("f1").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn instance_ids_never_escape_the_data_directory() {
    let dir = data_dir("ids");
    let broker = FileBroker::new(&dir).unwrap();
    for id in ["..", "../../etc/passwd", "a/b", "x\\y", "."] {
        let path = broker.path_of(id);
        assert_eq!(
            path.parent().unwrap(),
            broker.dir(),
            "{id:?} -> {}",
            path.display()
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            !name.contains('/') && !name.contains('\\') && name != "..",
            "{name}"
        );
    }
    assert_ne!(
        broker.path_of("a/b"),
        broker.path_of("a%2Fb"),
        "distinct ids must map to distinct files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A provision request for the file broker's only plan with these parameters.
async fn file_provision(client: &Client, params: serde_json::Value) -> ProvisionRequest {
    let catalog = client.catalog().await.unwrap();
    let offering = &catalog.services[0];
    ProvisionRequest::new(offering.id.clone(), offering.plans[0].id.clone())
        .with_org_space("org-1", "space-1")
        .with_parameters(params.as_object().unwrap().clone())
}

#[tokio::test]
async fn a41_schema_valid_parameters_serde_refuses_get_400_before_broker_code() {
    let dir = data_dir("serde-invalid");
    let broker = FileBroker::new(&dir).unwrap();
    let running = Server::new(broker.clone()).spawn("127.0.0.1:0").await.unwrap();
    let client = Client::builder(running.url()).build().unwrap();

    // Both fields fit the advertised schema; `FileParams` refuses content longer than
    // `max_bytes` as it is decoded, which no JSON schema can say.
    let long = file_provision(&client, json!({ "content": "hello world", "max_bytes": 5 })).await;
    let err = client.instance("f-long").provision(&long).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(err.error_code().map(|c| c.as_str()), Some("BadRequest"), "{err}");
    assert_eq!(
        err.description(),
        Some("invalid parameters: `content` is 11 bytes, more than `max_bytes` (5)"),
        "{err}"
    );
    assert!(
        !broker.path_of("f-long").exists(),
        "broker code ran with parameters it cannot decode"
    );

    // Nothing was recorded either: the same id provisions afresh (201) once the content fits.
    let fits = file_provision(&client, json!({ "content": "hello", "max_bytes": 5 })).await;
    let outcome = client.instance("f-long").provision(&fits).await.unwrap();
    assert!(
        matches!(outcome, osb_client::ProvisionOutcome::Created(_)),
        "{outcome:?}"
    );
    assert_eq!(
        std::fs::read_to_string(broker.path_of("f-long")).unwrap(),
        "hello"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a41_typed_parameters_arrive_decoded() {
    let dir = data_dir("typed");
    let broker = FileBroker::new(&dir).unwrap();
    let running = Server::new(broker.clone()).spawn("127.0.0.1:0").await.unwrap();
    let client = Client::builder(running.url()).build().unwrap();

    // Absent parameters decode as `{}`: `content` defaults to empty.
    let catalog = client.catalog().await.unwrap();
    let (service, plan) = (
        catalog.services[0].id.clone(),
        catalog.services[0].plans[0].id.clone(),
    );
    let bare = ProvisionRequest::new(service, plan).with_org_space("org-1", "space-1");
    client.instance("f-bare").provision(&bare).await.unwrap();
    assert_eq!(std::fs::read_to_string(broker.path_of("f-bare")).unwrap(), "");

    let text = "x".repeat(70_000);
    let big = file_provision(&client, json!({ "content": text })).await;
    let err = client.instance("f-big").provision(&big).await.unwrap_err();
    assert_eq!(
        err.description(),
        Some("invalid parameters: `content` is 70000 bytes, more than `max_bytes` (65536)"),
        "the default limit applies when `max_bytes` is absent: {err}"
    );

    let exact = file_provision(&client, json!({ "content": "12345", "max_bytes": 5 })).await;
    client.instance("f-exact").provision(&exact).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(broker.path_of("f-exact")).unwrap(),
        "12345"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
