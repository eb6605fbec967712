//! The ten OSB routes: a pure function from method and path to [`Route`].

use http::Method;
use osb_types::path::ApiPath;

/// An OSB endpoint with its (percent-decoded) path ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Catalog,
    Provision(String),
    Update(String),
    FetchInstance(String),
    Deprovision(String),
    InstanceLastOperation(String),
    Bind(String, String),
    FetchBinding(String, String),
    Unbind(String, String),
    BindingLastOperation(String, String),
}

impl Route {
    /// A short name for logs and spans.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Provision(_) => "provision",
            Self::Update(_) => "update",
            Self::FetchInstance(_) => "fetch_instance",
            Self::Deprovision(_) => "deprovision",
            Self::InstanceLastOperation(_) => "instance_last_operation",
            Self::Bind(..) => "bind",
            Self::FetchBinding(..) => "fetch_binding",
            Self::Unbind(..) => "unbind",
            Self::BindingLastOperation(..) => "binding_last_operation",
        }
    }

    /// The instance id, if the route has one.
    pub(crate) fn instance_id(&self) -> Option<&str> {
        match self {
            Self::Catalog => None,
            Self::Provision(i)
            | Self::Update(i)
            | Self::FetchInstance(i)
            | Self::Deprovision(i)
            | Self::InstanceLastOperation(i)
            | Self::Bind(i, _)
            | Self::FetchBinding(i, _)
            | Self::Unbind(i, _)
            | Self::BindingLastOperation(i, _) => Some(i),
        }
    }

    /// The binding id, if the route has one.
    pub(crate) fn binding_id(&self) -> Option<&str> {
        match self {
            Self::Bind(_, b)
            | Self::FetchBinding(_, b)
            | Self::Unbind(_, b)
            | Self::BindingLastOperation(_, b) => Some(b),
            _ => None,
        }
    }
}

/// Why a request matches no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteError {
    /// No such path: 404.
    NotFound,
    /// The path exists, the method does not: 405 with this `Allow` value.
    MethodNotAllowed(&'static str),
    /// A path id is not valid percent-encoded UTF-8: 400.
    BadId(String),
}

/// At most 64 characters of a segment, for error messages.
fn short(segment: &str) -> String {
    segment.chars().take(64).collect()
}

/// Percent-decodes one path segment (`+` stays `+`, as in any path).
pub(crate) fn percent_decode(segment: &str) -> Result<String, String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in path segment {:?}", short(segment)))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("path segment {:?} is not UTF-8 once decoded", short(segment)))
}

/// Longest id accepted, in bytes. The spec sets no limit; platforms use GUIDs (36 bytes), and a
/// bound keeps hostile ids out of logs and the store.
pub(crate) const MAX_ID_LEN: usize = 1024;

/// Ids are opaque (any character, A17) except control characters, which no platform sends
/// and which would corrupt logs, and lengths past [`MAX_ID_LEN`].
fn check_id(id: &str) -> Result<(), String> {
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "path id is {} bytes long; at most {MAX_ID_LEN} are accepted",
            id.len()
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(format!(
            "path id {:?} contains control characters",
            id.chars().take(64).collect::<String>()
        ));
    }
    Ok(())
}

/// Whether `path` is the catalog's (`/v2/catalog`), without routing.
pub(crate) fn is_catalog(path: &str) -> bool {
    path == "/v2/catalog"
}

/// Matches a method and a path (without the query string). The paths are
/// [`osb_types::path::ApiPath`]'s, the one place the client builds them from.
pub(crate) fn route(method: &Method, path: &str) -> Result<Route, RouteError> {
    let path = ApiPath::parse(path).ok_or(RouteError::NotFound)?;
    let path = path.try_map(|raw| {
        let decoded = percent_decode(raw).map_err(RouteError::BadId)?;
        check_id(&decoded).map_err(RouteError::BadId)?;
        Ok(decoded)
    })?;
    let allow = |allowed: &'static str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(RouteError::MethodNotAllowed(allowed))
        }
    };
    match path {
        ApiPath::Catalog => {
            allow("GET", *method == Method::GET)?;
            Ok(Route::Catalog)
        }
        ApiPath::Instance(i) => match *method {
            Method::PUT => Ok(Route::Provision(i)),
            Method::PATCH => Ok(Route::Update(i)),
            Method::GET => Ok(Route::FetchInstance(i)),
            Method::DELETE => Ok(Route::Deprovision(i)),
            _ => Err(RouteError::MethodNotAllowed("GET, PUT, PATCH, DELETE")),
        },
        ApiPath::InstanceLastOperation(i) => {
            allow("GET", *method == Method::GET)?;
            Ok(Route::InstanceLastOperation(i))
        }
        ApiPath::Binding(i, b) => match *method {
            Method::PUT => Ok(Route::Bind(i, b)),
            Method::GET => Ok(Route::FetchBinding(i, b)),
            Method::DELETE => Ok(Route::Unbind(i, b)),
            _ => Err(RouteError::MethodNotAllowed("GET, PUT, DELETE")),
        },
        ApiPath::BindingLastOperation(i, b) => {
            allow("GET", *method == Method::GET)?;
            Ok(Route::BindingLastOperation(i, b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    #[test]
    fn routes_table() {
        let table: Vec<(Method, &str, Result<Route, RouteError>)> = vec![
            (Method::GET, "/v2/catalog", Ok(Route::Catalog)),
            (
                Method::POST,
                "/v2/catalog",
                Err(RouteError::MethodNotAllowed("GET")),
            ),
            (
                Method::PUT,
                "/v2/service_instances/i1",
                Ok(Route::Provision(s("i1"))),
            ),
            (
                Method::PATCH,
                "/v2/service_instances/i1",
                Ok(Route::Update(s("i1"))),
            ),
            (
                Method::GET,
                "/v2/service_instances/i1",
                Ok(Route::FetchInstance(s("i1"))),
            ),
            (
                Method::DELETE,
                "/v2/service_instances/i1",
                Ok(Route::Deprovision(s("i1"))),
            ),
            (
                Method::POST,
                "/v2/service_instances/i1",
                Err(RouteError::MethodNotAllowed("GET, PUT, PATCH, DELETE")),
            ),
            (
                Method::GET,
                "/v2/service_instances/i1/last_operation",
                Ok(Route::InstanceLastOperation(s("i1"))),
            ),
            (
                Method::PUT,
                "/v2/service_instances/i1/service_bindings/b1",
                Ok(Route::Bind(s("i1"), s("b1"))),
            ),
            (
                Method::GET,
                "/v2/service_instances/i1/service_bindings/b1",
                Ok(Route::FetchBinding(s("i1"), s("b1"))),
            ),
            (
                Method::DELETE,
                "/v2/service_instances/i1/service_bindings/b1",
                Ok(Route::Unbind(s("i1"), s("b1"))),
            ),
            (
                Method::PATCH,
                "/v2/service_instances/i1/service_bindings/b1",
                Err(RouteError::MethodNotAllowed("GET, PUT, DELETE")),
            ),
            (
                Method::GET,
                "/v2/service_instances/i1/service_bindings/b1/last_operation",
                Ok(Route::BindingLastOperation(s("i1"), s("b1"))),
            ),
            (Method::GET, "/v2/service_instances/", Err(RouteError::NotFound)),
            (Method::GET, "/v2/service_instances", Err(RouteError::NotFound)),
            (Method::GET, "/v2/catalog/", Err(RouteError::NotFound)),
            (Method::GET, "/v3/catalog", Err(RouteError::NotFound)),
            (Method::GET, "/", Err(RouteError::NotFound)),
            (
                Method::GET,
                "/v2/service_instances/i1/nope",
                Err(RouteError::NotFound),
            ),
        ];
        for (method, path, expected) in table {
            assert_eq!(route(&method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn a17_path_ids_are_percent_decoded() {
        let table = [
            ("a%2Fb", "a/b"),
            ("a%20b", "a b"),
            ("a%25b", "a%b"),
            ("a+b", "a+b"),
            ("%C3%A9t%C3%A9", "été"),
        ];
        for (raw, decoded) in table {
            let path = format!("/v2/service_instances/{raw}/service_bindings/{raw}");
            assert_eq!(
                route(&Method::PUT, &path),
                Ok(Route::Bind(decoded.to_owned(), decoded.to_owned()))
            );
        }
        assert!(matches!(
            route(&Method::GET, "/v2/service_instances/%zz"),
            Err(RouteError::BadId(_))
        ));
        assert!(matches!(
            route(&Method::GET, "/v2/service_instances/%FF"),
            Err(RouteError::BadId(_))
        ));
    }
}
