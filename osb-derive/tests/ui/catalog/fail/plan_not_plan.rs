#![allow(unused_imports)]

use osb_server_mini::{Offering, Plan};

struct Foo;

#[derive(Offering)]
#[osb(id = "svc", name = "echo", description = "Echoes", plans(Foo))]
struct Echo;

fn main() {}
