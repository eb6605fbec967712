//! A store that fails (a full SQLite file) gives 503 JSON answers; when the failure happens
//! before the broker is called, the broker's code did not run; the server recovers when the
//! store works again (issue 11).

use std::time::Duration;

use osb_server_mini::Server;
use osb_server_mini::store::SqliteStore;
use osb_tests::process::{Api, CrashDir, SMALL};
use osb_tests::{PASSWORD, USER};

#[tokio::test]
async fn a_full_store_answers_503_json_before_the_broker_runs_and_the_same_request_succeeds_once_it_has_room()
{
    let dir = CrashDir::new("store-full");
    let log = dir.call_log();
    let store = SqliteStore::open(dir.state()).expect("state file opens");
    let broker = osb_examples::echo::EchoBroker::new("http://dash.test", Duration::from_millis(50))
        .with_call_log(&log.path);
    let running = Server::new(broker)
        .basic_auth(USER, PASSWORD)
        .store(store.clone())
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts");
    let api = Api::new(running.url(), USER, PASSWORD);

    let (status, body) = api.provision("before", SMALL, false).await;
    assert_eq!(status, 201, "{body}");

    // Cap the file at its current size: new records stop fitting soon.
    store.set_max_size(1);
    let mut failed = None;
    for n in 0..2_000 {
        let id = format!("i-{n}");
        let (status, body) = api.provision(&id, SMALL, false).await;
        match status {
            201 => {}
            503 => {
                failed = Some((id, body));
                break;
            }
            other => panic!("PUT {id} on a full store: {other} {body}"),
        }
    }
    let (id, body) = failed.expect("a full store refused a new record");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert!(
        body["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    // The intent could not be recorded, so the broker was not called: nothing to leak.
    assert_eq!(log.count("provision", &id, ""), 0, "{:?}", log.lines());

    // Reads still answer while writes fail; the failed instance does not exist.
    let (status, body) = api.instance("before").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.instance(&id).await.0, 404);

    // Room again: the very same request succeeds, and the broker runs once.
    store.set_max_size(1 << 30);
    let (status, body) = api.provision(&id, SMALL, false).await;
    assert_eq!(status, 201, "the same PUT once the store has room: {body}");
    assert_eq!(log.count("provision", &id, ""), 1, "{:?}", log.lines());
    let (status, body) = api.instance(&id).await;
    assert_eq!(status, 200, "{body}");
    running.shutdown().await;
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("buffer")).into_owned()
    }
}

async fn start_warnings(store: Option<SqliteStore>) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut server = Server::new(osb_examples::echo::EchoBroker::new(
        "http://dash.test",
        Duration::from_millis(50),
    ));
    if let Some(store) = store {
        server = server.store(store);
    }
    let running = server.spawn("127.0.0.1:0").await.expect("server starts");
    running.shutdown().await;
    captured.text()
}

#[tokio::test]
async fn a_server_on_the_memory_store_warns_once_that_a_restart_forgets_every_record() {
    let memory = start_warnings(None).await;
    assert_eq!(
        memory.matches("a restart forgets every").count(),
        1,
        "one warning on the memory store: {memory}"
    );
    let dir = CrashDir::new("store-durable");
    let durable = start_warnings(Some(SqliteStore::open(dir.state()).expect("opens"))).await;
    assert!(
        !durable.contains("a restart forgets every"),
        "no such warning on SQLite: {durable}"
    );
}
