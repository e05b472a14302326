//! PEM text encoding into zeroizing buffers, so that private keys never sit in ordinary heap strings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Encodes `der` as one PEM block (LF line endings, 64-column base64). Both buffers are sized up front:
/// a growing `String` would leave copies of the secret behind in freed allocations.
pub(crate) fn encode_pem(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64_len = der.len().div_ceil(3) * 4;
    let mut b64 = Zeroizing::new(String::with_capacity(b64_len));
    STANDARD.encode_string(der, &mut b64);

    let frame = "-----BEGIN -----\n".len() + "-----END -----\n".len() + 2 * label.len();
    let mut out = Zeroizing::new(String::with_capacity(frame + b64_len + b64_len.div_ceil(64)));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.extend(line.iter().map(|b| char::from(*b)));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}
