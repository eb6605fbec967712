//! Run with: `cargo run -p osb-examples --example hand_written_broker`
//!
//! The echo broker implemented against the `Broker` trait by hand (no macros): proof that the
//! trait is the API and `#[broker]` only writes it for you.

use osb_examples::{hand_written::EchoBroker, settings};
use osb_server_mini::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    settings::init_logging();
    let listen = settings::listen();
    let (user, password) = settings::credentials();
    let store = settings::store().await?;
    settings::announce(&listen, &user);
    println!("records kept {}", settings::state_description());
    Server::new(EchoBroker::new(
        format!("http://{listen}"),
        settings::async_delay(),
    ))
    .basic_auth(user, password)
    .shared_store(store)
    .serve(listen.as_str())
    .await?;
    Ok(())
}
