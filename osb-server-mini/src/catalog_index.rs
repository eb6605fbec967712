//! The catalog as the runtime looks it up: plan id → its offering, plan and policy, shared
//! (not cloned) with every request context; the serialized catalog answered as is, with its
//! `ETag` and `Last-Modified`; the compiled plan schemas. [`LiveCatalog`] holds the one in
//! force, which a [`CatalogHandle`](crate::catalog::CatalogHandle) can replace while serving,
//! and [remembers](LiveCatalog::remember) the plans it served in the store, so that
//! instances of plans a later catalog dropped are served after a restart too.

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::SystemTime;

use bytes::Bytes;
use http::HeaderValue;
use osb_types::Catalog;
use osb_types::catalog::{PlanIndex, ServiceOffering, ServicePlan};

use crate::answers::bad_request;
use crate::broker::{Broker, PlanPolicy};
use crate::error::ServeError;
use crate::response::HttpResponse;
use crate::schema::Schemas;
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
        Ok(Self {
            catalog,
            bytes,
            etag,
            modified,
            last_modified,
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
    current: OnceLock<RwLock<Arc<CatalogIndex>>>,
    /// Where the policies of a new catalog's plans come from: the broker of the app.
    policies: OnceLock<Weak<dyn PlanPolicies>>,
    /// Held while a replacement is built, so that two replacements do not lose each
    /// other's retired plans; requests never wait for it.
    replacing: std::sync::Mutex<()>,
}

impl LiveCatalog {
    /// Installs the first catalog and where policies come from.
    pub(crate) fn init(&self, index: CatalogIndex, policies: Weak<dyn PlanPolicies>) {
        let _ = self.current.set(RwLock::new(Arc::new(index)));
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
        let lock = self.current.get()?;
        Some(Arc::clone(
            &lock.read().unwrap_or_else(std::sync::PoisonError::into_inner),
        ))
    }

    /// Validates `catalog` and puts it in force; on error the catalog in force stays.
    pub(crate) fn replace(&self, catalog: Catalog) -> Result<(), ServeError> {
        let (Some(lock), Some(policies)) = (self.current.get(), self.policies.get()) else {
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
        *lock.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        if changed {
            tracing::info!("catalog replaced");
        }
        Ok(())
    }

    /// Makes the catalog in force remembered (see [`CatalogIndex::remember`]) unless it
    /// is: once per catalog, before the first request on records (and the first recovery).
    /// Concurrent callers wait for one store round trip; a failure is retried next time.
    pub(crate) async fn remember(&self, store: &dyn Store) -> Result<(), StoreError> {
        let Some(current) = self.try_current() else {
            return Ok(());
        };
        if current.remembered.initialized() {
            return Ok(());
        }
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
        self.current().plan(service_id, plan_id)
    }

    /// See [`CatalogIndex::known_plan`].
    pub(crate) fn known_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        self.current().known_plan(service_id, plan_id)
    }

    /// See [`CatalogIndex::existing_plan`].
    pub(crate) fn existing_plan(
        &self,
        service_id: &str,
        plan_id: &str,
    ) -> Result<(Arc<ServiceOffering>, Arc<ServicePlan>), HttpResponse> {
        self.current().existing_plan(service_id, plan_id)
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
