//! [`PostgresStore`]: the records in a PostgreSQL database that several broker replicas
//! share.
//!
//! Every write is one SQL statement (a data-modifying `WITH` where a write touches several
//! tables), so a write is atomic without an explicit transaction and a connection lost in
//! the middle of one leaves nothing half-written. Conditional writes are `INSERT … ON
//! CONFLICT DO NOTHING` and `UPDATE … WHERE version = $expected`: under PostgreSQL's row
//! locks, of two replicas writing the same version exactly one wins. The per-instance locks
//! the runtime takes across replicas ([`Store::try_lock`]) are rows of a table with an
//! expiry, so the lock of a replica that crashed expires by itself.
//!
//! Connections come from a [`deadpool_postgres`] pool: a connection the server closed (a
//! restart of PostgreSQL) is dropped when it is next taken from the pool and a new one is
//! opened, so the broker serves again by itself once the database is back; while it is
//! down, store calls fail (503 answers) after at most a few seconds.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use osb_types::{BindingId, InstanceId, OperationId, OperationState};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use super::{
    BindingRecord, InstanceRecord, Intent, KnownPlan, LeaseKey, OperationRecord, Store, StoreError,
    StoreFuture, Tombstone, Versioned, Write, decode_record, encode_record,
};

/// The key of the advisory lock held while the schema is migrated ("OSB!" and 1).
const MIGRATION_LOCK: i64 = 0x4F53_4221_0000_0001;

/// The schema migrations, in order: `osb_schema_version` lists those applied.
const MIGRATIONS: &[&str] = &[
    // 1: instances and bindings with their leases, tombstones, per-instance locks.
    "CREATE TABLE osb_instances (
        id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        data TEXT NOT NULL,
        lease_until BIGINT,
        lease_owner TEXT
    );
    CREATE INDEX osb_instances_lease ON osb_instances (lease_until) WHERE lease_until IS NOT NULL;
    CREATE TABLE osb_bindings (
        instance_id TEXT NOT NULL,
        id TEXT NOT NULL,
        version BIGINT NOT NULL,
        data TEXT NOT NULL,
        lease_until BIGINT,
        lease_owner TEXT,
        PRIMARY KEY (instance_id, id)
    );
    CREATE INDEX osb_bindings_lease ON osb_bindings (lease_until) WHERE lease_until IS NOT NULL;
    CREATE TABLE osb_tombstones (
        instance_id TEXT NOT NULL,
        binding_id TEXT NOT NULL,
        operation TEXT,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (instance_id, binding_id)
    );
    CREATE INDEX osb_tombstones_expiry ON osb_tombstones (expires_at);
    CREATE TABLE osb_locks (
        key TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );",
    // 2: the plans served, so that replicas (and restarts) with a catalog that dropped a
    // plan still serve the instances of that plan.
    "CREATE TABLE osb_plans (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL
    );",
];

/// The schema version this runtime writes.
pub const POSTGRES_SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The default number of pooled connections.
const DEFAULT_POOL_SIZE: usize = 16;

/// The longest a store call may take (waiting for a pooled connection included) before it
/// fails: a database that does not answer gives 503s, not requests that hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The runtime's records in a PostgreSQL database, shared by every broker replica that
/// connects to it ([`shared`](Store::shared) is `true`).
///
/// The tables (`osb_instances`, `osb_bindings`, `osb_tombstones`, `osb_locks`,
/// `osb_schema_version`) are created in the connection's current schema (the first of its
/// `search_path`; choose another with `?options=-csearch_path%3Dmy_schema` in the URL) by
/// migrations that run when a store connects; replicas that start at the same moment
/// serialize them on an advisory lock, so each migration runs once.
///
/// Connections are pooled (16 by default, [`connect_with_pool_size`](Self::connect_with_pool_size))
/// and re-opened by themselves after the database restarts. Connections are not encrypted
/// (no TLS): run the database on a private network or the same host.
///
/// ```no_run
/// use std::sync::Arc;
/// use osb_server_mini::store::{PostgresStore, Store};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect("postgres://osb:secret@db.internal/osb").await?;
/// assert!(store.shared());
/// store.ping().await?;
/// let store: Arc<dyn Store> = Arc::new(store); // for `Server::shared_store`
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("pool_size", &status.max_size)
            .field("connections", &status.size)
            .finish_non_exhaustive()
    }
}

fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::new(format!("PostgreSQL: {}: {}", db.code().code(), db.message())),
        None => StoreError::new(format!("PostgreSQL: {e}")),
    }
}

fn pool_error(e: &deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_error(e),
        other => StoreError::new(format!("PostgreSQL: no connection: {other}")),
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A store call with the call timeout.
fn call<'a, T: Send + 'a>(
    fut: impl Future<Output = Result<T, StoreError>> + Send + 'a,
) -> StoreFuture<'a, T> {
    Box::pin(async move {
        tokio::time::timeout(CALL_TIMEOUT, fut).await.unwrap_or_else(|_| {
            Err(StoreError::new(format!(
                "PostgreSQL did not answer within {} s",
                CALL_TIMEOUT.as_secs()
            )))
        })
    })
}

fn lease_owner<'a>(intent: Option<&'a Intent>, op: Option<&'a OperationRecord>) -> Option<&'a str> {
    intent.map(|i| i.lease.owner.as_str()).or_else(|| {
        op.filter(|o| o.state == OperationState::InProgress)
            .and_then(|o| o.lease.as_ref())
            .map(|l| l.owner.as_str())
    })
}

/// The columns a record is written with: data, lease expiry, lease owner.
struct Row {
    data: String,
    lease_until: Option<i64>,
    lease_owner: Option<String>,
}

impl Row {
    fn instance(r: &InstanceRecord) -> Result<Self, StoreError> {
        Ok(Self {
            data: encode_record(r)?,
            lease_until: r.lease_until_ms().map(to_i64),
            lease_owner: lease_owner(r.intent.as_ref(), r.operation.as_ref()).map(str::to_owned),
        })
    }

    fn binding(r: &BindingRecord) -> Result<Self, StoreError> {
        Ok(Self {
            data: encode_record(r)?,
            lease_until: r.lease_until_ms().map(to_i64),
            lease_owner: lease_owner(r.intent.as_ref(), r.operation.as_ref()).map(str::to_owned),
        })
    }
}

fn decode_row<T: for<'de> serde::Deserialize<'de>>(
    row: &tokio_postgres::Row,
) -> Result<Versioned<T>, StoreError> {
    let version: i64 = row.try_get(0).map_err(|e| pg_error(&e))?;
    let data: &str = row.try_get(1).map_err(|e| pg_error(&e))?;
    Ok(Versioned {
        version: to_u64(version),
        record: decode_record(data)?,
    })
}

fn written(rows: u64, version: u64) -> Write {
    if rows == 0 {
        Write::Conflict
    } else {
        Write::Done(version)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// the libpq URL and key-value forms; see [`tokio_postgres::Config`]) with a pool of 16
    /// connections and applies the schema migrations the database lacks.
    ///
    /// # Errors
    /// The URL is not valid, the database cannot be reached, its schema is newer than this
    /// runtime's, or a migration fails.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// [`connect`](Self::connect) with at most `size` pooled connections (at least 1).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with_pool_size(url: &str, size: usize) -> Result<Self, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::new(format!("OSB_STATE / the PostgreSQL URL is not valid: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("osb-rs");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::new(format!("cannot create the PostgreSQL pool: {e}")))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// The schema version of the database (the migrations applied).
    ///
    /// # Errors
    /// The database cannot be read.
    pub async fn schema_version(&self) -> Result<i32, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT coalesce(max(version), 0) FROM osb_schema_version", &[])
            .await
            .map_err(|e| pg_error(&e))?;
        row.try_get(0).map_err(|e| pg_error(&e))
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| pool_error(&e))
    }

    /// Applies the migrations the database lacks, in one transaction under an advisory
    /// lock: replicas starting together wait for each other, and the later ones find the
    /// schema current.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| pg_error(&e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(|e| pg_error(&e))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS osb_schema_version (version INTEGER PRIMARY KEY)")
            .await
            .map_err(|e| pg_error(&e))?;
        let current: i32 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM osb_schema_version", &[])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| pg_error(&e))?;
        if current > POSTGRES_SCHEMA_VERSION {
            return Err(StoreError::new(format!(
                "the PostgreSQL database has schema version {current}, newer than this runtime's ({POSTGRES_SCHEMA_VERSION}): upgrade the broker"
            )));
        }
        for (i, step) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(current).unwrap_or(0))
        {
            let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
            tx.batch_execute(step).await.map_err(|e| {
                StoreError::new(format!("PostgreSQL migration {version} failed: {}", pg_error(&e)))
            })?;
            tx.execute(
                "INSERT INTO osb_schema_version (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(|e| pg_error(&e))?;
            tracing::info!(schema = version, "PostgreSQL schema migrated");
        }
        tx.commit().await.map_err(|e| pg_error(&e))
    }

    /// Runs one statement; returns the rows it affected.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(|e| pg_error(&e))?;
        client.execute(&stmt, params).await.map_err(|e| pg_error(&e))
    }

    /// Runs one query; returns its rows.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(|e| pg_error(&e))?;
        client.query(&stmt, params).await.map_err(|e| pg_error(&e))
    }

    /// Runs a query answering one `count(*)`.
    async fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let rows = self.query(sql, params).await?;
        let n: i64 = rows
            .first()
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(|e| pg_error(&e))?
            .unwrap_or(0);
        Ok(to_u64(n))
    }
}

const INSERT_INSTANCE: &str = "WITH ins AS (
        INSERT INTO osb_instances (id, version, data, lease_until, lease_owner) VALUES ($1, 1, $2, $3, $4)
        ON CONFLICT (id) DO NOTHING RETURNING id
    ), forget AS (
        DELETE FROM osb_tombstones WHERE instance_id = $1 AND binding_id = '' AND EXISTS (SELECT 1 FROM ins)
    )
    SELECT count(*) FROM ins";

const REMOVE_INSTANCE: &str = "WITH del AS (
        DELETE FROM osb_instances WHERE id = $1 AND version = $2 RETURNING id
    ), gone AS (
        DELETE FROM osb_bindings WHERE instance_id = $1 AND EXISTS (SELECT 1 FROM del) RETURNING id
    ), tomb AS (
        INSERT INTO osb_tombstones (instance_id, binding_id, operation, expires_at)
        SELECT $1, b.id, $3::text, $4::bigint
        FROM (SELECT ''::text AS id FROM del UNION ALL SELECT id FROM gone) AS b
        WHERE $5::boolean
        ON CONFLICT (instance_id, binding_id) DO UPDATE
            SET operation = excluded.operation, expires_at = excluded.expires_at
    )
    SELECT count(*) FROM del";

const INSERT_BINDING: &str = "WITH ins AS (
        INSERT INTO osb_bindings (instance_id, id, version, data, lease_until, lease_owner)
        VALUES ($1, $2, 1, $3, $4, $5)
        ON CONFLICT (instance_id, id) DO NOTHING RETURNING id
    ), forget AS (
        DELETE FROM osb_tombstones WHERE instance_id = $1 AND binding_id = $2 AND EXISTS (SELECT 1 FROM ins)
    )
    SELECT count(*) FROM ins";

const REMOVE_BINDING: &str = "WITH del AS (
        DELETE FROM osb_bindings WHERE instance_id = $1 AND id = $2 AND version = $3 RETURNING id
    ), tomb AS (
        INSERT INTO osb_tombstones (instance_id, binding_id, operation, expires_at)
        SELECT $1, del.id, $4::text, $5::bigint FROM del WHERE $6::boolean
        ON CONFLICT (instance_id, binding_id) DO UPDATE
            SET operation = excluded.operation, expires_at = excluded.expires_at
    )
    SELECT count(*) FROM del";

const TRY_LOCK: &str = "INSERT INTO osb_locks (key, holder, fingerprint, expires_at)
    VALUES ($1, $2, $3, clock_timestamp() + $4::float8 * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE
        SET holder = excluded.holder, fingerprint = excluded.fingerprint, expires_at = excluded.expires_at
        WHERE osb_locks.expires_at < clock_timestamp() OR osb_locks.holder = excluded.holder
    RETURNING holder";

impl Store for PostgresStore {
    fn instance<'a>(&'a self, id: &'a InstanceId) -> StoreFuture<'a, Option<Versioned<InstanceRecord>>> {
        call(async move {
            let rows = self
                .query(
                    "SELECT version, data FROM osb_instances WHERE id = $1",
                    &[&id.as_str()],
                )
                .await?;
            rows.first().map(decode_row).transpose()
        })
    }

    fn insert_instance<'a>(&'a self, record: &'a InstanceRecord) -> StoreFuture<'a, Write> {
        call(async move {
            let row = Row::instance(record)?;
            let n = self
                .count(
                    INSERT_INSTANCE,
                    &[&record.id.as_str(), &row.data, &row.lease_until, &row.lease_owner],
                )
                .await?;
            Ok(written(n, 1))
        })
    }

    fn replace_instance<'a>(&'a self, record: &'a InstanceRecord, expected: u64) -> StoreFuture<'a, Write> {
        call(async move {
            let row = Row::instance(record)?;
            let n = self
                .execute(
                    "UPDATE osb_instances SET version = version + 1, data = $2, lease_until = $3, lease_owner = $4
                     WHERE id = $1 AND version = $5",
                    &[
                        &record.id.as_str(),
                        &row.data,
                        &row.lease_until,
                        &row.lease_owner,
                        &to_i64(expected),
                    ],
                )
                .await?;
            Ok(written(n, expected + 1))
        })
    }

    fn remove_instance<'a>(
        &'a self,
        id: &'a InstanceId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        call(async move {
            let operation = tombstone
                .and_then(|t| t.operation.as_ref())
                .map(OperationId::as_str);
            let expires = tombstone.map_or(0, |t| to_i64(t.expires_at_ms));
            let n = self
                .count(
                    REMOVE_INSTANCE,
                    &[
                        &id.as_str(),
                        &to_i64(expected),
                        &operation,
                        &expires,
                        &tombstone.is_some(),
                    ],
                )
                .await?;
            Ok(written(n, expected + 1))
        })
    }

    fn binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Versioned<BindingRecord>>> {
        call(async move {
            let rows = self
                .query(
                    "SELECT version, data FROM osb_bindings WHERE instance_id = $1 AND id = $2",
                    &[&instance_id.as_str(), &binding_id.as_str()],
                )
                .await?;
            rows.first().map(decode_row).transpose()
        })
    }

    fn insert_binding<'a>(&'a self, record: &'a BindingRecord) -> StoreFuture<'a, Write> {
        call(async move {
            let row = Row::binding(record)?;
            let n = self
                .count(
                    INSERT_BINDING,
                    &[
                        &record.instance_id.as_str(),
                        &record.id.as_str(),
                        &row.data,
                        &row.lease_until,
                        &row.lease_owner,
                    ],
                )
                .await?;
            Ok(written(n, 1))
        })
    }

    fn replace_binding<'a>(&'a self, record: &'a BindingRecord, expected: u64) -> StoreFuture<'a, Write> {
        call(async move {
            let row = Row::binding(record)?;
            let n = self
                .execute(
                    "UPDATE osb_bindings SET version = version + 1, data = $3, lease_until = $4, lease_owner = $5
                     WHERE instance_id = $1 AND id = $2 AND version = $6",
                    &[
                        &record.instance_id.as_str(),
                        &record.id.as_str(),
                        &row.data,
                        &row.lease_until,
                        &row.lease_owner,
                        &to_i64(expected),
                    ],
                )
                .await?;
            Ok(written(n, expected + 1))
        })
    }

    fn remove_binding<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
        expected: u64,
        tombstone: Option<&'a Tombstone>,
    ) -> StoreFuture<'a, Write> {
        call(async move {
            let operation = tombstone
                .and_then(|t| t.operation.as_ref())
                .map(OperationId::as_str);
            let expires = tombstone.map_or(0, |t| to_i64(t.expires_at_ms));
            let n = self
                .count(
                    REMOVE_BINDING,
                    &[
                        &instance_id.as_str(),
                        &binding_id.as_str(),
                        &to_i64(expected),
                        &operation,
                        &expires,
                        &tombstone.is_some(),
                    ],
                )
                .await?;
            Ok(written(n, expected + 1))
        })
    }

    fn bindings<'a>(&'a self, instance_id: &'a InstanceId) -> StoreFuture<'a, Vec<Versioned<BindingRecord>>> {
        call(async move {
            let rows = self
                .query(
                    "SELECT version, data FROM osb_bindings WHERE instance_id = $1",
                    &[&instance_id.as_str()],
                )
                .await?;
            rows.iter().map(decode_row).collect()
        })
    }

    fn tombstone<'a>(
        &'a self,
        instance_id: &'a InstanceId,
        binding_id: &'a BindingId,
    ) -> StoreFuture<'a, Option<Tombstone>> {
        call(async move {
            let rows = self
                .query(
                    "SELECT operation, expires_at FROM osb_tombstones
                     WHERE instance_id = $1 AND binding_id = $2 AND expires_at >= $3",
                    &[
                        &instance_id.as_str(),
                        &binding_id.as_str(),
                        &to_i64(super::now_ms()),
                    ],
                )
                .await?;
            rows.first()
                .map(|r| {
                    let operation: Option<String> = r.try_get(0).map_err(|e| pg_error(&e))?;
                    let expires: i64 = r.try_get(1).map_err(|e| pg_error(&e))?;
                    Ok(Tombstone {
                        instance_id: instance_id.clone(),
                        binding_id: binding_id.clone(),
                        operation: operation.map(OperationId::new),
                        expires_at_ms: to_u64(expires),
                    })
                })
                .transpose()
        })
    }

    fn purge_tombstones(&self, now_ms: u64) -> StoreFuture<'_, u64> {
        call(async move {
            let n = self
                .execute(
                    "DELETE FROM osb_tombstones WHERE expires_at < $1",
                    &[&to_i64(now_ms)],
                )
                .await?;
            // Locks of holders that crashed long ago (a released lock is deleted at once).
            self.execute(
                "DELETE FROM osb_locks WHERE expires_at < clock_timestamp() - interval '1 minute'",
                &[],
            )
            .await?;
            Ok(n)
        })
    }

    fn expired_leases<'a>(
        &'a self,
        now_ms: u64,
        other_than: Option<&'a str>,
        limit: usize,
    ) -> StoreFuture<'a, Vec<LeaseKey>> {
        call(async move {
            let now = to_i64(now_ms);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut keys = Vec::new();
            for row in self
                .query(
                    "SELECT id FROM osb_instances WHERE lease_until IS NOT NULL
                     AND (lease_until < $1 OR ($2::text IS NOT NULL AND lease_owner IS DISTINCT FROM $2::text))
                     LIMIT $3",
                    &[&now, &other_than, &limit],
                )
                .await?
            {
                let id: String = row.try_get(0).map_err(|e| pg_error(&e))?;
                keys.push(LeaseKey::Instance(InstanceId::from(id)));
            }
            for row in self
                .query(
                    "SELECT instance_id, id FROM osb_bindings WHERE lease_until IS NOT NULL
                     AND (lease_until < $1 OR ($2::text IS NOT NULL AND lease_owner IS DISTINCT FROM $2::text))
                     LIMIT $3",
                    &[&now, &other_than, &limit],
                )
                .await?
            {
                let instance: String = row.try_get(0).map_err(|e| pg_error(&e))?;
                let binding: String = row.try_get(1).map_err(|e| pg_error(&e))?;
                keys.push(LeaseKey::Binding(
                    InstanceId::from(instance),
                    BindingId::from(binding),
                ));
            }
            Ok(keys)
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        fingerprint: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Option<String>> {
        call(async move {
            #[allow(clippy::cast_precision_loss)]
            let ttl_ms = ttl.as_millis() as f64;
            // The lock row may be released between the two statements: then try again.
            for _ in 0..8 {
                let taken = self
                    .query(TRY_LOCK, &[&key, &holder, &fingerprint, &ttl_ms])
                    .await?;
                if !taken.is_empty() {
                    return Ok(None);
                }
                let rows = self
                    .query(
                        "SELECT fingerprint FROM osb_locks WHERE key = $1 AND expires_at >= clock_timestamp()",
                        &[&key],
                    )
                    .await?;
                if let Some(row) = rows.first() {
                    return row.try_get(0).map(Some).map_err(|e| pg_error(&e));
                }
            }
            Err(StoreError::new(format!(
                "the lock of {key} could not be taken nor read"
            )))
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        call(async move {
            self.execute(
                "DELETE FROM osb_locks WHERE key = $1 AND holder = $2",
                &[&key, &holder],
            )
            .await?;
            Ok(())
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        call(async move {
            let client = self.client().await?;
            client
                .simple_query("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|e| pg_error(&e))
        })
    }
    fn known_plans(&self) -> StoreFuture<'_, Vec<KnownPlan>> {
        call(async move {
            self.query("SELECT id, data FROM osb_plans", &[])
                .await?
                .iter()
                .map(|r| {
                    Ok(KnownPlan {
                        plan_id: r.try_get(0).map_err(|e| pg_error(&e))?,
                        definition: r.try_get(1).map_err(|e| pg_error(&e))?,
                    })
                })
                .collect()
        })
    }

    fn remember_plans<'a>(&'a self, plans: &'a [KnownPlan]) -> StoreFuture<'a, ()> {
        call(async move {
            // One statement, so that the plans are remembered together or not at all.
            let ids: Vec<&str> = plans.iter().map(|p| p.plan_id.as_str()).collect();
            let data: Vec<&str> = plans.iter().map(|p| p.definition.as_str()).collect();
            self.execute(
                "INSERT INTO osb_plans (id, data) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                &[&ids, &data],
            )
            .await
            .map(|_| ())
        })
    }
}

/// A fresh, empty database of its own for the test named `test`, on the PostgreSQL server
/// of `OSB_TEST_POSTGRES_URL` (a superuser's `postgres://` URL, as `.ci/postgres.sh start`
/// exports): returns its URL. Without `OSB_TEST_POSTGRES_URL` it prints that the test was
/// skipped and why and returns `None`, unless `OSB_REQUIRE_POSTGRES=1`, which makes a
/// missing (or unreachable) database fail the test instead (cargo feature `test-util`).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use osb_server_mini::store::{PostgresStore, conformance, postgres_test_database};
/// let Some(url) = postgres_test_database("my_test").await else { return };
/// conformance::run_all(&PostgresStore::connect(&url).await.unwrap()).await;
/// # }
/// ```
///
/// # Panics
/// With `OSB_REQUIRE_POSTGRES=1`, when there is no server or the database cannot be
/// created; a server that cannot be reached when `OSB_TEST_POSTGRES_URL` is set.
#[cfg(feature = "test-util")]
pub async fn postgres_test_database(test: &str) -> Option<String> {
    let required = std::env::var("OSB_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let Some(admin) = std::env::var("OSB_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        assert!(
            !required,
            "{test}: OSB_REQUIRE_POSTGRES=1 but OSB_TEST_POSTGRES_URL is not set (start a server with `eval \"$(.ci/postgres.sh start)\"`)"
        );
        eprintln!(
            "SKIPPED {test}: needs PostgreSQL and OSB_TEST_POSTGRES_URL is not set (run `eval \"$(.ci/postgres.sh start)\"` first; OSB_REQUIRE_POSTGRES=1 makes this a failure)"
        );
        return None;
    };
    let name: String = format!("osb_{test}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .chain(
            format!("_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple())
                .chars()
                .take(20),
        )
        .collect();
    let (client, connection) = tokio_postgres::connect(&admin, NoTls)
        .await
        .unwrap_or_else(|e| panic!("{test}: cannot connect to OSB_TEST_POSTGRES_URL: {e}"));
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("{test}: cannot create database {name}: {e:?}"));
    drop(client);
    let _ = driver.await;
    Some(with_database(&admin, &name))
}

/// `url` (a `postgres://` URL) naming database `name` instead of its own.
#[cfg(feature = "test-util")]
fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(scheme_end);
    let query_at = rest.find('?').unwrap_or(rest.len());
    let (authority_path, query) = rest.split_at(query_at);
    let authority = authority_path
        .find('/')
        .map_or(authority_path, |i| &authority_path[..i]);
    format!("{head}{authority}/{name}{query}")
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    #[test]
    fn a_test_database_url_names_the_database() {
        assert_eq!(
            super::with_database("postgres://osb@127.0.0.1:5432/postgres?sslmode=disable", "t1"),
            "postgres://osb@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "t2"), "postgres://h/t2");
    }
}
