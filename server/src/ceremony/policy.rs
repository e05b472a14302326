//! The ACL policy of certdesk's AppRole: exactly what the portal does with a mount, nothing more.

use super::roles::RoleDefinition;

/// Policy text for `mount` and its roles. Issuance only through `sign/` (certdesk makes keys itself or the user
/// brings a CSR, so `issue/` is not granted); revocation and CRL rotation; reading certificates, issuers' CRLs and
/// the CA chain; the token's own lookup, renewal and revocation (the AppRole role sets token_no_default_policy,
/// so the default policy's grants are not there).
pub fn certdesk_policy(mount: &str, roles: &[RoleDefinition]) -> String {
    let mut text = format!("# certdesk on mount {mount}; written by `certdesk vault bootstrap`.\n");
    for role in roles {
        text.push_str(&format!("path \"{mount}/sign/{}\" {{ capabilities = [\"update\"] }}\n", role.name));
    }
    for (path, capabilities) in [
        ("revoke", "\"update\""),
        ("crl/rotate", "\"read\""),
        ("cert/*", "\"read\""),
        // Listing lets the reconciler find a certificate signed just before certdesk crashed.
        ("certs", "\"list\""),
        ("issuer/+/crl", "\"read\""),
        ("issuer/+/crl/*", "\"read\""),
        ("ca", "\"read\""),
        ("ca/pem", "\"read\""),
        ("ca_chain", "\"read\""),
    ] {
        text.push_str(&format!("path \"{mount}/{path}\" {{ capabilities = [{capabilities}] }}\n"));
    }
    text.push_str("path \"auth/token/lookup-self\" { capabilities = [\"read\"] }\n");
    text.push_str("path \"auth/token/renew-self\" { capabilities = [\"update\"] }\n");
    text.push_str("path \"auth/token/revoke-self\" { capabilities = [\"update\"] }\n");
    text
}
