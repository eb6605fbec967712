//! Every response body a client decodes: each type is tried on the same input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_fuzz::parse_and_round_trip as rt;
use osb_types::{
    BindResponse, DeprovisionResponse, ErrorResponse, FetchBindingResponse, FetchInstanceResponse,
    LastOperationResponse, ProvisionResponse, UnbindResponse, UpdateResponse,
};

fuzz_target!(|data: &[u8]| {
    let _ = rt::<ProvisionResponse>(data);
    let _ = rt::<UpdateResponse>(data);
    let _ = rt::<DeprovisionResponse>(data);
    let _ = rt::<FetchInstanceResponse>(data);
    if let Some(bind) = rt::<BindResponse>(data) {
        // Debug must not leak credentials and must not panic.
        let _ = format!("{bind:?}");
        let fetched = FetchBindingResponse::from(bind);
        osb_fuzz::assert_round_trip(&fetched);
    }
    let _ = rt::<FetchBindingResponse>(data);
    let _ = rt::<UnbindResponse>(data);
    if let Some(op) = rt::<LastOperationResponse>(data) {
        let _ = (op.state.as_str(), op.state.is_terminal());
    }
    if let Some(err) = rt::<ErrorResponse>(data) {
        let _ = err.to_string();
        if let Some(code) = &err.error {
            assert_eq!(&osb_types::ErrorCode::from_wire(code.as_str()), code);
        }
    }
});
