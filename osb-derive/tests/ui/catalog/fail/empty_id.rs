#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

#[derive(Offering)]
#[osb(id = "", name = "echo", description = "Echoes", plans(Small))]
struct Echo;

#[derive(Plan)]
#[osb(id = "plan", name = "small", description = "Small")]
struct Small;

fn main() {}

// The failed derive still implements `Offering` (a stub): no second wave of errors here.
fn _uses() -> osb_server_mini::types::ServiceOffering {
    <Echo as Offering>::offering()
}
