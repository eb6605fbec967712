//! The profile's `context` object: parse → to_value → parse must be stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_types::Context;

fuzz_target!(|data: &[u8]| {
    let Ok(ctx) = serde_json::from_slice::<Context>(data) else {
        return;
    };
    let _ = (ctx.platform(), ctx.instance_name());
    let value = serde_json::to_value(&ctx).expect("a parsed context must serialize");
    assert!(value.is_object(), "a context must serialize to an object: {value}");
    let back: Context = match serde_json::from_value(value.clone()) {
        Ok(back) => back,
        Err(e) => panic!("re-parse of our own context failed: {e}\nvalue: {value}"),
    };
    assert_eq!(back, ctx, "context changed in the round trip\nvalue: {value}");
    assert_eq!(back.platform(), ctx.platform());
    let value2 = serde_json::to_value(&back).expect("serialize again");
    assert_eq!(value2, value, "context serialization is not stable");
    // And through text, as it travels on the wire.
    osb_fuzz::assert_round_trip(&ctx);
});
