#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

// One mistake in the plan: one error, none from the offering that lists it.
#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", free = "yes")]
struct Small;

fn main() {}
