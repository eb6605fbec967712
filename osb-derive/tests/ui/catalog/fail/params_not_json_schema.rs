#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

struct Params;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", provision_params = Params)]
struct Small;

fn main() {}
