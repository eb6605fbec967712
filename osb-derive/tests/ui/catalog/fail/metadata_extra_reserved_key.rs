#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", metadata(extra(displayName = "Echo", owner = "me")), plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", metadata(extra(costs = 1, bullets = "x")))]
struct Small;

fn main() {}
