//! TLS settings on the builder (issue 15): a broker whose certificate a private CA signed is
//! reached with `add_root_certificate_pem`, and a broker that demands a client certificate
//! (mutual TLS) with `client_identity_pem`; both without bringing a `reqwest::Client`.

use std::sync::Arc;
use std::time::Duration;

use osb_client::{Client, Error};
use osb_server_mini::tls::TlsConfig;
use osb_server_mini::{Running, Server};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A test CA and certificates it signs.
struct Ca {
    pem: String,
    der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate for `names`: (certificate PEM, key PEM).
    fn sign(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn echo() -> osb_examples::echo::EchoBroker {
    osb_examples::echo::EchoBroker::new("http://dash.test", Duration::from_millis(10))
}

async fn serve(tls: TlsConfig) -> Running {
    Server::new(echo())
        .basic_auth("admin", "secret")
        .tls(tls)
        .spawn("127.0.0.1:0")
        .await
        .expect("the broker starts")
}

/// A broker that requires a client certificate signed by `clients`.
async fn serve_mtls(server_cert: &str, server_key: &str, clients: &Ca) -> Running {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(clients.der.clone()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(server_cert.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(server_key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    serve(TlsConfig::from_rustls(config)).await
}

fn builder(running: &Running) -> osb_client::ClientBuilder {
    assert!(
        running.url().starts_with("https://127.0.0.1:"),
        "{}",
        running.url()
    );
    Client::builder(running.url()).basic_auth("admin", "secret")
}

#[tokio::test]
async fn tls_a_private_ca_is_trusted_with_add_root_certificate_pem() {
    let ca = Ca::new("test CA");
    let (cert, key) = ca.sign(&["127.0.0.1", "localhost"]);
    let running = serve(TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap()).await;

    // without the CA, the broker's certificate is unknown
    let err = builder(&running).build().unwrap().catalog().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");

    let client = builder(&running)
        .add_root_certificate_pem(ca.pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let catalog = client.catalog().await.unwrap();
    assert_eq!(catalog.services[0].name, "echo");
}

#[tokio::test]
async fn tls_a_client_certificate_is_presented_with_client_identity_pem() {
    let server_ca = Ca::new("server CA");
    let client_ca = Ca::new("client CA");
    let (cert, key) = server_ca.sign(&["127.0.0.1"]);
    let running = serve_mtls(&cert, &key, &client_ca).await;
    let trusting = || {
        builder(&running)
            .add_root_certificate_pem(server_ca.pem.as_bytes())
            .unwrap()
    };

    // no client certificate: the handshake is refused
    let err = trusting().build().unwrap().catalog().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");

    // a certificate another CA signed: refused too
    let (other_cert, other_key) = server_ca.sign(&["platform"]);
    let stranger = trusting()
        .client_identity_pem(format!("{other_cert}{other_key}").as_bytes())
        .unwrap()
        .build()
        .unwrap();
    assert!(matches!(stranger.catalog().await, Err(Error::Transport { .. })));

    // the client CA's certificate: a full round trip
    let (client_cert, client_key) = client_ca.sign(&["platform"]);
    let client = trusting()
        .client_identity_pem(format!("{client_cert}{client_key}").as_bytes())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.catalog().await.unwrap().services[0].name, "echo");
}

#[test]
fn tls_bad_pem_and_a_brought_client_are_configuration_errors() {
    let err = Client::builder("https://broker.test")
        .add_root_certificate_pem(b"not a certificate")
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let err = Client::builder("https://broker.test")
        .client_identity_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");

    let ca = Ca::new("test CA");
    let err = Client::builder("https://broker.test")
        .add_root_certificate_pem(ca.pem.as_bytes())
        .unwrap()
        .http_client(reqwest::Client::new())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("http_client"), "{err}");
}
