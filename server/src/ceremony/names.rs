//! Distinguished names copied from a parsed CSR into rcgen, keeping each attribute's string type so the
//! subject reads exactly as requested.

use rcgen::{DistinguishedName, DnType, DnValue};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::X509Name;

/// Why a CSR's subject (a distinguished name) cannot be copied; DNS names have their own `names::NameError`.
#[derive(Debug, thiserror::Error)]
pub enum SubjectNameError {
    #[error("the subject is empty")]
    Empty,
    #[error("multi-valued RDNs are not supported in the subject")]
    MultiValued,
    #[error("subject attribute {oid} has an unsupported string type or encoding")]
    Unsupported { oid: String },
}

/// rcgen's equivalent of `name`, attribute by attribute and in order.
pub fn distinguished_name(name: &X509Name<'_>) -> Result<DistinguishedName, SubjectNameError> {
    let mut dn = DistinguishedName::new();
    let mut count = 0;
    for rdn in name.iter() {
        let mut attributes = rdn.iter();
        let (Some(attribute), None) = (attributes.next(), attributes.next()) else {
            return Err(SubjectNameError::MultiValued);
        };
        let oid = attribute.attr_type();
        let unsupported = || SubjectNameError::Unsupported { oid: oid.to_id_string() };
        let components: Vec<u64> = oid.iter().ok_or_else(unsupported)?.collect();
        let value = attribute.attr_value();
        let text = || std::str::from_utf8(value.data).map_err(|_| unsupported());
        let value = match value.header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?.to_owned()),
            Tag::PrintableString => DnValue::PrintableString(text()?.try_into().map_err(|_| unsupported())?),
            Tag::Ia5String => DnValue::Ia5String(text()?.try_into().map_err(|_| unsupported())?),
            _ => return Err(unsupported()),
        };
        dn.push(DnType::from_oid(&components), value);
        count += 1;
    }
    if count == 0 {
        return Err(SubjectNameError::Empty);
    }
    Ok(dn)
}
