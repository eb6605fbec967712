//! Newtype identifiers: `InstanceId`, `BindingId`, `ServiceId`, `PlanId`, `OperationId`.
//!
//! Each is a transparent wrapper around a `String` on the wire, so it serializes as a plain
//! JSON string, but the compiler keeps an instance id from being passed where a plan id is
//! expected.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string as this identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as a string slice.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the identifier into its `String`.
            #[must_use]
            pub fn into_inner(self) -> String {
                self.0
            }

            /// `true` when the identifier is the empty string (which the spec forbids).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                Self(id.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

id_type! {
    /// The Platform-chosen id of a Service Instance (`:instance_id` in the URL).
    ///
    /// ```
    /// use osb_types::InstanceId;
    /// let id = InstanceId::new("inst-1");
    /// assert_eq!(id, "inst-1");
    /// assert_eq!(serde_json::to_string(&id).unwrap(), r#""inst-1""#);
    /// ```
    InstanceId
}
id_type! {
    /// The Platform-chosen id of a Service Binding (`:binding_id` in the URL).
    ///
    /// ```
    /// let id = osb_types::BindingId::from("bind-1");
    /// assert_eq!(id.as_str(), "bind-1");
    /// ```
    BindingId
}
id_type! {
    /// The broker-chosen id of a Service Offering (catalog `services[].id`).
    ///
    /// ```
    /// let id = osb_types::ServiceId::new("svc");
    /// assert_eq!(id.to_string(), "svc");
    /// ```
    ServiceId
}
id_type! {
    /// The broker-chosen id of a Service Plan (catalog `services[].plans[].id`).
    ///
    /// ```
    /// let id = osb_types::PlanId::new("plan");
    /// assert!(!id.is_empty());
    /// ```
    PlanId
}
id_type! {
    /// The broker-chosen id of an asynchronous operation (`operation` in a 202 body).
    ///
    /// The Platform echoes it verbatim (percent-encoded) when polling `last_operation`.
    ///
    /// ```
    /// let op = osb_types::OperationId::new("task 10/a");
    /// assert_eq!(op.into_inner(), "task 10/a");
    /// ```
    OperationId
}
