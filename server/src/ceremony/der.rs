//! The few DER structures rcgen has no builder for (Authority Information Access), written by hand.

/// `id-pe-authorityInfoAccess` (RFC 5280 §4.2.2.1).
pub const OID_AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// DER of `id-ad-caIssuers` (1.3.6.1.5.5.7.48.2), tag and length included.
const CA_ISSUERS: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
const SEQUENCE: u8 = 0x30;
/// GeneralName `uniformResourceIdentifier [6] IMPLICIT IA5String`.
const URI: u8 = 0x86;

/// `AuthorityInfoAccessSyntax` with one caIssuers access description per URL (URLs are ASCII: IA5String).
pub fn authority_info_access(ca_issuers: &[&str]) -> Vec<u8> {
    let descriptions: Vec<u8> =
        ca_issuers.iter().flat_map(|url| tlv(SEQUENCE, &[CA_ISSUERS, &tlv(URI, url.as_bytes())].concat())).collect();
    tlv(SEQUENCE, &descriptions)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let octets: Vec<u8> = length.to_be_bytes().into_iter().skip_while(|octet| *octet == 0).collect();
        out.push(0x80 | octets.len() as u8);
        out.extend(octets);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aia_encodes_short_and_long_lengths() {
        let der = authority_info_access(&["http://x.test/a"]);
        let expected: Vec<u8> = [&[0x30, 0x1d, 0x30, 0x1b][..], CA_ISSUERS, &[0x86, 0x0f], b"http://x.test/a"].concat();
        assert_eq!(der, expected);
        let long = "h".repeat(300);
        let der = authority_info_access(&[&long]);
        // 300 + 4 (URI header) + 10 (OID) = 314 = 0x013a inside, 318 = 0x013e outside.
        assert_eq!(&der[..8], &[0x30, 0x82, 0x01, 0x3e, 0x30, 0x82, 0x01, 0x3a]);
    }
}
