#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", maintenance_info(version = "1.2"))]
struct Small;

fn main() {}
