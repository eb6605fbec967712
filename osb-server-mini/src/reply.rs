//! What broker methods return: finished now (`done`) or continuing in the background (`later`).
//!
//! The runtime turns these into the right status code: 201/200 for `done`, 202 with an
//! operation id for `later` (only when the Platform sent `accepts_incomplete=true`; otherwise
//! it answers 422 `AsyncRequired` and never starts the work).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use osb_types::binding::BindResponse;
use osb_types::instance::InstanceMetadata;

use crate::BrokerError;

/// A boxed, sendable future: the background part of an asynchronous operation.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Background work of an asynchronous operation, with optional progress reporting.
pub struct Background<T> {
    pub(crate) work: Box<dyn FnOnce(Progress) -> BoxFuture<Result<T, BrokerError>> + Send>,
    pub(crate) retry_after: Option<Duration>,
}

impl<T> fmt::Debug for Background<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("retry_after", &self.retry_after)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Background<T> {
    fn new<F>(work: F) -> Self
    where
        F: Future<Output = Result<T, BrokerError>> + Send + 'static,
    {
        Self {
            work: Box::new(move |_| Box::pin(work)),
            retry_after: None,
        }
    }

    fn with_progress<C, F>(work: C) -> Self
    where
        C: FnOnce(Progress) -> F + Send + 'static,
        F: Future<Output = Result<T, BrokerError>> + Send + 'static,
    {
        Self {
            work: Box::new(move |p| Box::pin(work(p))),
            retry_after: None,
        }
    }
}

/// A handle the background work uses to publish the `description` of `last_operation`
/// while it is `in progress`.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub(crate) description: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Progress {
    /// Sets the user-facing description, e.g. `"Creating database (40%)"`.
    pub fn set(&self, description: impl Into<String>) {
        if let Ok(mut d) = self.description.lock() {
            *d = Some(description.into());
        }
    }

    /// The current description.
    #[must_use]
    pub fn get(&self) -> Option<String> {
        self.description.lock().ok().and_then(|d| d.clone())
    }
}

macro_rules! instance_reply {
    ($(#[$doc:meta])* $name:ident, $verb:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            pub(crate) later: Option<Background<()>>,
            pub(crate) dashboard_url: Option<String>,
            pub(crate) metadata: Option<InstanceMetadata>,
        }

        impl $name {
            #[doc = concat!("The ", $verb, " finished synchronously.")]
            #[must_use]
            pub fn done() -> Self {
                Self { later: None, dashboard_url: None, metadata: None }
            }

            #[doc = concat!("The ", $verb, " continues in the background: the runtime answers 202 and runs `work`.")]
            pub fn later<F>(work: F) -> Self
            where
                F: Future<Output = Result<(), BrokerError>> + Send + 'static,
            {
                Self { later: Some(Background::new(work)), dashboard_url: None, metadata: None }
            }

            /// Like [`later`](Self::later), with a [`Progress`] handle for `last_operation` descriptions.
            pub fn later_with_progress<C, F>(work: C) -> Self
            where
                C: FnOnce(Progress) -> F + Send + 'static,
                F: Future<Output = Result<(), BrokerError>> + Send + 'static,
            {
                Self { later: Some(Background::with_progress(work)), dashboard_url: None, metadata: None }
            }

            /// Sets the dashboard URL of the response.
            #[must_use]
            pub fn dashboard_url(mut self, url: impl Into<String>) -> Self {
                self.dashboard_url = Some(url.into());
                self
            }

            /// Sets the instance metadata (labels, attributes) of the response.
            #[must_use]
            pub fn metadata(mut self, metadata: InstanceMetadata) -> Self {
                self.metadata = Some(metadata);
                self
            }

            /// For `later`: the `Retry-After` the runtime sends while polling is in progress
            /// (overrides the plan's).
            #[must_use]
            pub fn retry_after(mut self, after: Duration) -> Self {
                if let Some(l) = &mut self.later {
                    l.retry_after = Some(after);
                }
                self
            }

            /// `true` if the work continues in the background.
            #[must_use]
            pub fn is_async(&self) -> bool {
                self.later.is_some()
            }
        }
    };
}

instance_reply! {
    /// The result of [`Broker::provision`](crate::Broker::provision).
    ///
    /// ```
    /// use osb_server_mini::reply::Provisioned;
    /// let now = Provisioned::done().dashboard_url("https://dash.example/inst-1");
    /// assert!(!now.is_async());
    /// let later = Provisioned::later(async { Ok(()) });
    /// assert!(later.is_async());
    /// ```
    Provisioned, "provision"
}

instance_reply! {
    /// The result of [`Broker::update`](crate::Broker::update).
    Updated, "update"
}

macro_rules! delete_reply {
    ($(#[$doc:meta])* $name:ident, $verb:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            pub(crate) later: Option<Background<()>>,
        }

        impl $name {
            #[doc = concat!("The ", $verb, " finished synchronously.")]
            #[must_use]
            pub fn done() -> Self {
                Self { later: None }
            }

            #[doc = concat!("The ", $verb, " continues in the background: the runtime answers 202 and runs `work`.")]
            pub fn later<F>(work: F) -> Self
            where
                F: Future<Output = Result<(), BrokerError>> + Send + 'static,
            {
                Self { later: Some(Background::new(work)) }
            }

            /// Like [`later`](Self::later), with a [`Progress`] handle for `last_operation` descriptions.
            pub fn later_with_progress<C, F>(work: C) -> Self
            where
                C: FnOnce(Progress) -> F + Send + 'static,
                F: Future<Output = Result<(), BrokerError>> + Send + 'static,
            {
                Self { later: Some(Background::with_progress(work)) }
            }

            /// For `later`: the `Retry-After` sent while in progress (overrides the plan's).
            #[must_use]
            pub fn retry_after(mut self, after: Duration) -> Self {
                if let Some(l) = &mut self.later {
                    l.retry_after = Some(after);
                }
                self
            }

            /// `true` if the work continues in the background.
            #[must_use]
            pub fn is_async(&self) -> bool {
                self.later.is_some()
            }
        }
    };
}

delete_reply! {
    /// The result of [`Broker::deprovision`](crate::Broker::deprovision).
    Deprovisioned, "deprovision"
}

delete_reply! {
    /// The result of [`Broker::unbind`](crate::Broker::unbind).
    Unbound, "unbind"
}

/// The result of [`Broker::bind`](crate::Broker::bind): the binding (credentials, endpoints,
/// ...) now, or background work that produces it. A 202 never carries credentials; the
/// Platform fetches them with `GET` binding once the operation succeeded.
///
/// ```
/// use osb_server_mini::reply::Bound;
/// let b = Bound::credentials(serde_json::json!({ "uri": "echo://inst-1/b-1" }));
/// assert!(!b.is_async());
/// ```
#[derive(Debug)]
pub struct Bound {
    pub(crate) now: Option<BindResponse>,
    pub(crate) later: Option<Background<BindResponse>>,
}

impl Bound {
    /// A finished binding with this response body.
    #[must_use]
    pub fn done(response: BindResponse) -> Self {
        Self {
            now: Some(response),
            later: None,
        }
    }

    /// A finished binding whose body carries only these credentials (a JSON object; any
    /// other JSON value is wrapped as `{"value": ...}`).
    #[must_use]
    pub fn credentials(credentials: serde_json::Value) -> Self {
        let creds = match credentials {
            serde_json::Value::Object(m) => m,
            other => {
                let mut m = serde_json::Map::new();
                m.insert("value".to_owned(), other);
                m
            }
        };
        Self::done(BindResponse {
            credentials: Some(osb_types::Credentials::new(creds)),
            ..BindResponse::default()
        })
    }

    /// The binding is created in the background; `work` yields its response body.
    pub fn later<F>(work: F) -> Self
    where
        F: Future<Output = Result<BindResponse, BrokerError>> + Send + 'static,
    {
        Self {
            now: None,
            later: Some(Background::new(work)),
        }
    }

    /// Like [`later`](Self::later), with a [`Progress`] handle.
    pub fn later_with_progress<C, F>(work: C) -> Self
    where
        C: FnOnce(Progress) -> F + Send + 'static,
        F: Future<Output = Result<BindResponse, BrokerError>> + Send + 'static,
    {
        Self {
            now: None,
            later: Some(Background::with_progress(work)),
        }
    }

    /// For `later`: the `Retry-After` sent while in progress.
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        if let Some(l) = &mut self.later {
            l.retry_after = Some(after);
        }
        self
    }

    /// `true` if the work continues in the background.
    #[must_use]
    pub fn is_async(&self) -> bool {
        self.later.is_some()
    }
}

/// What [`Broker::resume`](crate::Broker::resume) decided for an operation a restart (or a
/// lost replica) interrupted.
///
/// ```
/// use osb_server_mini::reply::Resumed;
/// assert!(Resumed::later(async { Ok(()) }).is_async());
/// assert!(!Resumed::done().is_async());
/// ```
#[derive(Debug)]
pub struct Resumed {
    pub(crate) outcome: ResumeOutcome,
}

#[derive(Debug)]
pub(crate) enum ResumeOutcome {
    NotSupported,
    Done,
    Bound(Box<BindResponse>),
    Later(Background<()>),
    LaterBound(Background<BindResponse>),
}

impl Resumed {
    /// The broker cannot resume it: the operation ends `failed`, saying that a restart
    /// interrupted it (the default of [`Broker::resume`](crate::Broker::resume)).
    #[must_use]
    pub fn not_supported() -> Self {
        Self {
            outcome: ResumeOutcome::NotSupported,
        }
    }

    /// The work is complete (an instance operation or an unbind): it ends `succeeded`.
    #[must_use]
    pub fn done() -> Self {
        Self {
            outcome: ResumeOutcome::Done,
        }
    }

    /// An interrupted bind is complete with this binding.
    #[must_use]
    pub fn bound(response: BindResponse) -> Self {
        Self {
            outcome: ResumeOutcome::Bound(Box::new(response)),
        }
    }

    /// The work continues (or is re-run) in the background; its outcome ends the
    /// operation. For instance operations and unbinds.
    pub fn later<F>(work: F) -> Self
    where
        F: Future<Output = Result<(), BrokerError>> + Send + 'static,
    {
        Self {
            outcome: ResumeOutcome::Later(Background::new(work)),
        }
    }

    /// Like [`later`](Self::later), with a [`Progress`] handle.
    pub fn later_with_progress<C, F>(work: C) -> Self
    where
        C: FnOnce(Progress) -> F + Send + 'static,
        F: Future<Output = Result<(), BrokerError>> + Send + 'static,
    {
        Self {
            outcome: ResumeOutcome::Later(Background::with_progress(work)),
        }
    }

    /// An interrupted bind continues in the background; `work` yields the binding.
    pub fn later_bound<F>(work: F) -> Self
    where
        F: Future<Output = Result<BindResponse, BrokerError>> + Send + 'static,
    {
        Self {
            outcome: ResumeOutcome::LaterBound(Background::new(work)),
        }
    }

    /// `true` if the work continues in the background.
    #[must_use]
    pub fn is_async(&self) -> bool {
        matches!(
            self.outcome,
            ResumeOutcome::Later(_) | ResumeOutcome::LaterBound(_)
        )
    }
}

/// An operation that was in flight when its process stopped (crash, `kill -9`, deploy),
/// handed to [`Broker::resume`](crate::Broker::resume) by the process that recovers it.
///
/// ```
/// use osb_server_mini::reply::Interrupted;
/// use osb_server_mini::store::OperationKind;
/// let i = Interrupted::for_tests(OperationKind::Provision, serde_json::json!({"service_id": "svc", "plan_id": "p"}));
/// let req: osb_server_mini::types::ProvisionRequest = i.request_as().unwrap();
/// assert_eq!(req.plan_id, "p");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Interrupted {
    /// Which operation.
    pub kind: crate::store::OperationKind,
    /// Whether it was a synchronous call (the Platform got no answer and will retry or
    /// clean up) or a background operation (the Platform polls `last_operation`).
    pub synchronous: bool,
    /// The operation id the Platform polls, for a background operation.
    pub operation: Option<osb_types::OperationId>,
    /// The request body that started it (`null` for deletes).
    pub request: serde_json::Value,
}

impl Interrupted {
    /// The request body as its typed request (`ProvisionRequest`, `UpdateRequest`,
    /// `BindRequest`, ...).
    ///
    /// # Errors
    /// The body does not decode as `T`.
    pub fn request_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.request.clone())
    }

    /// An interrupted background operation, to unit-test a broker's `resume`.
    #[must_use]
    pub fn for_tests(kind: crate::store::OperationKind, request: serde_json::Value) -> Self {
        Self {
            kind,
            synchronous: false,
            operation: None,
            request,
        }
    }
}
