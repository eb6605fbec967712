//! The request paths of the API, in one place: platforms build them, brokers match them.
//!
//! An [`ApiPath`] holds its ids; [`ApiPath::segments`] gives the segments to append to a base URL
//! (ids unencoded: a URL builder such as `url::Url::path_segments_mut` percent-encodes them),
//! and [`ApiPath::parse`] matches a request path, giving the ids still percent-encoded as they
//! came, for the broker to decode and check.
//!
//! ```
//! use osb_types::path::ApiPath;
//! let p = ApiPath::Binding("inst 1", "bind-1");
//! assert_eq!(p.segments(), ["v2", "service_instances", "inst 1", "service_bindings", "bind-1"]);
//! assert_eq!(ApiPath::parse("/v2/service_instances/inst%201/service_bindings/bind-1"),
//!            Some(ApiPath::Binding("inst%201", "bind-1")));
//! assert_eq!(ApiPath::parse("/v2/service_instances/i/last_operation"),
//!            Some(ApiPath::InstanceLastOperation("i")));
//! assert_eq!(ApiPath::parse("/v2/service_instances/"), None); // an empty id matches nothing
//! ```

/// One endpoint path of the API, with its ids (`Id` is `&str` for building and matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiPath<Id> {
    /// `/v2/catalog`.
    Catalog,
    /// `/v2/service_instances/:instance_id`.
    Instance(Id),
    /// `/v2/service_instances/:instance_id/last_operation`.
    InstanceLastOperation(Id),
    /// `/v2/service_instances/:instance_id/service_bindings/:binding_id`.
    Binding(Id, Id),
    /// `/v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation`.
    BindingLastOperation(Id, Id),
}

/// The first segment of every path.
const V2: &str = "v2";
const CATALOG: &str = "catalog";
const INSTANCES: &str = "service_instances";
const BINDINGS: &str = "service_bindings";
const LAST_OPERATION: &str = "last_operation";

impl<Id: AsRef<str>> ApiPath<Id> {
    /// The `last_operation` path of a resource path (itself for a `last_operation` path);
    /// `None` for the catalog.
    #[must_use]
    pub fn last_operation(self) -> Option<Self> {
        match self {
            Self::Catalog => None,
            Self::Instance(i) | Self::InstanceLastOperation(i) => Some(Self::InstanceLastOperation(i)),
            Self::Binding(i, b) | Self::BindingLastOperation(i, b) => Some(Self::BindingLastOperation(i, b)),
        }
    }

    /// The same path with each id mapped by `f` (e.g. percent-decoded and checked), in path
    /// order; the first error stops.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn try_map<T, E>(self, mut f: impl FnMut(Id) -> Result<T, E>) -> Result<ApiPath<T>, E> {
        Ok(match self {
            Self::Catalog => ApiPath::Catalog,
            Self::Instance(i) => ApiPath::Instance(f(i)?),
            Self::InstanceLastOperation(i) => ApiPath::InstanceLastOperation(f(i)?),
            Self::Binding(i, b) => {
                let i = f(i)?;
                ApiPath::Binding(i, f(b)?)
            }
            Self::BindingLastOperation(i, b) => {
                let i = f(i)?;
                ApiPath::BindingLastOperation(i, f(b)?)
            }
        })
    }
}

impl<'a> ApiPath<&'a str> {
    /// The segments of this path, ids as they are (not percent-encoded).
    #[must_use]
    pub fn segments(self) -> Vec<&'a str> {
        match self {
            Self::Catalog => vec![V2, CATALOG],
            Self::Instance(i) => vec![V2, INSTANCES, i],
            Self::InstanceLastOperation(i) => vec![V2, INSTANCES, i, LAST_OPERATION],
            Self::Binding(i, b) => vec![V2, INSTANCES, i, BINDINGS, b],
            Self::BindingLastOperation(i, b) => {
                vec![V2, INSTANCES, i, BINDINGS, b, LAST_OPERATION]
            }
        }
    }

    /// Matches a request path (without the query string), e.g.
    /// `/v2/service_instances/abc/last_operation`. Ids are returned as they appear (still
    /// percent-encoded); `None` when the path is no API path or an id is empty.
    #[must_use]
    pub fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/v2/")?;
        // At most five segments (a binding's last operation); split without allocating.
        let mut segments = [""; 5];
        let mut count = 0;
        for segment in rest.split('/') {
            *segments.get_mut(count)? = segment;
            count += 1;
        }
        let id = |s: &'a str| (!s.is_empty()).then_some(s);
        match &segments[..count] {
            [CATALOG] => Some(Self::Catalog),
            [INSTANCES, i] => Some(Self::Instance(id(i)?)),
            [INSTANCES, i, LAST_OPERATION] => Some(Self::InstanceLastOperation(id(i)?)),
            [INSTANCES, i, BINDINGS, b] => Some(Self::Binding(id(i)?, id(b)?)),
            [INSTANCES, i, BINDINGS, b, LAST_OPERATION] => Some(Self::BindingLastOperation(id(i)?, id(b)?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApiPath;

    #[test]
    fn every_path_parses_back_from_its_segments() {
        let all = [
            ApiPath::Catalog,
            ApiPath::Instance("i"),
            ApiPath::InstanceLastOperation("i"),
            ApiPath::Binding("i", "b"),
            ApiPath::BindingLastOperation("i", "b"),
        ];
        for p in all {
            let rendered = format!("/{}", p.segments().join("/"));
            assert_eq!(ApiPath::parse(&rendered), Some(p), "{rendered}");
        }
        for bad in [
            "/v2/catalog/",
            "/v3/catalog",
            "/",
            "/v2/service_instances",
            "/v2/service_instances/i/nope",
            "/v2/service_instances/i/service_bindings/b/last_operation/more",
            "/v2/service_instances/i/service_bindings/b/last_operation/",
        ] {
            assert_eq!(ApiPath::parse(bad), None, "{bad}");
        }
        assert_eq!(
            ApiPath::Instance("i").last_operation(),
            Some(ApiPath::InstanceLastOperation("i"))
        );
        assert_eq!(ApiPath::<&str>::Catalog.last_operation(), None);
    }
}
