#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", maximum_polling_duration = 5000000000)]
struct Small;

fn main() {}
