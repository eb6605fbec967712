//! `App`: the request pipeline. Everything between "the request head arrived" and "the
//! operation handler runs": routing, authentication and the OSB headers, reading the body
//! (through the caller), then dispatch to the handler of the operation (`ops`), which
//! decides the answer from the catalog and the records (`state`).

// Error answers are whole responses, built at most once per request: boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::future::Future;
use std::sync::{Arc, Once};

use bytes::Bytes;
use http::header::{ALLOW, HeaderValue};
use http::request::Parts;
use http::{Request, StatusCode};
use osb_types::catalog::{ServiceOffering, ServicePlan};
use osb_types::{ApiVersion, OriginatingIdentity, RequestIdentity};
use tracing::Instrument;

use crate::answers::bad_request;
use crate::broker::{Broker, PlanPolicy};
use crate::catalog_index::{CatalogIndex, LiveCatalog, PlanPolicies};
use crate::config::Config;
use crate::decode::Incoming;
use crate::error::ServeError;
use crate::headers;
use crate::response::{self, HttpResponse};
use crate::router::{self, Route, RouteError};
use crate::state::State;

/// The request handler shared by every connection.
pub(crate) struct App<B: Broker> {
    pub(crate) broker: B,
    pub(crate) config: Config,
    /// The catalog in force (replaceable through a `CatalogHandle`), its schemas and index.
    pub(crate) catalog: Arc<LiveCatalog>,
    pub(crate) state: Arc<State>,
    started: Once,
}

/// Runs `f` inside `span`, which is not entered when disabled (the catalog's, at `info`):
/// it has nothing to enter, and entering still costs a call per request.
fn in_span<R>(span: &tracing::Span, f: impl FnOnce() -> R) -> R {
    if span.is_disabled() { f() } else { span.in_scope(f) }
}

impl<B: Broker> PlanPolicies for App<B> {
    fn policy(&self, offering: &ServiceOffering, plan: &ServicePlan) -> PlanPolicy {
        self.broker.plan_policy(offering, plan)
    }
}

impl<B: Broker> App<B> {
    /// Validates the catalog, compiles every plan schema, reads the plan policies, and puts
    /// the catalog in force in the config's `LiveCatalog`.
    pub(crate) fn build(broker: B, config: Config) -> Result<Arc<Self>, ServeError> {
        let index = CatalogIndex::new(&broker)?;
        let store: Arc<dyn crate::store::Store> = Arc::new(crate::store::ObservedStore::new(
            Arc::clone(&config.store),
            config.metrics.clone(),
        ));
        let state = Arc::new(State::new(store, config.state));
        let catalog = Arc::clone(&config.catalog);
        Ok(Arc::new_cyclic(|app: &std::sync::Weak<Self>| {
            let policies: std::sync::Weak<dyn PlanPolicies> = app.clone();
            catalog.init(index, policies);
            Self {
                broker,
                config,
                catalog,
                state,
                started: Once::new(),
            }
        }))
    }

    /// Starts the background sweeper (recovery of work whose owner is gone, tombstone
    /// expiry) once, from the first call inside a Tokio runtime: at `serve`/`spawn`, or
    /// at the first request of a mounted service.
    pub(crate) fn start(self: &Arc<Self>) {
        self.started.call_once(|| {
            if !self.state.store.durable() {
                tracing::warn!(
                    "the broker keeps its records in memory: a restart forgets every instance, binding and running operation; use a durable store (e.g. SqliteStore) in production"
                );
            }
            crate::ops::recover::spawn_sweeper(Arc::clone(self));
        });
    }

    /// Answers one request whose body has been read (see [`App::respond`]).
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    pub(crate) async fn handle(self: &Arc<Self>, req: Request<Bytes>) -> HttpResponse {
        let (parts, body) = req.into_parts();
        self.respond(parts, move || async move { Ok(body) }).await
    }

    /// Answers one request. Never panics: a panic in broker code (or in the runtime) becomes
    /// a 500 JSON answer. The request identity is echoed on every response.
    ///
    /// Everything runs inside the request's tracing span, in this order: routing (404/405),
    /// authentication (401), API version (412) and originating identity (400) on the request
    /// head; only then is the body read by `read_body` (413/408/400 come from it), decoded
    /// (400 with the field path) and the query parsed (400). A client that fails a head check
    /// never has its body read.
    pub(crate) async fn respond<F, Fut>(self: &Arc<Self>, parts: Parts, read_body: F) -> HttpResponse
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, HttpResponse>>,
    {
        let routed = router::route(&parts.method, parts.uri.path());
        let answering = self.begin(&parts, &routed, parts.headers.get(headers::REQUEST_IDENTITY));
        let app = Arc::clone(self);
        let res = async move {
            let head = match app.check_head(routed, &parts).await {
                Ok(head) => head,
                Err(res) => return res,
            };
            let body = match read_body().await {
                Ok(body) => body,
                Err(res) => return res,
            };
            app.dispatch(head, parts, body).await
        }
        .instrument(answering.span.clone())
        .await;
        self.finish(answering, res)
    }

    /// Answers at once, without a future or a task, what needs no waiting: a
    /// `GET /v2/catalog` whose caller the authenticator decides without waiting (see
    /// [`AsyncAuthenticator::decide_now`](crate::auth::AsyncAuthenticator::decide_now)), with
    /// every check, trace and metric of [`respond`](Self::respond). `None`: use `respond`.
    pub(crate) fn answer_now(self: &Arc<Self>, parts: &Parts) -> Option<HttpResponse> {
        if parts.method != http::Method::GET || !router::is_catalog(parts.uri.path()) {
            return None;
        }
        let decided = headers::auth_now(self.config.authenticator.as_deref(), parts)?;
        let osb = headers::OsbHeaders::scan(&parts.headers);
        let routed = Ok(Route::Catalog);
        let answering = self.begin(parts, &routed, osb.request_identity);
        let span = &answering.span;
        let answer = || {
            let checked = self.check_osb(&osb, decided, span);
            match checked {
                Ok(_) => crate::catalog_answer::answer(
                    &self.catalog.load(),
                    osb.conditional.then_some(&parts.headers),
                ),
                Err(res) => res,
            }
        };
        let res = in_span(span, answer);
        Some(self.finish(answering, res))
    }

    /// Opens the span of a routed request.
    fn begin(
        self: &Arc<Self>,
        parts: &Parts,
        routed: &Result<Route, RouteError>,
        request_identity: Option<&HeaderValue>,
    ) -> Answering {
        let request_identity = request_identity.cloned();
        // The route and ids are known now: set when the span is made, not recorded later
        // (a subscriber that formats fields, like `fmt`, does that work once per record).
        let route = routed.as_ref().ok();
        // The catalog, which Platforms fetch often and which runs no broker code, is traced at
        // `debug`, so that its hot path builds no span in a broker logging at `info`. Every
        // other request is traced at `info`.
        macro_rules! request_span {
            ($level:ident) => {
                tracing::$level!(
                    "osb_request",
                    method = %parts.method,
                    route = route.map(Route::name),
                    instance_id = route.and_then(Route::instance_id),
                    binding_id = route.and_then(Route::binding_id),
                    request_identity = request_identity.as_ref().and_then(|v| v.to_str().ok()).unwrap_or(""),
                    caller = tracing::field::Empty,
                    status = tracing::field::Empty,
                )
            };
        }
        // Only the metrics need the time taken.
        let started = self.config.metrics.is_some().then(std::time::Instant::now);
        let span = if matches!(routed, Ok(Route::Catalog)) {
            request_span!(debug_span)
        } else {
            request_span!(info_span)
        };
        self.start();
        Answering {
            started,
            span,
            route_name: routed.as_ref().map_or("unmatched", Route::name),
            method: parts.method.clone(),
            request_identity,
        }
    }

    /// Records the answer on the span and in the metrics, and echoes the request identity.
    fn finish(&self, answering: Answering, mut res: HttpResponse) -> HttpResponse {
        let status = res.status().as_u16();
        answering.span.record("status", status);
        if let (Some(m), Some(started)) = (&self.config.metrics, answering.started) {
            m.request(answering.route_name, &answering.method, status, started);
        }
        in_span(&answering.span, || tracing::debug!(status, "request answered"));
        response::echo_request_identity(&mut res, answering.request_identity.as_ref());
        res
    }

    /// Routing, authentication, API version and originating identity: the checks that need
    /// only the request head. Records the caller on the current span (the route and ids are
    /// set when it is made).
    async fn check_head(
        &self,
        routed: Result<Route, RouteError>,
        parts: &Parts,
    ) -> Result<Head, HttpResponse> {
        let span = tracing::Span::current();
        let route = self.check_route(routed, parts)?;
        let authenticated = headers::check_auth(self.config.authenticator.as_deref(), parts).await;
        self.check_rest(
            route,
            &headers::OsbHeaders::scan(&parts.headers),
            authenticated,
            &span,
        )
    }

    /// 404, 405 or 400 for a request that has no route.
    fn check_route(&self, routed: Result<Route, RouteError>, parts: &Parts) -> Result<Route, HttpResponse> {
        let route = match routed {
            Ok(route) => route,
            Err(RouteError::NotFound) => {
                return Err(response::error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("no Open Service Broker API endpoint at {}", parts.uri.path()),
                ));
            }
            Err(RouteError::MethodNotAllowed(allow)) => {
                let mut res = response::error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    format!("method {} is not allowed here; allowed: {allow}", parts.method),
                );
                res.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
                return Err(res);
            }
            Err(RouteError::BadId(msg)) => return Err(bad_request(msg)),
        };
        Ok(route)
    }

    /// The checks after routing: the authentication's outcome (401), then the API version
    /// (412) and originating identity (400). Records the caller on the current span.
    fn check_rest(
        &self,
        route: Route,
        osb: &headers::OsbHeaders<'_>,
        authenticated: Result<Option<crate::auth::Caller>, HttpResponse>,
        span: &tracing::Span,
    ) -> Result<Head, HttpResponse> {
        let Checked {
            caller,
            api_version,
            originating_identity,
        } = self.check_osb(osb, authenticated, span)?;
        let request_identity = osb
            .request_identity
            .and_then(|v| v.to_str().ok())
            .map(RequestIdentity::new);
        Ok(Head {
            route,
            api_version,
            originating_identity,
            request_identity,
            caller,
        })
    }

    /// The authentication's outcome (401), the API version (412) and the originating
    /// identity (400); records the caller on `span`. All a catalog request needs.
    fn check_osb(
        &self,
        osb: &headers::OsbHeaders<'_>,
        authenticated: Result<Option<crate::auth::Caller>, HttpResponse>,
        span: &tracing::Span,
    ) -> Result<Checked, HttpResponse> {
        let caller = match authenticated {
            Ok(caller) => caller,
            Err(res) => {
                tracing::info!("request not authenticated");
                return Err(res);
            }
        };
        if let Some(caller) = &caller {
            span.record("caller", tracing::field::display(caller));
        }
        Ok(Checked {
            api_version: headers::check_version(self.config.min_api_version, osb)?,
            originating_identity: headers::check_identity(osb)?,
            caller,
        })
    }

    /// Runs the operation of a request that passed the head checks. The catalog never
    /// reaches broker code: it is answered inline. Everything else runs on its own task, so
    /// that a panic becomes a 500 and a mutation (which holds the instance's gate while the
    /// broker works) finishes even if the client goes away.
    async fn dispatch(self: Arc<Self>, head: Head, parts: Parts, body: Bytes) -> HttpResponse {
        if head.route == Route::Catalog {
            return crate::catalog_answer::answer(&self.catalog.load(), Some(&parts.headers));
        }
        let task = tokio::spawn(self.operation(head, parts, body).in_current_span());
        match task.await {
            Ok(res) => res,
            Err(e) => {
                if e.is_panic() {
                    tracing::error!("request handler panicked");
                } else {
                    tracing::error!("request handler was cancelled");
                }
                response::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "The service broker failed to process the request.",
                )
            }
        }
    }

    async fn operation(self: Arc<Self>, head: Head, parts: Parts, body: Bytes) -> HttpResponse {
        let content_type_ok = headers::check_content_type(&parts.headers, !body.is_empty());
        let route = head.route;
        let incoming = Incoming {
            route: route.clone(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body,
            api_version: head.api_version,
            originating_identity: head.originating_identity,
            request_identity: head.request_identity,
            caller: head.caller,
            content_type_ok,
        };
        let scope = crate::metrics::CallScope::new(route.name(), self.config.metrics.clone());
        scope.run(self.run_operation(route, incoming)).await
    }

    async fn run_operation(self: Arc<Self>, route: Route, incoming: Incoming) -> HttpResponse {
        if let Err(e) = self.catalog.remember(self.state.store.as_ref()).await {
            return crate::state::StateError::Store(e).into();
        }
        // Each handler's future is boxed: otherwise this future is as large as the largest
        // of them (broker futures included), and it is moved when spawned.
        let res = match route {
            // Answered by `dispatch` before this task starts.
            Route::Catalog => Ok(response::bytes_json(
                StatusCode::OK,
                self.catalog.current().bytes.clone(),
            )),
            Route::Provision(_) => Box::pin(crate::ops::provision::handle(&self, incoming)).await,
            Route::Update(_) => Box::pin(crate::ops::update::handle(&self, incoming)).await,
            Route::FetchInstance(_) => Box::pin(crate::ops::fetch::instance(&self, incoming)).await,
            Route::Deprovision(_) => Box::pin(crate::ops::deprovision::handle(&self, incoming)).await,
            Route::InstanceLastOperation(_) => {
                Box::pin(crate::ops::last_operation::instance(&self, incoming)).await
            }
            Route::Bind(..) => Box::pin(crate::ops::bind::handle(&self, incoming)).await,
            Route::FetchBinding(..) => Box::pin(crate::ops::fetch::binding(&self, incoming)).await,
            Route::Unbind(..) => Box::pin(crate::ops::unbind::handle(&self, incoming)).await,
            Route::BindingLastOperation(..) => {
                Box::pin(crate::ops::last_operation::binding(&self, incoming)).await
            }
        };
        res.unwrap_or_else(|e| e)
    }
}

/// What the bookkeeping of an answer needs: when the request came, its span, route and
/// method (for the metrics), and the request identity to echo.
struct Answering {
    /// When the request came (with metrics on).
    started: Option<std::time::Instant>,
    span: tracing::Span,
    route_name: &'static str,
    method: http::Method,
    request_identity: Option<HeaderValue>,
}

/// What [`App::check_osb`] found.
struct Checked {
    caller: Option<crate::auth::Caller>,
    api_version: ApiVersion,
    originating_identity: Option<OriginatingIdentity>,
}

/// What the head checks found: the route and the parsed OSB headers.
pub(crate) struct Head {
    route: Route,
    api_version: ApiVersion,
    originating_identity: Option<OriginatingIdentity>,
    request_identity: Option<RequestIdentity>,
    caller: Option<crate::auth::Caller>,
}
