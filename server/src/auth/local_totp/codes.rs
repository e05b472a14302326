//! The arithmetic of the local second factor, free of I/O: RFC 6238 codes with their time step (so a code is
//! never accepted twice), the enrolment QR code, one-time recovery codes and the lockout rule. Time is passed in.

use std::time::Duration;

use qrcode::QrCode;
use qrcode::render::svg;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

/// Authenticator apps expect SHA-1, six digits and 30-second steps; anything else is poorly supported.
const STEP_SECONDS: i64 = 30;
const DIGITS: usize = 6;
/// 160 bits, the RFC 4226 recommendation.
const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;
/// 80 random bits per recovery code: out of reach of guessing, so a plain SHA-256 suffices for storage.
const RECOVERY_CODE_BYTES: usize = 10;
/// Wrong codes in a row before the factor locks, and for how long.
pub const LOCK_AFTER_FAILURES: i32 = 5;
pub const LOCK_FOR: Duration = Duration::from_secs(15 * 60);
pub const ISSUER: &str = "certdesk";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Valid for this time step, which is later than any step used before.
    Accepted {
        step: i64,
    },
    /// Valid, but for a step already used: a replayed code.
    Replayed,
    Wrong,
    /// Not six digits.
    Malformed,
}

pub fn new_secret() -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0_u8; SECRET_BYTES]);
    rand::thread_rng().fill_bytes(&mut secret);
    secret
}

/// Base32 as authenticator apps show and accept it when typed in by hand.
pub fn secret_base32(secret: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(base32_encode(secret))
}

/// The `otpauth://` URI of the enrolment QR code. The account label is the person's name without `:`, which
/// the URI format reserves.
pub fn otpauth_uri(secret: &[u8], account: &str) -> Zeroizing<String> {
    let label: String = account.chars().filter(|c| *c != ':' && !c.is_control()).take(64).collect();
    let label = if label.trim().is_empty() { "certdesk user".to_owned() } else { label };
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS as u64,
        secret.to_vec(),
        Some(ISSUER.into()),
        label,
    );
    Zeroizing::new(totp.get_url())
}

/// The QR code of `uri` as an inline SVG; `None` only if the URI were too long for a QR code.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    Some(code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

fn code_for_step(secret: &[u8], step: i64) -> String {
    let totp =
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS as u64, secret.to_vec(), None, String::new());
    totp.generate((step.max(0) * STEP_SECONDS) as u64)
}

pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Six digits (spaces ignored): only such input is worth checking, and counting towards the lock.
pub fn is_well_formed(code: &str) -> bool {
    let mut digits = 0;
    for c in code.chars().filter(|c| !c.is_whitespace()) {
        if !c.is_ascii_digit() {
            return false;
        }
        digits += 1;
    }
    digits == DIGITS
}

/// Checks `code` against the steps around `now` (one step either side, for clock drift and typing time).
pub fn check_code(secret: &[u8], code: &str, now_unix: i64, last_used_step: i64) -> CodeCheck {
    if !is_well_formed(code) {
        return CodeCheck::Malformed;
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let current = step_at(now_unix);
    let mut replayed = false;
    for step in [current - 1, current, current + 1] {
        if bool::from(code_for_step(secret, step).as_bytes().ct_eq(code.as_bytes())) {
            if step > last_used_step {
                return CodeCheck::Accepted { step };
            }
            replayed = true;
        }
    }
    if replayed { CodeCheck::Replayed } else { CodeCheck::Wrong }
}

/// Fresh recovery codes as shown to the person: `xxxx-xxxx-xxxx-xxxx` in lower-case base32.
pub fn new_recovery_codes() -> Vec<Zeroizing<String>> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0_u8; RECOVERY_CODE_BYTES];
            rand::thread_rng().fill_bytes(&mut bytes);
            let plain = base32_encode(&bytes).to_ascii_lowercase();
            let groups: Vec<&str> = (0..plain.len()).step_by(4).map(|i| &plain[i..(i + 4).min(plain.len())]).collect();
            Zeroizing::new(groups.join("-"))
        })
        .collect()
}

/// What is stored for a recovery code: SHA-256 of its normalised form (case, spaces and dashes ignored).
pub fn recovery_code_hash(code: &str) -> Vec<u8> {
    let normalised: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    Sha256::digest(normalised.as_bytes()).to_vec()
}

/// Whether the input looks like a recovery code rather than a six-digit TOTP code.
pub fn looks_like_recovery_code(input: &str) -> bool {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 16
}

fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B test secret (ASCII "12345678901234567890"), SHA-1.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // 59 s → 94287082 (8 digits); the six-digit code is its last six digits.
        assert_eq!(code_for_step(RFC_SECRET, step_at(59)), "287082");
        assert_eq!(code_for_step(RFC_SECRET, step_at(1_111_111_109)), "081804");
        assert_eq!(code_for_step(RFC_SECRET, step_at(1_234_567_890)), "005924");
    }

    #[test]
    fn a_code_is_accepted_once_per_step_with_one_step_of_drift() {
        let now = 1_234_567_890;
        let code = code_for_step(RFC_SECRET, step_at(now));
        let CodeCheck::Accepted { step } = check_code(RFC_SECRET, &code, now, 0) else { panic!("not accepted") };
        assert_eq!(step, step_at(now));
        assert_eq!(check_code(RFC_SECRET, &code, now, step), CodeCheck::Replayed);
        assert_eq!(check_code(RFC_SECRET, &code, now + 30, 0), CodeCheck::Accepted { step });
        assert_eq!(check_code(RFC_SECRET, &code, now + 90, 0), CodeCheck::Wrong, "two steps late");
        assert_eq!(
            check_code(RFC_SECRET, &format!("{} {}", &code[..3], &code[3..]), now, 0),
            CodeCheck::Accepted { step }
        );
    }

    #[test]
    fn malformed_and_wrong_codes_are_told_apart() {
        for input in ["", "12345", "1234567", "abcdef", "12 34 5"] {
            assert_eq!(check_code(RFC_SECRET, input, 1_000_000, 0), CodeCheck::Malformed, "{input:?}");
        }
        let now = 1_000_000;
        let right = code_for_step(RFC_SECRET, step_at(now));
        let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(check_code(RFC_SECRET, &wrong, now, 0), CodeCheck::Wrong);
    }

    #[test]
    fn enrolment_uri_and_qr_code_carry_the_secret_for_authenticator_apps() {
        let secret = new_secret();
        assert_eq!(secret.len(), 20);
        let uri = otpauth_uri(&secret, "Carol: Tester");
        assert!(uri.starts_with("otpauth://totp/certdesk:Carol%20Tester?"), "{}", uri.as_str());
        assert!(uri.contains(&format!("secret={}", secret_base32(&secret).as_str())));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_match_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<&str> = codes.iter().map(|code| code.as_str()).collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = codes[0].as_str();
        assert_eq!(code.len(), 19);
        assert!(looks_like_recovery_code(code));
        assert_eq!(recovery_code_hash(code), recovery_code_hash(&code.to_uppercase().replace('-', " ")));
        assert_ne!(recovery_code_hash(code), recovery_code_hash(codes[1].as_str()));
        assert!(!looks_like_recovery_code("123456"));
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}
