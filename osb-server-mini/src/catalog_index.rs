//! The catalog as the runtime looks it up: plan id → its offering, plan and policy, shared
//! (not cloned) with every request context; the serialized catalog answered as is, with its
//! `ETag` and `Last-Modified`; the compiled plan schemas. [`LiveCatalog`] holds the one in
//! force, which a [`CatalogHandle`](crate::catalog::CatalogHandle) can replace while serving,
//! and [remembers](LiveCatalog::remember) the plans it served in the store, so that
//! instances of plans a later catalog dropped are served after a restart too.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderValue;
use osb_types::Catalog;
use osb_types::catalog::{PlanIndex, ServiceOffering, ServicePlan};

use crate::answers::bad_request;
use crate::broker::{Broker, PlanPolicy};
use crate::error::ServeError;
use crate::response::HttpResponse;
use crate::schema::Schemas;
use crate::shard::Replicas;
use crate::store::{InstanceRecord, KnownPlan, Store, StoreError};

/// A plan as the store remembers it ([`KnownPlan::definition`]): the plan and its offering
/// (whose `plans` are left out).
#[derive(serde::Serialize, serde::Deserialize)]
struct PlanDefinition {
    offering: ServiceOffering,
    plan: ServicePlan,
}

/// A plan as the index holds it: its offering, itself, its runtime policy.
type PlanEntry = (Arc<ServiceOffering>, Arc<ServicePlan>, PlanPolicy);

/// Where the runtime policy of a plan comes from (the broker, through the app).
pub(crate) trait PlanPolicies: Send + Sync {
    /// The policy of `plan` of `offering`.
    fn policy(&self, offering: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy;
}

/// The policies of a broker's plans, as [`Broker::plan_policy`] gives them.
pub(crate) struct BrokerPolicies<'a, B>(pub(crate) &'a B);

impl<B: Broker> PlanPolicies for BrokerPolicies<'_, B> {
    fn policy(&self, offering: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        self.0.plan_policy(offering, plan)
    }
}

/// One validated catalog and its index.
pub(crate) struct CatalogIndex {
    pub(crate) catalog: Catalog,
    /// The serialized catalog, answered as is.
    pub(crate) bytes: Bytes,
    /// A strong validator of `bytes` (a hash of them, quoted).
    pub(crate) etag: HeaderValue,
    /// When this catalog (these bytes) came into force, whole seconds.
    pub(crate) modified: SystemTime,
    /// `modified` as an HTTP date.
    pub(crate) last_modified: HeaderValue,
    /// The 200 answer, copied per thread shard (see [`CatalogAnswer`]).
    pub(crate) answer: Replicas<CatalogAnswer>,
    pub(crate) schemas: Schemas,
    /// Plan id → position of the plan in the current catalog.
    index: PlanIndex,
    /// Each offering's plans, by position.
    entries: Vec<Vec<PlanEntry>>,
    /// Plans of an earlier catalog (of this process) that the current one no longer has:
    /// existing instances and bindings of them keep being served (fetched, polled, bound,
    /// unbound, deprovisioned); no new instance of them can be provisioned or updated to them.
    retired: HashMap<String, PlanEntry>,
    /// Set once the plans above are in the store and the plans the store remembers are
    /// read: those of them neither current nor retired here (plans of an earlier process),
    /// served as retired ones are.
    remembered: tokio::sync::OnceCell<HashMap<String, PlanEntry>>,
}

/// The body and headers (content type and both validators) of the 200 answer to
/// `GET /v2/catalog`, built once: a request clones them instead of inserting (hashing,
/// probing) each header. Each thread shard has its own copy, so that the clones of the
/// body and of the validators, which every catalog request takes, count references on a
/// cache line of that shard rather than one every core shares.
#[derive(Debug)]
pub(crate) struct CatalogAnswer {
    pub(crate) body: Bytes,
    pub(crate) headers: http::HeaderMap,
}

impl CatalogAnswer {
    fn new(body: Bytes, etag: &HeaderValue, last_modified: &HeaderValue) -> Self {
        let mut headers = http::HeaderMap::with_capacity(3);
        headers.insert(http::header::CONTENT_TYPE, crate::response::JSON);
        headers.insert(http::header::ETAG, etag.clone());
        headers.insert(http::header::LAST_MODIFIED, last_modified.clone());
        Self { body, headers }
    }

    /// Bodies larger than this are shared by the shards' copies, not copied: writing such a
    /// body to the socket costs far more than a shared reference count, and a copy per
    /// shard of a catalog of megabytes would cost megabytes each.
    const COPIED_BODY_MAX: usize = 64 * 1024;

    /// A copy that shares no allocation with `self` (but a body over
    /// [`COPIED_BODY_MAX`](Self::COPIED_BODY_MAX)).
    fn copy(&self) -> Self {
        let mut headers = http::HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let value =
                HeaderValue::from_bytes(value.as_bytes()).expect("a header value copies to a header value");
            headers.append(name.clone(), value);
        }
        let body = if self.body.len() <= Self::COPIED_BODY_MAX {
            Bytes::copy_from_slice(&self.body)
        } else {
            self.body.clone()
        };
        Self { body, headers }
    }
}

/// The offering and plan of `entry`, if the plan belongs to `service_id`.
fn of_service(
    entry: Option<&PlanEntry>,
    service_id: &str,
) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
    entry
        .filter(|(o, _, _)| o.id.as_str() == service_id)
        .map(|(o, p, _)| (Arc::clone(o), Arc::clone(p)))
}

/// `t` truncated to whole seconds, the precision of an HTTP date.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

impl CatalogIndex {
    /// Validates the broker's catalog and indexes its plans.
    pub(crate) fn new<B: Broker>(broker: &B) -> Result<Self, ServeError> {
        Self::build(broker.catalog(), &BrokerPolicies(broker), None)
    }

    /// Validates `catalog`, compiles its schemas and indexes its plans. Plans of `previous`
    /// (and those it had retired) missing from `catalog` are kept as retired; when the
    /// serialized catalog is unchanged, so are its `ETag` and `Last-Modified`.
    pub(crate) fn build(
        catalog: Catalog,
        policies: &dyn PlanPolicies,
        previous: Option<&Self>,
    ) -> Result<Self, ServeError> {
        catalog.validate()?;
        let bytes = Bytes::from(
            serde_json::to_vec(&catalog).map_err(|e| ServeError::InvalidSchema {
                location: "catalog".to_owned(),
                message: format!("the catalog could not be serialized: {e}"),
            })?,
        );
        let schemas = Schemas::compile(&catalog)?;
        // By position in the catalog (what `index` answers): shared with every request
        // context, never cloned into it.
        let entries: Vec<Vec<PlanEntry>> = catalog
            .services
            .iter()
            .map(|offering| {
                let shared = Arc::new(offering.clone());
                offering
                    .plans
                    .iter()
                    .map(|plan| {
                        (
                            Arc::clone(&shared),
                            Arc::new(plan.clone()),
                            policies.policy(offering, plan),
                        )
                    })
                    .collect()
            })
            .collect();
        let index = PlanIndex::new(&catalog);
        let mut retired = HashMap::new();
        if let Some(previous) = previous {
            let earlier = previous
                .entries
                .iter()
                .flatten()
                .map(|entry| (entry.1.id.as_str().to_owned(), entry))
                .chain(previous.retired.iter().map(|(id, entry)| (id.clone(), entry)));
            for (id, entry) in earlier {
                if index.position(&id).is_none() {
                    retired.insert(id, entry.clone());
                }
            }
            for (id, entry) in previous.remembered.get().into_iter().flatten() {
                if index.position(id).is_none() {
                    retired.entry(id.clone()).or_insert_with(|| entry.clone());
                }
            }
        }
        let hash = blake3::hash(&bytes);
        let etag = HeaderValue::from_str(&format!("\"{}\"", &hash.to_hex()[..32]))
            .expect("a quoted hex string is a valid header value");
        let (modified, last_modified) = match previous {
            Some(p) if p.etag == etag => (p.modified, p.last_modified.clone()),
            _ => {
                let now = whole_seconds(SystemTime::now());
                let date = HeaderValue::from_str(&httpdate::fmt_http_date(now))
                    .expect("an HTTP date is a valid header value");
                (now, date)
            }
        };
        let answer = CatalogAnswer::new(bytes.clone(), &etag, &last_modified);
        Ok(Self {
            catalog,
            bytes,
            etag,
            modified,
            last_modified,
            answer: Replicas::new(answer, CatalogAnswer::copy),
            schemas,
            index,
            entries,
            retired,
            remembered: tokio::sync::OnceCell::new(),
        })
    }

    /// A plan that is not current: retired by this process, or remembered by the store.
    fn former(&self, plan_id: &str) -> Option<&PlanEntry> {
        self.retired
            .get(plan_id)
            .or_else(|| self.remembered.get().and_then(|m| m.get(plan_id)))
    }

    /// The definitions of the plans this index serves (current and retired), for the store.
    fn definitions(&self) -> Result<Vec<KnownPlan>, StoreError> {
        self.entries
            .iter()
            .flatten()
            .chain(self.retired.values())
            .map(|(offering, plan, _)| {
                let definition = PlanDefinition {
                    offering: ServiceOffering {
                        plans: Vec::new(),
                        ..ServiceOffering::clone(offering)
                    },
                    plan: ServicePlan::clone(plan),
                };
                Ok(KnownPlan {
                    plan_id: plan.id.as_str().to_owned(),
                    definition: serde_json::to_string(&definition).map_err(|e| {
                        StoreError::new(format!("plan {} could not be serialized: {e}", plan.id))
                    })?,
                })
            })
            .collect()
    }

    /// Writes this index's plans to `store` and reads the plans it remembers that this
    /// index does not serve: those become the index's remembered plans.
    async fn remember(&self, store: &dyn Store, policies: &dyn PlanPolicies) -> Result<(), StoreError> {
        self.remembered
            .get_or_try_init(|| async {
                store.remember_plans(&self.definitions()?).await?;
                let mut found = HashMap::new();
                for known in store.known_plans().await? {
                    if self.entry(&known.plan_id).is_some() || self.retired.contains_key(&known.plan_id) {
                        continue;
                    }
                    match serde_json::from_str::<PlanDefinition>(&known.definition) {
                        Ok(PlanDefinition { offering, plan }) => {
                            let policy = policies.policy(&offering, &plan);
                            found.insert(known.plan_id, (Arc::new(offering), Arc::new(plan), policy));
                        }
                        Err(e) => tracing::warn!(
                            plan_id = %known.plan_id,
                            error = %e,
                            "a remembered plan is not readable; instances of it are not served"
                        ),
                    }
                }
                if !found.is_empty() {
                    tracing::info!(
                        plans = found.len(),
                        "plans of an earlier catalog remembered: their instances keep being served"
                    );
                }
                Ok(found)
            })
            .await
            .map(|_| ())
    }

    /// The offering and plan of a plan id of the current catalog, if the plan belongs to
    /// `service_id`.
    fn current_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        of_service(self.entry(plan_id), service_id)
    }

    /// The entry of a plan of the current catalog.
    fn entry(&self, plan_id: &str) -> Option<&PlanEntry> {
        let (offering, plan) = self.index.position(plan_id)?;
        self.entries.get(offering)?.get(plan)
    }

    /// The offering and plan of a plan id, current or retired, if the plan belongs to
    /// `service_id`.
    pub(crate) fn plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.current_plan(service_id, plan_id)
            .or_else(|| of_service(self.former(plan_id), service_id))
    }

    /// 400 unless the service and plan are in the current catalog and the plan belongs to
    /// the service: for a new instance, or the target plan of an update.
    pub(crate) fn known_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        if self.catalog.offering(service_id).is_none() {
            return Err(bad_request(format!(
                "unknown service_id \"{service_id}\": not in this broker's catalog"
            )));
        }
        self.current_plan(service_id, plan_id).ok_or_else(|| {
            bad_request(format!(
                "unknown plan_id \"{plan_id}\": not a plan of the service offering \"{service_id}\""
            ))
        })
    }

    /// As [`known_plan`](Self::known_plan), but a plan an earlier catalog had (retired) is
    /// accepted too: for operations on instances and bindings that exist.
    pub(crate) fn existing_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        match self.plan(service_id, plan_id) {
            Some(found) => Ok(found),
            None => self.known_plan(service_id, plan_id),
        }
    }

    /// The runtime policy of a plan (current or retired).
    pub(crate) fn policy(&self, plan_id: &str) -> PlanPolicy {
        self.entry(plan_id)
            .or_else(|| self.former(plan_id))
            .map(|(_, _, p)| *p)
            .unwrap_or_default()
    }

    /// The offering and plan of an existing instance record (current or retired).
    pub(crate) fn record_plan(
        &self,
        record: &InstanceRecord,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.plan(record.service_id.as_str(), record.plan_id.as_str())
    }
}

/// The catalog in force, replaceable while serving. Shared by the app and every
/// [`CatalogHandle`](crate::catalog::CatalogHandle).
#[derive(Default)]
pub(crate) struct LiveCatalog {
    /// Read by every request: an `ArcSwap`, whose `load` takes no lock and touches no
    /// reference count shared between cores (an `RwLock` read and an `Arc` clone do both).
    current: OnceLock<ArcSwap<CatalogIndex>>,
    /// Where the policies of a new catalog's plans come from: the broker of the app.
    policies: OnceLock<Weak<dyn PlanPolicies>>,
    /// Held while a replacement is built, so that two replacements do not lose each
    /// other's retired plans; requests never wait for it.
    replacing: std::sync::Mutex<()>,
}

impl LiveCatalog {
    /// Installs the first catalog and where policies come from.
    pub(crate) fn init(&self, index: CatalogIndex, policies: Weak<dyn PlanPolicies>) {
        let _ = self.current.set(ArcSwap::from_pointee(index));
        let _ = self.policies.set(policies);
    }

    /// The catalog in force.
    ///
    /// # Panics
    /// Never once the app is built (`init` runs in `App::build`).
    pub(crate) fn current(&self) -> Arc<CatalogIndex> {
        self.try_current()
            .expect("the catalog is installed when the app is built")
    }

    /// The catalog in force, `None` before the app is built.
    pub(crate) fn try_current(&self) -> Option<Arc<CatalogIndex>> {
        Some(self.current.get()?.load_full())
    }

    /// The catalog in force, for a use that ends before the caller waits on anything.
    ///
    /// # Panics
    /// Never once the app is built (`init` runs in `App::build`).
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<CatalogIndex>> {
        self.current
            .get()
            .expect("the catalog is installed when the app is built")
            .load()
    }

    /// Validates `catalog` and puts it in force; on error the catalog in force stays.
    pub(crate) fn replace(&self, catalog: Catalog) -> Result<(), ServeError> {
        let (Some(current), Some(policies)) = (self.current.get(), self.policies.get()) else {
            return Err(ServeError::NotServing);
        };
        let Some(policies) = policies.upgrade() else {
            return Err(ServeError::NotServing);
        };
        // One replacement at a time; the new catalog is built (validated, schemas compiled)
        // without holding the lock requests read through, which is held only for the swap.
        let _one_at_a_time = self
            .replacing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = self.current();
        let next = CatalogIndex::build(catalog, policies.as_ref(), Some(&previous))?;
        let changed = next.etag != previous.etag;
        current.store(Arc::new(next));
        if changed {
            tracing::info!("catalog replaced");
        }
        Ok(())
    }

    /// Makes the catalog in force remembered (see [`CatalogIndex::remember`]) unless it
    /// is: once per catalog, before the first request on records (and the first recovery).
    /// Concurrent callers wait for one store round trip; a failure is retried next time.
    pub(crate) async fn remember(&self, store: &dyn Store) -> Result<(), StoreError> {
        let Some(live) = self.current.get() else {
            return Ok(());
        };
        // Every request on records asks; once remembered, that costs one `load`.
        if live.load().remembered.initialized() {
            return Ok(());
        }
        let current = live.load_full();
        let Some(policies) = self.policies.get().and_then(Weak::upgrade) else {
            return Ok(());
        };
        current.remember(store, policies.as_ref()).await
    }

    /// See [`CatalogIndex::plan`].
    pub(crate) fn plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.load().plan(service_id, plan_id)
    }

    /// See [`CatalogIndex::known_plan`].
    pub(crate) fn known_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        self.load().known_plan(service_id, plan_id)
    }

    /// See [`CatalogIndex::existing_plan`].
    pub(crate) fn existing_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        self.load().existing_plan(service_id, plan_id)
    }

    /// See [`CatalogIndex::policy`].
    pub(crate) fn policy(&self, plan_id: &str) -> PlanPolicy {
        self.current().policy(plan_id)
    }

    /// See [`CatalogIndex::record_plan`].
    pub(crate) fn record_plan(
        &self,
        record: &InstanceRecord,
    ) -> Option<(Arc<ServiceOffering>, Arc<ServicePlan>)> {
        self.current().record_plan(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_copies_of_the_catalog_answer_share_only_a_large_body() {
        let etag = HeaderValue::from_static("\"abc\"");
        let date = HeaderValue::from_static("Thu, 03 Dec 2026 12:00:00 GMT");
        let small = CatalogAnswer::new(Bytes::from(vec![b'x'; 4096]), &etag, &date);
        let copy = small.copy();
        assert_eq!(copy.body, small.body);
        assert_ne!(copy.body.as_ptr(), small.body.as_ptr(), "a small body is copied");
        assert_eq!(copy.headers, small.headers);
        let mine = |a: &CatalogAnswer| a.headers[http::header::ETAG].as_bytes().as_ptr();
        assert_ne!(mine(&copy), mine(&small), "the validators are copied");

        let large = CatalogAnswer::new(
            Bytes::from(vec![b'x'; CatalogAnswer::COPIED_BODY_MAX + 1]),
            &etag,
            &date,
        );
        let copy = large.copy();
        assert_eq!(copy.body.as_ptr(), large.body.as_ptr(), "a large body is shared");
        assert_eq!(copy.headers, large.headers);
    }
}
