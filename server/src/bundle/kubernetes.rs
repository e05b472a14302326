//! Kubernetes `kubernetes.io/tls` Secrets as YAML, ready for `kubectl apply -f`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::parts::{certificates_pem, held_key, intermediates_and_root, leaf_and_intermediates};
use super::{BundleError, Material, RenderOptions};
use crate::keys::encode_pem;

const MAX_SUBDOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

#[derive(serde::Serialize)]
struct Secret<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    #[serde(rename = "type")]
    secret_type: &'static str,
    data: Data<'a>,
}

#[derive(serde::Serialize)]
struct Metadata {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

#[derive(serde::Serialize)]
struct Data<'a> {
    #[serde(rename = "tls.crt")]
    tls_crt: &'a str,
    #[serde(rename = "tls.key")]
    tls_key: &'a str,
    #[serde(rename = "ca.crt")]
    ca_crt: &'a str,
}

pub(super) fn render(material: &Material, options: &RenderOptions) -> Result<Zeroizing<Vec<u8>>, BundleError> {
    let name = match options.secret_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => {
            validate_subdomain(name)
                .map_err(|reason| BundleError::InvalidSecretName { name: name.to_owned(), reason })?;
            name.to_owned()
        }
        None => secret_name_from(&material.common_name),
    };
    let namespace = match options.namespace.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(namespace) => {
            validate_label(namespace)
                .map_err(|reason| BundleError::InvalidNamespace { name: namespace.to_owned(), reason })?;
            Some(namespace.to_owned())
        }
        None => None,
    };
    // kubernetes.io/tls Secrets are rejected by the API server without tls.key, so there is no key-less variant.
    let key = held_key(material).map_err(|e| match e {
        BundleError::KeyNotHeld => BundleError::KeyNotHeldForSecret,
        other => other,
    })?;

    let tls_crt = base64(&certificates_pem(leaf_and_intermediates(material)));
    let tls_key = base64(encode_pem("PRIVATE KEY", key).as_bytes());
    let ca_crt = base64(&certificates_pem(intermediates_and_root(material)));
    let secret = Secret {
        api_version: "v1",
        kind: "Secret",
        metadata: Metadata { name, namespace },
        secret_type: "kubernetes.io/tls",
        data: Data { tls_crt: &tls_crt, tls_key: &tls_key, ca_crt: &ca_crt },
    };
    let yaml = serde_yaml_ng::to_string(&secret).map_err(|e| BundleError::Yaml { reason: e.to_string() })?;
    Ok(Zeroizing::new(yaml.into_bytes()))
}

/// Sized up front so that no partial copy of the encoded key is left in a freed allocation.
fn base64(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(3) * 4));
    STANDARD.encode_string(bytes, &mut out);
    out
}

/// A valid Secret name from a common name: `*.Example.com` → `wildcard.example.com`.
pub(super) fn secret_name_from(common_name: &str) -> String {
    let lowered = common_name.trim().to_lowercase().replace('*', "wildcard");
    let mapped: String = lowered
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' { c } else { '-' })
        .collect();
    // Each dot-separated part must start and end alphanumeric, so trim hyphens per part and drop empty parts.
    let parts: Vec<&str> = mapped.split('.').map(|p| p.trim_matches('-')).filter(|p| !p.is_empty()).collect();
    let mut name = parts.join(".");
    name.truncate(MAX_SUBDOMAIN_LEN);
    let name = name.trim_end_matches(['-', '.']).to_owned();
    if name.is_empty() { "certificate".to_owned() } else { name }
}

/// RFC 1123 subdomain as Kubernetes checks object names: lowercase alphanumerics, '-' and '.', each part starting
/// and ending alphanumeric, at most 253 characters.
fn validate_subdomain(name: &str) -> Result<(), String> {
    if name.len() > MAX_SUBDOMAIN_LEN {
        return Err(format!("it is {} characters long; the limit is {MAX_SUBDOMAIN_LEN}", name.len()));
    }
    for part in name.split('.') {
        check_rfc1123_part(part)?;
    }
    Ok(())
}

/// RFC 1123 label as Kubernetes checks namespaces: like one subdomain part, at most 63 characters, no dots.
fn validate_label(name: &str) -> Result<(), String> {
    if name.len() > MAX_LABEL_LEN {
        return Err(format!("it is {} characters long; the limit is {MAX_LABEL_LEN}", name.len()));
    }
    if name.contains('.') {
        return Err("it may not contain dots".to_owned());
    }
    check_rfc1123_part(name)
}

fn check_rfc1123_part(part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err("it has an empty part (two dots in a row, or a dot at either end)".to_owned());
    }
    if let Some(bad) = part.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("'{bad}' is not allowed; use lowercase letters, digits, '-' and '.'"));
    }
    if part.starts_with('-') || part.ends_with('-') {
        return Err("it must start and end with a letter or digit".to_owned());
    }
    Ok(())
}
