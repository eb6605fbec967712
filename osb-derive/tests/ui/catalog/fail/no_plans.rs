#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes")]
struct Echo;

fn main() {}
