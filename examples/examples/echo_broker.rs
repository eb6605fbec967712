//! Run with: `cargo run -p osb-examples --example echo_broker`
//!
//! The echo broker (derived with `#[broker]`): service `echo`, plans `small` (sync) and
//! `large` (async, `OSB_ASYNC_DELAY_MS`, default 1000). Listens on `OSB_LISTEN` (default
//! `127.0.0.1:8080`) with Basic auth from `OSB_USERNAME`/`OSB_PASSWORD`; logs with `RUST_LOG`.
//! Records are kept in `OSB_STATE` (an SQLite file, default `osb-state.sqlite`; `memory`; a
//! `postgres://` URL: a database shared by several replicas).
//!
//! Try it with the CLI: `cargo run -p osb-cli -- --url http://127.0.0.1:8080 -u admin -p password catalog`

use osb_examples::settings;
use osb_server_mini::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    settings::init_logging();
    let listen = settings::listen();
    let (user, password) = settings::credentials();
    let store = settings::store().await?;
    settings::announce(&listen, &user);
    println!("records kept {}", settings::state_description());
    let mut server = Server::new(settings::echo_broker(format!("http://{listen}")))
        .basic_auth(user, password)
        .shared_store(store);
    if let Some(lease) = settings::lease() {
        server = server.lease(lease).sweep_interval(lease / 2);
    }
    server.serve(listen.as_str()).await?;
    Ok(())
}
