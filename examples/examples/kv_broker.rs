//! Run with: `cargo run -p osb-examples --example kv_broker`
//!
//! The key-value broker: plan `free` (synchronous, no parameters) and plan `dedicated`
//! (asynchronous, typed parameters): try
//! `osb provision k1 --service kv --plan free` and
//! `osb provision k2 --service kv --plan dedicated --params '{"max_keys":500}' --wait`.
//! Listens on `OSB_LISTEN` with Basic auth from `OSB_USERNAME`/`OSB_PASSWORD`.

use osb_examples::{kv::KvBroker, settings};
use osb_server_mini::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    settings::init_logging();
    let listen = settings::listen();
    let (user, password) = settings::credentials();
    settings::announce(&listen, &user);
    Server::new(KvBroker::default())
        .basic_auth(user, password)
        .serve(listen.as_str())
        .await?;
    Ok(())
}
