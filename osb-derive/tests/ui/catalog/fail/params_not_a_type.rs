#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", provision_params = 5)]
struct Small;

fn main() {}
