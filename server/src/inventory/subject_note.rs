//! The certificate page's line about a subject common name that is not the certificate's first name: a DNS name
//! longer than the 64 characters a common name may have is carried in the subjectAltName only.

use crate::keys::MAX_COMMON_NAME_LEN;

/// Why an issued certificate's subject common name (`subject_common_name`, `None` when it has none) is not
/// `first_name`, the name certdesk lists it under; `None` when it is.
pub(super) fn common_name_note(first_name: &str, subject_common_name: Option<&str>) -> Option<String> {
    let too_long = first_name.chars().count() > MAX_COMMON_NAME_LEN;
    match (subject_common_name, too_long) {
        (Some(common_name), _) if common_name.eq_ignore_ascii_case(first_name) => None,
        (None, true) => Some(format!(
            "The subject has no common name: {first_name} is longer than the {MAX_COMMON_NAME_LEN} characters a \
             common name may have, so it is in the subjectAltName only (as public CAs issue it). TLS clients check \
             the subjectAltName."
        )),
        (None, false) => Some(
            "The subject has no common name (the CSR had none); the names are in the subjectAltName, which is \
             what TLS clients check."
                .to_owned(),
        ),
        (Some(common_name), _) => Some(format!(
            "The subject's common name is {common_name}, not {first_name}; every name is in the subjectAltName, \
             which is what TLS clients check."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_first_name_is_explained_and_a_matching_one_says_nothing() {
        let long = format!("{}.example.test", "a".repeat(63));
        let note = common_name_note(&long, None).unwrap();
        assert!(note.contains("no common name") && note.contains(&long) && note.contains("64"), "{note}");
        assert_eq!(common_name_note("www.example.test", Some("WWW.example.test")), None);
        let csr_without = common_name_note("www.example.test", None).unwrap();
        assert!(csr_without.contains("the CSR had none"), "{csr_without}");
        let other = common_name_note("www.example.test", Some("api.example.test")).unwrap();
        assert!(other.contains("api.example.test"), "{other}");
    }
}
