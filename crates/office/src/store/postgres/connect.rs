//! How the office reaches PostgreSQL: the address's settings for the driver and the TLS it asks
//! for, read the way `psql` and libpq read them, so an address that works there works here.
//!
//! `sslmode` in the address (`postgres://…?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem`):
//! - `disable`: plain TCP.
//! - `prefer` (the default): TLS when the server offers it, plain otherwise; the certificate is
//!   not checked (as libpq), so this protects against listening only.
//! - `require`: TLS or no connection; the certificate is not checked unless `sslrootcert` is
//!   given, then as `verify-ca` (as libpq).
//! - `verify-ca`: TLS with a certificate chain to a CA in `sslrootcert`.
//! - `verify-full`: as `verify-ca`, and the certificate names the host in the address (the mode
//!   docs/deploy.md asks for when the database is on another machine).
//!
//! `sslrootcert` is a PEM file of CA certificates or `system` (the machine's CA store);
//! `verify-ca` and `verify-full` need it (libpq's default `~/.postgresql/root.crt` is not read: an
//! office should say which CA it trusts). `sslcert` + `sslkey` (PEM) give a client certificate for
//! servers that authenticate by certificate (`cert` in `pg_hba.conf`). SCRAM logins over TLS use
//! channel binding when the server offers it, so even an unchecked certificate cannot relay them.

use postgres::config::SslMode as DriverSslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The address's `sslmode`, in libpq's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode, String> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A PostgreSQL address read for connecting: the driver's settings and the TLS connector.
#[derive(Clone)]
pub struct PgTarget {
    pub config: postgres::Config,
    pub tls: MakeRustlsConnect,
    /// What the address asked for (after libpq's rule that `require` with a CA file is `verify-ca`).
    pub mode: SslMode,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The driver's Config prints its password: never show it.
        f.debug_struct("PgTarget")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The TLS options taken out of the address before the driver reads the rest.
#[derive(Default)]
struct TlsOptions {
    mode: Option<String>,
    root_cert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
}

impl PgTarget {
    /// Read `url` (`postgres://…` with optional `sslmode`, `sslrootcert`, `sslcert`, `sslkey`),
    /// loading any certificate files it names. Errors name the option or file, never the password.
    pub fn parse(url: &str) -> Result<PgTarget, String> {
        let (driver_url, options) = split_tls_options(url)?;
        let mode = match options.mode.as_deref() {
            None => SslMode::Prefer,
            Some(text) => SslMode::parse(text)?,
        };
        // libpq: `require` with a root certificate file checks the chain, as verify-ca.
        let mode = match (mode, &options.root_cert) {
            (SslMode::Require, Some(_)) => SslMode::VerifyCa,
            (mode, _) => mode,
        };
        let mut config: postgres::Config = driver_url
            .parse()
            // The driver's message names the part it could not read, never the password.
            .map_err(|e: postgres::Error| format!("not a PostgreSQL address ({e})"))?;
        config.ssl_mode(match mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Prefer => DriverSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
        });
        let tls = MakeRustlsConnect::new(client_config(mode, &options)?);
        Ok(PgTarget { config, tls, mode })
    }

    /// One connection, outside any pool.
    pub fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        self.config.connect(self.tls.clone())
    }
}

/// Take the TLS options out of the address's query (percent-decoded); give back the address with
/// the rest, which the driver reads. `sslmode` goes back as the driver's nearest mode.
fn split_tls_options(url: &str) -> Result<(String, TlsOptions), String> {
    let mut options = TlsOptions::default();
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), options));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match key {
            "sslmode" => &mut options.mode,
            "sslrootcert" => &mut options.root_cert,
            "sslcert" => &mut options.cert,
            "sslkey" => &mut options.key,
            _ => {
                kept.push(pair);
                continue;
            }
        };
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("{key} is not UTF-8 once percent-decoded"))?;
        if value.is_empty() {
            return Err(format!("{key} is empty"));
        }
        *slot = Some(value.into_owned());
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((driver_url, options))
}

fn client_config(mode: SslMode, options: &TlsOptions) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(Relaxed {
            chain: None,
            provider: provider.clone(),
        }),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let Some(root_cert) = &options.root_cert else {
                return Err(format!(
                    "sslmode={} needs sslrootcert=<PEM file of the CA certificates to trust> or sslrootcert=system",
                    mode.name()
                ));
            };
            let roots = Arc::new(load_roots(root_cert)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| format!("sslrootcert={root_cert}: {e}"))?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(Relaxed {
                    chain: Some(webpki),
                    provider: provider.clone(),
                })
            }
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&options.cert, &options.key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("sslcert={cert}: {e}"))?;
            if chain.is_empty() {
                return Err(format!("sslcert={cert} holds no CERTIFICATE block"));
            }
            let key_der =
                PrivateKeyDer::from_pem_file(key).map_err(|e| format!("sslkey={key}: {e}"))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| format!("sslcert={cert} with sslkey={key}: {e}"))?
        }
        _ => return Err("sslcert and sslkey go together: give both or neither".into()),
    };
    Ok(config)
}

fn load_roots(root_cert: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if root_cert == "system" {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err("sslrootcert=system: this machine's CA store holds no certificate".into());
        }
        return Ok(roots);
    }
    let path = PathBuf::from(root_cert);
    let certs = CertificateDer::pem_file_iter(&path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("sslrootcert={root_cert}: {e}"))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "sslrootcert={root_cert} holds no usable CA certificate"
        ));
    }
    Ok(roots)
}

/// The modes that check less than rustls's default verifier (`verify-full`), as libpq does:
/// `prefer` and `require` (no `chain`: the certificate is not checked) and `verify-ca` (the
/// chain must lead to a trusted CA; the name in the certificate is not compared with the host).
/// The handshake's signatures are checked against the certificate's key in every mode.
#[derive(Debug)]
struct Relaxed {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> Result<SslMode, String> {
        PgTarget::parse(url).map(|t| t.mode)
    }

    #[test]
    fn the_modes_read_as_libpq_reads_them() {
        assert_eq!(mode("postgres://u@h/db"), Ok(SslMode::Prefer));
        assert_eq!(
            mode("postgres://u@h/db?sslmode=disable"),
            Ok(SslMode::Disable)
        );
        assert_eq!(
            mode("postgres://u@h/db?sslmode=require"),
            Ok(SslMode::Require)
        );
        let err = mode("postgres://u@h/db?sslmode=allow-anything").unwrap_err();
        assert!(err.contains("sslmode=allow-anything"), "{err}");
        let err = mode("postgres://u@h/db?sslmode=verify-full").unwrap_err();
        assert!(err.contains("needs sslrootcert"), "{err}");
        let err =
            mode("postgres://u:secret@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
                .unwrap_err();
        assert!(
            err.contains("/nonexistent/ca.pem") && !err.contains("secret"),
            "{err}"
        );
        let err = mode("postgres://u@h/db?sslcert=/c.pem").unwrap_err();
        assert!(err.contains("go together"), "{err}");
    }

    #[test]
    fn the_driver_reads_the_rest_of_the_address() {
        let (rest, options) = split_tls_options(
            "postgres://u:p%40ss@h:5/db?application_name=office&sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20one.pem&connect_timeout=5",
        )
        .expect("splits");
        assert_eq!(
            rest,
            "postgres://u:p%40ss@h:5/db?application_name=office&connect_timeout=5"
        );
        assert_eq!(options.mode.as_deref(), Some("verify-full"));
        assert_eq!(options.root_cert.as_deref(), Some("/etc/ca one.pem"));
        let target =
            PgTarget::parse("postgres://u:p%40ss@h:5/db?application_name=office").expect("parses");
        assert_eq!(target.config.get_application_name(), Some("office"));
        assert!(
            !format!("{target:?}").contains("p@ss"),
            "Debug hides the password"
        );
    }
}
