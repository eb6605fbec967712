//! `PUT /v2/service_instances/:id` body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_types::ProvisionRequest;

fuzz_target!(|data: &[u8]| {
    if let Some(req) = osb_fuzz::parse_and_round_trip::<ProvisionRequest>(data) {
        if let Some(ctx) = &req.context {
            let _ = (ctx.platform(), ctx.instance_name());
        }
    }
});
