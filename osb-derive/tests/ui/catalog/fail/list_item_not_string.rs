#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", tags("echo", 5), requires(syslog_drain), plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small")]
struct Small;

fn main() {}
