//! Mutual TLS (the `tls` feature): a client CA made by the test, clients with a certificate
//! it signed, one another CA signed, and none; the certificate's common name as the caller.
#![cfg(feature = "tls")]

use std::sync::{Arc, Mutex};

use osb_server_mini::auth::{AsyncAuthenticator, AuthFuture, AuthRequest, Caller, ClientCertificate};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::tls::TlsConfig;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, ServeError, Server};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

#[derive(Clone, Default)]
struct Recording {
    callers: Arc<Mutex<Vec<String>>>,
}

impl Broker for Recording {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "mtls",
            "A service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
    }
    async fn provision(&self, ctx: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        let caller = ctx.caller().map(ToString::to_string).unwrap_or_default();
        self.callers.lock().unwrap().push(caller);
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

/// A CA that signs client certificates.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A client certificate with this common name, as certificate + key PEM.
    fn client(&self, common_name: &str) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        format!("{}{}", cert.pem(), key.serialize_pem())
    }
}

/// The server's own certificate for `localhost`: (certificate PEM, key PEM).
fn server_cert() -> (String, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    (cert.pem(), signing_key.serialize_pem())
}

async fn start(tls: TlsConfig, auth: impl AsyncAuthenticator, broker: Recording) -> Running {
    Server::new(broker)
        .async_authenticator(auth)
        .tls(tls)
        .spawn("127.0.0.1:0")
        .await
        .expect("server starts")
}

async fn provision(
    running: &Running,
    server_cert: &str,
    identity: Option<&str>,
    id: &str,
) -> Result<u16, String> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(server_cert.as_bytes()).unwrap())
        .resolve("localhost", running.local_addr());
    if let Some(pem) = identity {
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    let res = b
        .build()
        .unwrap()
        .put(format!(
            "https://localhost:{}/v2/service_instances/{id}",
            running.local_addr().port()
        ))
        .header("X-Broker-API-Version", "2.17")
        .header("Content-Type", "application/json")
        .body(r#"{"service_id":"svc","plan_id":"plan","organization_guid":"o","space_guid":"s"}"#)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(res.status().as_u16())
}

#[tokio::test]
async fn a5_mtls_required_good_certificate_is_the_caller_bad_and_none_fail_the_handshake() {
    let (cert, key) = server_cert();
    let (ca, other_ca) = (Ca::new("platform CA"), Ca::new("someone else"));
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes())
        .unwrap()
        .with_client_ca(ca.pem().as_bytes())
        .unwrap();
    let broker = Recording::default();
    let running = start(tls, ClientCertificate::new(), broker.clone()).await;

    let good = ca.client("cloud-controller");
    assert_eq!(provision(&running, &cert, Some(&good), "i-1").await, Ok(201));
    let bad = other_ca.client("cloud-controller");
    assert!(
        provision(&running, &cert, Some(&bad), "i-2").await.is_err(),
        "another CA's certificate"
    );
    assert!(
        provision(&running, &cert, None, "i-3").await.is_err(),
        "no certificate"
    );
    assert_eq!(*broker.callers.lock().unwrap(), ["certificate:cloud-controller"]);
}

#[tokio::test]
async fn a5_mtls_optional_no_certificate_is_a_401_and_an_allow_list_limits_names() {
    let (cert, key) = server_cert();
    let ca = Ca::new("platform CA");
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes())
        .unwrap()
        .with_optional_client_ca(ca.pem().as_bytes())
        .unwrap();
    let broker = Recording::default();
    let running = start(tls, ClientCertificate::new().allow("cc"), broker.clone()).await;
    assert_eq!(
        provision(&running, &cert, Some(&ca.client("cc")), "i-1").await,
        Ok(201)
    );
    assert_eq!(
        provision(&running, &cert, Some(&ca.client("intruder")), "i-2").await,
        Ok(401)
    );
    assert_eq!(provision(&running, &cert, None, "i-3").await, Ok(401));
    let other = Ca::new("other").client("cc");
    assert!(provision(&running, &cert, Some(&other), "i-4").await.is_err());
    assert_eq!(*broker.callers.lock().unwrap(), ["certificate:cc"]);
}

/// An authenticator of one's own: the chain's length as the caller, for `/v2/` paths only.
struct ChainLength;

impl AsyncAuthenticator for ChainLength {
    fn authenticate<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
        let certs = request.peer_certificates().map(<[Vec<u8>]>::len);
        let path_ok = request.head().uri.path().starts_with("/v2/service_instances/");
        Box::pin(async move {
            tokio::task::yield_now().await;
            certs
                .filter(|_| path_ok)
                .map(|n| Caller::new(format!("chain-of-{n}"), "certificate"))
        })
    }
}

#[tokio::test]
async fn a4_an_async_authenticator_sees_the_head_and_the_peer_chain() {
    let (cert, key) = server_cert();
    let ca = Ca::new("platform CA");
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes())
        .unwrap()
        .with_optional_client_ca(ca.pem().as_bytes())
        .unwrap();
    let broker = Recording::default();
    let running = start(tls, ChainLength, broker.clone()).await;
    assert_eq!(
        provision(&running, &cert, Some(&ca.client("x")), "i-1").await,
        Ok(201)
    );
    assert_eq!(provision(&running, &cert, None, "i-2").await, Ok(401));
    assert_eq!(*broker.callers.lock().unwrap(), ["certificate:chain-of-1"]);
}

#[test]
fn a_client_ca_without_certificates_is_refused() {
    let (cert, key) = server_cert();
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    for bad in [
        &b""[..],
        b"garbage",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        let err = tls.clone().with_client_ca(bad).unwrap_err();
        assert!(matches!(err, ServeError::Tls(_)), "{err}");
    }
}
