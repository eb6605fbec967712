#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", metadata(cost(unit = "MONTHLY", amount(usd = 1), unti = "x")))]
struct Small;

fn main() {}
