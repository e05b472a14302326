//! Which CSR signature algorithms are too weak to accept: a CSR signed with a broken hash proves nothing about who
//! holds the key (a collision lets a second request carry the same signature), and tools that still make them are
//! worth telling about.

/// (OID, hash, algorithm name) of every signature algorithm over MD2, MD4, MD5 or SHA-1 a CSR may carry. RSA-PSS
/// over SHA-1 is not listed: certdesk cannot check RSA-PSS with SHA-1 at all and says so.
const WEAK: [(&str, &str, &str); 6] = [
    ("1.2.840.113549.1.1.2", "MD2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.3", "MD4", "md4WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "MD5", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.5", "SHA-1", "sha1WithRSAEncryption"),
    ("1.3.14.3.2.29", "SHA-1", "sha1WithRSASignature"),
    ("1.2.840.10045.4.1", "SHA-1", "ecdsa-with-SHA1"),
];

/// A weak signature algorithm: its hash ("SHA-1") and its name ("sha1WithRSAEncryption").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WeakSignature {
    pub hash: &'static str,
    pub algorithm: &'static str,
}

/// The weak hash of the signature algorithm with this OID ("1.2.840.113549.1.1.5"), if it has one.
pub(super) fn weak(oid: &str) -> Option<WeakSignature> {
    WEAK.iter().find(|(weak_oid, ..)| *weak_oid == oid).map(|(_, hash, algorithm)| WeakSignature { hash, algorithm })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_and_sha1_are_weak_and_sha256_is_not() {
        let weak_one = |oid: &str| weak(oid).map(|weak| (weak.hash, weak.algorithm));
        assert_eq!(weak_one("1.2.840.113549.1.1.5"), Some(("SHA-1", "sha1WithRSAEncryption")));
        assert_eq!(weak_one("1.2.840.113549.1.1.4"), Some(("MD5", "md5WithRSAEncryption")));
        assert_eq!(weak_one("1.2.840.10045.4.1"), Some(("SHA-1", "ecdsa-with-SHA1")));
        assert_eq!(weak_one("1.2.840.113549.1.1.11"), None, "sha256WithRSAEncryption");
        assert_eq!(weak_one("1.2.840.10045.4.3.2"), None, "ecdsa-with-SHA256");
        assert_eq!(weak_one("1.3.101.112"), None, "Ed25519");
    }
}
