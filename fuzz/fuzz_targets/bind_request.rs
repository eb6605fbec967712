//! `PUT /v2/service_instances/:id/service_bindings/:binding_id` body: a bind or a rotation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_types::{BindRequest, RotateBindingRequest};

fuzz_target!(|data: &[u8]| {
    let _ = osb_fuzz::parse_and_round_trip::<BindRequest>(data);
    let _ = osb_fuzz::parse_and_round_trip::<RotateBindingRequest>(data);
});
