//! Query-string parsing and rendering shared by the `*Params` types.

use crate::Error;

/// Decoded `name=value` pairs of a query string, rejecting duplicates of known names.
pub(crate) struct Query<'q> {
    pairs: Vec<(std::borrow::Cow<'q, str>, std::borrow::Cow<'q, str>)>,
}

impl<'q> Query<'q> {
    pub(crate) fn parse(query: &'q str) -> Self {
        Self {
            pairs: form_urlencoded::parse(query.as_bytes()).collect(),
        }
    }

    /// The single value of `name`; an error if it appears more than once.
    pub(crate) fn get(&self, name: &str) -> Result<Option<&str>, Error> {
        let mut found = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref());
        let first = found.next();
        if found.next().is_some() {
            return Err(Error::InvalidQuery {
                name: name.to_owned(),
                reason: "given more than once".to_owned(),
            });
        }
        Ok(first)
    }

    /// `true`/`false`; anything else is an error (CHECKLIST A23: we reject rather than guess).
    pub(crate) fn get_bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(Error::InvalidQuery {
                name: name.to_owned(),
                reason: format!("expected `true` or `false`, got {:?}", truncate(other)),
            }),
        }
    }

    pub(crate) fn get_string(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.get(name)?.map(str::to_owned))
    }
}

/// `value` of the REQUIRED parameter `name`: an error when it is absent or empty.
pub(crate) fn required<'a, T: AsRef<str>>(name: &str, value: Option<&'a T>) -> Result<&'a T, Error> {
    match value {
        Some(v) if !v.as_ref().is_empty() => Ok(v),
        Some(_) => Err(Error::InvalidQuery {
            name: name.to_owned(),
            reason: "must not be empty".to_owned(),
        }),
        None => Err(Error::InvalidQuery {
            name: name.to_owned(),
            reason: "is required".to_owned(),
        }),
    }
}

/// Implements `required_ids` for the `DELETE` params, whose `service_id` and `plan_id` are REQUIRED.
macro_rules! required_ids_impl {
    ($ty:ident) => {
        impl $ty {
            /// `service_id` and `plan_id`, which the spec makes REQUIRED on this `DELETE`.
            ///
            /// # Errors
            /// [`Error::InvalidQuery`](crate::Error::InvalidQuery) naming the first one that is
            /// absent or empty.
            pub fn required_ids(&self) -> Result<(&$crate::ServiceId, &$crate::PlanId), $crate::Error> {
                Ok((
                    $crate::query::required("service_id", self.service_id.as_ref())?,
                    $crate::query::required("plan_id", self.plan_id.as_ref())?,
                ))
            }
        }
    };
}

pub(crate) use required_ids_impl;

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Builds a percent-encoded query string.
pub(crate) struct QueryBuilder(form_urlencoded::Serializer<'static, String>);

impl QueryBuilder {
    pub(crate) fn new() -> Self {
        Self(form_urlencoded::Serializer::new(String::new()))
    }

    pub(crate) fn opt(mut self, name: &str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.0.append_pair(name, v);
        }
        self
    }

    pub(crate) fn opt_bool(self, name: &str, value: Option<bool>) -> Self {
        self.opt(name, value.map(|b| if b { "true" } else { "false" }))
    }

    pub(crate) fn finish(mut self) -> String {
        self.0.finish()
    }
}

/// Implements `from_query`/`to_query` for a params struct.
macro_rules! params_impl {
    ($ty:ident { $($field:ident : $kind:ident),* $(,)? }) => {
        impl $ty {
            /// Parses a raw (percent-encoded) query string, e.g. `accepts_incomplete=true`.
            ///
            /// # Errors
            /// A parameter given twice, or a boolean other than `true`/`false`.
            pub fn from_query(query: &str) -> Result<Self, $crate::Error> {
                let q = $crate::query::Query::parse(query);
                Ok(Self { $($field: params_impl!(@get q, $field, $kind)),* })
            }

            /// Renders the percent-encoded query string (without `?`); empty when nothing is set.
            #[must_use]
            pub fn to_query(&self) -> String {
                let b = $crate::query::QueryBuilder::new();
                $(let b = params_impl!(@put b, self, $field, $kind);)*
                b.finish()
            }
        }
    };
    (@get $q:ident, $field:ident, bool) => { $q.get_bool(stringify!($field))? };
    (@get $q:ident, $field:ident, string) => { $q.get_string(stringify!($field))?.map(Into::into) };
    (@put $b:ident, $s:ident, $field:ident, bool) => { $b.opt_bool(stringify!($field), $s.$field) };
    (@put $b:ident, $s:ident, $field:ident, string) => { $b.opt(stringify!($field), $s.$field.as_ref().map(|v| v.as_ref())) };
}

pub(crate) use params_impl;
