//! `metadata(extra(..))`: vendor keys on offering and plan metadata, serialized beside the
//! keys the specification defines.

use osb_server_mini::{Offering, Plan};
use serde_json::json;

#[derive(Offering)]
#[osb(
    id = "svc",
    name = "echo",
    description = "Echoes",
    metadata(
        display_name = "Echo",
        extra(vendor = "acme", tier = 2, r#type = "db", ratio = -0.5, beta = false, regions("eu", "us"))
    ),
    plans(Small)
)]
struct Echo;

#[derive(Plan)]
#[osb(
    id = "plan",
    name = "small",
    description = "Small",
    metadata(bullets("1 GB"), extra(quota = 18446744073709551615, floor = -9223372036854775808))
)]
struct Small;

fn main() {
    let offering = serde_json::to_value(Echo::offering()).unwrap();
    assert_eq!(
        offering["metadata"],
        json!({
            "displayName": "Echo",
            "vendor": "acme",
            "tier": 2,
            "type": "db",
            "ratio": -0.5,
            "beta": false,
            "regions": ["eu", "us"],
        })
    );
    assert_eq!(
        offering["plans"][0]["metadata"],
        json!({ "bullets": ["1 GB"], "quota": u64::MAX, "floor": i64::MIN })
    );
    osb_server_mini::types::Catalog::new(vec![Echo::offering()]).validate().unwrap();
}
