//! The conformance suite every [`Store`] must pass (cargo feature `test-util`).
//!
//! Run it from a test against a fresh, empty store:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use osb_server_mini::store::{MemoryStore, conformance};
//! conformance::run_all(&MemoryStore::default()).await;
//! # }
//! ```
//!
//! Each check panics with a message naming the rule the store broke.

use std::sync::Arc;

use osb_types::{BindingId, OperationId, OperationState};

use super::{
    BindingRecord, InstanceRecord, Intent, KnownPlan, Lease, LeaseKey, OperationKind, OperationRecord,
    ResourceState, Store, Tombstone, Write, now_ms,
};

/// Runs every check on `store`, which must be empty. Ids are prefixed so that the checks do
/// not see each other's records.
pub async fn run_all<S: Store>(store: &S) {
    round_trip(store).await;
    insert_if_absent(store).await;
    replace_if_version(store).await;
    bindings_per_instance(store).await;
    remove_with_tombstones(store).await;
    tombstone_expiry(store).await;
    expired_leases(store).await;
    known_plans(store).await;
}

/// Runs the racing-writes check: it needs a store shared between tasks.
pub async fn run_racing<S: Store>(store: Arc<S>) {
    racing_inserts(Arc::clone(&store)).await;
    racing_replaces(store).await;
}

fn instance(id: &str) -> InstanceRecord {
    InstanceRecord::new(id.into(), "svc".into(), "plan".into())
}

fn done(w: Write, what: &str) -> u64 {
    match w {
        Write::Done(v) => v,
        Write::Conflict => panic!("{what}: expected the write to succeed, the store answered Conflict"),
    }
}

/// Every field of a record survives a write and a read.
pub async fn round_trip<S: Store>(store: &S) {
    let mut r = instance("rt-1");
    r.parameters = Some(serde_json::from_value(serde_json::json!({"size": 3})).expect("params"));
    r.context = Some(osb_types::Context::kubernetes("ns", "cluster"));
    r.dashboard_url = Some("https://dash/rt-1".into());
    r.state = ResourceState::Creating;
    let mut op = OperationRecord::new(
        OperationId::new("op-1"),
        OperationKind::Provision,
        serde_json::json!({"a": 1}),
    );
    op.retry_after = Some(std::time::Duration::from_millis(1500));
    op.description = Some("50%".into());
    op.lease = Some(Lease {
        owner: "me".into(),
        until_ms: now_ms() + 60_000,
    });
    r.operation = Some(op);
    done(store.insert_instance(&r).await.expect("insert"), "insert");
    let read = store
        .instance(&"rt-1".into())
        .await
        .expect("read")
        .expect("the record");
    assert_eq!(read.record, r, "a record reads back as written");
    assert_eq!(read.version, 1, "a new record has version 1");

    let mut b = BindingRecord::new("rt-1".into(), "b-1".into(), "svc".into(), "plan".into());
    b.response = Some(osb_types::BindResponse {
        credentials: osb_types::Credentials::from_value(serde_json::json!({"password": "s3cret"})),
        ..Default::default()
    });
    b.request = serde_json::json!({"service_id": "svc"});
    done(
        store.insert_binding(&b).await.expect("insert binding"),
        "insert binding",
    );
    let read = store
        .binding(&"rt-1".into(), &"b-1".into())
        .await
        .expect("read")
        .expect("the binding");
    assert_eq!(
        read.record, b,
        "a binding (credentials included) reads back as written"
    );
}

/// `insert_*` writes only when no record has the id.
pub async fn insert_if_absent<S: Store>(store: &S) {
    let r = instance("ins-1");
    done(store.insert_instance(&r).await.expect("insert"), "first insert");
    let mut other = instance("ins-1");
    other.plan_id = "other".into();
    assert_eq!(
        store.insert_instance(&other).await.expect("insert"),
        Write::Conflict,
        "a second insert of an id is a Conflict"
    );
    let read = store
        .instance(&"ins-1".into())
        .await
        .expect("read")
        .expect("record");
    assert_eq!(read.record.plan_id, "plan", "the losing insert changed nothing");
}

/// `replace_*` and `remove_*` write only when the version is the one read.
pub async fn replace_if_version<S: Store>(store: &S) {
    let mut r = instance("rep-1");
    let v1 = done(store.insert_instance(&r).await.expect("insert"), "insert");
    r.state = ResourceState::Updating;
    let v2 = done(store.replace_instance(&r, v1).await.expect("replace"), "replace");
    assert!(v2 > v1, "a write increases the version ({v1} -> {v2})");
    r.state = ResourceState::Ready;
    assert_eq!(
        store.replace_instance(&r, v1).await.expect("replace"),
        Write::Conflict,
        "a replace naming a stale version is a Conflict"
    );
    assert_eq!(
        store
            .replace_instance(&instance("rep-absent"), 1)
            .await
            .expect("replace"),
        Write::Conflict,
        "a replace of an absent record is a Conflict"
    );
    let read = store
        .instance(&"rep-1".into())
        .await
        .expect("read")
        .expect("record");
    assert_eq!((read.version, read.record.state), (v2, ResourceState::Updating));
    assert_eq!(
        store
            .remove_instance(&"rep-1".into(), v1, None)
            .await
            .expect("remove"),
        Write::Conflict,
        "a remove naming a stale version is a Conflict"
    );
    done(
        store
            .remove_instance(&"rep-1".into(), v2, None)
            .await
            .expect("remove"),
        "remove",
    );
    assert!(store.instance(&"rep-1".into()).await.expect("read").is_none());
    let v = done(store.insert_instance(&r).await.expect("insert"), "insert again");
    assert_eq!(v, 1, "an id created again starts at version 1");

    let mut b = BindingRecord::new("rep-1".into(), "b".into(), "svc".into(), "plan".into());
    let bv1 = done(store.insert_binding(&b).await.expect("insert"), "insert binding");
    b.state = ResourceState::Deleting;
    let bv2 = done(
        store.replace_binding(&b, bv1).await.expect("replace"),
        "replace binding",
    );
    assert_eq!(
        store.replace_binding(&b, bv1).await.expect("replace"),
        Write::Conflict,
        "a binding replace naming a stale version is a Conflict"
    );
    assert_eq!(
        store
            .remove_binding(&"rep-1".into(), &"b".into(), bv1, None)
            .await
            .expect("remove"),
        Write::Conflict
    );
    done(
        store
            .remove_binding(&"rep-1".into(), &"b".into(), bv2, None)
            .await
            .expect("remove"),
        "remove binding",
    );
    assert!(
        store
            .binding(&"rep-1".into(), &"b".into())
            .await
            .expect("read")
            .is_none()
    );
}

/// `bindings` lists exactly one instance's bindings.
pub async fn bindings_per_instance<S: Store>(store: &S) {
    for (i, b) in [("bpi-1", "x"), ("bpi-1", "y"), ("bpi-2", "x"), ("bpi-10", "z")] {
        done(
            store
                .insert_binding(&BindingRecord::new(
                    i.into(),
                    b.into(),
                    "svc".into(),
                    "plan".into(),
                ))
                .await
                .expect("insert"),
            "insert binding",
        );
    }
    let mut ids: Vec<String> = store
        .bindings(&"bpi-1".into())
        .await
        .expect("bindings")
        .into_iter()
        .map(|v| v.record.id.as_str().to_owned())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["x", "y"],
        "only the bindings of bpi-1 (not bpi-10's, not bpi-2's)"
    );
    assert!(
        store
            .bindings(&"bpi-3".into())
            .await
            .expect("bindings")
            .is_empty()
    );
}

/// Removing an instance removes its bindings and, with a tombstone, records one for each;
/// creating the id again forgets it.
pub async fn remove_with_tombstones<S: Store>(store: &S) {
    let v = done(
        store.insert_instance(&instance("tomb-1")).await.expect("insert"),
        "insert",
    );
    for b in ["b1", "b2"] {
        done(
            store
                .insert_binding(&BindingRecord::new(
                    "tomb-1".into(),
                    b.into(),
                    "svc".into(),
                    "plan".into(),
                ))
                .await
                .expect("insert"),
            "insert binding",
        );
    }
    let t = Tombstone {
        instance_id: "tomb-1".into(),
        binding_id: BindingId::default(),
        operation: Some(OperationId::new("op-del")),
        expires_at_ms: now_ms() + 60_000,
    };
    done(
        store
            .remove_instance(&"tomb-1".into(), v, Some(&t))
            .await
            .expect("remove"),
        "remove",
    );
    assert!(
        store
            .bindings(&"tomb-1".into())
            .await
            .expect("bindings")
            .is_empty(),
        "bindings removed with the instance"
    );
    let gone = store
        .tombstone(&"tomb-1".into(), &BindingId::default())
        .await
        .expect("tombstone")
        .expect("the instance's tombstone");
    assert_eq!(gone.operation.as_ref().map(OperationId::as_str), Some("op-del"));
    for b in ["b1", "b2"] {
        assert!(
            store
                .tombstone(&"tomb-1".into(), &b.into())
                .await
                .expect("tombstone")
                .is_some(),
            "a tombstone for binding {b}"
        );
    }
    done(
        store.insert_instance(&instance("tomb-1")).await.expect("insert"),
        "insert again",
    );
    assert!(
        store
            .tombstone(&"tomb-1".into(), &BindingId::default())
            .await
            .expect("tombstone")
            .is_none(),
        "creating the id again forgets its tombstone"
    );
    let bv = done(
        store
            .insert_binding(&BindingRecord::new(
                "tomb-1".into(),
                "b3".into(),
                "svc".into(),
                "plan".into(),
            ))
            .await
            .expect("insert"),
        "insert binding",
    );
    let mut tb = t.clone();
    tb.binding_id = "b3".into();
    done(
        store
            .remove_binding(&"tomb-1".into(), &"b3".into(), bv, Some(&tb))
            .await
            .expect("remove"),
        "remove binding",
    );
    assert!(
        store
            .tombstone(&"tomb-1".into(), &"b3".into())
            .await
            .expect("tombstone")
            .is_some()
    );
}

/// Expired tombstones are not answered and are purged.
pub async fn tombstone_expiry<S: Store>(store: &S) {
    let v = done(
        store.insert_instance(&instance("exp-1")).await.expect("insert"),
        "insert",
    );
    let t = Tombstone {
        instance_id: "exp-1".into(),
        binding_id: BindingId::default(),
        operation: None,
        expires_at_ms: now_ms().saturating_sub(1_000),
    };
    done(
        store
            .remove_instance(&"exp-1".into(), v, Some(&t))
            .await
            .expect("remove"),
        "remove",
    );
    assert!(
        store
            .tombstone(&"exp-1".into(), &BindingId::default())
            .await
            .expect("tombstone")
            .is_none(),
        "an expired tombstone is not answered"
    );
    let purged = store.purge_tombstones(now_ms()).await.expect("purge");
    assert!(purged >= 1, "the expired tombstone is purged (purged {purged})");
}

/// Work whose lease expired (or, for a store one process owns, belongs to another owner)
/// is listed; live work is not.
pub async fn expired_leases<S: Store>(store: &S) {
    let now = now_ms();
    let with_intent = |id: &str, owner: &str, until_ms: u64| {
        let mut r = instance(id);
        r.state = ResourceState::Creating;
        r.intent = Some(Intent {
            kind: OperationKind::Provision,
            request: serde_json::Value::Null,
            lease: Lease {
                owner: owner.into(),
                until_ms,
            },
            previous_state: None,
            accepts_incomplete: false,
        });
        r
    };
    done(
        store
            .insert_instance(&with_intent("lease-old", "a", now - 10))
            .await
            .expect("insert"),
        "insert",
    );
    done(
        store
            .insert_instance(&with_intent("lease-live", "a", now + 60_000))
            .await
            .expect("insert"),
        "insert",
    );
    done(
        store
            .insert_instance(&with_intent("lease-mine", "me", now + 60_000))
            .await
            .expect("insert"),
        "insert",
    );
    let mut b = BindingRecord::new("lease-live".into(), "b".into(), "svc".into(), "plan".into());
    let mut op = OperationRecord::new(
        OperationId::new("op"),
        OperationKind::Bind,
        serde_json::Value::Null,
    );
    op.lease = Some(Lease {
        owner: "a".into(),
        until_ms: now - 10,
    });
    b.operation = Some(op.clone());
    let bv = done(store.insert_binding(&b).await.expect("insert"), "insert binding");

    let keys = store.expired_leases(now, None, 100).await.expect("leases");
    assert!(keys.contains(&LeaseKey::Instance("lease-old".into())), "{keys:?}");
    assert!(
        keys.contains(&LeaseKey::Binding("lease-live".into(), "b".into())),
        "{keys:?}"
    );
    assert!(
        !keys.contains(&LeaseKey::Instance("lease-live".into())),
        "a live lease is not listed: {keys:?}"
    );

    let keys = store.expired_leases(now, Some("me"), 100).await.expect("leases");
    assert!(
        keys.contains(&LeaseKey::Instance("lease-live".into())),
        "other owners' work is listed: {keys:?}"
    );
    assert!(
        !keys.contains(&LeaseKey::Instance("lease-mine".into())),
        "my own live work is not: {keys:?}"
    );

    // A finished operation has no lease to recover.
    op.state = OperationState::Succeeded;
    b.operation = Some(op);
    done(
        store.replace_binding(&b, bv).await.expect("replace"),
        "replace binding",
    );
    let keys = store.expired_leases(now, None, 100).await.expect("leases");
    assert!(
        !keys.contains(&LeaseKey::Binding("lease-live".into(), "b".into())),
        "{keys:?}"
    );
}

/// Of 32 concurrent inserts of one id, exactly one succeeds.
pub async fn racing_inserts<S: Store>(store: Arc<S>) {
    let mut tasks = Vec::new();
    for n in 0..32 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut r = instance("race-ins");
            r.plan_id = format!("plan-{n}").into();
            (n, store.insert_instance(&r).await.expect("insert"))
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (n, w) = t.await.expect("task");
        if w != Write::Conflict {
            winners.push(n);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one insert wins: {winners:?}");
    let read = store
        .instance(&"race-ins".into())
        .await
        .expect("read")
        .expect("record");
    assert_eq!(
        read.record.plan_id.as_str(),
        format!("plan-{}", winners[0]),
        "the winner's record is stored"
    );
}

/// Of 32 concurrent replaces naming the same version, exactly one succeeds.
pub async fn racing_replaces<S: Store>(store: Arc<S>) {
    let v = done(
        store
            .insert_instance(&instance("race-rep"))
            .await
            .expect("insert"),
        "insert",
    );
    let mut tasks = Vec::new();
    for n in 0..32 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut r = instance("race-rep");
            r.dashboard_url = Some(format!("d-{n}"));
            store.replace_instance(&r, v).await.expect("replace")
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.expect("task") != Write::Conflict {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one replace of version {v} wins");
    let read = store
        .instance(&"race-rep".into())
        .await
        .expect("read")
        .expect("record");
    assert_eq!(read.version, v + 1);
}

/// Plans are remembered by id: remembering one again replaces its definition, and every
/// plan remembered, by any call, is listed.
pub async fn known_plans<S: Store>(store: &S) {
    let plan = |id: &str, definition: &str| KnownPlan {
        plan_id: id.to_owned(),
        definition: definition.to_owned(),
    };
    let listed = |mut plans: Vec<KnownPlan>| {
        plans.sort_by(|a, b| a.plan_id.cmp(&b.plan_id));
        plans
            .into_iter()
            .filter(|p| p.plan_id.starts_with("kp-"))
            .map(|p| (p.plan_id, p.definition))
            .collect::<Vec<_>>()
    };
    store
        .remember_plans(&[plan("kp-1", "{\"v\":1}"), plan("kp-2", "{\"v\":1}")])
        .await
        .expect("remember plans");
    store
        .remember_plans(&[plan("kp-2", "{\"v\":2}"), plan("kp-3", "{\"v\":1}")])
        .await
        .expect("remember plans again");
    store.remember_plans(&[]).await.expect("remember no plan");
    let found = listed(store.known_plans().await.expect("known plans"));
    assert_eq!(
        found,
        [
            ("kp-1".to_owned(), "{\"v\":1}".to_owned()),
            ("kp-2".to_owned(), "{\"v\":2}".to_owned()),
            ("kp-3".to_owned(), "{\"v\":1}".to_owned()),
        ],
        "every remembered plan is listed once, with its latest definition"
    );
}
