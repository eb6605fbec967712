#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Offering)]
#[osb(
    id = "svc",
    name = "echo",
    description = "Echoes",
    metadata(extra(owner = team, a = 1, a = 2, flag)),
    plans(Small)
)]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small", metadata(extra(big = 99999999999999999999)))]
struct Small;

fn main() {}
