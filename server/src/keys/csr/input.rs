//! Getting DER out of what a user pasted or uploaded: one PEM block with the right label, or raw DER.

use super::CsrError;

/// A CSR with a 16384-bit RSA key and dozens of names is still far below this; anything larger is not a CSR.
pub const MAX_CSR_BYTES: usize = 64 * 1024;

const ACCEPTED_LABELS: [&str; 2] = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

pub(super) fn decode(input: &[u8]) -> Result<Vec<u8>, CsrError> {
    if input.len() > MAX_CSR_BYTES {
        return Err(CsrError::TooLarge { size: input.len() });
    }
    let trimmed = input.trim_ascii();
    if trimmed.is_empty() {
        return Err(CsrError::Empty);
    }
    // DER is a SEQUENCE; PEM text never starts with byte 0x30 ('0') followed by a length, so check DER on the
    // untrimmed input (trimming could eat a trailing 0x20 byte that belongs to the DER).
    if input.first() == Some(&0x30) {
        return Ok(input.to_vec());
    }
    if !trimmed.starts_with(b"-----BEGIN ") {
        return Err(if contains(trimmed, b"-----BEGIN ") { CsrError::TextAroundPem } else { CsrError::NotACsr });
    }

    let blocks = pem::parse_many(trimmed).map_err(|_| CsrError::BadPem)?;
    let block = match blocks.as_slice() {
        [] => return Err(CsrError::BadPem),
        [one] => one,
        many => return Err(CsrError::MultiplePemBlocks { count: many.len() }),
    };
    let label = block.tag();
    if label.contains("PRIVATE KEY") {
        return Err(CsrError::PrivateKeyPasted);
    }
    if !ACCEPTED_LABELS.contains(&label) {
        return Err(CsrError::WrongPemLabel { label: label.to_owned() });
    }
    if !ends_with_end_line(trimmed, label) {
        return Err(CsrError::TextAroundPem);
    }
    Ok(block.contents().to_vec())
}

/// The trimmed input must end with the block's END line: the pem crate silently ignores trailing text.
fn ends_with_end_line(trimmed: &[u8], label: &str) -> bool {
    let end_line = format!("-----END {label}-----");
    trimmed.ends_with(end_line.as_bytes())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
