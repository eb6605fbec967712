//! [`Recorded`] requests and the [`Expect`] patterns that find them.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method};

/// One request the fake broker received, in arrival order.
#[derive(Clone)]
pub struct Recorded {
    /// 0 for the first request, then 1, 2, ...
    pub index: usize,
    /// The method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Recorded {
    /// The first query parameter with this name.
    #[must_use]
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value, when it is text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, `None` when it is not JSON (or empty).
    #[must_use]
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl fmt::Debug for Recorded {
    /// `#index METHOD path?query` (headers and body are left out: they may carry secrets
    /// such as the `Authorization` header).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.index, self)
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        let mut sep = '?';
        for (k, v) in &self.query {
            write!(f, "{sep}{k}={v}")?;
            sep = '&';
        }
        Ok(())
    }
}

/// A pattern for recorded requests: a method and path, and optionally query parameters,
/// headers and JSON body fields that must be present.
///
/// ```
/// use osb_fake::Expect;
/// let mitigation = Expect::delete("/v2/service_instances/i-1")
///     .query("service_id", "svc")
///     .query("plan_id", "plan");
/// # let _ = mitigation;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Expect {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<(String, serde_json::Value)>,
}

impl Expect {
    /// A request with this method and path.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A `PUT` of `path`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A `PATCH` of `path`.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }

    /// A `DELETE` of `path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// The query has `name=value`.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The request has this header with this value.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The JSON body has this top-level field with this value.
    pub fn body_field(mut self, name: &str, value: serde_json::Value) -> Self {
        self.body.push((name.to_owned(), value));
        self
    }

    /// Whether `r` matches.
    #[must_use]
    pub fn matches(&self, r: &Recorded) -> bool {
        let json = if self.body.is_empty() { None } else { r.json() };
        r.method == self.method
            && r.path == self.path
            && self
                .query
                .iter()
                .all(|(k, v)| r.query.iter().any(|(rk, rv)| rk == k && rv == v))
            && self
                .headers
                .iter()
                .all(|(k, v)| r.headers.get_all(k.as_str()).iter().any(|h| h == v.as_str()))
            && self
                .body
                .iter()
                .all(|(k, v)| json.as_ref().and_then(|j| j.get(k)) == Some(v))
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        let mut sep = '?';
        for (k, v) in &self.query {
            write!(f, "{sep}{k}={v}")?;
            sep = '&';
        }
        for (k, v) in &self.headers {
            write!(f, " [{k}: {v}]")?;
        }
        for (k, v) in &self.body {
            write!(f, " [body.{k} = {v}]")?;
        }
        Ok(())
    }
}
