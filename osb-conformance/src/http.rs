//! Raw HTTP to the broker: every request has a timeout, every answer is kept as it came
//! (status, headers, body text), and each exchange can be shown as "sent / got" without
//! credentials.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

/// The request identity the checker sends (and expects echoed).
pub(crate) const REQUEST_IDENTITY: &str = "X-Broker-API-Request-Identity";

/// How to send the `X-Broker-API-Version` header.
#[derive(Debug, Clone)]
pub(crate) enum VersionHeader {
    /// The configured version.
    Default,
    /// No header.
    Missing,
    /// This value.
    Value(&'static str),
}

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The configured credentials.
    Default,
    /// No `Authorization` header.
    Missing,
    /// The configured user with a wrong password, or a wrong bearer token.
    Wrong,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Serialized JSON.
    Json(Value),
    /// These bytes, sent as `application/json`.
    Raw(&'static str),
}

/// One request to send.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
    pub(crate) version: VersionHeader,
    pub(crate) auth: Auth,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Req {
    pub(crate) fn new(method: reqwest::Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            version: VersionHeader::Default,
            auth: Auth::Default,
            headers: Vec::new(),
        }
    }
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(reqwest::Method::GET, path)
    }
    pub(crate) fn put(path: impl Into<String>, body: Value) -> Self {
        Self::new(reqwest::Method::PUT, path).json(body)
    }
    pub(crate) fn patch(path: impl Into<String>, body: Value) -> Self {
        Self::new(reqwest::Method::PATCH, path).json(body)
    }
    pub(crate) fn delete(path: impl Into<String>) -> Self {
        Self::new(reqwest::Method::DELETE, path)
    }
    pub(crate) fn json(mut self, body: Value) -> Self {
        self.body = Some(Body::Json(body));
        self
    }
    pub(crate) fn raw(mut self, body: &'static str) -> Self {
        self.body = Some(Body::Raw(body));
        self
    }
    pub(crate) fn q(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_owned(), v.into()));
        self
    }
    /// `accepts_incomplete=true` when `yes`.
    pub(crate) fn incomplete(self, yes: bool) -> Self {
        if yes {
            self.q("accepts_incomplete", "true")
        } else {
            self
        }
    }
    pub(crate) fn version(mut self, v: VersionHeader) -> Self {
        self.version = v;
        self
    }
    pub(crate) fn auth(mut self, a: Auth) -> Self {
        self.auth = a;
        self
    }
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `PUT /v2/...?a=b` and the body, shortened.
    pub(crate) fn summary(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        if !self.query.is_empty() {
            s.push('?');
            let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&q.join("&"));
        }
        match &self.version {
            VersionHeader::Default => {}
            VersionHeader::Missing => s.push_str(" (no X-Broker-API-Version)"),
            VersionHeader::Value(v) => {
                let _ = write!(s, " (X-Broker-API-Version: {v})");
            }
        }
        match self.auth {
            Auth::Default => {}
            Auth::Missing => s.push_str(" (no Authorization)"),
            Auth::Wrong => s.push_str(" (wrong password)"),
        }
        for (k, v) in &self.headers {
            if *k != REQUEST_IDENTITY {
                let _ = write!(s, " ({k}: {})", shorten(v, 80));
            }
        }
        match &self.body {
            Some(Body::Json(v)) => {
                let _ = write!(s, " {}", shorten(&v.to_string(), 300));
            }
            Some(Body::Raw(r)) => {
                let _ = write!(s, " {}", shorten(r, 300));
            }
            None => {}
        }
        s
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    /// Header names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// The body parsed as JSON, when it is.
    pub(crate) json: Option<Value>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    /// A string field of a JSON object body.
    pub(crate) fn str_field(&self, key: &str) -> Option<&str> {
        self.json.as_ref()?.get(key)?.as_str()
    }
    /// The `error` code of a JSON body.
    pub(crate) fn error_code(&self) -> Option<&str> {
        self.str_field("error")
    }
    pub(crate) fn is_json_object(&self) -> bool {
        self.json.as_ref().is_some_and(Value::is_object)
    }
    pub(crate) fn has_json_content_type(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
    }
    /// `201 {body}`, shortened.
    pub(crate) fn summary(&self) -> String {
        let mut s = self.status.to_string();
        if let Some(ct) = self.header("content-type") {
            let _ = write!(s, " ({ct})");
        }
        if let Some(ra) = self.header("retry-after") {
            let _ = write!(s, " (Retry-After: {})", shorten(ra, 40));
        }
        if self.body.is_empty() {
            s.push_str(" (empty body)");
        } else {
            let _ = write!(s, " {}", shorten(&self.body, 300));
        }
        s
    }
}

/// What was sent and what came back (or why nothing did).
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub(crate) sent: String,
    pub(crate) result: Result<Resp, String>,
}

impl Exchange {
    pub(crate) fn got(&self) -> String {
        match &self.result {
            Ok(r) => r.summary(),
            Err(e) => e.clone(),
        }
    }
    pub(crate) fn status(&self) -> Option<u16> {
        self.result.as_ref().ok().map(|r| r.status)
    }
}

/// The broker connection.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
    credentials: Credentials,
    version: String,
    timeout: Duration,
}

/// How requests authenticate.
#[derive(Clone)]
enum Credentials {
    None,
    Basic { user: String, password: String },
    Bearer(String),
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Answers larger than this are cut (a broker answering garbage must not exhaust memory).
const MAX_BODY: usize = 1 << 20;

impl Http {
    pub(crate) fn new(config: &crate::Config) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(config.accept_invalid_certs);
        for pem in &config.root_certificates_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("the CA certificate PEM cannot be read: {e}"))?;
            if certs.is_empty() {
                return Err("the CA certificate PEM holds no CERTIFICATE block".to_owned());
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(pem) = &config.client_identity_pem {
            let identity = reqwest::Identity::from_pem(pem).map_err(|e| {
                format!("the client certificate and key cannot be used (PEM with the certificate and its private key): {e}")
            })?;
            builder = builder.identity(identity);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let credentials = match (&config.bearer_token, &config.username) {
            (Some(_), Some(_)) => {
                return Err("give a bearer token or a username and password, not both".to_owned());
            }
            (Some(token), None) => Credentials::Bearer(token.clone()),
            (None, Some(user)) => Credentials::Basic {
                user: user.clone(),
                password: config.password.clone().unwrap_or_default(),
            },
            (None, None) => Credentials::None,
        };
        Ok(Self {
            client,
            base: config.url.trim_end_matches('/').to_owned(),
            credentials,
            version: config.api_version.clone(),
            timeout: config.timeout,
        })
    }

    pub(crate) fn has_auth(&self) -> bool {
        !matches!(self.credentials, Credentials::None)
    }

    pub(crate) async fn send(&self, req: Req) -> Exchange {
        let sent = req.summary();
        let result = self.send_inner(req).await;
        Exchange { sent, result }
    }

    async fn send_inner(&self, req: Req) -> Result<Resp, String> {
        let url = format!("{}{}", self.base, req.path);
        let mut rb = self.client.request(req.method.clone(), url);
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        match &req.version {
            VersionHeader::Default => rb = rb.header("X-Broker-API-Version", &self.version),
            VersionHeader::Missing => {}
            VersionHeader::Value(v) => rb = rb.header("X-Broker-API-Version", *v),
        }
        match (&self.credentials, req.auth) {
            (_, Auth::Missing) | (Credentials::None, _) => {}
            (Credentials::Basic { user, password }, Auth::Default) => {
                rb = rb.basic_auth(user, Some(password))
            }
            (Credentials::Basic { user, .. }, Auth::Wrong) => {
                rb = rb.basic_auth(user, Some("osbcheck-wrong-password"));
            }
            (Credentials::Bearer(token), Auth::Default) => rb = rb.bearer_auth(token),
            (Credentials::Bearer(_), Auth::Wrong) => rb = rb.bearer_auth("osbcheck-wrong-token"),
        }
        for (k, v) in &req.headers {
            rb = rb.header(*k, v);
        }
        match req.body {
            Some(Body::Json(v)) => {
                rb = rb.header("Content-Type", "application/json").body(v.to_string());
            }
            Some(Body::Raw(r)) => rb = rb.header("Content-Type", "application/json").body(r),
            None => {}
        }
        let timeout = self.timeout;
        let mut res = rb.send().await.map_err(|e| describe(&e, timeout))?;
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut bytes = Vec::new();
        loop {
            match res.chunk().await {
                Ok(Some(c)) => {
                    bytes.extend_from_slice(&c);
                    if bytes.len() > MAX_BODY {
                        bytes.truncate(MAX_BODY);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(format!(
                        "{status} but reading the body failed: {}",
                        describe(&e, timeout)
                    ));
                }
            }
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&body).ok();
        Ok(Resp {
            status,
            headers,
            body,
            json,
        })
    }
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {}s (timeout)", timeout.as_secs_f64());
    }
    let mut msg = if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "connection failed".to_owned()
    };
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let _ = write!(msg, ": {s}");
        src = s.source();
    }
    msg
}

/// At most `max` characters, with `…` when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}
