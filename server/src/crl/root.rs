//! Publishing the offline root's CRL: `certdesk pki root-crl` signs it at the ceremony, `certdesk crl publish`
//! hands it to the server. It must be signed by a root certdesk pins (an issuer's `root_ca`) and must not go back
//! in CRL number; certdesk then serves it at `/crl/root.crl`.

use time::OffsetDateTime;

use super::checked::{self, CheckedCrl};
use super::store::{self, Stored};
use super::{CrlError, ROOT};
use crate::config::{Config, IssuerKindConfig};

/// DER, or PEM (`X509 CRL`), as written by `certdesk pki root-crl`.
pub fn crl_der_of(bytes: &[u8]) -> Result<Vec<u8>, CrlError> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let block = pem::parse(bytes).map_err(|error| CrlError::Input(format!("not a PEM CRL: {error}")))?;
        if block.tag() != "X509 CRL" {
            return Err(CrlError::Input(format!("a PEM {} block, not an X509 CRL", block.tag())));
        }
        return Ok(block.into_contents());
    }
    Ok(bytes.to_vec())
}

/// Checks the CRL against every pinned root and keeps the one that signed it.
pub fn check_against_pinned_roots(config: &Config, crl_der: &[u8]) -> Result<CheckedCrl, CrlError> {
    let roots: Vec<&[u8]> = config
        .issuers
        .iter()
        .filter_map(|issuer| match &issuer.kind {
            IssuerKindConfig::Vault { root_ca_der: Some(root), .. } => Some(root.as_slice()),
            _ => None,
        })
        .collect();
    if roots.is_empty() {
        return Err(CrlError::Input(
            "no issuer pins a root (issuers[].root_ca), so there is nothing to check the root CRL against".into(),
        ));
    }
    let mut last = None;
    for root in roots {
        match checked::check(crl_der, root, Some(root)) {
            Ok(checked) => return Ok(checked),
            Err(error) => last = Some(error),
        }
    }
    Err(last.map(CrlError::Check).unwrap_or(CrlError::Input("no pinned root".into())))
}

/// Checks and stores the root CRL (see the module comment).
pub async fn publish(
    config: &Config,
    pool: &sqlx::PgPool,
    key: &crate::audit::ChainKey,
    crl_bytes: &[u8],
) -> Result<(CheckedCrl, Stored), CrlError> {
    let der = crl_der_of(crl_bytes)?;
    let checked = check_against_pinned_roots(config, &der)?;
    let stored = store::store(pool, key, ROOT, None, &checked, OffsetDateTime::now_utc()).await?;
    Ok((checked, stored))
}
