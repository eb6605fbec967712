//! `X-Broker-API-Originating-Identity`: parse; if it parses, render and parse back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_types::OriginatingIdentity;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(id) = OriginatingIdentity::parse(s) else {
        return;
    };
    assert!(!id.platform().is_empty());
    let header = id.to_header_value();
    let back = match OriginatingIdentity::parse(&header) {
        Ok(back) => back,
        Err(e) => panic!("our own header does not parse: {e}\nheader: {header:?}"),
    };
    assert_eq!(back, id, "identity changed in the round trip\nheader: {header:?}");
    assert_eq!(back.to_header_value(), header, "header rendering is not stable");
});
