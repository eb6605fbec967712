//! The key-value broker of a first hour with the macros: a synchronous `free` plan without
//! parameters and an asynchronous `dedicated` plan with typed parameters ([`KvParams`]).
//!
//! Typed parameters follow their plan: `provision` takes `params: Option<KvParams>`, which
//! is `None` for `free` (it declares no `provision_params`) and the decoded parameters for
//! `dedicated`. A plain `params: KvParams` would not compile: the message names plan `free`.
//!
//! Instances are kept in a `HashMap<InstanceId, _>`: ids are newtypes, and
//! `ctx.instance_id()` is an `&InstanceId`. (A `HashMap<String, _>` works too, looked up
//! with `ctx.instance_id().as_str()`.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{BindRequest, InstanceId, ProvisionRequest};
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};
use serde_json::json;

/// Provision parameters of the `dedicated` plan.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KvParams {
    /// How many keys the store holds (1 to 1000000).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub max_keys: u32,
}

/// The `kv` offering.
#[derive(Debug, Offering)]
#[osb(
    id = "0d6e9f5a-3c1b-4f8e-9a2d-7b4c5e6f7a01",
    name = "kv",
    description = "A key-value store",
    bindable,
    plans(Free, Dedicated)
)]
pub struct Kv;

/// A shared store, synchronous, without parameters. `free` is left out: plans are free
/// unless `free = false`.
#[derive(Debug, Plan)]
#[osb(
    id = "0d6e9f5a-3c1b-4f8e-9a2d-7b4c5e6f7a02",
    name = "free",
    description = "Shared, 100 keys"
)]
pub struct Free;

/// A store of its own, set up in the background, sized by [`KvParams`].
#[derive(Debug, Plan)]
#[osb(
    id = "0d6e9f5a-3c1b-4f8e-9a2d-7b4c5e6f7a03",
    name = "dedicated",
    description = "Dedicated, as many keys as you ask",
    free = false,
    async_only,
    retry_after_secs = 1,
    provision_params = KvParams
)]
pub struct Dedicated;

/// Keys of the `free` plan.
pub const FREE_MAX_KEYS: u32 = 100;

/// The key-value broker: the size of each instance, by instance id.
#[derive(Debug, Clone, Default)]
pub struct KvBroker {
    sizes: Arc<Mutex<HashMap<InstanceId, u32>>>,
}

impl KvBroker {
    /// The `max_keys` of an instance, once provisioned.
    #[must_use]
    pub fn max_keys(&self, instance_id: &str) -> Option<u32> {
        self.sizes().get(instance_id).copied()
    }

    fn sizes(&self) -> std::sync::MutexGuard<'_, HashMap<InstanceId, u32>> {
        self.sizes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[broker(catalog(Kv))]
impl KvBroker {
    async fn provision(
        &self,
        ctx: &RequestContext,
        _req: ProvisionRequest,
        params: Option<KvParams>,
    ) -> Result<Provisioned, BrokerError> {
        let id = ctx.instance_id().clone();
        match params {
            // `dedicated`: parameters checked against the schema and decoded.
            Some(params) => {
                let sizes = Arc::clone(&self.sizes);
                Ok(Provisioned::later(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    sizes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(id, params.max_keys);
                    Ok(())
                }))
            }
            // `free`: no parameter type, so `None`.
            None => {
                self.sizes().insert(id, FREE_MAX_KEYS);
                Ok(Provisioned::done())
            }
        }
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        _req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        self.sizes().remove(ctx.instance_id());
        Ok(Deprovisioned::done())
    }

    async fn bind(&self, ctx: &RequestContext, _req: BindRequest) -> Result<Bound, BrokerError> {
        let max_keys = self.max_keys(ctx.instance_id().as_str());
        Ok(Bound::credentials(json!({
            "uri": format!("kv://{}", ctx.instance_id()),
            "max_keys": max_keys,
        })))
    }
}
