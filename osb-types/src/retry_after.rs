//! The `Retry-After` header of a `last_operation` response (spec "Polling Last Operation",
//! RFC 9110 §10.2.3): a number of seconds or an HTTP-date.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::Error;

/// A parsed `Retry-After` value: how long the Platform should wait before polling again.
///
/// Brokers should send integer seconds ([`RetryAfter::Seconds`]); Platforms must accept both
/// forms.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use osb_types::RetryAfter;
///
/// let after: RetryAfter = "7".parse().unwrap();
/// assert_eq!(after, RetryAfter::Seconds(7));
/// assert_eq!(after.delay(), Duration::from_secs(7));
/// assert_eq!(after.to_string(), "7");
///
/// let past: RetryAfter = "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap();
/// assert_eq!(past.delay(), Duration::ZERO); // a date in the past means "now"
/// assert!("soon".parse::<RetryAfter>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 7`.
    Seconds(u64),
    /// `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
    Date(SystemTime),
}

impl RetryAfter {
    /// Parses a header value (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`Error::InvalidRetryAfter`] for anything that is neither a non-negative integer nor an
    /// HTTP-date.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let v = value.trim();
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            // A number too large for u64 is still "wait a very long time".
            return Ok(Self::Seconds(v.parse().unwrap_or(u64::MAX)));
        }
        httpdate::parse_http_date(v)
            .map(Self::Date)
            .map_err(|_| Error::InvalidRetryAfter {
                value: v.chars().take(64).collect(),
            })
    }

    /// How long to wait from now; zero for a date in the past.
    #[must_use]
    pub fn delay(&self) -> Duration {
        self.delay_from(SystemTime::now())
    }

    /// How long to wait from `now`; zero for a date at or before it.
    #[must_use]
    pub fn delay_from(&self, now: SystemTime) -> Duration {
        match *self {
            Self::Seconds(s) => Duration::from_secs(s),
            Self::Date(when) => when.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

impl From<Duration> for RetryAfter {
    /// Whole seconds, rounded up so a sub-second hint is never sent as `0`.
    fn from(d: Duration) -> Self {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        Self::Seconds(secs)
    }
}

impl FromStr for RetryAfter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for RetryAfter {
    /// The header value: integer seconds, or an IMF-fixdate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seconds(s) => write!(f, "{s}"),
            Self::Date(when) => f.write_str(&httpdate::fmt_http_date(*when)),
        }
    }
}
