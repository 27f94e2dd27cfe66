//! A throw-away certificate authority and server certificate for the fake apiserver.
//!
//! Owns key generation (rcgen on aws-lc-rs) and the rustls server configuration. It must not
//! touch the process-wide rustls `CryptoProvider`: the provider is passed explicitly, so the
//! fake works the same whether or not the code under test installed a default.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

/// A fresh CA and a server certificate it signed for `127.0.0.1` and `localhost`.
pub(crate) struct Certs {
    /// The CA certificate, PEM: what clients must trust.
    pub(crate) ca_pem: String,
    /// The rustls configuration serving the server certificate (ALPN `h2`, `http/1.1`).
    pub(crate) server_config: Arc<ServerConfig>,
}

/// Generates a CA and a server certificate and builds the rustls server configuration.
///
/// # Panics
/// When key generation or the rustls configuration fails: this is test support, and a
/// fake that cannot serve TLS cannot run any test.
pub(crate) fn generate() -> Certs {
    let ca_key = KeyPair::generate().expect("generate the CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kube-fake-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().expect("generate the server key");
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("server parameters");
    server_params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .expect("sign the server certificate");

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = vec![
        CertificateDer::from(server_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    Certs {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(config),
    }
}
