//! [`SqliteStore`]: the records in one SQLite file, durable before the answer leaves.
//!
//! One writer thread owns the write connection and commits in groups: every write that
//! arrives while a commit is on its way to disk joins the next transaction, so concurrent
//! requests share fsyncs and durability does not cap throughput at one fsync per request.
//! Reads use their own connections (WAL mode lets them run beside the writer) on the
//! caller's thread; they are served from SQLite's page cache and take microseconds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use osb_types::{BindingId, InstanceId, OperationId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    BindingRecord, InstanceRecord, KnownPlan, LeaseKey, Store, StoreError, StoreFuture, Tombstone, Versioned,
    Write, decode_record, encode_record,
};

/// `PRAGMA application_id` of an osb-rs state file ("OSB!").
const APPLICATION_ID: i64 = 0x4F53_4221;

/// The schema migrations, in order: `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: instances and bindings.
    "CREATE TABLE instances (
        id TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE bindings (
        instance_id TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (instance_id, id)
    );",
    // 2: leases of running work, indexed to find work whose owner is gone; tombstones
    // with an expiry.
    "ALTER TABLE instances ADD COLUMN lease_until INTEGER;
    ALTER TABLE instances ADD COLUMN lease_owner TEXT;
    ALTER TABLE bindings ADD COLUMN lease_until INTEGER;
    ALTER TABLE bindings ADD COLUMN lease_owner TEXT;
    CREATE INDEX instances_lease ON instances (lease_until) WHERE lease_until IS NOT NULL;
    CREATE INDEX bindings_lease ON bindings (lease_until) WHERE lease_until IS NOT NULL;
    CREATE TABLE tombstones (
        instance_id TEXT NOT NULL,
        binding_id TEXT NOT NULL,
        operation TEXT,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (instance_id, binding_id)
    );
    CREATE INDEX tombstones_expiry ON tombstones (expires_at);",
    // 3: the plans served, so that a restart with a catalog that dropped a plan still
    // serves the instances of that plan.
    "CREATE TABLE plans (
        id TEXT PRIMARY KEY NOT NULL,
        data TEXT NOT NULL
    );",
];

/// The schema version this runtime writes.
pub(crate) const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;

/// The runtime's records in an SQLite file (WAL mode, `synchronous=FULL`): every write is
/// on disk before the store answers, concurrent writes share commits (group commit), and
/// the schema is migrated when the file is opened. Only one process may open a file at a
/// time (a second one is refused): for several replicas, use a shared database.
///
/// ```
/// use osb_server_mini::store::{InstanceRecord, SqliteStore, Store};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("osb-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("state.sqlite");
/// {
///     let store = SqliteStore::open(&path)?;
///     let _ = store.insert_instance(&InstanceRecord::new("i-1".into(), "svc".into(), "plan".into())).await?;
/// }
/// let reopened = SqliteStore::open(&path)?; // after a restart: the record is there
/// assert!(reopened.instance(&"i-1".into()).await?.is_some());
/// # drop(reopened); std::fs::remove_dir_all(&dir)?; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Held for the store's lifetime: the file belongs to this process.
    _lock: std::fs::File,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropping the sender ends the writer thread after the writes already queued.
        if let Ok(sender) = self.writer.lock() {
            let _ = sender.send(Job::Stop);
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

type WriteFn = Box<dyn FnOnce(&Connection) -> rusqlite::Result<Write> + Send>;

enum Job {
    Write(WriteFn, tokio::sync::oneshot::Sender<Result<Write, StoreError>>),
    /// `PRAGMA max_page_count` in pages.
    Limit(i64),
    Stop,
}

fn sql_error(e: &rusqlite::Error) -> StoreError {
    StoreError::new(format!("SQLite: {e}"))
}

impl SqliteStore {
    /// Opens (or creates) the state file at `path`, applies the schema migrations it lacks
    /// and starts the writer thread.
    ///
    /// # Errors
    /// The file cannot be created or opened, is not an osb-rs state file, has a newer schema
    /// than this runtime, or is open in another process.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock_path = {
            let mut p = path.clone().into_os_string();
            p.push("-lock");
            PathBuf::from(p)
        };
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::new(format!("cannot open {}: {e}", lock_path.display())))?;
        lock.try_lock().map_err(|_| {
            StoreError::new(format!(
                "{} is in use by another process: an SQLite state file serves one broker process (use a shared database for replicas)",
                path.display()
            ))
        })?;
        let mut writer = open_connection(&path)?;
        migrate(&mut writer, &path)?;
        let readers = (0..2)
            .map(|_| open_connection(&path).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("osb-sqlite-writer".to_owned())
            .spawn(move || write_loop(&mut writer, &rx))
            .map_err(|e| StoreError::new(format!("cannot start the SQLite writer thread: {e}")))?;
        Ok(Self {
            shared: Arc::new(Shared {
                path,
                writer: Mutex::new(tx),
                readers,
                next_reader: AtomicUsize::new(0),
                _lock: lock,
            }),
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Caps the database at about `bytes` (SQLite's `max_page_count`): past it, writes fail
    /// (503 answers) and nothing is half-written; raising the cap again makes writes succeed.
    pub fn set_max_size(&self, bytes: u64) {
        let pages = i64::try_from(bytes / 4096).unwrap_or(i64::MAX).max(1);
        if let Ok(sender) = self.shared.writer.lock() {
            let _ = sender.send(Job::Limit(pages));
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let n = self.shared.readers.len();
        let start = self.shared.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(conn) = self.shared.readers[(start + i) % n].try_lock() {
                return f(&conn).map_err(|e| sql_error(&e));
            }
        }
        let conn = self.shared.readers[start % n]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&conn).map_err(|e| sql_error(&e))
    }

    fn write<'a>(
        &'a self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<Write> + Send + 'static,
    ) -> StoreFuture<'a, Write> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self
            .shared
            .writer
            .lock()
            .map_err(|_| ())
            .and_then(|s| s.send(Job::Write(Box::new(f), tx)).map_err(|_| ()));
        Box::pin(async move {
            if sent.is_err() {
                return Err(StoreError::new("the SQLite writer thread has stopped"));
            }
            rx.await
                .unwrap_or_else(|_| Err(StoreError::new("the SQLite writer thread has stopped")))
        })
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::new(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| sql_error(&e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| sql_error(&e))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| sql_error(&e))?;
    Ok(conn)
}

/// Applies the migrations the file lacks, each in its own transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let app: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| sql_error(&e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| sql_error(&e))?;
    if app != 0 && app != APPLICATION_ID {
        return Err(StoreError::new(format!(
            "{} is an SQLite file of another application, not an osb-rs state file",
            path.display()
        )));
    }
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > SCHEMA_VERSION {
        return Err(StoreError::new(format!(
            "{} has schema version {version}, newer than this runtime's ({SCHEMA_VERSION}): upgrade the broker",
            path.display()
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&e))?;
        tx.execute_batch(step)
            .map_err(|e| StoreError::new(format!("migration {} of {} failed: {e}", i + 1, path.display())))?;
        tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))
            .map_err(|e| sql_error(&e))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| sql_error(&e))?;
        tx.commit().map_err(|e| sql_error(&e))?;
        tracing::info!(path = %path.display(), schema = i + 1, "state file migrated");
    }
    Ok(())
}

/// The writer thread: takes every queued write, commits them in one transaction (one
/// fsync), answers each.
fn write_loop(conn: &mut Connection, rx: &mpsc::Receiver<Job>) {
    let mut batch = Vec::new();
    loop {
        let Ok(first) = rx.recv() else { return };
        let mut stop = false;
        let mut take = |job: Job, batch: &mut Vec<_>, conn: &mut Connection| match job {
            Job::Write(f, reply) => batch.push((f, reply)),
            Job::Limit(pages) => {
                let _ = conn.pragma_update(None, "max_page_count", pages);
            }
            Job::Stop => stop = true,
        };
        take(first, &mut batch, conn);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => take(job, &mut batch, conn),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit(conn, &mut batch);
        }
        if stop {
            return;
        }
    }
}

type Pending = (WriteFn, tokio::sync::oneshot::Sender<Result<Write, StoreError>>);

fn commit(conn: &mut Connection, batch: &mut Vec<Pending>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let err = sql_error(&e);
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(Err(err.clone()));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    // Set when SQLite rolled the whole transaction back (e.g. SQLITE_FULL): nothing of the
    // batch is written, and every write of it fails with that error.
    let mut aborted: Option<StoreError> = None;
    for (f, reply) in batch.drain(..) {
        if let Some(e) = &aborted {
            results.push(Err(e.clone()));
            replies.push(reply);
            continue;
        }
        // Each write in its own savepoint: one that fails leaves nothing half-written and
        // does not undo the others.
        let result = match tx.unchecked_transaction_savepoint() {
            Ok(sp) => match f(&sp) {
                Ok(w) => sp.commit().map(|()| w).map_err(|e| sql_error(&e)),
                Err(e) => {
                    if sp.is_autocommit() {
                        sp.forget();
                    }
                    Err(sql_error(&e))
                }
            },
            Err(e) => Err(sql_error(&e)),
        };
        if tx.is_autocommit() {
            aborted = Some(match &result {
                Err(e) => e.clone(),
                Ok(_) => StoreError::new("SQLite rolled the transaction back"),
            });
        }
        results.push(result);
        replies.push(reply);
    }
    let committed = match aborted {
        Some(e) => Err(e),
        None => tx.commit().map_err(|e| sql_error(&e)),
    };
    for (reply, result) in replies.into_iter().zip(results) {
        let answer = match &committed {
            Ok(()) => result,
            Err(e) => Err(e.clone()),
        };
        let _ = reply.send(answer);
    }
}

/// A savepoint on a transaction borrowed shared (the writer runs one closure at a time).
trait SavepointExt {
    fn unchecked_transaction_savepoint(&self) -> rusqlite::Result<Savepoint<'_>>;
}

struct Savepoint<'c> {
    conn: &'c Connection,
    done: bool,
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Savepoint<'_> {
    /// SQLite already rolled everything back: there is no savepoint to undo.
    fn forget(mut self) {
        self.done = true;
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch("RELEASE osb_write")
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self
                .conn
                .execute_batch("ROLLBACK TO osb_write; RELEASE osb_write");
        }
    }
}

impl SavepointExt for rusqlite::Transaction<'_> {
    fn unchecked_transaction_savepoint(&self) -> rusqlite::Result<Savepoint<'_>> {
        self.execute_batch("SAVEPOINT osb_write")?;
        Ok(Savepoint {
            conn: self,
            done: false,
        })
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn lease_columns(until: Option<u64>, owner: Option<&str>) -> (Option<i64>, Option<String>) {
    (until.map(to_i64), owner.map(str::to_owned))
}

fn instance_lease(r: &InstanceRecord) -> (Option<i64>, Option<String>) {
    lease_columns(
        r.lease_until_ms(),
        lease_owner(r.intent.as_ref(), r.operation.as_ref()),
    )
}

fn binding_lease(r: &BindingRecord) -> (Option<i64>, Option<String>) {
    lease_columns(
        r.lease_until_ms(),
        lease_owner(r.intent.as_ref(), r.operation.as_ref()),
    )
}

fn lease_owner<'a>(
    intent: Option<&'a super::Intent>,
    op: Option<&'a super::OperationRecord>,
) -> Option<&'a str> {
    intent.map(|i| i.lease.owner.as_str()).or_else(|| {
        op.filter(|o| o.state == osb_types::OperationState::InProgress)
            .and_then(|o| o.lease.as_ref())
            .map(|l| l.owner.as_str())
    })
}

fn decode_row<T: for<'de> serde::Deserialize<'de>>(
    row: Option<(i64, String)>,
) -> Result<Option<Versioned<T>>, StoreError> {
    row.map(|(version, data)| {
        Ok(Versioned {
            version: to_u64(version),
            record: decode_record(&data)?,
        })
    })
    .transpose()
}

fn tombstone_rows(
    conn: &Connection,
    t: &Tombstone,
    instance: &str,
    bindings: &[String],
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO tombstones (instance_id, binding_id, operation, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let op = t.operation.as_ref().map(|o| o.as_str().to_owned());
    for b in bindings {
        stmt.execute(params![instance, b, op, to_i64(t.expires_at_ms)])?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn instance<'a>(&'a self, id: &'a InstanceId) -> StoreFuture<'a, Option<Versioned<InstanceRecord>>> {
        let row = self.read(|c| {
            c.prepare_cached("SELECT version, data FROM instances WHERE id = ?1")?
                .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        });
        Box::pin(std::future::ready(row.and_then(decode_row)))
    }

    fn insert_instance<'a>(&'a self, record: &'a InstanceRecord) -> StoreFuture<'a, Write> {
        let data = match encode_record(record) {
            Ok(d) => d,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let id = record.id.as_str().to_owned();
        let (until, owner) = instance_lease(record);
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "INSERT INTO instances (id, version, data, lease_until, lease_owner) VALUES (?1, 1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![id, data, until, owner])?;
            if n == 0 {
                return Ok(Write::Conflict);
            }
            c.prepare_cached("DELETE FROM tombstones WHERE instance_id = ?1 AND binding_id = ''")?
                .execute([&id])?;
            Ok(Write::Done(1))
        })
    }

    fn replace_instance<'a>(&'a self, record: &'a InstanceRecord, expected: u64) -> StoreFuture<'a, Write> {
        let data = match encode_record(record) {
            Ok(d) => d,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let id = record.id.as_str().to_owned();
        let (until, owner) = instance_lease(record);
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE instances SET version = version + 1, data = ?2, lease_until = ?3, lease_owner = ?4 WHERE id = ?1 AND version = ?5",
                )?
                .execute(params![id, data, until, owner, to_i64(expected)])?;
            Ok(if n == 0 {
                Write::Conflict
            } else {
                Write::Done(expected + 1)
            })
        })
    }

    fn remove_instance<'a>(
        &'a self,
        id: &'a InstanceId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        let id = id.as_str().to_owned();
        let tombstone = tombstone.cloned();
        self.write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM instances WHERE id = ?1 AND version = ?2")?
                .execute(params![id, to_i64(expected)])?;
            if n == 0 {
                return Ok(Write::Conflict);
            }
            let mut ids = vec![String::new()];
            {
                let mut stmt = c.prepare_cached("SELECT id FROM bindings WHERE instance_id = ?1")?;
                let rows = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
                for row in rows {
                    ids.push(row?);
                }
            }
            c.prepare_cached("DELETE FROM bindings WHERE instance_id = ?1")?
                .execute([&id])?;
            if let Some(t) = &tombstone {
                tombstone_rows(c, t, &id, &ids)?;
            }
            Ok(Write::Done(expected + 1))
        })
    }

    fn binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Versioned<BindingRecord>>> {
        let row = self.read(|c| {
            c.prepare_cached("SELECT version, data FROM bindings WHERE instance_id = ?1 AND id = ?2")?
                .query_row([instance_id.as_str(), binding_id.as_str()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
        });
        Box::pin(std::future::ready(row.and_then(decode_row)))
    }

    fn insert_binding<'a>(&'a self, record: &'a BindingRecord) -> StoreFuture<'a, Write> {
        let data = match encode_record(record) {
            Ok(d) => d,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let (iid, bid) = (
            record.instance_id.as_str().to_owned(),
            record.id.as_str().to_owned(),
        );
        let (until, owner) = binding_lease(record);
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "INSERT INTO bindings (instance_id, id, version, data, lease_until, lease_owner) VALUES (?1, ?2, 1, ?3, ?4, ?5) ON CONFLICT (instance_id, id) DO NOTHING",
                )?
                .execute(params![iid, bid, data, until, owner])?;
            if n == 0 {
                return Ok(Write::Conflict);
            }
            c.prepare_cached("DELETE FROM tombstones WHERE instance_id = ?1 AND binding_id = ?2")?
                .execute([&iid, &bid])?;
            Ok(Write::Done(1))
        })
    }

    fn replace_binding<'a>(&'a self, record: &'a BindingRecord, expected: u64) -> StoreFuture<'a, Write> {
        let data = match encode_record(record) {
            Ok(d) => d,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let (iid, bid) = (
            record.instance_id.as_str().to_owned(),
            record.id.as_str().to_owned(),
        );
        let (until, owner) = binding_lease(record);
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE bindings SET version = version + 1, data = ?3, lease_until = ?4, lease_owner = ?5 WHERE instance_id = ?1 AND id = ?2 AND version = ?6",
                )?
                .execute(params![iid, bid, data, until, owner, to_i64(expected)])?;
            Ok(if n == 0 {
                Write::Conflict
            } else {
                Write::Done(expected + 1)
            })
        })
    }

    fn remove_binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        let (iid, bid) = (instance_id.as_str().to_owned(), binding_id.as_str().to_owned());
        let tombstone = tombstone.cloned();
        self.write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM bindings WHERE instance_id = ?1 AND id = ?2 AND version = ?3")?
                .execute(params![iid, bid, to_i64(expected)])?;
            if n == 0 {
                return Ok(Write::Conflict);
            }
            if let Some(t) = &tombstone {
                tombstone_rows(c, t, &iid, std::slice::from_ref(&bid))?;
            }
            Ok(Write::Done(expected + 1))
        })
    }

    fn bindings<'a>(&'a self, instance_id: &'a InstanceId) -> StoreFuture<'a, Vec<Versioned<BindingRecord>>> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT version, data FROM bindings WHERE instance_id = ?1")?;
            let rows = stmt.query_map([instance_id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<(i64, String)>>>()
        });
        let decoded = rows.and_then(|rows| {
            rows.into_iter()
                .map(|row| decode_row(Some(row)).map(|v| v.expect("a row")))
                .collect()
        });
        Box::pin(std::future::ready(decoded))
    }

    fn tombstone<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Tombstone>> {
        let now = to_i64(super::now_ms());
        let row = self.read(|c| {
            c.prepare_cached(
                "SELECT operation, expires_at FROM tombstones WHERE instance_id = ?1 AND binding_id = ?2 AND expires_at >= ?3",
            )?
            .query_row(params![instance_id.as_str(), binding_id.as_str(), now], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()
        });
        Box::pin(std::future::ready(row.map(|row| {
            row.map(|(operation, expires)| Tombstone {
                instance_id: instance_id.clone(),
                binding_id: binding_id.clone(),
                operation: operation.map(OperationId::new),
                expires_at_ms: to_u64(expires),
            })
        })))
    }

    fn purge_tombstones(&self, now_ms: u64) -> StoreFuture<'_, u64> {
        let fut = self.write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM tombstones WHERE expires_at < ?1")?
                .execute([to_i64(now_ms)])?;
            Ok(Write::Done(n as u64))
        });
        Box::pin(async move {
            Ok(match fut.await? {
                Write::Done(n) => n,
                Write::Conflict => 0,
            })
        })
    }

    fn expired_leases<'a>(
        &'a self,
        now_ms: u64,
        other_than: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<LeaseKey>> {
        let now = to_i64(now_ms);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let keys = self.read(|c| {
            let mut keys = Vec::new();
            let mut stmt = c.prepare_cached(
                "SELECT id FROM instances WHERE lease_until IS NOT NULL AND (lease_until < ?1 OR (?2 IS NOT NULL AND lease_owner IS NOT ?2)) LIMIT ?3",
            )?;
            for id in stmt.query_map(params![now, other_than, limit], |r| r.get::<_, String>(0))? {
                keys.push(LeaseKey::Instance(InstanceId::from(id?)));
            }
            let mut stmt = c.prepare_cached(
                "SELECT instance_id, id FROM bindings WHERE lease_until IS NOT NULL AND (lease_until < ?1 OR (?2 IS NOT NULL AND lease_owner IS NOT ?2)) LIMIT ?3",
            )?;
            for row in stmt.query_map(params![now, other_than, limit], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })? {
                let (i, b) = row?;
                keys.push(LeaseKey::Binding(InstanceId::from(i), BindingId::from(b)));
            }
            Ok(keys)
        });
        Box::pin(std::future::ready(keys))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        let read = self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())));
        Box::pin(std::future::ready(read))
    }

    fn known_plans(&self) -> StoreFuture<'_, Vec<KnownPlan>> {
        let rows = self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, data FROM plans")?;
            let rows = stmt.query_map([], |r| {
                Ok(KnownPlan {
                    plan_id: r.get(0)?,
                    definition: r.get(1)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        });
        Box::pin(std::future::ready(rows))
    }

    fn remember_plans<'a>(&'a self, plans: &'a [KnownPlan]) -> StoreFuture<'a, ()> {
        let plans = plans.to_vec();
        let fut = self.write(move |c| {
            let mut stmt = c.prepare_cached("INSERT OR REPLACE INTO plans (id, data) VALUES (?1, ?2)")?;
            for p in &plans {
                stmt.execute(params![p.plan_id, p.definition])?;
            }
            Ok(Write::Done(0))
        });
        Box::pin(async move { fut.await.map(|_| ()) })
    }
}
