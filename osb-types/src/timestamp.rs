//! [`Timestamp`]: the date-times of binding metadata (`expires_at`, `renew_before`).
//!
//! The specification asks for ISO 8601 with the pattern `yyyy-mm-ddThh:mm:ss.sZ` (2.17; 2.16
//! wrote `.ssZ`). A [`Timestamp`] parses any RFC 3339 date-time (any number of fractional
//! digits, `Z` or a numeric offset) and is written back exactly as it came (same offset, same
//! number of fractional digits), so a Platform relays what the broker wrote. One made in code
//! ([`Timestamp::now`], [`Timestamp::from_unix_seconds`], arithmetic) is written in the
//! specification's pattern: UTC, `Z`, and the fraction without trailing zeros but with at
//! least one digit. Comparisons are by instant.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A point in time of the wire model (built on the `time` crate).
///
/// ```
/// use osb_types::Timestamp;
/// let t: Timestamp = "2019-12-31T23:59:59.0Z".parse().unwrap();
/// assert_eq!(t.to_string(), "2019-12-31T23:59:59.0Z");
/// let u: Timestamp = "2020-01-01T00:59:59.250+01:00".parse().unwrap();
/// assert_eq!(u.to_string(), "2020-01-01T00:59:59.250+01:00", "written as it came");
/// assert!(t < u);
/// let same: Timestamp = "2019-12-31T23:59:59.25Z".parse().unwrap();
/// assert_eq!(u, same, "compared by instant");
/// assert!("31/12/2019".parse::<Timestamp>().is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    at: OffsetDateTime,
    /// Fractional digits as parsed; `None` for the canonical form.
    digits: Option<u8>,
}

/// A string that is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 date-time like 2019-12-31T23:59:59.0Z: {reason}")]
pub struct TimestampError {
    reason: String,
}

impl Timestamp {
    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        Self::canonical(OffsetDateTime::now_utc())
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    ///
    /// # Errors
    /// When the result is outside the years 0000–9999.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, TimestampError> {
        let at = OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| TimestampError {
            reason: e.to_string(),
        })?;
        Self::try_from(at)
    }

    /// Seconds since 1970-01-01T00:00:00Z (rounded down).
    #[must_use]
    pub fn unix_seconds(self) -> i64 {
        self.at.unix_timestamp()
    }

    /// The same instant as a `time::OffsetDateTime` (in the offset it was written with).
    #[must_use]
    pub fn as_offset_date_time(self) -> OffsetDateTime {
        self.at
    }

    /// `self + duration` (canonical form), `None` past the year 9999.
    ///
    /// ```
    /// use std::time::Duration;
    /// use osb_types::Timestamp;
    /// let t: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    /// assert_eq!(t.checked_add(Duration::from_secs(90)).unwrap().to_string(), "2030-01-01T00:01:30.0Z");
    /// ```
    #[must_use]
    pub fn checked_add(self, duration: Duration) -> Option<Self> {
        let at = self.at.checked_add(duration.try_into().ok()?)?;
        Self::try_from(at).ok()
    }

    /// `self - duration` (canonical form), `None` before the year 0000.
    #[must_use]
    pub fn checked_sub(self, duration: Duration) -> Option<Self> {
        let at = self.at.checked_sub(duration.try_into().ok()?)?;
        Self::try_from(at).ok()
    }

    fn canonical(at: OffsetDateTime) -> Self {
        Self {
            at: at.to_offset(UtcOffset::UTC),
            digits: None,
        }
    }
}

/// Only date-times that can be written with four-digit years, in UTC and in `at`'s offset.
fn in_range(at: OffsetDateTime) -> Result<OffsetDateTime, TimestampError> {
    let utc = at.to_offset(UtcOffset::UTC);
    for year in [utc.year(), at.year()] {
        if !(0..=9999).contains(&year) {
            return Err(TimestampError {
                reason: format!("year {year} is outside 0000-9999"),
            });
        }
    }
    Ok(at)
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.at.to_offset(UtcOffset::UTC).hash(state);
    }
}

impl TryFrom<OffsetDateTime> for Timestamp {
    type Error = TimestampError;

    /// Converts to UTC (canonical form).
    ///
    /// # Errors
    /// When the year (in UTC) is outside 0000–9999.
    fn try_from(at: OffsetDateTime) -> Result<Self, Self::Error> {
        in_range(at.to_offset(UtcOffset::UTC)).map(Self::canonical)
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(t: Timestamp) -> Self {
        t.at
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let at = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| TimestampError {
            reason: e.to_string(),
        })?;
        // `yyyy-mm-ddThh:mm:ss` is 19 bytes; a fraction follows as `.` and digits.
        let digits = match s.as_bytes().get(19) {
            Some(b'.') => s[20..].bytes().take_while(u8::is_ascii_digit).count().min(9),
            _ => 0,
        };
        Ok(Self {
            at: in_range(at)?,
            digits: u8::try_from(digits).ok(),
        })
    }
}

impl fmt::Display for Timestamp {
    /// As parsed, or `yyyy-mm-ddThh:mm:ss.sZ` (fraction without trailing zeros, at least one
    /// digit) for a timestamp made in code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.at;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        )?;
        let nanos = format!("{:09}", t.nanosecond());
        let fraction = match self.digits {
            Some(n) => &nanos[..usize::from(n)],
            None => match nanos.trim_end_matches('0') {
                "" => "0",
                trimmed => trimmed,
            },
        };
        if !fraction.is_empty() {
            write!(f, ".{fraction}")?;
        }
        let offset = t.offset();
        if offset.is_utc() {
            f.write_str("Z")
        } else {
            let (h, m, _) = offset.as_hms();
            let sign = if offset.is_negative() { '-' } else { '+' };
            write!(f, "{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c52_fraction_digits_are_parsed_leniently_and_written_in_the_pattern() {
        for (input, written) in [
            ("2019-12-31T23:59:59Z", "2019-12-31T23:59:59Z"),
            ("2019-12-31T23:59:59.0Z", "2019-12-31T23:59:59.0Z"),
            ("2019-12-31T23:59:59.00Z", "2019-12-31T23:59:59.00Z"),
            ("2019-12-31T23:59:59.123456789Z", "2019-12-31T23:59:59.123456789Z"),
            ("2019-12-31t23:59:59.5z", "2019-12-31T23:59:59.5Z"),
            ("2020-01-01T01:00:00.0+01:00", "2020-01-01T01:00:00.0+01:00"),
            ("2019-12-31T20:30:00.0-03:30", "2019-12-31T20:30:00.0-03:30"),
        ] {
            let t: Timestamp = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(t.to_string(), written, "{input}");
            assert_eq!(written.parse::<Timestamp>().unwrap(), t, "{written}");
        }
        for bad in ["", "2019-12-31", "2019-13-01T00:00:00Z", "soon"] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn c52_timestamps_serialize_as_strings() {
        let t: Timestamp = serde_json::from_str("\"2030-01-01T00:00:00Z\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2030-01-01T00:00:00Z\"");
        let made = Timestamp::from_unix_seconds(t.unix_seconds()).unwrap();
        assert_eq!(
            serde_json::to_string(&made).unwrap(),
            "\"2030-01-01T00:00:00.0Z\""
        );
        assert_eq!(made, t);
        let e = serde_json::from_str::<Timestamp>("\"tomorrow\"").unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
        assert!(serde_json::from_str::<Timestamp>("5").is_err());
    }

    #[test]
    fn arithmetic_and_unix_seconds() {
        let t = Timestamp::from_unix_seconds(1_893_456_000).unwrap();
        assert_eq!(t.to_string(), "2030-01-01T00:00:00.0Z");
        assert_eq!(t.unix_seconds(), 1_893_456_000);
        let later = t.checked_add(Duration::from_millis(1500)).unwrap();
        assert_eq!(later.to_string(), "2030-01-01T00:00:01.5Z");
        assert_eq!(later.checked_sub(Duration::from_millis(1500)), Some(t));
        assert!(Timestamp::from_unix_seconds(i64::MAX).is_err());
    }
}
