#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Plan)]
#[osb(id = 42, name = "small", description = "Small")]
struct Small;

fn main() {}
