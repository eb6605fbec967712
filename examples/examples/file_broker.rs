//! Run with: `cargo run -p osb-examples --example file_broker`
//!
//! Each Service Instance is a file under `OSB_DATA_DIR` (default `./osb-file-broker-data`);
//! bindings return its path. Provision parameters are typed (`FileParams`): try
//! `osb provision f1 --service file --plan standard --params '{"content":"hi"}'`.
//! Listens on `OSB_LISTEN` with Basic auth from `OSB_USERNAME`/`OSB_PASSWORD`.

use osb_examples::{file::FileBroker, settings};
use osb_server_mini::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    settings::init_logging();
    let dir = std::env::var("OSB_DATA_DIR").unwrap_or_else(|_| "osb-file-broker-data".to_owned());
    let listen = settings::listen();
    let (user, password) = settings::credentials();
    let store = settings::store().await?;
    settings::announce(&listen, &user);
    println!("records kept {}", settings::state_description());
    tracing::info!(%dir, "instances are files in this directory");
    Server::new(FileBroker::new(dir)?)
        .basic_auth(user, password)
        .shared_store(store)
        .serve(listen.as_str())
        .await?;
    Ok(())
}
