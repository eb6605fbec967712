//! The store conformance suite against a real PostgreSQL, and what only a shared store
//! does: writes racing from two stores (two replicas' pools), the per-instance locks with
//! expiry, migrations run by replicas starting at the same moment, a newer schema refused.
//!
//! Each test creates a database of its own on the server of `OSB_TEST_POSTGRES_URL`
//! (`eval "$(.ci/postgres.sh start)"`); without it the tests print that they were skipped,
//! and with `OSB_REQUIRE_POSTGRES=1` they fail instead.
#![cfg(all(feature = "test-util", feature = "postgres"))]

use std::sync::Arc;
use std::time::Duration;

use osb_server_mini::store::{
    InstanceRecord, POSTGRES_SCHEMA_VERSION, PostgresStore, Store, Write, conformance, postgres_test_database,
};

async fn store(url: &str) -> PostgresStore {
    PostgresStore::connect(url).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(url) = postgres_test_database("postgres_store_passes_the_conformance_suite").await else {
        return;
    };
    let s = store(&url).await;
    assert!(s.shared(), "a PostgreSQL store is shared by replicas");
    assert!(s.durable());
    s.ping().await.expect("ping");
    conformance::run_all(&s).await;
    let Some(racing) = postgres_test_database("postgres_store_passes_the_conformance_suite_racing").await
    else {
        return;
    };
    conformance::run_racing(Arc::new(store(&racing).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_racing_from_two_replicas_have_one_winner() {
    let Some(url) = postgres_test_database("writes_racing_from_two_replicas_have_one_winner").await else {
        return;
    };
    let (a, b) = (Arc::new(store(&url).await), Arc::new(store(&url).await));
    let mut tasks = Vec::new();
    for n in 0..32 {
        let s = if n % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        tasks.push(tokio::spawn(async move {
            let mut r = InstanceRecord::new("race".into(), "svc".into(), format!("plan-{n}").into());
            r.dashboard_url = Some(n.to_string());
            s.insert_instance(&r).await.expect("insert")
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.expect("task") != Write::Conflict {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one insert of 32 over two pools wins");
    let read = b.instance(&"race".into()).await.expect("read").expect("record");
    let mut tasks = Vec::new();
    for n in 0..32 {
        let s = if n % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let mut r = read.record.clone();
        r.dashboard_url = Some(format!("replace-{n}"));
        let v = read.version;
        tasks.push(tokio::spawn(async move {
            s.replace_instance(&r, v).await.expect("replace")
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.expect("task") != Write::Conflict {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one replace of version {} wins", read.version);
}

#[tokio::test]
async fn instance_locks_exclude_other_holders_and_expire() {
    let Some(url) = postgres_test_database("instance_locks_exclude_other_holders_and_expire").await else {
        return;
    };
    let (a, b) = (store(&url).await, store(&url).await);
    let long = Duration::from_secs(30);
    assert_eq!(
        a.try_lock("i-1", "a/1", "fp-a", long).await.expect("lock"),
        None,
        "taken"
    );
    assert_eq!(
        a.try_lock("i-1", "a/1", "fp-a", long).await.expect("lock"),
        None,
        "the holder takes it again (renewal)"
    );
    assert_eq!(
        b.try_lock("i-1", "b/1", "fp-b", long).await.expect("lock"),
        Some("fp-a".to_owned()),
        "another holder gets the holder's fingerprint"
    );
    assert_eq!(
        b.try_lock("i-2", "b/1", "fp-b", long).await.expect("lock"),
        None,
        "other instances are independent"
    );
    b.unlock("i-1", "b/1").await.expect("unlock");
    assert_eq!(
        b.try_lock("i-1", "b/2", "fp-b", long).await.expect("lock"),
        Some("fp-a".to_owned()),
        "only the holder can release a lock"
    );
    a.unlock("i-1", "a/1").await.expect("unlock");
    assert_eq!(
        b.try_lock("i-1", "b/2", "fp-b", long).await.expect("lock"),
        None,
        "released"
    );

    // A holder that crashed: its lock expires with its ttl.
    assert_eq!(
        a.try_lock("i-3", "a/9", "fp-a", Duration::from_millis(200))
            .await
            .expect("lock"),
        None
    );
    assert!(
        b.try_lock("i-3", "b/3", "fp-b", long)
            .await
            .expect("lock")
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        b.try_lock("i-3", "b/3", "fp-b", long).await.expect("lock"),
        None,
        "an expired lock is taken over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_the_schema_once() {
    let Some(url) = postgres_test_database("replicas_starting_together_migrate_the_schema_once").await else {
        return;
    };
    let connects: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for c in connects {
        stores.push(c.await.expect("task").expect("every replica starts"));
    }
    for s in &stores {
        assert_eq!(
            s.schema_version().await.expect("version"),
            POSTGRES_SCHEMA_VERSION
        );
    }
    let r = InstanceRecord::new("i-1".into(), "svc".into(), "plan".into());
    assert_eq!(
        stores[0].insert_instance(&r).await.expect("insert"),
        Write::Done(1)
    );
    assert!(stores[5].instance(&"i-1".into()).await.expect("read").is_some());
}

#[tokio::test]
async fn a_database_with_a_newer_schema_is_refused() {
    let Some(url) = postgres_test_database("a_database_with_a_newer_schema_is_refused").await else {
        return;
    };
    let s = store(&url).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute("INSERT INTO osb_schema_version (version) VALUES (99)")
        .await
        .expect("insert");
    drop(s);
    let err = PostgresStore::connect(&url).await.expect_err("newer schema");
    assert!(err.to_string().contains("newer than this runtime"), "{err}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_store_error_not_a_hang() {
    // Nothing listens on port 1: connecting fails at once.
    let started = std::time::Instant::now();
    let err = PostgresStore::connect("postgres://osb@127.0.0.1:1/osb")
        .await
        .expect_err("unreachable");
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
