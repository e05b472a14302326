//! The TLS client settings of validation: any certificate is accepted (a validation judges the certificate by its
//! content, as RFC 8737 says, and http-01 follows redirects to `https` without checking certificates, as Let's
//! Encrypt does), but the handshake must still be signed by the certificate's own key.
//!
//! rustls's own signature check parses the certificate with webpki, which refuses any unknown critical extension,
//! and the acmeIdentifier extension of tls-alpn-01 is exactly that; so the key is taken from the certificate with
//! x509-parser and the provider's algorithms check the signature.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, PeerMisbehaved, SignatureScheme};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::config::ConfigError;

/// A client configuration offering only `alpn` (TLS 1.2 and 1.3, aws-lc-rs, no client certificate).
pub(super) fn client_config(alpn: &[u8]) -> Result<ClientConfig, ConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(AnyCertificate { algorithms: provider.signature_verification_algorithms });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ConfigError::invalid("acme_validation", format!("TLS client: {error}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(config)
}

#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AnyCertificate {
    /// Whether the signature over `message` verifies under the end-entity certificate's public key with an
    /// algorithm of `dss.scheme`: in TLS 1.2 any of them (an ECDSA scheme names no curve there; an algorithm of
    /// another curve fails on the key's encoding), in TLS 1.3 only the first (the scheme binds the curve).
    fn verify(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> Result<(), Error> {
        let (_, parsed) = X509Certificate::from_der(certificate)
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let key = &parsed.public_key().subject_public_key.data;
        let algorithms = self
            .algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algorithms)| *algorithms)
            .ok_or(Error::PeerMisbehaved(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme))?;
        let algorithms = if tls13 { algorithms.get(..1).unwrap_or_default() } else { algorithms };
        if algorithms.iter().any(|algorithm| algorithm.verify_signature(key, message, dss.signature()).is_ok()) {
            Ok(())
        } else {
            Err(Error::InvalidCertificate(CertificateError::BadSignature))
        }
    }
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.verify(message, certificate, dss, false).map(|()| HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        if !allowed_in_tls13(dss.scheme) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme));
        }
        self.verify(message, certificate, dss, true).map(|()| HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// RFC 8446 §4.2.3: TLS 1.3 never signs the handshake with RSA-PKCS#1 or SHA-1 (a denylist, as rustls keeps it,
/// so newer schemes stay allowed; one the provider does not know fails on the algorithm lookup anyway).
fn allowed_in_tls13(scheme: SignatureScheme) -> bool {
    !matches!(
        scheme,
        SignatureScheme::RSA_PKCS1_SHA1
            | SignatureScheme::ECDSA_SHA1_Legacy
            | SignatureScheme::RSA_PKCS1_SHA256
            | SignatureScheme::RSA_PKCS1_SHA384
            | SignatureScheme::RSA_PKCS1_SHA512
    )
}
