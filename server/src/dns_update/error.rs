//! What can go wrong changing or reading TXT records, in words the person running the order can act on.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::tsig::TsigError;

/// Every variant names the server (`id` from `[[dns_servers]]` and its address) so the message stands alone in an
/// order's failure reason or a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsUpdateError {
    #[error("`{name}` is not a valid DNS record name: {reason}; nothing was sent")]
    InvalidName { name: String, reason: String },
    #[error("`{name}` is not inside zone `{zone}` of DNS server `{server}`; nothing was sent")]
    OutsideZone { server: String, name: String, zone: String },
    #[error("the TXT value for `{name}` cannot be published: {reason}; nothing was sent")]
    InvalidValue { name: String, reason: String },
    #[error("the request for DNS server `{server}` cannot be built: {reason}; nothing was sent")]
    Encoding { server: String, reason: String },
    #[error("DNS server `{server}` at {address} is unreachable: {reason}")]
    Unreachable { server: String, address: String, reason: String },
    #[error("DNS server `{server}` at {address} did not answer within {seconds} s")]
    TimedOut { server: String, address: String, seconds: u64 },
    /// NOTAUTH with a TSIG error (RFC 8945 section 5.2): the server does not know the key, or the signature or
    /// time did not verify. Such answers are unsigned by design, so this is what the server claims.
    #[error("DNS server `{server}` at {address}: the TSIG key `{key}` was not accepted ({detail})")]
    KeyRejected { server: String, address: String, key: String, detail: String },
    #[error(
        "DNS server `{server}` at {address} refused to change `{name}` (REFUSED): the server's update policy does not allow this name for key `{key}`"
    )]
    Refused { server: String, address: String, name: String, key: String },
    #[error("DNS server `{server}` at {address} answered {rcode} for `{name}`: {meaning}")]
    Rejected { server: String, address: String, name: String, rcode: String, meaning: String },
    #[error(
        "DNS server `{server}` at {address}: the answer's TSIG signature did not verify ({reason}); it was ignored, so the change may or may not have been made"
    )]
    BadResponseSignature { server: String, address: String, reason: String },
    #[error("DNS server `{server}` at {address} sent an answer that cannot be read: {reason}")]
    Malformed { server: String, address: String, reason: String },
}

impl DnsUpdateError {
    /// Worth trying again later unchanged: the server was down, slow or failing, not refusing.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::TimedOut { .. } => true,
            Self::Rejected { rcode, .. } => rcode == "SERVFAIL",
            _ => false,
        }
    }
}

/// What a TSIG error says about the key, for [`DnsUpdateError::KeyRejected`].
pub(super) fn tsig_error_detail(error: TsigError, algorithm: &str) -> String {
    match error {
        TsigError::BadKey => {
            format!(
                "BADKEY: the server has no key by this name for {algorithm}; check tsig_key_name and tsig_algorithm"
            )
        }
        TsigError::BadSig => "BADSIG: the signature did not verify; check tsig_secret".into(),
        TsigError::BadTime => "BADTIME: the clocks of certdesk and the DNS server differ by more than 5 minutes".into(),
        TsigError::BadTrunc => "BADTRUNC: the server wants a longer MAC".into(),
        TsigError::Unknown(code) => format!("TSIG error {code}"),
    }
}

/// The RFC 1035/2136 mnemonic, as `dig` prints it.
pub(crate) fn rcode_mnemonic(rcode: ResponseCode) -> String {
    let known = match rcode {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        other => return format!("RCODE {}", u16::from(other)),
    };
    known.to_owned()
}

/// The meaning of an RFC 1035/2136 response code other than the ones with their own variant.
pub(super) fn rcode_meaning(rcode: ResponseCode, zone: &str) -> String {
    match rcode {
        ResponseCode::NotAuth => format!("the server is not authoritative for zone `{zone}`; check address and zone"),
        ResponseCode::NotZone => format!("the name is outside zone `{zone}` as the server sees it; check zone"),
        ResponseCode::NotImp => "the server does not implement dynamic updates (RFC 2136)".into(),
        ResponseCode::FormErr => "the server could not parse the request".into(),
        ResponseCode::ServFail => "the server failed to process the request; try again later".into(),
        ResponseCode::YXDomain | ResponseCode::YXRRSet | ResponseCode::NXRRSet => {
            "an update prerequisite did not hold".into()
        }
        other => format!("unexpected response code {}", u16::from(other)),
    }
}
