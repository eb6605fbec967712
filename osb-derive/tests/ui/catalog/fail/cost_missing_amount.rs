#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", metadata(cost(unit = "MONTHLY")))]
struct Small;

fn main() {}
