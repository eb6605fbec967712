//! The store conformance suite against every store in this crate (memory, a real SQLite
//! file), and what only the SQLite store does: durability across reopening, migration of an
//! older schema file, one process per file, a full database that fails writes whole and
//! works again once there is room.
#![cfg(all(feature = "test-util", feature = "sqlite"))]

use std::sync::Arc;

use osb_server_mini::store::{InstanceRecord, MemoryStore, SqliteStore, Store, Write, conformance};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("osb-store-{name}-{}-{}", std::process::id(), uuid()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn uuid() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

#[tokio::test]
async fn memory_store_passes_the_conformance_suite() {
    conformance::run_all(&MemoryStore::default()).await;
    conformance::run_racing(Arc::new(MemoryStore::default())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = temp_dir("conformance");
    let store = SqliteStore::open(dir.join("state.sqlite")).expect("open");
    conformance::run_all(&store).await;
    let racing = SqliteStore::open(dir.join("racing.sqlite")).expect("open");
    conformance::run_racing(Arc::new(racing)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn sqlite_records_survive_reopening_the_file() {
    let dir = temp_dir("reopen");
    let path = dir.join("state.sqlite");
    {
        let store = SqliteStore::open(&path).expect("open");
        let r = InstanceRecord::new("i-1".into(), "svc".into(), "plan".into());
        assert_eq!(store.insert_instance(&r).await.expect("insert"), Write::Done(1));
    }
    // The first store's writer thread may still be closing its connection.
    let store = loop {
        match SqliteStore::open(&path) {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    };
    let read = store
        .instance(&"i-1".into())
        .await
        .expect("read")
        .expect("the record survived");
    assert_eq!(read.version, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_second_process_cannot_open_the_same_file() {
    let dir = temp_dir("exclusive");
    let path = dir.join("state.sqlite");
    let _first = SqliteStore::open(&path).expect("open");
    let err = SqliteStore::open(&path).expect_err("the file is in use");
    assert!(err.to_string().contains("in use by another process"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_older_schema_file_is_migrated_when_opened() {
    let dir = temp_dir("migrate");
    let path = dir.join("state.sqlite");
    // A state file as schema version 1 wrote it: no lease columns, no tombstones.
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE instances (id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL);
             CREATE TABLE bindings (instance_id TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (instance_id, id));
             PRAGMA user_version = 1;
             PRAGMA application_id = 1330856481;",
        )
        .expect("v1 schema");
        let data = osb_server_mini::store::encode_record(&InstanceRecord::new(
            "old-1".into(),
            "svc".into(),
            "plan".into(),
        ))
        .expect("encode");
        conn.execute(
            "INSERT INTO instances (id, version, data) VALUES ('old-1', 7, ?1)",
            [data],
        )
        .expect("v1 row");
    }
    let store = SqliteStore::open(&path).expect("the v1 file opens and is migrated");
    let read = store
        .instance(&"old-1".into())
        .await
        .expect("read")
        .expect("the v1 record");
    assert_eq!((read.version, read.record.plan_id.as_str()), (7, "plan"));
    // What schema 2 added works on the migrated file.
    let t = osb_server_mini::store::Tombstone {
        instance_id: "old-1".into(),
        binding_id: Default::default(),
        operation: None,
        expires_at_ms: osb_server_mini::store::now_ms() + 60_000,
    };
    assert_eq!(
        store
            .remove_instance(&"old-1".into(), 7, Some(&t))
            .await
            .expect("remove"),
        Write::Done(8)
    );
    assert!(
        store
            .tombstone(&"old-1".into(), &Default::default())
            .await
            .expect("tombstone")
            .is_some()
    );
    assert!(
        store
            .expired_leases(0, None, 10)
            .await
            .expect("leases")
            .is_empty()
    );
    assert!(
        store
            .known_plans()
            .await
            .expect("the plans table exists")
            .is_empty(),
        "migration 3 added an empty plans table"
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, 3, "the file records the schema it was migrated to");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_file_with_a_newer_schema_or_of_another_application_is_refused() {
    let dir = temp_dir("newer");
    let newer = dir.join("newer.sqlite");
    rusqlite::Connection::open(&newer)
        .expect("sqlite")
        .execute_batch("PRAGMA user_version = 99;")
        .expect("pragma");
    let err = SqliteStore::open(&newer).expect_err("newer schema");
    assert!(err.to_string().contains("newer than this runtime"), "{err}");
    let other = dir.join("other.sqlite");
    rusqlite::Connection::open(&other)
        .expect("sqlite")
        .execute_batch("PRAGMA application_id = 42; CREATE TABLE t (x);")
        .expect("pragma");
    let err = SqliteStore::open(&other).expect_err("another application's file");
    assert!(err.to_string().contains("another application"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_full_database_fails_writes_whole_and_recovers_when_there_is_room() {
    let dir = temp_dir("full");
    let store = SqliteStore::open(dir.join("state.sqlite")).expect("open");
    let mut n = 0;
    // Fill the database up to a small cap.
    store.set_max_size(64 * 1024);
    let big = "x".repeat(2000);
    let failed = loop {
        let mut r = InstanceRecord::new(format!("fill-{n}").into(), "svc".into(), "plan".into());
        r.dashboard_url = Some(big.clone());
        match store.insert_instance(&r).await {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
        assert!(n < 10_000, "the size cap never took effect");
    };
    assert!(failed.to_string().contains("full"), "{failed}");
    assert!(
        store
            .instance(&format!("fill-{n}").into())
            .await
            .expect("read")
            .is_none(),
        "the failed write left nothing behind"
    );
    assert!(
        store.instance(&"fill-0".into()).await.expect("read").is_some(),
        "earlier records are intact"
    );
    store.set_max_size(1 << 30);
    let r = InstanceRecord::new(format!("fill-{n}").into(), "svc".into(), "plan".into());
    assert_eq!(
        store.insert_instance(&r).await.expect("room again"),
        Write::Done(1)
    );
    let _ = std::fs::remove_dir_all(dir);
}
