//! Every `*Params::from_query`; if it parses, `to_query` then `from_query` must give it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_types::binding::{BindParams, FetchBindingParams, UnbindParams};
use osb_types::instance::{DeprovisionParams, FetchInstanceParams, ProvisionParams, UpdateParams};
use osb_types::operation::LastOperationParams;

macro_rules! check {
    ($q:expr, $($ty:ty),* $(,)?) => {$(
        if let Ok(p) = <$ty>::from_query($q) {
            let rendered = p.to_query();
            let back = <$ty>::from_query(&rendered).unwrap_or_else(|e| {
                panic!("{}: our own query {rendered:?} does not parse: {e}", stringify!($ty))
            });
            assert_eq!(back, p, "{}: changed in the round trip via {rendered:?}", stringify!($ty));
            assert_eq!(back.to_query(), rendered, "{}: rendering is not stable", stringify!($ty));
        }
    )*};
}

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    check!(
        q,
        ProvisionParams,
        UpdateParams,
        DeprovisionParams,
        FetchInstanceParams,
        BindParams,
        UnbindParams,
        FetchBindingParams,
        LastOperationParams,
    );
});
