//! The `X-Broker-API-Version` value and the names of the OSB headers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// Name of the header carrying the API version (`X-Broker-API-Version`); REQUIRED on every request.
pub const API_VERSION_HEADER: &str = "X-Broker-API-Version";
/// Name of the header identifying the end user behind a request (`X-Broker-API-Originating-Identity`).
pub const ORIGINATING_IDENTITY_HEADER: &str = "X-Broker-API-Originating-Identity";
/// Name of the header carrying the Platform's request id (`X-Broker-API-Request-Identity`).
pub const REQUEST_IDENTITY_HEADER: &str = "X-Broker-API-Request-Identity";
/// Name of the response header telling the Platform how long to wait before polling again.
pub const RETRY_AFTER_HEADER: &str = "Retry-After";

/// An OSB API version, `MAJOR.MINOR`, compared numerically (2.9 < 2.10).
///
/// ```
/// use osb_types::ApiVersion;
/// let v: ApiVersion = "2.9".parse().unwrap();
/// assert!(v < "2.10".parse().unwrap());
/// assert_eq!(ApiVersion::V2_17.to_string(), "2.17");
/// assert!("2.".parse::<ApiVersion>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// The major version (always 2 for this specification).
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl ApiVersion {
    /// Version 2.11.
    pub const V2_11: Self = Self::new(2, 11);
    /// Version 2.12.
    pub const V2_12: Self = Self::new(2, 12);
    /// Version 2.13.
    pub const V2_13: Self = Self::new(2, 13);
    /// Version 2.14.
    pub const V2_14: Self = Self::new(2, 14);
    /// Version 2.15.
    pub const V2_15: Self = Self::new(2, 15);
    /// Version 2.16.
    pub const V2_16: Self = Self::new(2, 16);
    /// Version 2.17.
    pub const V2_17: Self = Self::new(2, 17);
    /// The newest version this crate models (2.17).
    pub const LATEST: Self = Self::V2_17;
    /// Every version from 2.11 to 2.17, oldest first.
    pub const ALL: [Self; 7] = [
        Self::V2_11,
        Self::V2_12,
        Self::V2_13,
        Self::V2_14,
        Self::V2_15,
        Self::V2_16,
        Self::V2_17,
    ];

    /// Builds a version from its parts.
    #[must_use]
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self::LATEST
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;

    /// Parses `MAJOR.MINOR` (ASCII digits only, surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidApiVersion {
            value: s.chars().take(64).collect(),
        };
        // Bytes, not chars: this parses the version header of every request.
        let t = s.trim().as_bytes();
        let dot = t.iter().position(|&b| b == b'.').ok_or_else(invalid)?;
        let part = |p: &[u8]| -> Result<u32, Error> {
            if p.is_empty() {
                return Err(invalid());
            }
            p.iter().try_fold(0u32, |n, &b| {
                if !b.is_ascii_digit() {
                    return Err(invalid());
                }
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u32::from(b - b'0')))
                    .ok_or_else(invalid)
            })
        };
        Ok(Self::new(part(&t[..dot])?, part(&t[dot + 1..])?))
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a3_versions_compare_numerically() {
        let v = |s: &str| s.parse::<ApiVersion>().unwrap();
        assert!(v("2.9") < v("2.10"));
        assert!(v("2.17") > v("2.9"));
        assert!(v("3.0") > v("2.99"));
        assert_eq!(v(" 2.14 "), ApiVersion::V2_14);
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for bad in [
            "",
            "2",
            "2.",
            ".1",
            "abc",
            "2.x",
            "2.1.3",
            "99999999999.1",
            "-2.1",
            "+2.1",
        ] {
            assert!(bad.parse::<ApiVersion>().is_err(), "{bad:?} parsed");
        }
    }
}
