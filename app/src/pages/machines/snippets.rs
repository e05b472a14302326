//! Ready-to-paste client configuration for a new ACME account key on one certdesk directory: a cert-manager
//! `ClusterIssuer` with External Account Binding and its `Secret` (HTTP-01 through a Gateway API `HTTPRoute`), a
//! certbot command and a lego command. Pure text, so the tests below pin it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What every snippet is made of.
#[derive(Debug, Clone, Copy)]
pub struct SnippetInput<'a> {
    pub directory_url: &'a str,
    pub issuer_id: &'a str,
    /// The ACME account key's name, for Kubernetes object names.
    pub key_name: &'a str,
    pub key_id: &'a str,
    /// As certdesk shows it: un-padded base64url.
    pub hmac_key: &'a str,
    /// The key's restriction, for an example name the key may order.
    pub allowed_names: &'a [String],
}

impl SnippetInput<'_> {
    /// A name to put in the example commands: the first name the key is restricted to (a `*.suffix` pattern gives
    /// `host.suffix`, as HTTP-01 cannot prove a wildcard), else a placeholder to replace.
    fn example_name(&self) -> String {
        match self.allowed_names.first() {
            Some(name) => match name.strip_prefix("*.") {
                Some(suffix) => format!("host.{suffix}"),
                None => name.clone(),
            },
            None => "host.example.com".to_owned(),
        }
    }

    /// The key's name as a Kubernetes object name (RFC 1123 label: lower-case letters, digits and hyphens).
    fn object_name(&self) -> String {
        let mut slug = String::new();
        for character in self.key_name.chars().flat_map(char::to_lowercase) {
            if character.is_ascii_alphanumeric() {
                slug.push(character);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_matches('-').chars().take(40).collect();
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() { "key".to_owned() } else { slug.to_owned() }
    }
}

/// The `Secret` holding the HMAC key and a `ClusterIssuer` using it, with an HTTP-01 solver on a Gateway.
pub fn cert_manager(input: &SnippetInput<'_>) -> String {
    let SnippetInput { directory_url, issuer_id, key_id, hmac_key, .. } = *input;
    let secret = format!("certdesk-eab-{}", input.object_name());
    // cert-manager wants the key as the CA gave it (un-padded base64url) in the Secret; `data` is base64 of that.
    let secret_data = STANDARD.encode(hmac_key);
    format!(
        "# The HMAC key of the ACME account key. A ClusterIssuer reads Secrets in cert-manager's own namespace.
apiVersion: v1
kind: Secret
metadata:
  name: {secret}
  namespace: cert-manager
type: Opaque
data:
  # The HMAC key exactly as certdesk showed it, base64-encoded once more like all Secret data.
  secret: {secret_data}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: certdesk-{issuer_id}
spec:
  acme:
    server: {directory_url}
    # cert-manager keeps the ACME account's own private key here.
    privateKeySecretRef:
      name: certdesk-{issuer_id}-account
    externalAccountBinding:
      keyID: {key_id}
      keySecretRef:
        name: {secret}
        key: secret
    # If certdesk's own HTTPS certificate comes from a private CA, add: caBundle: <base64 of that CA's PEM>
    solvers:
      - http01:
          gatewayHTTPRoute:
            parentRefs:
              # Your Gateway, listening for HTTP on port 80 for the names you certify.
              - name: gateway
                namespace: gateway-system
                kind: Gateway
"
    )
}

/// certbot with its own web server on port 80 for HTTP-01.
pub fn certbot(input: &SnippetInput<'_>) -> String {
    let SnippetInput { directory_url, key_id, hmac_key, .. } = *input;
    let name = input.example_name();
    format!(
        "certbot certonly --server {directory_url} \\
  --eab-kid {key_id} --eab-hmac-key {hmac_key} \\
  --standalone -d {name} \\
  --agree-tos --register-unsafely-without-email
"
    )
}

/// lego with its own web server on port 80 for HTTP-01.
pub fn lego(input: &SnippetInput<'_>) -> String {
    let SnippetInput { directory_url, key_id, hmac_key, .. } = *input;
    let name = input.example_name();
    format!(
        "lego --server {directory_url} \\
  --eab --kid {key_id} --hmac {hmac_key} \\
  --email you@example.com --accept-tos --domains {name} \\
  --http run
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(allowed: &[String]) -> SnippetInput<'_> {
        SnippetInput {
            directory_url: "https://certdesk.example.test/acme/private/directory",
            issuer_id: "private",
            key_name: "Prod cluster (EU)",
            key_id: "cdk-eab-abc",
            hmac_key: "c2VjcmV0LWhtYWMta2V5",
            allowed_names: allowed,
        }
    }

    #[test]
    fn cert_manager_gets_the_secret_base64_encoded_and_the_real_directory() {
        let yaml = cert_manager(&input(&[]));
        assert!(yaml.contains("  name: certdesk-eab-prod-cluster-eu\n"), "{yaml}");
        // `printf c2VjcmV0LWhtYWMta2V5 | base64`
        assert!(yaml.contains("  secret: YzJWamNtVjBMV2h0WVdNdGEyVjU=\n"), "{yaml}");
        assert!(yaml.contains("    server: https://certdesk.example.test/acme/private/directory\n"));
        assert!(yaml.contains("      keyID: cdk-eab-abc\n"));
        assert!(yaml.contains("          gatewayHTTPRoute:\n"));
        assert!(!yaml.contains("c2VjcmV0LWhtYWMta2V5"), "only the Secret's base64 form of the key");
        assert!(!yaml.contains('\t'), "YAML takes no tabs");
    }

    #[test]
    fn the_commands_carry_the_binding_and_a_name_the_key_may_order() {
        let allowed = vec!["*.svc.example.test".to_owned()];
        let certbot = certbot(&input(&allowed));
        assert!(certbot.starts_with("certbot certonly --server https://certdesk.example.test/acme/private/directory"));
        assert!(certbot.contains("--eab-kid cdk-eab-abc --eab-hmac-key c2VjcmV0LWhtYWMta2V5"));
        assert!(certbot.contains("--standalone -d host.svc.example.test"));
        let lego = lego(&input(&[]));
        assert!(lego.contains("--eab --kid cdk-eab-abc --hmac c2VjcmV0LWhtYWMta2V5"));
        assert!(lego.contains("--domains host.example.com"));
        assert!(lego.trim_end().ends_with("--http run"));
    }

    #[test]
    fn object_names_are_kubernetes_names() {
        for (name, expected) in [("  ", "key"), ("a--b", "a-b"), ("Ünïcode!", "n-code"), ("x".repeat(80).as_str(), "")]
        {
            let got = SnippetInput { key_name: name, ..input(&[]) }.object_name();
            if expected.is_empty() {
                assert_eq!(got.len(), 40);
            } else {
                assert_eq!(got, expected, "{name}");
            }
            assert!(got.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
