//! Run with: `cargo run -p osb-examples --example echo_broker`
//!
//! The echo broker (derived with `#[broker]`): service `echo`, plans `small` (sync) and
//! `large` (async, `OSB_ASYNC_DELAY_MS`, default 1000). Listens on `OSB_LISTEN` (default
//! `127.0.0.1:8080`) with Basic auth from `OSB_USERNAME`/`OSB_PASSWORD`; logs with `RUST_LOG`.
//! Records are kept in `OSB_STATE` (an SQLite file, default `osb-state.sqlite`; `memory`; a
//! `postgres://` URL: a database shared by several replicas). `OSB_PASSWORD_HASH` (an argon2
//! PHC string, from `echo_broker hash-password < password.txt`) replaces `OSB_PASSWORD`;
//! `OSB_METRICS_LISTEN=127.0.0.1:9090` serves `GET /metrics`, `/healthz` and `/readyz` there.
//!
//! Try it with the CLI: `cargo run -p osb-cli -- --url http://127.0.0.1:8080 -u admin -p password catalog`

use osb_examples::settings;
use osb_server_mini::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("hash-password") {
        let mut password = String::new();
        std::io::stdin().read_line(&mut password)?;
        let password = password.trim_end_matches(['\r', '\n']);
        println!("{}", osb_server_mini::auth::hash_password(password));
        return Ok(());
    }
    settings::init_logging();
    let metrics = settings::metrics_listen()?;
    let listen = settings::listen();
    let (user, password) = settings::credentials();
    let store = settings::store().await?;
    settings::announce(&listen, &user);
    println!("records kept {}", settings::state_description());
    let mut server = Server::new(settings::echo_broker(format!("http://{listen}"))).shared_store(store);
    server = match settings::password_hash() {
        Some(hash) => server.basic_auth_hash(user, &hash),
        None => server.basic_auth(user, password),
    };
    if let Some(addr) = metrics {
        server = server.ops_listener(addr);
    }
    if let Some(lease) = settings::lease() {
        server = server.lease(lease).sweep_interval(lease / 2);
    }
    server.serve(listen.as_str()).await?;
    Ok(())
}
