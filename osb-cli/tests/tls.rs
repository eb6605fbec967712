//! `--cacert`, `--cert`/`--key` and `--insecure`: the real `osb` binary against the echo
//! broker served over HTTPS with certificates this test makes (rcgen). For mutual TLS the
//! server's rustls configuration checks client certificates with `WebPkiClientVerifier`
//! and records the certificate each client presented.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use osb_server_mini::tls::TlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use support::{Echo, TempDir, ok, osb, path_str, text};

/// A certificate authority made for the test.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self {
            issuer: Issuer::new(params, key),
            pem: cert.pem(),
        }
    }

    /// A leaf certificate: (certificate PEM, private key PEM, certificate DER).
    fn leaf(&self, name: &str, purpose: ExtendedKeyUsagePurpose) -> (String, String, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![purpose];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().to_vec())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Verifies client certificates with WebPKI against one CA and records each one presented.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ClientCertVerifier>,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl ClientCertVerifier for Recording {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.seen.lock().unwrap().push(end_entity.to_vec());
        self.inner.verify_client_cert(end_entity, intermediates, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn key_der(pem: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap())
}

fn cert_der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// The echo broker over HTTPS with a certificate `ca` signed; with `client_ca`, it requires
/// a client certificate that CA signed. Returns the broker and the presented certificates.
fn https_echo(ca: &Ca, client_ca: Option<&Ca>) -> (Echo, Arc<Mutex<Vec<Vec<u8>>>>) {
    let (cert, key, der) = ca.leaf("echo broker", ExtendedKeyUsagePurpose::ServerAuth);
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let tls = match client_ca {
        None => TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap(),
        Some(client_ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(cert_der(&client_ca.pem)).unwrap();
            let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            let verifier = Arc::new(Recording {
                inner,
                seen: seen.clone(),
            });
            let config = ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(vec![CertificateDer::from(der)], key_der(&key))
                .unwrap();
            TlsConfig::from_rustls(config)
        }
    };
    let echo = Echo::start_with(Duration::from_millis(200), move |s| {
        s.basic_auth("admin", "secret").tls(tls)
    });
    (echo, seen)
}

/// An HTTPS echo broker that asks for a client certificate from its own CA, with the files
/// a platform needs to reach it: the server's CA, and a client certificate and key.
struct MutualTls {
    echo: Echo,
    /// The client certificates the server saw, DER.
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    dir: TempDir,
    cacert: String,
    cert: String,
    key: String,
    cert_file: PathBuf,
    key_file: PathBuf,
    /// The client certificate, DER.
    der: Vec<u8>,
}

impl MutualTls {
    fn new(name: &str) -> Self {
        let server_ca = Ca::new("server CA");
        let client_ca = Ca::new("client CA");
        let (echo, seen) = https_echo(&server_ca, Some(&client_ca));
        let dir = TempDir::new(name);
        let cacert = path_str(&dir.file("ca.pem", &server_ca.pem));
        let (cert, key, der) = client_ca.leaf("platform", ExtendedKeyUsagePurpose::ClientAuth);
        let cert_file = dir.file("client.pem", &cert);
        let key_file = dir.file("client.key", &key);
        Self {
            echo,
            seen,
            dir,
            cacert,
            cert,
            key,
            cert_file,
            key_file,
            der,
        }
    }
}

#[test]
fn cacert_trusts_the_brokers_private_ca() {
    let ca = Ca::new("private CA");
    let (echo, _) = https_echo(&ca, None);
    assert!(echo.url().starts_with("https://127.0.0.1:"), "{}", echo.url());
    // not trusted by default
    let out = osb(&echo.url(), &["catalog"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).ends_with(
            "invalid peer certificate: UnknownIssuer\nhint: the broker's TLS certificate is not trusted: \
             pass --cacert FILE with the CA that signed it (--insecure skips the check, for trying \
             things out only)\n"
        ),
        "{}",
        text(&out.stderr)
    );
    let dir = TempDir::new("cacert");
    let ca_file = dir.file("ca.pem", &ca.pem);
    let out = osb(
        &echo.url(),
        &[
            "--cacert",
            &path_str(&ca_file),
            "provision",
            "s-1",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    ok(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert_eq!(echo.only("provision")["instance_id"], "s-1");
    // OSB_CACERT does the same
    ok(&support::osb_env(
        &[("OSB_CACERT", &path_str(&ca_file))],
        &["--url", &echo.url(), "-u", "admin", "-p", "secret", "catalog"],
    ));
    // another CA's certificate does not help
    let other = dir.file("other.pem", &Ca::new("other CA").pem);
    let out = osb(&echo.url(), &["--cacert", &path_str(&other), "catalog"]);
    assert_eq!(out.status.code(), Some(1));
    // a file that is no certificate is a usage error
    let junk = dir.file("junk.pem", "not a certificate\n");
    let out = osb(&echo.url(), &["--cacert", &path_str(&junk), "catalog"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("error: --cacert: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn insecure_skips_verification_with_a_loud_warning() {
    let ca = Ca::new("private CA");
    let (echo, _) = https_echo(&ca, None);
    let warning = "warning: --insecure: the broker's TLS certificate is NOT verified. Anyone on the \
                   network path can read and change this traffic, credentials included. Use --cacert \
                   FILE instead.\n";
    let out = osb(&echo.url(), &["--insecure", "catalog"]);
    ok(&out);
    assert_eq!(text(&out.stderr), warning);
    assert!(text(&out.stdout).contains("echo"));
    // even with --json, whose stderr is otherwise quiet
    let out = osb(&echo.url(), &["--json", "--insecure", "catalog"]);
    ok(&out);
    assert_eq!(text(&out.stderr), warning);
}

#[test]
fn cert_and_key_present_the_client_certificate_for_mutual_tls() {
    let m = MutualTls::new("mtls");

    // without a client certificate the server ends the handshake (how the client learns it,
    // an alert or a closed connection, depends on timing)
    let out = osb(&m.echo.url(), &["--cacert", &m.cacert, "catalog"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(m.seen.lock().unwrap().is_empty());

    let out = osb(
        &m.echo.url(),
        &[
            "--cacert",
            &m.cacert,
            "--cert",
            &path_str(&m.cert_file),
            "--key",
            &path_str(&m.key_file),
            "provision",
            "m-1",
            "--service",
            "echo",
            "--plan",
            "small",
        ],
    );
    ok(&out);
    assert_eq!(m.echo.only("provision")["instance_id"], "m-1");
    {
        let seen = m.seen.lock().unwrap();
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|c| *c == m.der),
            "the server saw another certificate"
        );
    }

    // the same from OSB_CERT / OSB_KEY
    ok(&support::osb_env(
        &[
            ("OSB_CACERT", m.cacert.as_str()),
            ("OSB_CERT", &path_str(&m.cert_file)),
            ("OSB_KEY", &path_str(&m.key_file)),
        ],
        &["--url", &m.echo.url(), "-u", "admin", "-p", "secret", "catalog"],
    ));
    // one file with the certificate and the key, no --key
    let both = m.dir.file("both.pem", &format!("{}{}", m.cert, m.key));
    ok(&osb(
        &m.echo.url(),
        &["--cacert", &m.cacert, "--cert", &path_str(&both), "catalog"],
    ));

    // a certificate from a CA the server does not trust is refused
    let (stranger, stranger_key, stranger_der) =
        Ca::new("stranger CA").leaf("stranger", ExtendedKeyUsagePurpose::ClientAuth);
    let s_cert = m.dir.file("s.pem", &stranger);
    let s_key = m.dir.file("s.key", &stranger_key);
    let out = osb(
        &m.echo.url(),
        &[
            "--cacert",
            &m.cacert,
            "--cert",
            &path_str(&s_cert),
            "--key",
            &path_str(&s_key),
            "catalog",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(m.seen.lock().unwrap().contains(&stranger_der));

    // usage errors: --key alone, a certificate without its key
    let out = osb(&m.echo.url(), &["--key", &path_str(&m.key_file), "catalog"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --key needs --cert (the client certificate it belongs to)\n"
    );
    let out = osb(&m.echo.url(), &["--cert", &path_str(&m.cert_file), "catalog"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: --cert/--key: the client certificate and key cannot be used"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_speaks_mutual_tls_with_cacert_cert_and_key() {
    let MutualTls {
        echo,
        seen,
        cacert,
        cert_file,
        key_file,
        der,
        dir: _dir, // deleted when dropped
        ..
    } = MutualTls::new("check-mtls");
    let (cert_file, key_file) = (path_str(&cert_file), path_str(&key_file));
    let out = osb(
        &echo.url(),
        &[
            "--cacert", &cacert, "--cert", &cert_file, "--key", &key_file, "check", "--only", "catalog",
            "--only", "auth",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("PASS") && stdout.contains("auth.required"),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 failed,"), "{stdout}");
    assert!(!seen.lock().unwrap().is_empty());
    assert!(seen.lock().unwrap().iter().all(|c| *c == der));
    // without the client certificate no check can reach the broker: exit 1
    let out = osb(&echo.url(), &["--cacert", &cacert, "check", "--only", "catalog"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // --key alone is a usage error, as for every command
    let out = osb(&echo.url(), &["--key", &key_file, "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --key needs --cert (the client certificate it belongs to)\n"
    );
}

#[test]
fn check_with_insecure_accepts_an_untrusted_certificate() {
    let ca = Ca::new("private CA");
    let (echo, _) = https_echo(&ca, None);
    let out = osb(&echo.url(), &["check", "--only", "catalog"]);
    assert_eq!(out.status.code(), Some(1), "untrusted: {}", text(&out.stdout));
    let out = osb(&echo.url(), &["--insecure", "check", "--only", "catalog"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("warning: --insecure"),
        "{}",
        text(&out.stderr)
    );
}
