//! Certificate serial numbers: 128 random bits, encoded as a positive INTEGER (RFC 5280 §4.1.2.2 asks for
//! positive, unique and at most 20 octets; CA/B Forum asks for at least 64 random bits).

use rand::RngCore;
use rcgen::SerialNumber;

/// A fresh random serial. The DER writer adds a leading zero octet when the top bit is set, so all 128 bits
/// stay random and the value is still positive (17 octets at most).
pub fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    loop {
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        // Zero is not a valid serial; 2^-128 odds, but a loop costs nothing.
        if bytes.iter().any(|byte| *byte != 0) {
            return SerialNumber::from_slice(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_sixteen_random_octets() {
        let (a, b) = (random_serial(), random_serial());
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
    }
}
