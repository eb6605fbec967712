//! `GET /v2/catalog` body: parse, validate, and round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osb_types::Catalog;
use osb_types::catalog::PlanIndex;

fuzz_target!(|data: &[u8]| {
    let Some(catalog) = osb_fuzz::parse_and_round_trip::<Catalog>(data) else {
        return;
    };
    // Validation must never panic, whatever the catalog holds, and must render.
    if let Err(errors) = catalog.validate() {
        assert!(!errors.problems().is_empty(), "an error without problems");
        let _ = errors.to_string();
    }
    // Lookups must agree with each other.
    let index = PlanIndex::new(&catalog);
    for s in &catalog.services {
        let _ = catalog.offering(s.id.as_str());
        for p in &s.plans {
            let _ = s.plan_is_bindable(p);
            let _ = s.plan_is_updateable(p);
            let _ = p.instance_create_schema();
            let _ = p.instance_update_schema();
            let _ = p.binding_create_schema();
            let by_index = index.get(&catalog, p.id.as_str()).map(|(_, p)| p.id.clone());
            let by_scan = catalog.find_plan(p.id.as_str()).map(|(_, p)| p.id.clone());
            assert_eq!(by_index, by_scan, "PlanIndex and find_plan disagree");
        }
    }
});
