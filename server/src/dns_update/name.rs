//! Names as a DNS server sees them: absolute record, zone and key names, lower case without the trailing dot,
//! and whether a name lies inside a zone.

/// RFC 1035 limits: 63 octets a label, 253 characters for the dotted name without its trailing dot.
const MAX_LABEL: usize = 63;
const MAX_NAME: usize = 253;

/// Lower-cases `value` and drops one trailing dot. Labels are letters, digits, `-` and `_` (record names such as
/// `_acme-challenge.www.example.com` and zones delegated for them have underscores); the root alone is refused.
/// The error says what is wrong, for a message that also names the setting or the record.
pub fn normalize_absolute_name(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed).to_ascii_lowercase();
    if name.is_empty() {
        return Err("the name is empty (the root zone cannot be updated)".into());
    }
    if name.len() > MAX_NAME {
        return Err(format!("longer than {MAX_NAME} characters"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row, or a leading dot)".into());
        }
        if label.len() > MAX_LABEL {
            return Err(format!("the label `{label}` is longer than {MAX_LABEL} characters"));
        }
        if let Some(bad) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
            return Err(format!(
                "`{bad}` is not allowed in a label (letters, digits, '-' and '_'; internationalised names in their \
                 xn-- form)"
            ));
        }
    }
    Ok(name)
}

/// Whether `name` is `zone` or below it, on a label boundary (`evil-zone.test` is not inside `zone.test`). Both
/// are normalised already.
pub fn is_within(name: &str, zone: &str) -> bool {
    name == zone || name.strip_suffix(zone).is_some_and(|head| head.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_without_the_trailing_dot() {
        assert_eq!(
            normalize_absolute_name("_ACME-Challenge.WWW.Example.com.").unwrap(),
            "_acme-challenge.www.example.com"
        );
        assert_eq!(normalize_absolute_name(" certdesk-acme ").unwrap(), "certdesk-acme");
        // 128 labels of one letter: 255 characters, 254 without the trailing dot.
        for bad in ["", ".", "a..b", ".a", "a b.test", "*.example.com", "é.test", &"a".repeat(64), &"a.".repeat(128)] {
            assert!(normalize_absolute_name(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn inside_a_zone_means_on_a_label_boundary() {
        assert!(is_within("dns01.certdesk.test", "dns01.certdesk.test"));
        assert!(is_within("_acme-challenge.www.dns01.certdesk.test", "dns01.certdesk.test"));
        assert!(!is_within("evil-dns01.certdesk.test", "dns01.certdesk.test"));
        assert!(!is_within("certdesk.test", "dns01.certdesk.test"));
    }
}
