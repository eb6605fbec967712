//! Helpers shared by the fuzz targets.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Serializes `v`, parses it back and asserts the value is unchanged, and that serializing
/// the re-parsed value gives byte-identical JSON (the encoding is stable).
pub fn assert_round_trip<T>(v: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_vec(v).expect("a parsed value must serialize");
    let back: T = match serde_json::from_slice(&json) {
        Ok(back) => back,
        Err(e) => panic!(
            "re-parse of our own output failed: {e}\njson: {}",
            String::from_utf8_lossy(&json)
        ),
    };
    assert_eq!(
        &back,
        v,
        "round trip changed the value\njson: {}",
        String::from_utf8_lossy(&json)
    );
    let again = serde_json::to_vec(&back).expect("serialize again");
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&json),
        "serialization is not stable"
    );
}

/// Parses `data` as `T`; if it parses, asserts the round-trip property.
pub fn parse_and_round_trip<T>(data: &[u8]) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let v: T = serde_json::from_slice(data).ok()?;
    assert_round_trip(&v);
    Some(v)
}
