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
        .with_parameters(json!({ "content": 5 }).as_object().unwrap().clone());
    let err = client.instance("bad").provision(&bad).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(
        !broker.path_of("bad").exists(),
        "broker code ran with bad parameters"
    );

    let good = ProvisionRequest::new(service.clone(), plan.clone())
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
