//! HTTPS for the office (`heatcrew-office serve --tls-cert PEM --tls-key PEM`): the certificate
//! chain and private key read from PEM files into a rustls server configuration (TLS 1.3 and 1.2,
//! HTTP/2 and HTTP/1.1 by ALPN, on the `ring` provider that the device's client uses too).
//!
//! Served by axum-server's rustls acceptor ([`crate::Office::spawn_with`]); with TLS on, every
//! response also carries `Strict-Transport-Security` ([`crate::api::headers`]). Behind a reverse
//! proxy that terminates TLS the office serves plain HTTP on loopback instead (README, "Security").

use anyhow::{Context, anyhow};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A loaded TLS identity: the server configuration handed to the acceptor, and where it came from.
#[derive(Clone)]
pub struct Tls {
    pub config: Arc<ServerConfig>,
    pub cert_file: PathBuf,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Read `cert` (the server certificate first, then any intermediates, PEM) and `key` (PKCS#8,
    /// PKCS#1 or SEC1 PEM) and check that they belong together. Each failure names the file and
    /// what is wrong with it.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Tls> {
        let cert_pem =
            std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key_pem = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        let config = server_config(&cert_pem, &key_pem).map_err(|e| {
            anyhow!(
                "TLS certificate {} with key {}: {e}",
                cert.display(),
                key.display()
            )
        })?;
        Ok(Tls {
            config,
            cert_file: cert.to_path_buf(),
        })
    }

    /// The same from PEM text in memory (tests, generated certificates).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Tls> {
        Ok(Tls {
            config: server_config(cert_pem, key_pem)?,
            cert_file: PathBuf::new(),
        })
    }
}

fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("the certificate file is not PEM: {e}"))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the certificate file holds no CERTIFICATE block"
    );
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| anyhow!("the key file holds no usable private key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS versions: {e}"))?
        .with_no_client_auth()
        // Checks that the key signs for the certificate's public key.
        .with_single_cert(chain, key)
        .map_err(|e| anyhow!("the key does not fit the certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
