#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = "plan", name = "small", name = "tiny", description = "Small")]
struct Small;

fn main() {}
