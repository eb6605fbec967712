//! The checks: their definitions ([`checks()`]) and what each one sends and accepts.

use serde_json::{Value, json};

use crate::cx::{Cx, End, Target};
use crate::http::{Auth, Exchange, REQUEST_IDENTITY, Req, Resp, VersionHeader};
use crate::params;
use crate::report::{CheckResult, Finding, Level, Status};

/// One check: what it proves, where the rule is, how strict it is, what it sends.
#[derive(Debug)]
pub struct CheckDef {
    /// Stable name, `family.what`, e.g. `provision.identical_repeat`.
    pub name: &'static str,
    /// The family (the part before the dot): `catalog`, `version`, `auth`, `headers`,
    /// `provision`, `async`, `last_operation`, `concurrency`, `fetch`, `update`,
    /// `maintenance`, `params`, `bind`, `unbind`, `deprovision`, `errors`, `k8s`.
    pub family: &'static str,
    /// The `CHECKLIST.md` items it proves, e.g. `["A44", "A53"]`.
    pub items: &'static [&'static str],
    /// The spec section, e.g. `Provisioning › Response`.
    pub section: &'static str,
    /// `MUST` (a violation fails) or `SHOULD` (a violation warns).
    pub level: Level,
    /// What the specification requires, in one line.
    pub title: &'static str,
    /// What the check sends.
    pub sends: &'static str,
    /// How it cleans up.
    pub cleanup: &'static str,
}

macro_rules! defs {
    ($( $name:literal, $items:expr, $section:literal, $level:ident, $title:literal, $sends:literal, $cleanup:expr; )*) => {
        static CHECKS: &[CheckDef] = &[ $( CheckDef {
            name: $name,
            family: family_of($name),
            items: &$items,
            section: $section,
            level: Level::$level,
            title: $title,
            sends: $sends,
            cleanup: $cleanup,
        }, )* ];
    };
}

const fn family_of(name: &'static str) -> &'static str {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' {
            let (head, _) = b.split_at(i);
            return match std::str::from_utf8(head) {
                Ok(s) => s,
                Err(_) => name,
            };
        }
        i += 1;
    }
    name
}

const NONE: &str = "nothing to clean up";
const DEPROV: &str = "deprovisions every instance it created (unbinding first)";

defs! {
    "catalog.fetch", ["A28", "A29"], "Catalog Management › Response", Must,
        "GET /v2/catalog answers 200 with a JSON object holding a `services` array",
        "GET /v2/catalog", NONE;
    "catalog.valid", ["A32", "A35", "C9", "C10", "C21", "C23", "C24"], "Catalog Management › Body", Must,
        "the catalog satisfies the object rules (unique ids and names, at least one plan, non-empty strings, SemVer maintenance_info.version, schema rules)",
        "nothing (inspects the catalog)", NONE;
    "catalog.stable_ids", ["A30"], "Catalog Management", Must,
        "offering and plan ids do not change between catalog fetches",
        "GET /v2/catalog again", NONE;
    "version.missing", ["A2", "A10"], "Headers › API Version Header", Must,
        "a request without X-Broker-API-Version MAY be rejected, and then with 400 (412 accepted)",
        "GET /v2/catalog without X-Broker-API-Version", NONE;
    "version.lower", ["A1", "A10"], "Headers › API Version Header", Must,
        "an unsupported (older) version MAY be rejected, and then with 412 Precondition Failed",
        "GET /v2/catalog with X-Broker-API-Version: 2.0", NONE;
    "version.newer_minor", ["A3"], "Headers › API Version Header", Should,
        "minor revisions are additive: a newer minor (2.18) is accepted",
        "GET /v2/catalog with X-Broker-API-Version: 2.18", NONE;
    "auth.required", ["A4"], "Platform to Service Broker Authentication", Must,
        "when authentication is used, a request without or with wrong credentials is 401",
        "GET /v2/catalog without Authorization, then with a wrong password", NONE;
    "auth.challenge", ["A4"], "Platform to Service Broker Authentication", Should,
        "a 401 carries WWW-Authenticate (RFC 7235 §3.1)",
        "GET /v2/catalog without Authorization", NONE;
    "headers.request_identity", ["A6"], "Headers › Request Identity", Should,
        "the X-Broker-API-Request-Identity value is echoed in the response, also on errors",
        "GET /v2/catalog, DELETE of an unknown instance, last_operation of an unknown instance, each with a request identity",
        NONE;
    "headers.originating_identity", ["A7", "C67"], "Headers › Originating Identity", Must,
        "a well-formed originating identity is accepted; a malformed one is rejected with 400 (a 2xx warns)",
        "PUT provision with `cloudfoundry <base64 JSON>`, then with `cloudfoundry !!!not-base64`", DEPROV;
    "provision.created", ["A38", "A43", "A50"], "Provisioning › Response", Must,
        "a new instance is 201 Created with a JSON object body; dashboard_url is a string or null",
        "PUT /v2/service_instances/:id on the synchronous plan", DEPROV;
    "provision.identical_repeat", ["A42", "A53"], "Provisioning › Response", Must,
        "an identical PUT for a provisioned instance is 200 (SHOULD; 409 tolerated as the async-mode no-op), never 201",
        "the same PUT twice", DEPROV;
    "provision.conflict", ["A46"], "Provisioning › Response", Must,
        "a PUT for an existing id with different attributes is 409 Conflict",
        "PUT, then PUT with the same id and a different plan or different parameters", DEPROV;
    "provision.malformed", ["A45", "A15"], "Provisioning › Response", Must,
        "a malformed request (not JSON, no plan_id, parameters not an object) is 400",
        "three malformed PUTs", DEPROV;
    "provision.unknown_plan", ["A39"], "Provisioning › Body", Must,
        "a plan_id that is not in the catalog is rejected (400; another 4xx warns)",
        "PUT with plan_id `osbcheck-no-such-plan`", DEPROV;
    "async.required", ["A19", "A21", "A47"], "Asynchronous Operations", Must,
        "without accepts_incomplete=true an asynchronous plan answers 422 `AsyncRequired` (or completes synchronously), never 202",
        "PUT on the asynchronous plan without accepts_incomplete", DEPROV;
    "async.accepted", ["A20", "A44", "A51"], "Provisioning › Response", Must,
        "with accepts_incomplete=true an asynchronous provision is 202; `operation`, if present, a string of at most 10,000 characters",
        "PUT on the asynchronous plan with accepts_incomplete=true", DEPROV;
    "async.repeat_in_progress", ["A44", "A53"], "Provisioning › Response", Must,
        "an identical PUT while provisioning is 202 with the same `operation`",
        "the same asynchronous PUT twice, at once", DEPROV;
    "async.conflict_in_progress", ["A46"], "Provisioning › Response", Must,
        "a PUT with different attributes while the instance is being provisioned is 409",
        "asynchronous PUT, then the same id with different parameters", DEPROV;
    "async.deprovision", ["A84", "A133", "A135"], "Deprovisioning › Response", Must,
        "an asynchronous deprovision is 202, a re-sent DELETE 202 with the same `operation`, last_operation ends 410 Gone or 200 `succeeded` (both spec-legal), a later DELETE 410",
        "DELETE ?accepts_incomplete=true on a provisioned asynchronous instance, again, polls, DELETE once more",
        DEPROV;
    "async.deprovision_required", ["A19", "A21", "A136"], "Deprovisioning › Response", Must,
        "without accepts_incomplete=true an asynchronous deprovision is 422 `AsyncRequired` (or 200 synchronously), never 202",
        "DELETE of an asynchronous instance without accepts_incomplete", DEPROV;
    "last_operation.states", ["A78", "A79", "A80", "A81"], "Polling Last Operation for Service Instances › Response", Must,
        "every poll is 200 with `state` one of `in progress` / `succeeded` / `failed`, a non-empty description if any, no instance_usable/update_repeatable for a provision; it ends `succeeded`",
        "asynchronous PUT, then polls last_operation with service_id, plan_id, operation", DEPROV;
    "last_operation.retry_after", ["A85"], "Polling Last Operation for Service Instances › Response", Must,
        "a Retry-After header, if present, is delta-seconds or an HTTP-date",
        "polls last_operation of an asynchronous provision", DEPROV;
    "last_operation.unknown", ["A83"], "Polling Last Operation for Service Instances › Response", Must,
        "last_operation of an instance that does not exist is 404 (410 warns: only for asynchronous deletes)",
        "GET last_operation of a never-created id", NONE;
    "concurrency.delete_during_provision", ["A131", "A136", "A24"], "Deprovisioning", Must,
        "a DELETE while provisioning is either accepted (200/202) or 422 `ConcurrencyError`",
        "asynchronous PUT, then DELETE at once", DEPROV;
    "concurrency.fetch_during_provision", ["A58"], "Fetching a Service Instance › Response", Must,
        "GET instance while it is being provisioned is 404",
        "asynchronous PUT, then GET the instance at once (instances_retrievable only)", DEPROV;
    "concurrency.fetch_during_update", ["A59"], "Fetching a Service Instance › Response", Must,
        "GET instance while it is being updated is 422 `ConcurrencyError`",
        "asynchronous PATCH, then GET the instance at once (instances_retrievable only)", DEPROV;
    "update.repeat_in_progress", ["A67"], "Updating a Service Instance › Response", Must,
        "a re-sent PATCH while updating is 202 with the same `operation`",
        "the same asynchronous PATCH twice", DEPROV;
    "update.parameters", ["A66", "A16"], "Updating a Service Instance › Response", Must,
        "an update of parameters is 200 (or 202, then `succeeded`) with a JSON object body",
        "PATCH with parameters on a synchronous instance", DEPROV;
    "update.plan_change", ["A36", "A61"], "Updating a Service Instance", Must,
        "a plan_updateable plan accepts a plan change (200, or 202 then `succeeded`)",
        "PATCH with another plan_id of the offering", DEPROV;
    "update.async_required", ["A19", "A21", "A70"], "Updating a Service Instance › Response", Must,
        "without accepts_incomplete=true an asynchronous update is 422 `AsyncRequired` (or 200), never 202",
        "PATCH of an asynchronous instance without accepts_incomplete", DEPROV;
    "maintenance.provision_conflict", ["A48"], "Provisioning › Response", Must,
        "a provision whose maintenance_info.version differs from the catalog's is 422 `MaintenanceInfoConflict`; the catalog's version is accepted",
        "PUT with maintenance_info.version `0.0.0-osbcheck`, then with the plan's version", DEPROV;
    "maintenance.update_conflict", ["A71"], "Updating a Service Instance › Response", Must,
        "an update whose maintenance_info.version differs from the catalog's is 422 `MaintenanceInfoConflict`",
        "PATCH with maintenance_info.version `0.0.0-osbcheck`", DEPROV;
    "params.valid", ["A41", "A36"], "Provisioning › Body", Must,
        "parameters valid against the plan's create schema are accepted",
        "PUT with parameters generated from schemas.service_instance.create", DEPROV;
    "params.invalid", ["A41", "A45"], "Provisioning › Body", Should,
        "parameters that break the plan's create schema are rejected with 400",
        "PUT with parameters that the create schema rejects", DEPROV;
    "params.bind_valid", ["A95", "A36"], "Binding › Request", Must,
        "binding parameters valid against schemas.service_binding.create are accepted",
        "bind with generated valid parameters", DEPROV;
    "params.bind_invalid", ["A95"], "Binding › Request", Should,
        "binding parameters that break the binding schema are rejected with 400",
        "bind with parameters that the schema rejects", DEPROV;
    "bind.created", ["A90", "A93", "A101"], "Binding › Response", Must,
        "a new binding is 201 with a JSON object body; `credentials`, if present, an object",
        "PUT …/service_bindings/:id on a synchronous instance", DEPROV;
    "bind.identical_repeat", ["A92", "A53"], "Binding › Response", Must,
        "an identical bind for an existing binding is 200 (SHOULD; 409 tolerated), never 201",
        "the same bind twice", DEPROV;
    "bind.conflict", ["A96"], "Binding › Response", Must,
        "a bind for an existing binding id with different parameters is 409",
        "bind, then bind the same id with different parameters", DEPROV;
    "bind.async", ["A94", "A107", "A110", "A112"], "Binding › Response", Must,
        "an asynchronous bind is 202 without credentials, a re-sent bind 202 with the same operation, binding last_operation ends `succeeded`, and GET binding returns it",
        "bind with accepts_incomplete=true on an asynchronous instance", DEPROV;
    "bind.async_required", ["A19", "A21", "A99"], "Binding › Response", Must,
        "without accepts_incomplete=true an asynchronous bind is 422 `AsyncRequired` (or 201), never 202",
        "bind on an asynchronous instance without accepts_incomplete", DEPROV;
    "bind.rotation", ["A108"], "Binding Rotation", Must,
        "a binding_rotatable plan accepts a bind with predecessor_binding_id, and the old binding stays",
        "bind, then a new binding id with predecessor_binding_id", DEPROV;
    "bind.last_operation_unknown", ["A116"], "Polling Last Operation for Service Bindings › Response", Must,
        "binding last_operation of a binding that does not exist is 404 (410 warns)",
        "GET …/service_bindings/:never/last_operation on a provisioned instance", DEPROV;
    "fetch.instance", ["A55", "A57"], "Fetching a Service Instance", Must,
        "an instances_retrievable offering answers GET instance 200 with its service_id/plan_id",
        "PUT, then GET the instance", DEPROV;
    "fetch.instance_unknown", ["A58"], "Fetching a Service Instance › Response", Must,
        "GET of an instance that does not exist is 404",
        "GET a never-created instance id", NONE;
    "fetch.binding", ["A110", "A112"], "Fetching a Service Binding", Must,
        "a bindings_retrievable offering answers GET binding 200 with a JSON object body",
        "bind, then GET the binding", DEPROV;
    "fetch.binding_unknown", ["A113"], "Fetching a Service Binding › Response", Must,
        "GET of a binding that does not exist is 404",
        "GET a never-created binding id on a provisioned instance", DEPROV;
    "unbind.ok", ["A121", "A122"], "Unbinding › Response", Must,
        "unbinding is 200 with a JSON object body",
        "bind, then DELETE the binding", DEPROV;
    "unbind.gone", ["A125"], "Unbinding › Response", Must,
        "unbinding a binding that does not exist is 410 Gone",
        "DELETE a never-created binding on a provisioned instance", DEPROV;
    "unbind.missing_params", ["A120", "A124"], "Unbinding › Request", Must,
        "an unbind without service_id and plan_id is 400",
        "DELETE a binding without query parameters", DEPROV;
    "deprovision.sync", ["A129", "A132"], "Deprovisioning › Response", Must,
        "deprovisioning a synchronous instance is 200 with a JSON object body",
        "PUT, then DELETE ?service_id&plan_id", DEPROV;
    "deprovision.gone", ["A135"], "Deprovisioning › Response", Must,
        "deprovisioning an instance that does not exist is 410 Gone",
        "DELETE a never-created instance id", NONE;
    "deprovision.missing_params", ["A128", "A134"], "Deprovisioning › Request", Must,
        "a deprovision without service_id and plan_id is 400",
        "DELETE an instance without query parameters", DEPROV;
    "errors.json_body", ["A15", "A16"], "Content Type", Should,
        "error answers carry Content-Type: application/json and a JSON object body",
        "DELETE unknown instance (410), last_operation unknown (404), malformed PUT (400)", DEPROV;
    "errors.fields", ["A11"], "Service Broker Errors", Must,
        "`error`, if present, is a single CamelCase word; `description`, if present, a non-empty string",
        "a malformed PUT, a PUT with an unknown plan, GET unknown instance", DEPROV;
    "errors.description", ["A11"], "Service Broker Errors", Should,
        "a 4xx error (other than 410) carries a user-facing `description`",
        "a malformed PUT, a PUT with an unknown plan", DEPROV;
    "errors.failure_metadata", ["A12"], "Service Broker Errors", Must,
        "instance_usable / update_repeatable never appear in errors of provision or bind",
        "a malformed provision and a malformed bind", DEPROV;
    "k8s.async_required_text", ["A19", "issue-19"], "Service Broker Errors › Error Codes", Should,
        "the AsyncRequired description is the text the Kubernetes Service Catalog client matches exactly",
        "PUT on the asynchronous plan without accepts_incomplete", DEPROV;
    "k8s.concurrency_error_text", ["A24", "issue-19"], "Blocking Operations", Should,
        "the ConcurrencyError description is the text the Kubernetes Service Catalog client matches exactly",
        "asynchronous PUT, then DELETE at once", DEPROV;
}

/// Every check, in run order.
#[must_use]
pub fn checks() -> &'static [CheckDef] {
    CHECKS
}

/// The descriptions the Kubernetes Service Catalog Go client (`IsAsyncRequiredError`,
/// `IsConcurrencyError`) compares exactly.
const K8S_ASYNC_REQUIRED: &str =
    "This service plan requires client support for asynchronous service operations.";
const K8S_CONCURRENCY: &str =
    "The Service Broker does not support concurrent requests that mutate the same resource.";

pub(crate) enum Verdict {
    Fail(Finding),
    Warn(Finding),
    Skip(String),
}

/// `Ok(note)` = pass.
pub(crate) type Outcome = Result<Option<String>, Verdict>;

pub(crate) fn to_result(def: &'static CheckDef, outcome: Outcome, millis: u128) -> CheckResult {
    let (status, note, finding) = match outcome {
        Ok(note) => (Status::Pass, note, None),
        Err(Verdict::Fail(f)) if def.level == Level::Should => (Status::Warn, None, Some(f)),
        Err(Verdict::Fail(f)) => (Status::Fail, None, Some(f)),
        Err(Verdict::Warn(f)) => (Status::Warn, None, Some(f)),
        Err(Verdict::Skip(s)) => (Status::Skip, Some(s), None),
    };
    CheckResult {
        check: def,
        status,
        note,
        finding,
        millis,
    }
}

fn finding(ex: &Exchange, required: impl Into<String>) -> Finding {
    Finding {
        sent: Some(ex.sent.clone()),
        got: Some(ex.got()),
        required: required.into(),
    }
}
fn fail(ex: &Exchange, required: impl Into<String>) -> Verdict {
    Verdict::Fail(finding(ex, required))
}
fn warn(ex: &Exchange, required: impl Into<String>) -> Verdict {
    Verdict::Warn(finding(ex, required))
}
fn skip(why: impl Into<String>) -> Verdict {
    Verdict::Skip(why.into())
}

/// The answer, or a failure when none came.
fn answered(ex: &Exchange, required: &str) -> Result<Resp, Verdict> {
    ex.result.clone().map_err(|_| fail(ex, required))
}

/// The answer when its status is one of `codes`, else a failure.
fn status_in(ex: &Exchange, codes: &[u16], required: &str) -> Result<Resp, Verdict> {
    let r = answered(ex, required)?;
    if codes.contains(&r.status) {
        Ok(r)
    } else {
        Err(fail(ex, required))
    }
}

/// The answer when `status` with `"error": code`, else a failure.
fn error_code(ex: &Exchange, status: u16, code: &str, required: &str) -> Result<Resp, Verdict> {
    let r = status_in(ex, &[status], required)?;
    if r.error_code() == Some(code) {
        Ok(r)
    } else {
        Err(fail(ex, required))
    }
}

/// A setup step: a wrong answer skips the check (another check is about that answer).
fn setup(ex: &Exchange, codes: &[u16], what: &str) -> Result<Resp, Verdict> {
    match &ex.result {
        Ok(r) if codes.contains(&r.status) => Ok(r.clone()),
        _ => Err(skip(format!("setup: {what} answered {}", ex.got()))),
    }
}

fn op_of(r: &Resp) -> Option<String> {
    r.str_field("operation").map(str::to_owned)
}

fn need_sync(cx: &Cx) -> Result<&Target, Verdict> {
    if cx.catalog.is_none() {
        return Err(skip("no usable catalog"));
    }
    cx.sync.as_ref().ok_or_else(|| skip("no synchronous plan found"))
}
fn need_async(cx: &Cx) -> Result<&Target, Verdict> {
    if cx.catalog.is_none() {
        return Err(skip("no usable catalog"));
    }
    cx.asyn.as_ref().ok_or_else(|| skip("no asynchronous plan found"))
}
fn need_bindable(t: &Target) -> Result<(), Verdict> {
    if t.bindable() {
        Ok(())
    } else {
        Err(skip(format!("{} is not bindable", t.label())))
    }
}
fn any_plan(cx: &Cx) -> Result<&Target, Verdict> {
    need_sync(cx).or_else(|_| need_async(cx))
}
async fn ready(cx: &Cx, t: &Target) -> Result<String, Verdict> {
    cx.ready_instance(t)
        .await
        .map_err(|e| skip(format!("setup: {e}")))
}

fn delete_req(id: &str, t: &Target, incomplete: bool) -> Req {
    Req::delete(Cx::instance_path(id))
        .q("service_id", t.sid())
        .q("plan_id", t.pid())
        .incomplete(incomplete)
}

fn unknown_id(cx: &Cx) -> String {
    cx.new_id("never")
}

pub(crate) async fn run_one(def: &'static CheckDef, cx: &Cx) -> Outcome {
    if def.name != "catalog.fetch" && cx.catalog.is_none() {
        return Err(skip("no usable catalog"));
    }
    match def.name {
        "catalog.fetch" => catalog_fetch(cx),
        "catalog.valid" => catalog_valid(cx),
        "catalog.stable_ids" => catalog_stable(cx).await,
        "version.missing" => version_reject(cx, VersionHeader::Missing, &[400, 412]).await,
        "version.lower" => version_reject(cx, VersionHeader::Value("2.0"), &[412]).await,
        "version.newer_minor" => version_newer(cx).await,
        "auth.required" => auth_required(cx).await,
        "auth.challenge" => auth_challenge(cx).await,
        "headers.request_identity" => request_identity(cx).await,
        "headers.originating_identity" => originating_identity(cx).await,
        "provision.created" => provision_created(cx).await,
        "provision.identical_repeat" => provision_repeat(cx).await,
        "provision.conflict" => provision_conflict(cx).await,
        "provision.malformed" => provision_malformed(cx).await,
        "provision.unknown_plan" => provision_unknown_plan(cx).await,
        "async.required" => async_required(cx, false).await,
        "async.accepted" => async_accepted(cx).await,
        "async.repeat_in_progress" => async_repeat(cx).await,
        "async.conflict_in_progress" => async_conflict(cx).await,
        "async.deprovision" => async_deprovision(cx).await,
        "async.deprovision_required" => async_deprovision_required(cx).await,
        "last_operation.states" => last_op_states(cx).await,
        "last_operation.retry_after" => last_op_retry_after(cx).await,
        "last_operation.unknown" => last_op_unknown(cx).await,
        "concurrency.delete_during_provision" => delete_during_provision(cx, false).await,
        "concurrency.fetch_during_provision" => fetch_during_provision(cx).await,
        "concurrency.fetch_during_update" => fetch_during_update(cx, false).await,
        "update.repeat_in_progress" => fetch_during_update(cx, true).await,
        "update.parameters" => update_parameters(cx).await,
        "update.plan_change" => update_plan_change(cx).await,
        "update.async_required" => update_async_required(cx).await,
        "maintenance.provision_conflict" => maintenance_provision(cx).await,
        "maintenance.update_conflict" => maintenance_update(cx).await,
        "params.valid" => params_provision(cx, true).await,
        "params.invalid" => params_provision(cx, false).await,
        "params.bind_valid" => params_bind(cx, true).await,
        "params.bind_invalid" => params_bind(cx, false).await,
        "bind.created" => bind_created(cx).await,
        "bind.identical_repeat" => bind_repeat(cx).await,
        "bind.conflict" => bind_conflict(cx).await,
        "bind.async" => bind_async(cx).await,
        "bind.async_required" => bind_async_required(cx).await,
        "bind.rotation" => bind_rotation(cx).await,
        "bind.last_operation_unknown" => binding_last_op_unknown(cx).await,
        "fetch.instance" => fetch_instance(cx).await,
        "fetch.instance_unknown" => fetch_instance_unknown(cx).await,
        "fetch.binding" => fetch_binding(cx).await,
        "fetch.binding_unknown" => fetch_binding_unknown(cx).await,
        "unbind.ok" => unbind_ok(cx).await,
        "unbind.gone" => unbind_gone(cx).await,
        "unbind.missing_params" => unbind_missing_params(cx).await,
        "deprovision.sync" => deprovision_sync(cx).await,
        "deprovision.gone" => deprovision_gone(cx).await,
        "deprovision.missing_params" => deprovision_missing_params(cx).await,
        "errors.json_body" => errors_json(cx).await,
        "errors.fields" => errors_fields(cx, false).await,
        "errors.description" => errors_fields(cx, true).await,
        "errors.failure_metadata" => errors_failure_metadata(cx).await,
        "k8s.async_required_text" => async_required(cx, true).await,
        "k8s.concurrency_error_text" => delete_during_provision(cx, true).await,
        _ => Err(skip("not implemented")),
    }
}

// ---------------------------------------------------------------- catalog

fn catalog_fetch(cx: &Cx) -> Outcome {
    let Some(ex) = &cx.catalog_exchange else {
        return Err(skip("the catalog was not fetched"));
    };
    let req = "200 OK with a JSON object `{\"services\": [...]}`";
    let r = status_in(ex, &[200], req)?;
    let services_ok = r
        .json
        .as_ref()
        .and_then(|v| v.get("services"))
        .is_some_and(Value::is_array);
    if !services_ok {
        return Err(fail(ex, req));
    }
    if cx.catalog.is_none() {
        return Err(fail(
            ex,
            "a catalog whose offerings and plans have the required fields (id, name, description, bindable, plans)",
        ));
    }
    Ok(None)
}

fn catalog_valid(cx: &Cx) -> Outcome {
    let Some(c) = &cx.catalog else {
        return Err(skip("no usable catalog"));
    };
    match c.validate() {
        Ok(()) => Ok(None),
        Err(e) => Err(Verdict::Fail(Finding {
            sent: Some("GET /v2/catalog".to_owned()),
            got: Some(e.to_string()),
            required: "a catalog that satisfies every object rule of the specification".to_owned(),
        })),
    }
}

fn ids(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in v.get("services").and_then(Value::as_array).into_iter().flatten() {
        out.push(format!(
            "service {}",
            s.get("id").and_then(Value::as_str).unwrap_or("")
        ));
        for p in s.get("plans").and_then(Value::as_array).into_iter().flatten() {
            out.push(format!(
                "plan {}",
                p.get("id").and_then(Value::as_str).unwrap_or("")
            ));
        }
    }
    out.sort();
    out
}

async fn catalog_stable(cx: &Cx) -> Outcome {
    let first = cx
        .catalog_exchange
        .as_ref()
        .and_then(|e| e.result.as_ref().ok())
        .and_then(|r| r.json.clone())
        .ok_or_else(|| skip("no usable catalog"))?;
    let ex = cx.http.send(Req::get("/v2/catalog")).await;
    let req = "the same offering and plan ids on every catalog fetch";
    let r = status_in(&ex, &[200], req)?;
    let second = r.json.unwrap_or(Value::Null);
    if ids(&first) == ids(&second) {
        Ok(None)
    } else {
        Err(fail(&ex, req))
    }
}

// ---------------------------------------------------------------- version, auth, headers

async fn version_reject(cx: &Cx, v: VersionHeader, codes: &[u16]) -> Outcome {
    let ex = cx.http.send(Req::get("/v2/catalog").version(v)).await;
    let want = if codes.contains(&400) {
        "400 Bad Request (or 412)"
    } else {
        "412 Precondition Failed"
    };
    let req = format!("MAY reject, and then with {want}");
    let r = answered(&ex, &req)?;
    if codes.contains(&r.status) {
        Ok(None)
    } else if (200..300).contains(&r.status) {
        Err(warn(
            &ex,
            format!("accepted: a broker MAY reject this with {want}; platforms use the answer to negotiate"),
        ))
    } else {
        Err(fail(&ex, format!("when the broker rejects it, {want}")))
    }
}

async fn version_newer(cx: &Cx) -> Outcome {
    let ex = cx
        .http
        .send(Req::get("/v2/catalog").version(VersionHeader::Value("2.18")))
        .await;
    status_in(
        &ex,
        &[200],
        "200: minor versions only add, a 2.18 platform can talk to a 2.17 broker",
    )?;
    Ok(None)
}

async fn auth_required(cx: &Cx) -> Outcome {
    if !cx.http.has_auth() {
        return Err(skip("no credentials given (--username/--password or --token)"));
    }
    let req = "401 Unauthorized";
    for auth in [Auth::Missing, Auth::Wrong] {
        let ex = cx.http.send(Req::get("/v2/catalog").auth(auth)).await;
        status_in(&ex, &[401], req)?;
    }
    Ok(None)
}

async fn auth_challenge(cx: &Cx) -> Outcome {
    if !cx.http.has_auth() {
        return Err(skip("no credentials given (--username/--password or --token)"));
    }
    let ex = cx.http.send(Req::get("/v2/catalog").auth(Auth::Missing)).await;
    let r = setup(&ex, &[401], "GET /v2/catalog without credentials")?;
    if r.header("www-authenticate").is_some_and(|v| !v.trim().is_empty()) {
        Ok(None)
    } else {
        Err(fail(
            &ex,
            "a WWW-Authenticate header naming the scheme (e.g. `Basic realm=\"...\"`)",
        ))
    }
}

async fn request_identity(cx: &Cx) -> Outcome {
    let t = any_plan(cx)?;
    let reqs = [
        Req::get("/v2/catalog"),
        delete_req(&unknown_id(cx), t, true),
        Req::get(format!("{}/last_operation", Cx::instance_path(&unknown_id(cx)))),
    ];
    for (i, req) in reqs.into_iter().enumerate() {
        let value = format!("osbcheck-request-{i}-{}", uuid::Uuid::new_v4().simple());
        let ex = cx.http.send(req.header(REQUEST_IDENTITY, value.clone())).await;
        let required = format!("the response carries {REQUEST_IDENTITY}: {value}");
        let r = answered(&ex, &required)?;
        if r.header(REQUEST_IDENTITY) != Some(value.as_str()) {
            return Err(fail(&ex, required));
        }
    }
    Ok(None)
}

async fn originating_identity(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    // {"user_id":"683ea748-3092-4ff4-b656-39cacc4d5360"} (the spec's example)
    let good =
        "cloudfoundry eyANCiAgInVzZXJfaWQiOiAiNjgzZWE3NDgtMzA5Mi00ZmY0LWI2NTYtMzljYWNjNGQ1MzYwIg0KfQ==";
    let id = cx.new_id("i");
    let body = cx.prov_body(t, t.create_params());
    let req = Req::put(Cx::instance_path(&id), body.clone())
        .incomplete(true)
        .header("X-Broker-API-Originating-Identity", good);
    let ex = cx.send_tracked(t, &id, req).await;
    status_in(
        &ex,
        &[200, 201, 202],
        "a well-formed originating identity is accepted (201)",
    )?;
    let id2 = cx.new_id("i");
    let req = Req::put(Cx::instance_path(&id2), body)
        .incomplete(true)
        .header("X-Broker-API-Originating-Identity", "cloudfoundry !!!not-base64");
    let ex = cx.send_tracked(t, &id2, req).await;
    let required = "400 Bad Request for a malformed X-Broker-API-Originating-Identity (`<platform> <base64 of a JSON object>`)";
    let r = answered(&ex, required)?;
    match r.status {
        400 => Ok(None),
        // the spec names no status for this header; 400 is its answer to a malformed request
        200..=299 | 401..=499 => Err(warn(&ex, required)),
        _ => Err(fail(&ex, required)),
    }
}

// ---------------------------------------------------------------- provision

fn check_provision_body(ex: &Exchange, r: &Resp) -> Outcome {
    let req = "a JSON object body; `dashboard_url` a string or null";
    if !r.is_json_object() {
        return Err(fail(ex, req));
    }
    match r.json.as_ref().and_then(|v| v.get("dashboard_url")) {
        None | Some(Value::Null | Value::String(_)) => Ok(None),
        Some(_) => Err(fail(ex, req)),
    }
}

async fn provision_created(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let id = cx.new_id("i");
    let ex = cx
        .provision(t, &id, cx.prov_body(t, t.create_params()), true)
        .await;
    let r = status_in(&ex, &[201], "201 Created for a new instance")?;
    check_provision_body(&ex, &r)
}

async fn provision_repeat(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let id = cx.new_id("i");
    let body = cx.prov_body(t, t.create_params());
    let ex = cx.provision(t, &id, body.clone(), true).await;
    setup(&ex, &[200, 201], "the first PUT")?;
    let ex = cx.provision(t, &id, body, true).await;
    let required =
        "200 OK for an identical PUT of a provisioned instance (201 only when this request created it)";
    let r = answered(&ex, required)?;
    match r.status {
        200 => check_provision_body(&ex, &r),
        409 => Err(warn(
            &ex,
            "200 OK SHOULD answer an identical synchronous PUT (409 is the async-mode no-op)",
        )),
        _ => Err(fail(&ex, required)),
    }
}

/// A body for the same instance id with different attributes: another plan of the offering
/// when there is one, else different parameters.
fn different_body(cx: &Cx, t: &Target) -> Option<Value> {
    if let Some(other) = t.offering.plans.iter().find(|p| p.id != t.plan.id) {
        let o = Target {
            offering: t.offering.clone(),
            plan: other.clone(),
        };
        return Some(cx.prov_body(&o, o.create_params()));
    }
    if t.plan.instance_create_schema().is_some() {
        return None;
    }
    let mut p = serde_json::Map::new();
    p.insert(
        "osbcheck-different".to_owned(),
        json!(uuid::Uuid::new_v4().to_string()),
    );
    Some(cx.prov_body(t, Some(p)))
}

async fn provision_conflict(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let id = cx.new_id("i");
    let ex = cx
        .provision(t, &id, cx.prov_body(t, t.create_params()), true)
        .await;
    setup(&ex, &[200, 201], "the first PUT")?;
    let body = different_body(cx, t)
        .ok_or_else(|| skip("no way to vary the attributes (one plan with a schema)"))?;
    let ex = cx.provision(t, &id, body, true).await;
    status_in(
        &ex,
        &[409],
        "409 Conflict: the instance exists with different attributes",
    )?;
    Ok(None)
}

async fn provision_malformed(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let required = "400 Bad Request for a malformed request";
    let id = cx.new_id("i");
    let ex = cx
        .send_tracked(
            t,
            &id,
            Req::new(reqwest::Method::PUT, Cx::instance_path(&id))
                .raw("{\"service_id\": ")
                .incomplete(true),
        )
        .await;
    status_in(&ex, &[400], required)?;
    let mut no_plan = cx.prov_body(t, None);
    if let Some(m) = no_plan.as_object_mut() {
        m.remove("plan_id");
    }
    let mut bad_params = cx.prov_body(t, None);
    bad_params["parameters"] = json!(["not", "an", "object"]);
    for body in [no_plan, bad_params] {
        let id = cx.new_id("i");
        let ex = cx.provision(t, &id, body, true).await;
        status_in(&ex, &[400], required)?;
    }
    Ok(None)
}

async fn provision_unknown_plan(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let mut body = cx.prov_body(t, None);
    body["plan_id"] = json!("osbcheck-no-such-plan");
    let id = cx.new_id("i");
    let ex = cx.provision(t, &id, body, true).await;
    let required = "400 Bad Request: plan_id is not a plan of this offering";
    let r = answered(&ex, required)?;
    match r.status {
        400 => Ok(None),
        401..=499 => Err(warn(&ex, required)),
        _ => Err(fail(&ex, required)),
    }
}

// ---------------------------------------------------------------- async

async fn async_required(cx: &Cx, k8s_text: bool) -> Outcome {
    let t = need_async(cx)?;
    let id = cx.new_id("i");
    let ex = cx
        .provision(t, &id, cx.prov_body(t, t.create_params()), false)
        .await;
    let required = "422 with \"error\": \"AsyncRequired\" (or a synchronous 201), never 202 without accepts_incomplete=true";
    let r = answered(&ex, required)?;
    match r.status {
        200 | 201 if !k8s_text => Ok(Some("completed synchronously".to_owned())),
        422 if r.error_code() == Some("AsyncRequired") => {
            if k8s_text && r.str_field("description") != Some(K8S_ASYNC_REQUIRED) {
                return Err(fail(
                    &ex,
                    format!(
                        "description exactly \"{K8S_ASYNC_REQUIRED}\" (else the Kubernetes Service Catalog client does not recognise AsyncRequired)"
                    ),
                ));
            }
            Ok(None)
        }
        _ if k8s_text => Err(skip(format!("no 422 AsyncRequired to look at ({})", ex.got()))),
        _ => Err(fail(&ex, required)),
    }
}

/// Starts an asynchronous provision; `(id, operation)`.
async fn start_async(cx: &Cx, t: &Target) -> Result<(String, Option<String>, Exchange), Verdict> {
    let id = cx.new_id("i");
    let ex = cx
        .provision(t, &id, cx.prov_body(t, t.create_params()), true)
        .await;
    let r = setup(&ex, &[202], "the asynchronous PUT")?;
    Ok((id, op_of(&r), ex))
}

fn check_operation(ex: &Exchange, r: &Resp) -> Outcome {
    let required = "`operation`, if present, a string (or null) of at most 10,000 characters";
    match r.json.as_ref().and_then(|v| v.get("operation")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= 10_000 => Ok(None),
        Some(_) => Err(fail(ex, required)),
    }
}

async fn async_accepted(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let id = cx.new_id("i");
    let ex = cx
        .provision(t, &id, cx.prov_body(t, t.create_params()), true)
        .await;
    let r = status_in(&ex, &[202], "202 Accepted for an asynchronous provision")?;
    check_provision_body(&ex, &r)?;
    check_operation(&ex, &r)
}

/// Whether the instance's operation is still running (so a repeat can be judged).
async fn still_running(cx: &Cx, id: &str, t: &Target, op: Option<&str>) -> bool {
    let mut req = Req::get(format!("{}/last_operation", Cx::instance_path(id)))
        .q("service_id", t.sid())
        .q("plan_id", t.pid());
    if let Some(op) = op {
        req = req.q("operation", op);
    }
    let ex = cx.http.send(req).await;
    ex.result
        .ok()
        .is_some_and(|r| r.status == 200 && r.str_field("state") == Some("in progress"))
}

async fn async_repeat(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let (id, op, _) = start_async(cx, t).await?;
    let ex = cx
        .provision(t, &id, cx.prov_body(t, t.create_params()), true)
        .await;
    let required = format!(
        "202 Accepted with the same operation ({}) while provisioning",
        op.as_deref().unwrap_or("none")
    );
    let r = answered(&ex, &required)?;
    if r.status != 202 {
        if !still_running(cx, &id, t, op.as_deref()).await {
            return Err(skip("the operation finished before the repeat could be judged"));
        }
        return Err(fail(&ex, required));
    }
    if op_of(&r) != op {
        return Err(fail(&ex, required));
    }
    Ok(None)
}

async fn async_conflict(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let (id, op, _) = start_async(cx, t).await?;
    let body = different_body(cx, t).ok_or_else(|| skip("no way to vary the attributes"))?;
    let ex = cx.provision(t, &id, body, true).await;
    let required = "409 Conflict: the instance is being provisioned with different attributes";
    let r = answered(&ex, required)?;
    if r.status == 409 {
        return Ok(None);
    }
    if !still_running(cx, &id, t, op.as_deref()).await {
        return Err(skip("the provision finished before the PUT could be judged"));
    }
    Err(fail(&ex, required))
}

async fn async_deprovision(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let id = ready(cx, t).await?;
    let ex = cx.send_tracked(t, &id, delete_req(&id, t, true)).await;
    let r = status_in(
        &ex,
        &[200, 202],
        "202 Accepted (or 200) for a deprovision with accepts_incomplete=true",
    )?;
    if r.status == 200 {
        return Ok(Some("deprovisioned synchronously".to_owned()));
    }
    check_operation(&ex, &r)?;
    let op = op_of(&r);
    let ex2 = cx.http.send(delete_req(&id, t, true)).await;
    let required = format!(
        "202 with the same operation ({}) for a re-sent DELETE",
        op.as_deref().unwrap_or("none")
    );
    let r2 = answered(&ex2, &required)?;
    let judged = still_running(cx, &id, t, op.as_deref()).await;
    if judged && (r2.status != 202 || op_of(&r2) != op) {
        return Err(fail(&ex2, required));
    }
    let p = cx.poll_instance(&id, t, op.as_deref()).await;
    let note = match p.end {
        End::Gone => "last_operation ended 410 Gone",
        End::Succeeded => "last_operation ended 200 succeeded",
        _ => {
            let last = p.polls.last().unwrap_or(&ex);
            return Err(fail(
                last,
                "last_operation of an async delete ends 410 Gone or 200 `succeeded`",
            ));
        }
    };
    let ex3 = cx.http.send(delete_req(&id, t, true)).await;
    status_in(&ex3, &[410], "410 Gone: the instance no longer exists")?;
    Ok(Some(note.to_owned()))
}

async fn async_deprovision_required(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let id = ready(cx, t).await?;
    let ex = cx.http.send(delete_req(&id, t, false)).await;
    let required = "422 \"AsyncRequired\" (or a synchronous 200), never 202 without accepts_incomplete=true";
    let r = answered(&ex, required)?;
    match r.status {
        200 => Ok(Some("deprovisioned synchronously".to_owned())),
        422 if r.error_code() == Some("AsyncRequired") => Ok(None),
        _ => Err(fail(&ex, required)),
    }
}

// ---------------------------------------------------------------- last_operation

async fn last_op_states(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let (id, op, _) = start_async(cx, t).await?;
    let p = cx.poll_instance(&id, t, op.as_deref()).await;
    let required = "200 with `state` `in progress`, `succeeded` or `failed`; `description` non-empty if present; no instance_usable/update_repeatable";
    for ex in &p.polls {
        let r = status_in(ex, &[200], required)?;
        let Some(v) = r.json.as_ref().filter(|v| v.is_object()) else {
            return Err(fail(ex, required));
        };
        if !matches!(
            v.get("state").and_then(Value::as_str),
            Some("in progress" | "succeeded" | "failed")
        ) {
            return Err(fail(ex, required));
        }
        match v.get("description") {
            None => {}
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(fail(ex, required)),
        }
        if v.get("instance_usable").is_some() || v.get("update_repeatable").is_some() {
            return Err(fail(ex, required));
        }
    }
    match p.end {
        End::Succeeded => Ok(None),
        _ => Err(p.polls.last().map_or_else(
            || skip("no poll"),
            |ex| fail(ex, "the provision ends `succeeded`"),
        )),
    }
}

async fn last_op_retry_after(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let (id, op, _) = start_async(cx, t).await?;
    let p = cx.poll_instance(&id, t, op.as_deref()).await;
    let mut seen = false;
    for ex in &p.polls {
        if let Ok(r) = &ex.result
            && let Some(v) = r.header("retry-after")
        {
            seen = true;
            if osb_types::retry_after::RetryAfter::parse(v.trim()).is_err() {
                return Err(fail(ex, "Retry-After is delta-seconds or an HTTP-date"));
            }
        }
    }
    if seen {
        Ok(None)
    } else {
        Ok(Some("no Retry-After sent (it is optional)".to_owned()))
    }
}

async fn last_op_unknown(cx: &Cx) -> Outcome {
    let t = any_plan(cx)?;
    let ex = cx
        .http
        .send(
            Req::get(format!("{}/last_operation", Cx::instance_path(&unknown_id(cx))))
                .q("service_id", t.sid())
                .q("plan_id", t.pid()),
        )
        .await;
    let required = "404 Not Found: the instance does not exist";
    let r = answered(&ex, required)?;
    match r.status {
        404 => Ok(None),
        410 => Err(warn(
            &ex,
            "404 (since 2.16); 410 is only for a finished asynchronous delete",
        )),
        _ => Err(fail(&ex, required)),
    }
}

// ---------------------------------------------------------------- concurrency

async fn delete_during_provision(cx: &Cx, k8s_text: bool) -> Outcome {
    let t = need_async(cx)?;
    let (id, _, _) = start_async(cx, t).await?;
    let ex = cx.http.send(delete_req(&id, t, true)).await;
    let required = "accepted (200/202) or 422 with \"error\": \"ConcurrencyError\"";
    let r = answered(&ex, required)?;
    match r.status {
        200 | 202 if !k8s_text => Ok(Some("the delete was accepted".to_owned())),
        422 if r.error_code() == Some("ConcurrencyError") => {
            if k8s_text && r.str_field("description") != Some(K8S_CONCURRENCY) {
                return Err(fail(
                    &ex,
                    format!(
                        "description exactly \"{K8S_CONCURRENCY}\" (else the Kubernetes Service Catalog client does not recognise ConcurrencyError)"
                    ),
                ));
            }
            Ok(None)
        }
        _ if k8s_text => Err(skip(format!("no 422 ConcurrencyError to look at ({})", ex.got()))),
        _ => Err(fail(&ex, required)),
    }
}

async fn fetch_during_provision(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    if !t.offering.is_instances_retrievable() {
        return Err(skip("the offering is not instances_retrievable"));
    }
    let (id, op, _) = start_async(cx, t).await?;
    let ex = cx.http.send(Req::get(Cx::instance_path(&id))).await;
    let required = "404 Not Found while the instance is being provisioned";
    let r = answered(&ex, required)?;
    if r.status == 404 {
        return Ok(None);
    }
    if !still_running(cx, &id, t, op.as_deref()).await && r.status == 200 {
        return Err(skip("the provision finished before the GET could be judged"));
    }
    Err(fail(&ex, required))
}

/// Starts an asynchronous update on a provisioned asynchronous instance.
async fn start_async_update(cx: &Cx, t: &Target) -> Result<(String, Value, Option<String>), Verdict> {
    let id = ready(cx, t).await?;
    let mut body = json!({"service_id": t.sid(), "previous_values": {"plan_id": t.pid()}});
    if let Some(p) = t.plan.instance_update_schema().and_then(params::valid) {
        body["parameters"] = Value::Object(p);
    } else if t.plan.instance_update_schema().is_none() {
        body["parameters"] = json!({"osbcheck-update": 1});
    }
    let ex = cx
        .http
        .send(Req::patch(Cx::instance_path(&id), body.clone()).incomplete(true))
        .await;
    let r = setup(&ex, &[200, 202], "the PATCH")?;
    if r.status == 200 {
        return Err(skip("the update completed synchronously"));
    }
    Ok((id, body, op_of(&r)))
}

async fn fetch_during_update(cx: &Cx, repeat: bool) -> Outcome {
    let t = need_async(cx)?;
    if !repeat && !t.offering.is_instances_retrievable() {
        return Err(skip("the offering is not instances_retrievable"));
    }
    let (id, body, op) = start_async_update(cx, t).await?;
    let (ex, required) = if repeat {
        let ex = cx
            .http
            .send(Req::patch(Cx::instance_path(&id), body).incomplete(true))
            .await;
        (
            ex,
            format!(
                "202 with the same operation ({}) while updating",
                op.as_deref().unwrap_or("none")
            ),
        )
    } else {
        let ex = cx.http.send(Req::get(Cx::instance_path(&id))).await;
        (
            ex,
            "422 with \"error\": \"ConcurrencyError\" while the instance is being updated".to_owned(),
        )
    };
    let r = answered(&ex, &required)?;
    let ok = if repeat {
        r.status == 202 && op_of(&r) == op
    } else {
        r.status == 422 && r.error_code() == Some("ConcurrencyError")
    };
    if ok {
        return Ok(None);
    }
    if !still_running(cx, &id, t, op.as_deref()).await {
        return Err(skip("the update finished before the request could be judged"));
    }
    Err(fail(&ex, required))
}

// ---------------------------------------------------------------- update

async fn finish_update(cx: &Cx, id: &str, t: &Target, ex: &Exchange, r: &Resp) -> Outcome {
    if !r.is_json_object() {
        return Err(fail(ex, "a JSON object body (at least {})"));
    }
    if r.status == 202 {
        let p = cx.poll_instance(id, t, op_of(r).as_deref()).await;
        if p.end != End::Succeeded {
            return Err(fail(p.polls.last().unwrap_or(ex), "the update ends `succeeded`"));
        }
        return Ok(Some("updated asynchronously".to_owned()));
    }
    Ok(None)
}

async fn update_parameters(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let id = ready(cx, t).await?;
    let params = match t.plan.instance_update_schema() {
        Some(s) => {
            params::valid(s).ok_or_else(|| skip("cannot generate parameters for the update schema"))?
        }
        None => {
            let mut m = serde_json::Map::new();
            m.insert("osbcheck-update".to_owned(), json!(1));
            m
        }
    };
    let body = json!({"service_id": t.sid(), "parameters": params, "previous_values": {"plan_id": t.pid()}});
    let ex = cx
        .http
        .send(Req::patch(Cx::instance_path(&id), body).incomplete(true))
        .await;
    let r = status_in(&ex, &[200, 202], "200 OK (or 202) for an update of parameters")?;
    finish_update(cx, &id, t, &ex, &r).await
}

async fn update_plan_change(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    if !t.offering.plan_is_updateable(&t.plan) {
        return Err(skip(format!("{} is not plan_updateable", t.label())));
    }
    let other = t
        .offering
        .plans
        .iter()
        .find(|p| p.id != t.plan.id)
        .ok_or_else(|| skip("the offering has one plan"))?;
    let id = ready(cx, t).await?;
    let body =
        json!({"service_id": t.sid(), "plan_id": other.id.as_str(), "previous_values": {"plan_id": t.pid()}});
    let ex = cx
        .http
        .send(Req::patch(Cx::instance_path(&id), body).incomplete(true))
        .await;
    let r = status_in(&ex, &[200, 202], "200 (or 202): the plan is plan_updateable")?;
    let out = finish_update(cx, &id, t, &ex, &r).await;
    cx.set_plan(&id, other.id.as_str());
    out
}

async fn update_async_required(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    let id = ready(cx, t).await?;
    let body = json!({"service_id": t.sid(), "parameters": {"osbcheck-update": 2}, "previous_values": {"plan_id": t.pid()}});
    let body = if t.plan.instance_update_schema().is_some() {
        json!({"service_id": t.sid(), "previous_values": {"plan_id": t.pid()}})
    } else {
        body
    };
    let ex = cx
        .http
        .send(Req::patch(Cx::instance_path(&id), body).incomplete(false))
        .await;
    let required = "422 \"AsyncRequired\" (or a synchronous 200), never 202 without accepts_incomplete=true";
    let r = answered(&ex, required)?;
    match r.status {
        200 => Ok(Some("updated synchronously".to_owned())),
        422 if r.error_code() == Some("AsyncRequired") => Ok(None),
        _ => Err(fail(&ex, required)),
    }
}

// ---------------------------------------------------------------- maintenance_info

fn maintained(cx: &Cx) -> Result<(&Target, String), Verdict> {
    for t in [cx.sync.as_ref(), cx.asyn.as_ref()].into_iter().flatten() {
        if let Some(v) = t.plan.maintenance_info.as_ref().and_then(|m| m.version.clone()) {
            return Ok((t, v));
        }
    }
    Err(skip("the chosen plans have no maintenance_info"))
}

async fn maintenance_provision(cx: &Cx) -> Outcome {
    let (t, version) = maintained(cx)?;
    let mut body = cx.prov_body(t, t.create_params());
    body["maintenance_info"] = json!({"version": "0.0.0-osbcheck"});
    let id = cx.new_id("i");
    let ex = cx.provision(t, &id, body.clone(), true).await;
    error_code(
        &ex,
        422,
        "MaintenanceInfoConflict",
        "422 with \"error\": \"MaintenanceInfoConflict\"",
    )?;
    body["maintenance_info"] = json!({"version": version});
    let id = cx.new_id("i");
    let ex = cx.provision(t, &id, body, true).await;
    status_in(
        &ex,
        &[200, 201, 202],
        "the catalog's maintenance_info.version is accepted",
    )?;
    Ok(None)
}

async fn maintenance_update(cx: &Cx) -> Outcome {
    let (t, _) = maintained(cx)?;
    let id = ready(cx, t).await?;
    let body = json!({
        "service_id": t.sid(),
        "maintenance_info": {"version": "0.0.0-osbcheck"},
        "previous_values": {"plan_id": t.pid()}
    });
    let ex = cx
        .http
        .send(Req::patch(Cx::instance_path(&id), body).incomplete(true))
        .await;
    error_code(
        &ex,
        422,
        "MaintenanceInfoConflict",
        "422 with \"error\": \"MaintenanceInfoConflict\"",
    )?;
    Ok(None)
}

// ---------------------------------------------------------------- parameters

fn schema_target(
    cx: &Cx,
    pick: fn(&osb_types::ServicePlan) -> Option<&Value>,
) -> Result<(&Target, Value), Verdict> {
    for t in [cx.sync.as_ref(), cx.asyn.as_ref()].into_iter().flatten() {
        if let Some(s) = pick(&t.plan) {
            return Ok((t, s.clone()));
        }
    }
    Err(skip("the chosen plans declare no such schema"))
}

async fn params_provision(cx: &Cx, valid: bool) -> Outcome {
    let (t, schema) = schema_target(cx, osb_types::ServicePlan::instance_create_schema)?;
    let p = if valid {
        params::valid(&schema)
    } else {
        params::invalid(&schema)
    };
    let p = p.ok_or_else(|| skip("cannot generate such parameters from the schema"))?;
    let id = cx.new_id("i");
    let ex = cx.provision(t, &id, cx.prov_body(t, Some(p)), true).await;
    if valid {
        status_in(
            &ex,
            &[200, 201, 202],
            "parameters valid against the plan's schema are accepted",
        )?;
    } else {
        status_in(
            &ex,
            &[400],
            "400 Bad Request for parameters the plan's schema rejects",
        )?;
    }
    Ok(None)
}

async fn params_bind(cx: &Cx, valid: bool) -> Outcome {
    let (t, schema) = schema_target(cx, osb_types::ServicePlan::binding_create_schema)?;
    need_bindable(t)?;
    let p = if valid {
        params::valid(&schema)
    } else {
        params::invalid(&schema)
    };
    let p = p.ok_or_else(|| skip("cannot generate such parameters from the schema"))?;
    let id = ready(cx, t).await?;
    let b = cx.new_id("b");
    let ex = cx.bind(&id, &b, Cx::bind_body(t, Some(p)), true).await;
    if valid {
        status_in(
            &ex,
            &[200, 201, 202],
            "binding parameters valid against the schema are accepted",
        )?;
    } else {
        status_in(
            &ex,
            &[400],
            "400 Bad Request for binding parameters the schema rejects",
        )?;
    }
    Ok(None)
}

// ---------------------------------------------------------------- bind

fn bind_params() -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("osbcheck".to_owned(), json!("bind"));
    m
}

/// Parameters for a bind on `t`: generated from the binding schema, else a marker object.
fn bind_params_for(t: &Target) -> Option<serde_json::Map<String, Value>> {
    match t.plan.binding_create_schema() {
        Some(s) => params::minimal(s),
        None => Some(bind_params()),
    }
}

async fn sync_bindable(cx: &Cx) -> Result<(&Target, String), Verdict> {
    let t = need_sync(cx)?;
    need_bindable(t)?;
    let id = ready(cx, t).await?;
    Ok((t, id))
}

fn check_bind_body(ex: &Exchange, r: &Resp) -> Outcome {
    let required = "a JSON object body; `credentials`, if present, a JSON object";
    let Some(v) = r.json.as_ref().filter(|v| v.is_object()) else {
        return Err(fail(ex, required));
    };
    match v.get("credentials") {
        None | Some(Value::Object(_)) => Ok(None),
        Some(_) => Err(fail(ex, required)),
    }
}

async fn bind_created(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    let b = cx.new_id("b");
    let ex = cx.bind(&id, &b, Cx::bind_body(t, bind_params_for(t)), true).await;
    let r = status_in(&ex, &[201], "201 Created for a new binding")?;
    check_bind_body(&ex, &r)
}

async fn bind_repeat(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    let b = cx.new_id("b");
    let body = Cx::bind_body(t, bind_params_for(t));
    let ex = cx.bind(&id, &b, body.clone(), true).await;
    setup(&ex, &[200, 201], "the first bind")?;
    let ex = cx.bind(&id, &b, body, true).await;
    let required =
        "200 OK for an identical bind of an existing binding (201 only when this request created it)";
    let r = answered(&ex, required)?;
    match r.status {
        200 => check_bind_body(&ex, &r),
        409 => Err(warn(
            &ex,
            "200 OK SHOULD answer an identical synchronous bind (409 is the async-mode no-op)",
        )),
        _ => Err(fail(&ex, required)),
    }
}

async fn bind_conflict(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    if t.plan.binding_create_schema().is_some() {
        return Err(skip("the binding schema may reject varied parameters"));
    }
    let b = cx.new_id("b");
    let ex = cx
        .bind(&id, &b, Cx::bind_body(t, Some(bind_params())), true)
        .await;
    setup(&ex, &[200, 201], "the first bind")?;
    let mut other = serde_json::Map::new();
    other.insert("osbcheck".to_owned(), json!("different"));
    let ex = cx.bind(&id, &b, Cx::bind_body(t, Some(other)), true).await;
    status_in(
        &ex,
        &[409],
        "409 Conflict: the binding exists with different parameters",
    )?;
    Ok(None)
}

async fn bind_async(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    need_bindable(t)?;
    let id = ready(cx, t).await?;
    let b = cx.new_id("b");
    let body = Cx::bind_body(t, bind_params_for(t));
    let ex = cx.bind(&id, &b, body.clone(), true).await;
    let r = status_in(
        &ex,
        &[201, 202],
        "202 Accepted (or 201) for a bind with accepts_incomplete=true",
    )?;
    if r.status == 201 {
        return Ok(Some("bound synchronously".to_owned()));
    }
    if r.json.as_ref().and_then(|v| v.get("credentials")).is_some() {
        return Err(fail(&ex, "no binding information (credentials) in a 202"));
    }
    check_operation(&ex, &r)?;
    let op = op_of(&r);
    let ex2 = cx.bind(&id, &b, body, true).await;
    let p_first = cx.poll_binding(&id, &b, t, op.as_deref()).await;
    let r2 = answered(&ex2, "202 with the same operation for a re-sent bind")?;
    let first_poll_running = p_first.polls.len() > 1;
    if first_poll_running && (r2.status != 202 || op_of(&r2) != op) {
        return Err(fail(
            &ex2,
            format!(
                "202 with the same operation ({}) for a re-sent bind",
                op.as_deref().unwrap_or("none")
            ),
        ));
    }
    if p_first.end != End::Succeeded {
        return Err(fail(
            p_first.polls.last().unwrap_or(&ex),
            "binding last_operation ends `succeeded`",
        ));
    }
    if !t.offering.is_bindings_retrievable() {
        return Err(fail(
            &ex,
            "an offering that binds asynchronously declares bindings_retrievable (A107)",
        ));
    }
    let ex3 = cx.http.send(Req::get(Cx::binding_path(&id, &b))).await;
    let r3 = status_in(&ex3, &[200], "GET binding is 200 right after `succeeded`")?;
    check_bind_body(&ex3, &r3)
}

async fn bind_async_required(cx: &Cx) -> Outcome {
    let t = need_async(cx)?;
    need_bindable(t)?;
    let id = ready(cx, t).await?;
    let b = cx.new_id("b");
    let ex = cx
        .bind(&id, &b, Cx::bind_body(t, bind_params_for(t)), false)
        .await;
    let required = "422 \"AsyncRequired\" (or a synchronous 201), never 202 without accepts_incomplete=true";
    let r = answered(&ex, required)?;
    match r.status {
        200 | 201 => Ok(Some("bound synchronously".to_owned())),
        422 if r.error_code() == Some("AsyncRequired") => Ok(None),
        _ => Err(fail(&ex, required)),
    }
}

async fn bind_rotation(cx: &Cx) -> Outcome {
    let t = [cx.sync.as_ref(), cx.asyn.as_ref()]
        .into_iter()
        .flatten()
        .find(|t| t.plan.is_binding_rotatable() && t.bindable())
        .ok_or_else(|| skip("no chosen plan is binding_rotatable"))?;
    let id = ready(cx, t).await?;
    let b = cx.new_id("b");
    let ex = cx.bind(&id, &b, Cx::bind_body(t, bind_params_for(t)), true).await;
    let r = setup(&ex, &[201, 202], "the first bind")?;
    if r.status == 202 {
        let p = cx.poll_binding(&id, &b, t, op_of(&r).as_deref()).await;
        if p.end != End::Succeeded {
            return Err(skip("setup: the first bind did not succeed"));
        }
    }
    let b2 = cx.new_id("b");
    let mut body = Cx::bind_body(t, None);
    body["predecessor_binding_id"] = json!(b);
    let ex = cx.bind(&id, &b2, body, true).await;
    let r = status_in(&ex, &[201, 202], "201/202: the rotation creates a new binding")?;
    if r.status == 202 {
        let p = cx.poll_binding(&id, &b2, t, op_of(&r).as_deref()).await;
        if p.end != End::Succeeded {
            return Err(fail(
                p.polls.last().unwrap_or(&ex),
                "the rotation ends `succeeded`",
            ));
        }
    }
    if t.offering.is_bindings_retrievable() {
        let ex = cx.http.send(Req::get(Cx::binding_path(&id, &b))).await;
        status_in(
            &ex,
            &[200],
            "the predecessor binding stays valid in parallel (GET 200)",
        )?;
    }
    Ok(None)
}

async fn binding_last_op_unknown(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    let ex = cx
        .http
        .send(
            Req::get(format!(
                "{}/last_operation",
                Cx::binding_path(&id, &unknown_id(cx))
            ))
            .q("service_id", t.sid())
            .q("plan_id", t.pid()),
        )
        .await;
    let required = "404 Not Found: the binding does not exist";
    let r = answered(&ex, required)?;
    match r.status {
        404 => Ok(None),
        // only brokers that bind asynchronously need this endpoint
        501 => Err(skip("binding last_operation is not implemented (501)")),
        410 => Err(warn(
            &ex,
            "404 (since 2.16); 410 is only for a finished asynchronous unbind",
        )),
        _ => Err(fail(&ex, required)),
    }
}

// ---------------------------------------------------------------- fetch

async fn fetch_instance(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    if !t.offering.is_instances_retrievable() {
        return Err(skip("the offering is not instances_retrievable"));
    }
    let id = ready(cx, t).await?;
    let ex = cx
        .http
        .send(
            Req::get(Cx::instance_path(&id))
                .q("service_id", t.sid())
                .q("plan_id", t.pid()),
        )
        .await;
    let required = "200 with a JSON object whose service_id / plan_id, if present, are the instance's";
    let r = status_in(&ex, &[200], required)?;
    let Some(v) = r.json.as_ref().filter(|v| v.is_object()) else {
        return Err(fail(&ex, required));
    };
    for (k, want) in [("service_id", t.sid()), ("plan_id", t.pid())] {
        if let Some(got) = v.get(k)
            && got.as_str() != Some(want)
        {
            return Err(fail(&ex, required));
        }
    }
    Ok(None)
}

async fn fetch_instance_unknown(cx: &Cx) -> Outcome {
    let t = any_plan(cx)?;
    if !t.offering.is_instances_retrievable() {
        return Err(skip("the offering is not instances_retrievable"));
    }
    let ex = cx.http.send(Req::get(Cx::instance_path(&unknown_id(cx)))).await;
    status_in(&ex, &[404], "404 Not Found: the instance does not exist")?;
    Ok(None)
}

async fn fetch_binding(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    if !t.offering.is_bindings_retrievable() {
        return Err(skip("the offering is not bindings_retrievable"));
    }
    let b = cx.new_id("b");
    let ex = cx.bind(&id, &b, Cx::bind_body(t, bind_params_for(t)), true).await;
    setup(&ex, &[200, 201], "the bind")?;
    let ex = cx
        .http
        .send(
            Req::get(Cx::binding_path(&id, &b))
                .q("service_id", t.sid())
                .q("plan_id", t.pid()),
        )
        .await;
    let r = status_in(&ex, &[200], "200 with the binding")?;
    check_bind_body(&ex, &r)
}

async fn fetch_binding_unknown(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    if !t.offering.is_bindings_retrievable() {
        return Err(skip("the offering is not bindings_retrievable"));
    }
    let ex = cx
        .http
        .send(Req::get(Cx::binding_path(&id, &unknown_id(cx))))
        .await;
    status_in(&ex, &[404], "404 Not Found: the binding does not exist")?;
    Ok(None)
}

// ---------------------------------------------------------------- unbind, deprovision

fn unbind_req(id: &str, b: &str, t: &Target) -> Req {
    Req::delete(Cx::binding_path(id, b))
        .q("service_id", t.sid())
        .q("plan_id", t.pid())
        .incomplete(true)
}

async fn unbind_ok(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    let b = cx.new_id("b");
    let ex = cx.bind(&id, &b, Cx::bind_body(t, bind_params_for(t)), true).await;
    setup(&ex, &[200, 201], "the bind")?;
    let ex = cx.http.send(unbind_req(&id, &b, t)).await;
    let r = status_in(&ex, &[200], "200 OK for a synchronous unbind")?;
    if r.is_json_object() {
        Ok(None)
    } else {
        Err(fail(&ex, "a JSON object body (at least {})"))
    }
}

async fn unbind_gone(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    let ex = cx.http.send(unbind_req(&id, &unknown_id(cx), t)).await;
    status_in(&ex, &[410], "410 Gone: the binding does not exist")?;
    Ok(None)
}

async fn unbind_missing_params(cx: &Cx) -> Outcome {
    let (t, id) = sync_bindable(cx).await?;
    let b = cx.new_id("b");
    let ex = cx.bind(&id, &b, Cx::bind_body(t, bind_params_for(t)), true).await;
    setup(&ex, &[200, 201], "the bind")?;
    let ex = cx.http.send(Req::delete(Cx::binding_path(&id, &b))).await;
    status_in(
        &ex,
        &[400],
        "400 Bad Request: service_id and plan_id are required",
    )?;
    Ok(None)
}

async fn deprovision_sync(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let id = ready(cx, t).await?;
    let ex = cx.http.send(delete_req(&id, t, false)).await;
    let r = status_in(&ex, &[200], "200 OK for a synchronous deprovision")?;
    if r.is_json_object() {
        Ok(None)
    } else {
        Err(fail(&ex, "a JSON object body (at least {})"))
    }
}

async fn deprovision_gone(cx: &Cx) -> Outcome {
    let t = any_plan(cx)?;
    let ex = cx.http.send(delete_req(&unknown_id(cx), t, true)).await;
    status_in(&ex, &[410], "410 Gone: the instance does not exist")?;
    Ok(None)
}

async fn deprovision_missing_params(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let id = ready(cx, t).await?;
    let ex = cx.http.send(Req::delete(Cx::instance_path(&id))).await;
    status_in(
        &ex,
        &[400],
        "400 Bad Request: service_id and plan_id are required",
    )?;
    Ok(None)
}

// ---------------------------------------------------------------- error bodies

/// Error answers to look at: a malformed PUT (400), an unknown plan, an unknown instance.
async fn provoke_errors(cx: &Cx, t: &Target, include_gone: bool) -> Vec<Exchange> {
    let mut out = Vec::new();
    let id = cx.new_id("i");
    let mut body = cx.prov_body(t, None);
    if let Some(m) = body.as_object_mut() {
        m.remove("plan_id");
    }
    out.push(cx.provision(t, &id, body, true).await);
    let mut body = cx.prov_body(t, None);
    body["plan_id"] = json!("osbcheck-no-such-plan");
    let id = cx.new_id("i");
    out.push(cx.provision(t, &id, body, true).await);
    out.push(
        cx.http
            .send(Req::get(format!(
                "{}/last_operation",
                Cx::instance_path(&unknown_id(cx))
            )))
            .await,
    );
    if include_gone {
        out.push(cx.http.send(delete_req(&unknown_id(cx), t, true)).await);
    }
    out
}

async fn errors_json(cx: &Cx) -> Outcome {
    let t = any_plan(cx)?;
    let required = "Content-Type: application/json and a JSON object body on an error answer";
    let mut looked = 0;
    for ex in provoke_errors(cx, t, true).await {
        let Ok(r) = &ex.result else { continue };
        if r.status < 400 {
            continue;
        }
        looked += 1;
        if !r.has_json_content_type() || !r.is_json_object() {
            return Err(fail(&ex, required));
        }
    }
    if looked == 0 {
        Err(skip("no error answer to look at"))
    } else {
        Ok(None)
    }
}

fn camel_case_word(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

async fn errors_fields(cx: &Cx, need_description: bool) -> Outcome {
    let t = any_plan(cx)?;
    let mut looked = 0;
    for ex in provoke_errors(cx, t, false).await {
        let Ok(r) = &ex.result else { continue };
        if !(400..500).contains(&r.status) || r.status == 410 {
            continue;
        }
        looked += 1;
        let v = r.json.clone().unwrap_or(Value::Null);
        if need_description {
            let described = v
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if !described {
                return Err(fail(&ex, "a `description` telling the user what went wrong"));
            }
            continue;
        }
        match v.get("error") {
            None => {}
            Some(Value::String(s)) if camel_case_word(s) => {}
            Some(_) => return Err(fail(&ex, "`error` a single CamelCase word")),
        }
        match v.get("description") {
            None => {}
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(fail(&ex, "`description` a non-empty string")),
        }
    }
    if looked == 0 {
        Err(skip("no 4xx answer to look at"))
    } else {
        Ok(None)
    }
}

async fn errors_failure_metadata(cx: &Cx) -> Outcome {
    let t = need_sync(cx)?;
    let mut exchanges = provoke_errors(cx, t, false).await;
    if t.bindable()
        && let Ok(id) = cx.ready_instance(t).await
    {
        let b = cx.new_id("b");
        let mut body = Cx::bind_body(t, None);
        body["parameters"] = json!("not an object");
        exchanges.push(cx.bind(&id, &b, body, true).await);
    }
    for ex in &exchanges {
        let Ok(r) = &ex.result else { continue };
        if r.status < 400 {
            continue;
        }
        if let Some(v) = &r.json
            && (v.get("instance_usable").is_some() || v.get("update_repeatable").is_some())
        {
            return Err(fail(
                ex,
                "no instance_usable / update_repeatable in errors of provision or bind",
            ));
        }
    }
    Ok(None)
}
