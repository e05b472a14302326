//! `pki root-crl`: the root CA's CRL (it lists revoked intermediates), signed offline and published by certdesk
//! at `{public_url}/crl/root.crl`.

use std::path::{Path, PathBuf};

use rcgen::{CertificateRevocationListParams, RevocationReason, RevokedCertParams, SerialNumber};
use time::{Date, Duration, OffsetDateTime, Time};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::files::{self, FileError, PUBLIC_MODE};
use super::root_signer::RootSigner;

/// Why the offline root's CRL (signed in the ceremony, `pki root-crl`) cannot be made or written; the CRLs certdesk
/// serves have their own error, `crl::CrlError`.
#[derive(Debug, thiserror::Error)]
pub enum OfflineRootCrlError {
    #[error(
        "--revoke {0:?}: expected SERIAL_HEX:REASON[:YYYY-MM-DD] with REASON one of keyCompromise, cACompromise, \
         affiliationChanged, superseded, cessationOfOperation"
    )]
    Revoke(String),
    #[error("--next-update-days must be between 1 and 366, got {0}")]
    NextUpdate(u32),
    #[error("--crl-number must be at least 1")]
    Number,
    #[error("{path} holds CRL number {existing}; the new CRL number {new} must be greater")]
    NumberNotIncreasing { path: PathBuf, existing: String, new: u64 },
    #[error("cannot sign the CRL: {0}")]
    Sign(#[from] rcgen::Error),
    #[error(transparent)]
    File(#[from] FileError),
}

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number as big-endian octets.
    pub serial: Vec<u8>,
    pub reason: RevocationReason,
    pub revoked_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct RootCrlOptions {
    /// Must grow with every CRL issued (RFC 5280 §5.2.3).
    pub crl_number: u64,
    pub next_update_days: u32,
    pub revoked: Vec<RevokedEntry>,
}

/// A signed CRL, DER and PEM.
#[derive(Debug, Clone)]
pub struct SignedCrl {
    pub der: Vec<u8>,
    pub pem: String,
}

/// Signs a full CRL with the root: thisUpdate now, nextUpdate in `next_update_days`, CRL number, AKI equal to
/// the root's SubjectKeyIdentifier, one entry with its reason code per revoked certificate.
pub fn root_crl(root: &RootSigner, options: &RootCrlOptions) -> Result<SignedCrl, OfflineRootCrlError> {
    if options.crl_number == 0 {
        return Err(OfflineRootCrlError::Number);
    }
    if !(1..=366).contains(&options.next_update_days) {
        return Err(OfflineRootCrlError::NextUpdate(options.next_update_days));
    }
    let now = OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now,
        next_update: now + Duration::days(i64::from(options.next_update_days)),
        crl_number: SerialNumber::from_slice(&options.crl_number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: options
            .revoked
            .iter()
            .map(|entry| RevokedCertParams {
                serial_number: SerialNumber::from_slice(&entry.serial),
                revocation_time: entry.revoked_at,
                reason_code: Some(entry.reason),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: root.key_id.clone(),
    };
    let crl = params.signed_by(&root.issuer)?;
    Ok(SignedCrl { der: crl.der().to_vec(), pem: crl.pem()? })
}

/// Parses `SERIAL_HEX:REASON[:YYYY-MM-DD]`. The serial may be written with colons (`7f:97:…`, as OpenBao and
/// openssl print it) or without; the date, when given, is the revocation date (midnight UTC) so a CRL
/// re-issued next month keeps the original date; without it the entry says "now".
pub fn parse_revocation(spec: &str, now: OffsetDateTime) -> Result<RevokedEntry, OfflineRootCrlError> {
    let invalid = || OfflineRootCrlError::Revoke(spec.to_owned());
    // The serial may itself contain colons: the reason is the first part that is not hex.
    let parts: Vec<&str> = spec.split(':').collect();
    let reason_at = parts.iter().position(|part| reason(part).is_some()).ok_or_else(invalid)?;
    let serial_hex: String = parts[..reason_at].concat();
    let serial = hex::decode(if serial_hex.len() % 2 == 1 { format!("0{serial_hex}") } else { serial_hex })
        .map_err(|_| invalid())?;
    let significant: Vec<u8> = serial.iter().copied().skip_while(|byte| *byte == 0).collect();
    if significant.is_empty() || significant.len() > 20 {
        return Err(invalid());
    }
    let reason = reason(parts[reason_at]).ok_or_else(invalid)?;
    let revoked_at = match &parts[reason_at + 1..] {
        [] => now,
        [date] => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(date, &format).map_err(|_| invalid())?.with_time(Time::MIDNIGHT).assume_utc()
        }
        _ => return Err(invalid()),
    };
    Ok(RevokedEntry { serial: significant, reason, revoked_at })
}

fn reason(name: &str) -> Option<RevocationReason> {
    Some(match name {
        "keyCompromise" => RevocationReason::KeyCompromise,
        "cACompromise" => RevocationReason::CaCompromise,
        "affiliationChanged" => RevocationReason::AffiliationChanged,
        "superseded" => RevocationReason::Superseded,
        "cessationOfOperation" => RevocationReason::CessationOfOperation,
        _ => return None,
    })
}

/// Where a CRL goes: `--out` ending in `.pem` gets PEM only; any other name gets DER (what HTTP clients fetch
/// from a CRL distribution point) plus a PEM copy at `<out>.pem`. Returns the paths written.
pub fn write_crl(out: &Path, crl: &SignedCrl, crl_number: u64) -> Result<Vec<PathBuf>, OfflineRootCrlError> {
    check_number_grows(out, crl_number)?;
    if out.extension().is_some_and(|extension| extension == "pem") {
        files::replace(out, crl.pem.as_bytes(), PUBLIC_MODE)?;
        return Ok(vec![out.to_owned()]);
    }
    let pem_path = PathBuf::from(format!("{}.pem", out.display()));
    files::replace(out, &crl.der, PUBLIC_MODE)?;
    files::replace(&pem_path, crl.pem.as_bytes(), PUBLIC_MODE)?;
    Ok(vec![out.to_owned(), pem_path])
}

/// Refuses to replace a CRL with one whose number does not grow (clients may keep the higher one).
fn check_number_grows(out: &Path, new: u64) -> Result<(), OfflineRootCrlError> {
    let Ok(existing) = std::fs::read(out) else { return Ok(()) };
    let der = match pem::parse(&existing) {
        Ok(block) => block.into_contents(),
        Err(_) => existing,
    };
    let Ok((_, crl)) = CertificateRevocationList::from_der(&der) else { return Ok(()) };
    match crl.crl_number() {
        Some(number) if *number >= new.into() => {
            Err(OfflineRootCrlError::NumberNotIncreasing { path: out.to_owned(), existing: number.to_string(), new })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
