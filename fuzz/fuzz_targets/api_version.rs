//! `X-Broker-API-Version`: parse; if it parses, Display then parse back equal.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use osb_types::ApiVersion;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(v) = ApiVersion::from_str(s) else {
        return;
    };
    let shown = v.to_string();
    let back = ApiVersion::from_str(&shown)
        .unwrap_or_else(|e| panic!("our own rendering {shown:?} does not parse: {e}"));
    assert_eq!(back, v);
    assert_eq!(back.to_string(), shown);
    // Serde goes through the same code.
    let json = serde_json::to_string(&v).expect("serialize");
    assert_eq!(serde_json::from_str::<ApiVersion>(&json).expect("deserialize"), v);
});
