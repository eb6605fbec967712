//! The state shared by the checks: the broker connection, its catalog, the chosen plans, and
//! the registry of everything created (so it can always be deleted).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osb_types::{Catalog, ServiceOffering, ServicePlan};
use serde_json::{Map, Value, json};

use crate::http::{Exchange, Http, Req};
use crate::{Config, Event, ID_PREFIX, params};

/// An instance the checker created (or tried to), with its bindings.
#[derive(Debug, Clone)]
pub(crate) struct Tracked {
    pub(crate) id: String,
    pub(crate) service_id: String,
    pub(crate) plan_id: String,
    /// The offering's other plans: tried when the broker says `plan_id` is not the
    /// instance's (e.g. after a plan change of unknown outcome).
    pub(crate) other_plans: Vec<String>,
    pub(crate) bindings: Vec<String>,
}

/// Everything created and not yet deleted.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) live: Vec<Tracked>,
    pub(crate) created: Vec<String>,
}

/// An offering and one of its plans.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) offering: ServiceOffering,
    pub(crate) plan: ServicePlan,
}

impl Target {
    pub(crate) fn sid(&self) -> &str {
        self.offering.id.as_str()
    }
    pub(crate) fn pid(&self) -> &str {
        self.plan.id.as_str()
    }
    pub(crate) fn bindable(&self) -> bool {
        self.offering.plan_is_bindable(&self.plan)
    }
    pub(crate) fn label(&self) -> String {
        format!("{}/{}", self.offering.name, self.plan.name)
    }
    /// The fewest parameters valid for the create schema (`None` without a schema): what
    /// every provision sends, so that only `params.valid` depends on the optional ones.
    pub(crate) fn create_params(&self) -> Option<Map<String, Value>> {
        self.plan.instance_create_schema().and_then(params::minimal)
    }
}

/// How an asynchronous operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    Succeeded,
    Failed,
    /// 410 Gone.
    Gone,
    /// Anything else: a status, a transport error, a timeout.
    Other(String),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Succeeded => f.write_str("succeeded"),
            Self::Failed => f.write_str("failed"),
            Self::Gone => f.write_str("410 Gone"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// Every poll of one operation, and how it ended.
#[derive(Debug)]
pub(crate) struct Poll {
    pub(crate) polls: Vec<Exchange>,
    pub(crate) end: End,
}

pub(crate) struct Cx {
    pub(crate) http: Http,
    registry: Arc<Mutex<Registry>>,
    pub(crate) catalog_exchange: Option<Exchange>,
    pub(crate) catalog: Option<Catalog>,
    pub(crate) sync: Option<Target>,
    pub(crate) asyn: Option<Target>,
    pub(crate) probe_notes: Vec<String>,
    tag: String,
    counter: AtomicU32,
    pub(crate) poll_timeout: Duration,
}

impl Cx {
    pub(crate) fn new(http: Http, registry: Arc<Mutex<Registry>>, config: &Config) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        Self {
            http,
            registry,
            catalog_exchange: None,
            catalog: None,
            sync: None,
            asyn: None,
            probe_notes: Vec::new(),
            tag: tag[..10].to_owned(),
            counter: AtomicU32::new(0),
            poll_timeout: config.poll_timeout,
        }
    }

    /// A fresh id with the recognisable prefix.
    pub(crate) fn new_id(&self, kind: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{ID_PREFIX}{}-{kind}{n}", self.tag)
    }

    pub(crate) async fn fetch_catalog(&mut self) {
        let ex = self.http.send(Req::get("/v2/catalog")).await;
        if let Ok(r) = &ex.result
            && r.status == 200
            && let Some(v) = &r.json
        {
            self.catalog = serde_json::from_value(v.clone()).ok();
        }
        self.catalog_exchange = Some(ex);
    }

    pub(crate) fn plans_label(&self) -> String {
        let mut parts = Vec::new();
        parts.push(format!(
            "sync: {}",
            self.sync
                .as_ref()
                .map_or_else(|| "none found".to_owned(), Target::label)
        ));
        parts.push(format!(
            "async: {}",
            self.asyn
                .as_ref()
                .map_or_else(|| "none found".to_owned(), Target::label)
        ));
        for n in &self.probe_notes {
            parts.push(n.clone());
        }
        parts.join(", ")
    }

    /// Picks a synchronous and an asynchronous plan: provisions each candidate once with
    /// `accepts_incomplete=true` (201/200 = synchronous, 202 = asynchronous), bindable plans first.
    pub(crate) async fn choose_plans(&mut self, config: &Config) {
        let Some(catalog) = self.catalog.clone() else {
            return;
        };
        let mut candidates: Vec<Target> = Vec::new();
        for o in &catalog.services {
            if let Some(s) = &config.service
                && o.id != s.as_str()
                && o.name != *s
            {
                continue;
            }
            for p in &o.plans {
                if !config.plans.is_empty()
                    && !config.plans.iter().any(|x| p.id == x.as_str() || p.name == *x)
                {
                    continue;
                }
                candidates.push(Target {
                    offering: o.clone(),
                    plan: p.clone(),
                });
            }
        }
        candidates.sort_by_key(|t| !t.bindable());
        for t in candidates {
            if self.sync.is_some() && self.asyn.is_some() {
                break;
            }
            let id = self.new_id("probe");
            let body = self.prov_body(&t, t.create_params());
            let ex = self.provision(&t, &id, body, true).await;
            match ex.status() {
                Some(200 | 201) if self.sync.is_none() => self.sync = Some(t),
                Some(202) if self.asyn.is_none() => self.asyn = Some(t),
                Some(200..=202) => {}
                _ => self.probe_notes.push(format!(
                    "{} not used: provisioning it answered {}",
                    t.label(),
                    ex.got()
                )),
            }
        }
    }

    pub(crate) fn instance_path(id: &str) -> String {
        format!("/v2/service_instances/{id}")
    }
    pub(crate) fn binding_path(id: &str, b: &str) -> String {
        format!("/v2/service_instances/{id}/service_bindings/{b}")
    }

    /// A provision body with a Cloud Foundry context (the most widely required profile).
    pub(crate) fn prov_body(&self, t: &Target, parameters: Option<Map<String, Value>>) -> Value {
        let mut b = json!({
            "service_id": t.sid(),
            "plan_id": t.pid(),
            "organization_guid": "osbcheck-org",
            "space_guid": "osbcheck-space",
            "context": {
                "platform": "cloudfoundry",
                "organization_guid": "osbcheck-org",
                "space_guid": "osbcheck-space",
                "organization_name": "osbcheck",
                "space_name": "osbcheck",
                "instance_name": "osbcheck"
            }
        });
        if let Some(p) = parameters {
            b["parameters"] = Value::Object(p);
        }
        b
    }

    pub(crate) fn bind_body(t: &Target, parameters: Option<Map<String, Value>>) -> Value {
        let mut b = json!({
            "service_id": t.sid(),
            "plan_id": t.pid(),
            "bind_resource": {"app_guid": "osbcheck-app"},
            "context": {
                "platform": "cloudfoundry",
                "organization_guid": "osbcheck-org",
                "space_guid": "osbcheck-space",
                "organization_name": "osbcheck",
                "space_name": "osbcheck"
            }
        });
        if let Some(p) = parameters {
            b["parameters"] = Value::Object(p);
        }
        b
    }

    fn track(&self, id: &str, t: &Target) {
        if let Ok(mut r) = self.registry.lock()
            && !r.live.iter().any(|x| x.id == id)
        {
            r.live.push(Tracked {
                id: id.to_owned(),
                service_id: t.sid().to_owned(),
                plan_id: t.pid().to_owned(),
                other_plans: t
                    .offering
                    .plans
                    .iter()
                    .filter(|p| p.id != t.plan.id)
                    .map(|p| p.id.to_string())
                    .collect(),
                bindings: Vec::new(),
            });
            r.created.push(id.to_owned());
        }
    }

    /// Records that the instance now has plan `plan_id` (after a plan change).
    pub(crate) fn set_plan(&self, id: &str, plan_id: &str) {
        if let Ok(mut r) = self.registry.lock()
            && let Some(x) = r.live.iter_mut().find(|x| x.id == id)
        {
            let old = std::mem::replace(&mut x.plan_id, plan_id.to_owned());
            x.other_plans.retain(|p| p != plan_id);
            x.other_plans.push(old);
        }
    }

    /// `PUT` an instance, registered for cleanup before it is sent.
    pub(crate) async fn provision(&self, t: &Target, id: &str, body: Value, incomplete: bool) -> Exchange {
        self.track(id, t);
        self.http
            .send(Req::put(Self::instance_path(id), body).incomplete(incomplete))
            .await
    }

    /// Sends `req`, registering instance `id` (of `t`) for cleanup first.
    pub(crate) async fn send_tracked(&self, t: &Target, id: &str, req: Req) -> Exchange {
        self.track(id, t);
        self.http.send(req).await
    }

    /// `PUT` a binding, registered for cleanup before it is sent.
    pub(crate) async fn bind(&self, id: &str, b: &str, body: Value, incomplete: bool) -> Exchange {
        if let Ok(mut r) = self.registry.lock()
            && let Some(x) = r.live.iter_mut().find(|x| x.id == id)
            && !x.bindings.iter().any(|y| y == b)
        {
            x.bindings.push(b.to_owned());
        }
        self.http
            .send(Req::put(Self::binding_path(id, b), body).incomplete(incomplete))
            .await
    }

    /// A synchronous instance ready to use, or why not.
    pub(crate) async fn ready_instance(&self, t: &Target) -> Result<String, String> {
        let id = self.new_id("i");
        let body = self.prov_body(t, t.create_params());
        let ex = self.provision(t, &id, body, true).await;
        match ex.status() {
            Some(200 | 201) => Ok(id),
            Some(202) => {
                let op = ex
                    .result
                    .as_ref()
                    .ok()
                    .and_then(|r| r.str_field("operation"))
                    .map(str::to_owned);
                let p = self.poll_instance(&id, t, op.as_deref()).await;
                if p.end == End::Succeeded {
                    Ok(id)
                } else {
                    Err(format!("provisioning {} ended: {}", t.label(), p.end))
                }
            }
            _ => Err(format!("provisioning {} answered {}", t.label(), ex.got())),
        }
    }

    /// Polls the instance's last_operation until it ends.
    pub(crate) async fn poll_instance(&self, id: &str, t: &Target, op: Option<&str>) -> Poll {
        self.poll(
            format!("{}/last_operation", Self::instance_path(id)),
            t.sid(),
            t.pid(),
            op,
        )
        .await
    }

    /// Polls the binding's last_operation until it ends.
    pub(crate) async fn poll_binding(&self, id: &str, b: &str, t: &Target, op: Option<&str>) -> Poll {
        self.poll(
            format!("{}/last_operation", Self::binding_path(id, b)),
            t.sid(),
            t.pid(),
            op,
        )
        .await
    }

    async fn poll(&self, path: String, sid: &str, pid: &str, op: Option<&str>) -> Poll {
        let deadline = Instant::now() + self.poll_timeout;
        let mut polls = Vec::new();
        loop {
            let mut req = Req::get(path.clone()).q("service_id", sid).q("plan_id", pid);
            if let Some(op) = op {
                req = req.q("operation", op);
            }
            let ex = self.http.send(req).await;
            let mut wait = Duration::from_millis(300);
            let end = match &ex.result {
                Err(e) => Some(End::Other(e.clone())),
                Ok(r) if r.status == 410 => Some(End::Gone),
                Ok(r) if r.status == 200 => match r.str_field("state") {
                    Some("succeeded") => Some(End::Succeeded),
                    Some("failed") => Some(End::Failed),
                    Some("in progress") => {
                        if let Some(ra) = r.header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
                            wait = Duration::from_secs(ra)
                                .clamp(Duration::from_millis(200), Duration::from_secs(5));
                        }
                        None
                    }
                    _ => Some(End::Other(format!(
                        "invalid last_operation answer {}",
                        r.summary()
                    ))),
                },
                Ok(r) => Some(End::Other(format!("last_operation answered {}", r.summary()))),
            };
            polls.push(ex);
            if let Some(end) = end {
                return Poll { polls, end };
            }
            if Instant::now() + wait > deadline {
                return Poll {
                    polls,
                    end: End::Other(format!(
                        "still in progress after {}s",
                        self.poll_timeout.as_secs()
                    )),
                };
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Deletes what was created; returns what could not be deleted.
    pub(crate) async fn cleanup_all(&self, on_event: &(dyn Fn(Event<'_>) + Sync)) -> Vec<String> {
        let live: Vec<Tracked> = self.registry.lock().map(|r| r.live.clone()).unwrap_or_default();
        let mut problems = Vec::new();
        for t in live {
            on_event(Event::CleaningUp(&t.id));
            match self.delete_instance(&t).await {
                Ok(()) => {
                    if let Ok(mut r) = self.registry.lock() {
                        r.live.retain(|x| x.id != t.id);
                    }
                }
                Err(e) => {
                    if let Ok(mut r) = self.registry.lock() {
                        r.live.retain(|x| x.id != t.id);
                    }
                    problems.push(format!("instance {}: {e}", t.id));
                }
            }
        }
        problems
    }

    async fn delete_instance(&self, t: &Tracked) -> Result<(), String> {
        for b in &t.bindings {
            let path = Self::binding_path(&t.id, b);
            self.delete_until_gone(&path, &t.service_id, &t.plan_id)
                .await
                .map_err(|e| format!("binding {b}: {e}"))?;
        }
        let path = Self::instance_path(&t.id);
        let first = self.delete_until_gone(&path, &t.service_id, &t.plan_id).await;
        let Err(e) = first else { return Ok(()) };
        if e.starts_with("DELETE answered 400") {
            for p in &t.other_plans {
                if self.delete_until_gone(&path, &t.service_id, p).await.is_ok() {
                    return Ok(());
                }
            }
        }
        Err(e)
    }

    /// DELETE (accepting async), retrying while another operation runs, polling a 202.
    async fn delete_until_gone(&self, path: &str, sid: &str, pid: &str) -> Result<(), String> {
        let deadline = Instant::now() + self.poll_timeout;
        let mut errors = 0;
        loop {
            let ex = self
                .http
                .send(
                    Req::delete(path.to_owned())
                        .q("service_id", sid)
                        .q("plan_id", pid)
                        .incomplete(true),
                )
                .await;
            match &ex.result {
                // 404: not there either (some brokers answer it for a missing resource)
                Ok(r) if r.status == 200 || r.status == 410 || r.status == 404 => return Ok(()),
                Ok(r) if r.status == 202 => {
                    let op = r.str_field("operation").map(str::to_owned);
                    let p = self
                        .poll(format!("{path}/last_operation"), sid, pid, op.as_deref())
                        .await;
                    match p.end {
                        End::Gone | End::Succeeded => return Ok(()),
                        End::Failed => return Err("the delete failed (last_operation `failed`)".to_owned()),
                        End::Other(e) => {
                            // some brokers answer 404 once the resource is gone
                            if e.starts_with("last_operation answered 404") {
                                return Ok(());
                            }
                            return Err(e);
                        }
                    }
                }
                Ok(r) if r.status == 422 || r.status == 409 || r.status >= 500 => {
                    // an operation still runs (ConcurrencyError) or a transient failure
                    if r.status >= 500 {
                        errors += 1;
                    }
                    if Instant::now() > deadline || errors >= 3 {
                        return Err(format!("DELETE keeps answering {}", r.summary()));
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Ok(r) => return Err(format!("DELETE answered {}", r.summary())),
                Err(e) => {
                    errors += 1;
                    if Instant::now() > deadline || errors >= 3 {
                        return Err(e.clone());
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        }
    }
}
