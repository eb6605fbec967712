//! HTTPS (the `tls` feature): a self-signed certificate made by the test, HTTP/1.1 and
//! HTTP/2 by ALPN, plain HTTP refused.
#![cfg(feature = "tls")]

use std::time::Duration;

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::tls::TlsConfig;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, ServeError, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Tiny;

impl Broker for Tiny {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "tiny",
            "A tiny service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

/// A self-signed certificate for `localhost`: (certificate PEM, private key PEM).
fn self_signed() -> (String, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    (cert.pem(), signing_key.serialize_pem())
}

async fn start_tls(cert: &str, key: &str) -> Running {
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).expect("valid PEM");
    Server::new(Tiny)
        .basic_auth("admin", "secret")
        .header_read_timeout(Duration::from_millis(500))
        .tls(tls)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts")
}

fn client(cert: &str, running: &Running, http1_only: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .resolve("localhost", running.local_addr());
    if http1_only {
        b = b.http1_only();
    }
    b.build().unwrap()
}

#[tokio::test]
async fn a5_catalog_over_tls_with_http1_and_http2() {
    let (cert, key) = self_signed();
    let running = start_tls(&cert, &key).await;
    assert!(running.url().starts_with("https://"), "{}", running.url());
    let url = format!("https://localhost:{}/v2/catalog", running.local_addr().port());
    for (http1_only, version) in [
        (true, reqwest::Version::HTTP_11),
        (false, reqwest::Version::HTTP_2),
    ] {
        let res = client(&cert, &running, http1_only)
            .get(&url)
            .basic_auth("admin", Some("secret"))
            .header("X-Broker-API-Version", "2.17")
            .send()
            .await
            .expect("HTTPS request");
        assert_eq!(res.status(), 200);
        assert_eq!(res.version(), version, "ALPN picks the protocol");
        let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(body["services"][0]["name"], "tiny");
    }
    // The OSB rules apply as over plain HTTP.
    let res = client(&cert, &running, false)
        .get(&url)
        .header("X-Broker-API-Version", "2.17")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn plain_http_to_the_tls_port_fails() {
    let (cert, key) = self_signed();
    let running = start_tls(&cert, &key).await;
    let plain = reqwest::Client::new()
        .get(format!("http://{}/v2/catalog", running.local_addr()))
        .basic_auth("admin", Some("secret"))
        .header("X-Broker-API-Version", "2.17")
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    let mut s = TcpStream::connect(running.local_addr()).await.unwrap();
    s.write_all(b"GET /v2/catalog HTTP/1.1\r\nhost: x\r\nx-broker-api-version: 2.17\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got))
        .await
        .expect("the server closes the connection");
    assert!(!got.starts_with(b"HTTP/"), "{:?}", String::from_utf8_lossy(&got));
    // A client that never starts the handshake is disconnected too.
    let mut silent = TcpStream::connect(running.local_addr()).await.unwrap();
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "a connection without a handshake stayed open");
    // And a client that does not trust the certificate cannot connect.
    let untrusted = reqwest::Client::builder()
        .use_rustls_tls()
        .resolve("localhost", running.local_addr())
        .build()
        .unwrap()
        .get(format!(
            "https://localhost:{}/v2/catalog",
            running.local_addr().port()
        ))
        .send()
        .await;
    assert!(untrusted.is_err());
}

#[tokio::test]
async fn bad_pem_or_mismatched_key_is_a_tls_error() {
    let (cert, _) = self_signed();
    let (_, other_key) = self_signed();
    let err = TlsConfig::from_pem(cert.as_bytes(), other_key.as_bytes()).unwrap_err();
    assert!(matches!(err, ServeError::Tls(_)), "{err}");
    let err = TlsConfig::from_pem(b"", other_key.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let err = TlsConfig::from_pem(cert.as_bytes(), cert.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
    // Files work the same as bytes; Debug shows no key material.
    let dir = std::env::temp_dir().join(format!("osb-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = self_signed();
    std::fs::write(dir.join("cert.pem"), &cert).unwrap();
    std::fs::write(dir.join("key.pem"), &key).unwrap();
    let tls = TlsConfig::from_pem_files(dir.join("cert.pem"), dir.join("key.pem")).unwrap();
    let debug = format!("{tls:?}");
    assert!(debug.contains("h2") && debug.contains("http/1.1"), "{debug}");
    assert!(!debug.contains("PRIVATE"), "{debug}");
    std::fs::remove_dir_all(&dir).unwrap();
}
