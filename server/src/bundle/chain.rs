//! Verifying that leaf → intermediates → root is a valid chain at a given time, naming the broken link. The CA
//! part (intermediates → root) is the same for every certificate an issuer signs: once its signatures verified,
//! its fingerprint is remembered and only the leaf's signature is checked again (names, CA roles and validity
//! dates are checked every time; they cost no cryptography).

use std::collections::HashSet;
use std::sync::{LazyLock, RwLock};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::prelude::FromDer;

use super::dn::{common_name, rfc4514};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("the {which} could not be read: {reason}")]
    Unreadable { which: String, reason: String },
    #[error("the {child} names its issuer '{issuer}', but the next certificate, the {parent}, is '{subject}'")]
    IssuerMismatch { child: String, issuer: String, parent: String, subject: String },
    #[error("the signature on the {child} does not verify with the key of the {parent}")]
    BadSignature { child: String, parent: String },
    #[error("the {child} is signed with an algorithm certdesk cannot check ({algorithm})")]
    UnsupportedSignature { child: String, algorithm: String },
    #[error(
        "the {which} is not a CA certificate (basicConstraints CA:TRUE is missing), so it cannot issue the {child}"
    )]
    NotCa { which: String, child: String },
    #[error("the key usage of the {which} does not allow signing certificates (keyCertSign)")]
    CannotSignCertificates { which: String },
    #[error("the {which} allows at most {limit} intermediate CA(s) below it, but the chain has {below}")]
    PathLength { which: String, limit: u32, below: usize },
    #[error("the {which} is not self-signed, so it is not a root")]
    RootNotSelfSigned { which: String },
    #[error("the {which} is not valid before {not_before}")]
    NotYetValid { which: String, not_before: String },
    #[error("the {which} expired at {not_after}")]
    Expired { which: String, not_after: String },
}

/// Checks the chain leaf → intermediates (in issuing order: the first one issued the leaf) → root: every
/// certificate is signed by the next one's key and names it as issuer, every issuer is a CA whose path length
/// allows the CAs below it, all certificates are valid at `at`, and the root is self-signed.
pub fn verify_chain(
    leaf_der: &[u8],
    intermediates_der: &[Vec<u8>],
    root_der: &[u8],
    at: OffsetDateTime,
) -> Result<(), ChainError> {
    let mut chain = Vec::with_capacity(intermediates_der.len() + 2);
    chain.push(parse("leaf certificate".to_owned(), leaf_der)?);
    for (i, der) in intermediates_der.iter().enumerate() {
        chain.push(parse(format!("intermediate {}", i + 1), der)?);
    }
    chain.push(parse("root".to_owned(), root_der)?);

    let ca_chain = ca_chain_fingerprint(intermediates_der, root_der);
    let ca_signatures_verified = VERIFIED_CA_CHAINS.read().is_ok_and(|verified| verified.contains(&ca_chain));
    for (position, pair) in chain.windows(2).enumerate() {
        let [(child_role, child), (parent_role, parent)] = pair else { continue };
        let child_label = label(child_role, child);
        let parent_label = label(parent_role, parent);
        if !same_name(child, parent) {
            return Err(ChainError::IssuerMismatch {
                child: child_label,
                issuer: rfc4514(child.issuer()),
                parent: parent_label,
                subject: rfc4514(parent.subject()),
            });
        }
        if position == 0 || !ca_signatures_verified {
            check_signature(child, parent, &child_label, &parent_label)?;
        }
        check_issuer_role(parent, &parent_label, &child_label, position)?;
    }

    if let Some((role, root)) = chain.last() {
        let which = label(role, root);
        let self_signed = root.subject().as_raw() == root.issuer().as_raw()
            && (ca_signatures_verified || root.verify_signature(None).is_ok());
        if !self_signed {
            return Err(ChainError::RootNotSelfSigned { which });
        }
    }

    if !ca_signatures_verified && let Ok(mut verified) = VERIFIED_CA_CHAINS.write() {
        if verified.len() >= MAX_VERIFIED_CA_CHAINS {
            verified.clear();
        }
        verified.insert(ca_chain);
    }

    for (role, cert) in &chain {
        let validity = cert.validity();
        if at < validity.not_before.to_datetime() {
            return Err(ChainError::NotYetValid {
                which: label(role, cert),
                not_before: rfc3339(validity.not_before.to_datetime()),
            });
        }
        if at > validity.not_after.to_datetime() {
            return Err(ChainError::Expired {
                which: label(role, cert),
                not_after: rfc3339(validity.not_after.to_datetime()),
            });
        }
    }
    Ok(())
}

/// CA chains (intermediates and root, by content) whose signatures verified; a handful per issuer over its life.
static VERIFIED_CA_CHAINS: LazyLock<RwLock<HashSet<[u8; 32]>>> = LazyLock::new(RwLock::default);
/// Past this many (issuers rotating intermediates for years), the set starts over.
const MAX_VERIFIED_CA_CHAINS: usize = 64;

fn ca_chain_fingerprint(intermediates_der: &[Vec<u8>], root_der: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for der in intermediates_der.iter().map(Vec::as_slice).chain([root_der]) {
        // Length-prefixed, so two different splits of the same bytes never collide.
        hash.update((der.len() as u64).to_be_bytes());
        hash.update(der);
    }
    hash.finalize().into()
}

fn parse(role: String, der: &[u8]) -> Result<(String, X509Certificate<'_>), ChainError> {
    match X509Certificate::from_der(der) {
        Ok((rest, _)) if !rest.is_empty() => {
            Err(ChainError::Unreadable { which: role, reason: format!("{} bytes of trailing data", rest.len()) })
        }
        Ok((_, cert)) => Ok((role, cert)),
        Err(e) => Err(ChainError::Unreadable { which: role, reason: e.to_string() }),
    }
}

/// "intermediate 1 'Example Issuing CA'": the role in the chain plus the name people recognise.
fn label(role: &str, cert: &X509Certificate<'_>) -> String {
    let name = common_name(cert.subject()).unwrap_or_else(|| rfc4514(cert.subject()));
    format!("{role} '{name}'")
}

/// Byte equality is what every CA produces; the string comparison covers re-encodings that change string types.
fn same_name(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    child.issuer().as_raw() == parent.subject().as_raw()
        || rfc4514(child.issuer()).to_lowercase() == rfc4514(parent.subject()).to_lowercase()
}

fn check_signature(
    child: &X509Certificate<'_>,
    parent: &X509Certificate<'_>,
    child_label: &str,
    parent_label: &str,
) -> Result<(), ChainError> {
    child.verify_signature(Some(parent.public_key())).map_err(|e| match e {
        X509Error::SignatureUnsupportedAlgorithm => ChainError::UnsupportedSignature {
            child: child_label.to_owned(),
            algorithm: child.signature_algorithm.algorithm.to_id_string(),
        },
        _ => ChainError::BadSignature { child: child_label.to_owned(), parent: parent_label.to_owned() },
    })
}

/// `position` is the child's index: the parent has `position` certificates below it, of which all but the leaf
/// are intermediate CAs counted against its pathLenConstraint.
fn check_issuer_role(
    parent: &X509Certificate<'_>,
    parent_label: &str,
    child_label: &str,
    position: usize,
) -> Result<(), ChainError> {
    let constraints = parent.basic_constraints().ok().flatten().map(|ext| ext.value);
    let Some(constraints) = constraints.filter(|bc| bc.ca) else {
        return Err(ChainError::NotCa { which: parent_label.to_owned(), child: child_label.to_owned() });
    };
    if let Ok(Some(usage)) = parent.key_usage()
        && !usage.value.key_cert_sign()
    {
        return Err(ChainError::CannotSignCertificates { which: parent_label.to_owned() });
    }
    if let Some(limit) = constraints.path_len_constraint
        && position as u64 > u64::from(limit)
    {
        return Err(ChainError::PathLength { which: parent_label.to_owned(), limit, below: position });
    }
    Ok(())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}
