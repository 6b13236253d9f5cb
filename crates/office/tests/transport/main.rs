//! The office's transport: HTTPS with `--tls-cert`/`--tls-key` (a real device core signing in,
//! pushing and pulling over it; the `serve` command as a process) and the security headers every
//! response carries. Certificates are made per test with rcgen: a test CA and a server certificate
//! for `localhost` and `127.0.0.1` that it signed.
//!
//! - `tls`: HTTPS end to end, refusals of untrusted certificates and of bad certificate files.
//! - `headers`: `nosniff`, `no-referrer`, no framing, the two content security policies,
//!   `no-store` on tokens and API answers, HSTS only over TLS.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

mod headers;
mod tls;

/// A test CA and a server certificate it signed, as PEM.
struct TestPki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl TestPki {
    fn new() -> TestPki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "HeatCrew test CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key"))
            .expect("self-signed CA");
        let key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "heatcrew office (test)");
        let cert = server.signed_by(&key, &ca).expect("server certificate");
        TestPki {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn tls(&self) -> heatcrew_office::tls::Tls {
        heatcrew_office::tls::Tls::from_pem(self.cert_pem.as_bytes(), self.key_pem.as_bytes())
            .expect("the test certificate loads")
    }

    /// A client that trusts the test CA (and nothing else).
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("CA certificate"),
            )
            .build()
            .expect("client")
    }
}
