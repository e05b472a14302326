//! ACME requests as JWS (RFC 7515, RFC 8555 §6.2): the flattened JSON serialization only, no unprotected header,
//! a protected header naming a supported algorithm, exactly one of `jwk` and `kid`, and a signature that verifies.
//! Pure: the nonce and the account behind a `kid` are checked by `request`, which reads the database.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use super::jwk::{Algorithm, PublicJwk, SUPPORTED_ALGORITHMS};
use super::problem::AcmeError;

/// The three members of a flattened JWS; anything else (`header`, `signatures`) is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlattened {
    protected: String,
    payload: String,
    signature: String,
}

/// The protected header members ACME uses; others are ignored, as RFC 7515 allows.
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectedHeader {
    pub alg: String,
    pub jwk: Option<Value>,
    pub kid: Option<String>,
    pub nonce: Option<String>,
    pub url: Option<String>,
}

/// A decoded flattened JWS, not yet verified.
#[derive(Debug, Clone)]
pub struct Flattened {
    pub header: ProtectedHeader,
    /// Empty for POST-as-GET.
    pub payload: Vec<u8>,
    /// `protected || '.' || payload`, as sent: what the signature covers.
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

/// Who signed a request: a new key (newAccount) or an existing account (its URL).
#[derive(Debug, Clone)]
pub enum Signer {
    Jwk { key: PublicJwk, jwk: Value },
    Kid(String),
}

fn part(name: &str, text: &str) -> Result<Vec<u8>, AcmeError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| AcmeError::malformed(format!("the JWS `{name}` is not base64url without padding")))
}

impl Flattened {
    pub fn parse(body: &[u8]) -> Result<Self, AcmeError> {
        let raw: RawFlattened = serde_json::from_slice(body).map_err(|error| {
            AcmeError::malformed(format!(
                "the body is not a JWS in the flattened JSON serialization (exactly `protected`, `payload` and \
                 `signature`): {error}"
            ))
        })?;
        Self::from_raw(raw)
    }

    /// The inner JWS of an External Account Binding, a JSON value inside the newAccount payload.
    pub fn from_value(value: &Value) -> Result<Self, AcmeError> {
        let raw: RawFlattened = serde_json::from_value(value.clone())
            .map_err(|error| AcmeError::malformed(format!("externalAccountBinding is not a flattened JWS: {error}")))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawFlattened) -> Result<Self, AcmeError> {
        let header_bytes = part("protected", &raw.protected)?;
        let header: ProtectedHeader = serde_json::from_slice(&header_bytes).map_err(|error| {
            AcmeError::malformed(format!("the JWS protected header is not the JSON object ACME expects: {error}"))
        })?;
        let payload = part("payload", &raw.payload)?;
        let signature = part("signature", &raw.signature)?;
        let signing_input = format!("{}.{}", raw.protected, raw.payload).into_bytes();
        Ok(Self { header, payload, signing_input, signature })
    }

    /// The account signature algorithm; `none`, the HMAC algorithms and anything unknown are refused.
    pub fn algorithm(&self) -> Result<Algorithm, AcmeError> {
        Algorithm::parse(&self.header.alg).ok_or_else(|| {
            AcmeError::BadSignatureAlgorithm(format!(
                "JWS algorithm `{}` is not accepted; use one of {}",
                self.header.alg,
                SUPPORTED_ALGORITHMS.join(", ")
            ))
        })
    }

    /// Exactly one of `jwk` (a new key) and `kid` (an account URL).
    pub fn signer(&self) -> Result<Signer, AcmeError> {
        match (&self.header.jwk, &self.header.kid) {
            (Some(jwk), None) => {
                let key = PublicJwk::parse(jwk)
                    .map_err(|error| AcmeError::malformed(format!("the JWS `jwk` is refused: {error}")))?;
                Ok(Signer::Jwk { key, jwk: jwk.clone() })
            }
            (None, Some(kid)) => Ok(Signer::Kid(kid.clone())),
            (Some(_), Some(_)) => {
                Err(AcmeError::malformed("the JWS protected header has both `jwk` and `kid`; send exactly one"))
            }
            (None, None) => Err(AcmeError::malformed("the JWS protected header has neither `jwk` nor `kid`")),
        }
    }

    /// Verifies the signature by `key` under the header's algorithm.
    pub fn verify(&self, key: &PublicJwk) -> Result<(), AcmeError> {
        let algorithm = self.algorithm()?;
        if key.verifies(algorithm, &self.signing_input, &self.signature) {
            Ok(())
        } else {
            Err(AcmeError::malformed(format!(
                "the JWS signature does not verify with the {} key under {}",
                if self.header.kid.is_some() { "account's" } else { "`jwk`" },
                self.header.alg
            )))
        }
    }

    /// What the MAC of an External Account Binding covers, and the MAC itself.
    pub fn mac_parts(&self) -> (&[u8], &[u8]) {
        (&self.signing_input, &self.signature)
    }

    /// The payload as JSON; an empty payload (POST-as-GET) is `None`.
    pub fn json_payload(&self) -> Result<Option<Value>, AcmeError> {
        if self.payload.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&self.payload)
            .map(Some)
            .map_err(|error| AcmeError::malformed(format!("the JWS payload is not JSON: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn body(header: &Value, payload: &str) -> Vec<u8> {
        json!({ "protected": b64(header.to_string().as_bytes()), "payload": b64(payload.as_bytes()),
                "signature": b64(b"sig") })
        .to_string()
        .into_bytes()
    }

    fn detail(error: AcmeError) -> String {
        error.to_string()
    }

    #[test]
    fn a_flattened_jws_decodes_and_covers_protected_dot_payload() {
        let header = json!({ "alg": "ES256", "kid": "https://x/acme/a/account/1", "nonce": "n", "url": "https://x" });
        let jws = Flattened::parse(&body(&header, "{}")).unwrap();
        assert_eq!(jws.header.kid.as_deref(), Some("https://x/acme/a/account/1"));
        assert_eq!(jws.json_payload().unwrap(), Some(json!({})));
        let (input, signature) = jws.mac_parts();
        assert!(input.starts_with(b64(header.to_string().as_bytes()).as_bytes()));
        assert_eq!(signature, b"sig");
        assert!(matches!(jws.signer().unwrap(), Signer::Kid(_)));
        let empty = Flattened::parse(&body(&header, "")).unwrap();
        assert_eq!(empty.json_payload().unwrap(), None, "POST-as-GET");
    }

    #[test]
    fn other_serializations_and_bad_headers_are_malformed() {
        let compact = b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln";
        assert!(detail(Flattened::parse(compact).unwrap_err()).contains("flattened"));
        let general = json!({ "payload": "e30", "signatures": [] }).to_string();
        assert!(matches!(Flattened::parse(general.as_bytes()), Err(AcmeError::Malformed(_))));
        let unprotected = json!({ "protected": "e30", "payload": "e30", "signature": "c2ln", "header": {} });
        assert!(detail(Flattened::parse(unprotected.to_string().as_bytes()).unwrap_err()).contains("header"));
        let padded = json!({ "protected": "e30=", "payload": "e30", "signature": "c2ln" }).to_string();
        assert!(detail(Flattened::parse(padded.as_bytes()).unwrap_err()).contains("`protected`"));
        let both = json!({ "alg": "ES256", "kid": "k", "jwk": { "kty": "EC" } });
        assert!(detail(Flattened::parse(&body(&both, "")).unwrap().signer().unwrap_err()).contains("both"));
        let neither = json!({ "alg": "ES256" });
        assert!(detail(Flattened::parse(&body(&neither, "")).unwrap().signer().unwrap_err()).contains("neither"));
    }

    #[test]
    fn none_and_hmac_algorithms_are_bad_signature_algorithms() {
        for alg in ["none", "HS256", "RS1", ""] {
            let jws = Flattened::parse(&body(&json!({ "alg": alg, "kid": "k" }), "")).unwrap();
            assert!(matches!(jws.algorithm(), Err(AcmeError::BadSignatureAlgorithm(_))), "{alg}");
        }
    }
}
