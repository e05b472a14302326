//! `pki init-root`: the offline root CA (EC P-384, ecdsa-with-SHA384), made once and kept offline.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::files::{self, FileError, PUBLIC_MODE, SECRET_MODE};
use super::serial::random_serial;

/// File names in `--out-dir`.
pub const ROOT_CERT_FILE: &str = "root_ca.pem";
pub const ROOT_KEY_FILE: &str = "root_ca.key";

/// Clock skew allowance: certificates start a minute in the past so a slightly slow verifier accepts them.
pub const BACKDATE: Duration = Duration::minutes(1);

#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("--days must be between 1 and 36500, got {0}")]
    Days(u32),
    #[error("invalid subject: {0}")]
    Subject(String),
    #[error("cannot create the root CA: {0}")]
    Generate(#[from] rcgen::Error),
    #[error(transparent)]
    File(#[from] FileError),
}

#[derive(Debug, Clone)]
pub struct RootOptions {
    pub common_name: String,
    pub organization: Option<String>,
    pub days: u32,
}

/// A freshly made root: certificate PEM, PKCS#8 key PEM (wiped on drop) and the certificate's fingerprint.
pub struct RootCa {
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
    /// SHA-256 over the DER certificate, upper-case hex with colons (as `openssl x509 -fingerprint -sha256`).
    pub fingerprint_sha256: String,
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for RootCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCa").field("fingerprint_sha256", &self.fingerprint_sha256).finish_non_exhaustive()
    }
}

/// Makes a root CA: CA:TRUE without path length (critical), keyCertSign + cRLSign (critical), SKI, a random
/// 128-bit serial, valid from a minute ago for `days`.
pub fn init_root(options: &RootOptions) -> Result<RootCa, RootError> {
    if !(1..=36500).contains(&options.days) {
        return Err(RootError::Days(options.days));
    }
    if options.common_name.trim().is_empty() {
        return Err(RootError::Subject("the common name is empty".into()));
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?;
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    if let Some(organization) = options.organization.as_deref().filter(|value| !value.trim().is_empty()) {
        subject.push(DnType::OrganizationName, organization);
    }
    subject.push(DnType::CommonName, options.common_name.as_str());
    params.distinguished_name = subject;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(random_serial());
    params.not_before = now - BACKDATE;
    params.not_after = now + Duration::days(i64::from(options.days));
    let cert = params.self_signed(&key)?;
    Ok(RootCa {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
        fingerprint_sha256: fingerprint(cert.der()),
        not_after: params.not_after,
    })
}

/// Writes `root_ca.pem` (0644) and `root_ca.key` (0600) into `dir`, refusing to replace either.
pub fn write_root(dir: &Path, root: &RootCa) -> Result<(PathBuf, PathBuf), RootError> {
    files::ensure_private_dir(dir)?;
    let (cert_path, key_path) = (dir.join(ROOT_CERT_FILE), dir.join(ROOT_KEY_FILE));
    files::write_new_files(&[
        (&key_path, root.key_pem.as_bytes(), SECRET_MODE),
        (&cert_path, root.cert_pem.as_bytes(), PUBLIC_MODE),
    ])?;
    Ok((cert_path, key_path))
}

/// SHA-256 fingerprint of a DER certificate, `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|byte| format!("{byte:02X}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use x509_parser::prelude::*;

    use super::*;

    fn root() -> RootCa {
        init_root(&RootOptions { common_name: "Test Root".into(), organization: Some("Org".into()), days: 30 }).unwrap()
    }

    #[test]
    fn root_profile() {
        let root = root();
        let der = ::pem::parse(&root.cert_pem).unwrap().into_contents();
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(cert.signature_algorithm.algorithm, x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA384);
        assert_eq!(cert.subject().to_string(), "O=Org, CN=Test Root");
        assert_eq!(cert.subject(), cert.issuer());
        let constraints = cert.basic_constraints().unwrap().unwrap();
        assert!(constraints.critical && constraints.value.ca && constraints.value.path_len_constraint.is_none());
        let usage = cert.key_usage().unwrap().unwrap();
        assert!(usage.critical && usage.value.key_cert_sign() && usage.value.crl_sign());
        assert!(!usage.value.digital_signature());
        assert!(
            cert.iter_extensions()
                .any(|ext| matches!(ext.parsed_extension(), ParsedExtension::SubjectKeyIdentifier(_)))
        );
        let serial = cert.raw_serial();
        assert!(serial[0] & 0x80 == 0 && serial.len() >= 15 && serial.len() <= 17, "{serial:?}");
        assert!(cert.serial.bits() > 64);
        let now = OffsetDateTime::now_utc();
        let not_before = cert.validity().not_before.to_datetime();
        assert!(not_before <= now - Duration::seconds(50) && not_before >= now - Duration::minutes(2));
        let days = (cert.validity().not_after.to_datetime() - now).whole_days();
        assert!((29..=30).contains(&days), "{days}");
        assert!(cert.verify_signature(None).is_ok());
        assert!(root.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(root.fingerprint_sha256.len(), 32 * 3 - 1);
    }

    #[test]
    fn rejects_silly_lifetimes() {
        let options = RootOptions { common_name: "x".into(), organization: None, days: 0 };
        assert!(matches!(init_root(&options), Err(RootError::Days(0))));
    }
}
