//! The [`TxtPublisher`] for one `[[dns_servers]]` entry: RFC 2136 updates and TXT queries, each signed with the
//! configured TSIG key (RFC 8945) by hickory-proto, whose signature on the answer must verify before the answer
//! counts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hickory_proto::op::{Message, MessageType, Query, ResponseCode, update_message};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm as HickoryAlgorithm;
use hickory_proto::rr::{Name, RData, Record, RecordSet, RecordType, TSigner};

use super::error::{rcode_meaning, rcode_mnemonic, tsig_error_detail};
use super::name::{is_within, normalize_absolute_name};
use super::transport::{ExchangeError, exchange};
use super::{DnsUpdateError, TxtPublisher};
use crate::config::{ConfigError, DnsServerConfig, TsigAlgorithm};

/// How far apart certdesk's and the server's clocks may be (RFC 8945 recommends 300 s).
const FUDGE_SECONDS: u16 = 300;
/// One TXT character-string holds at most 255 octets; ACME values are 43.
const MAX_TXT_VALUE: usize = 255;

pub struct Rfc2136Publisher {
    id: String,
    address: String,
    zone: String,
    zone_name: Name,
    key_name: String,
    algorithm: TsigAlgorithm,
    signer: TSigner,
    timeout: Duration,
}

/// By hand: `TSigner` holds the key and must never be printed.
impl std::fmt::Debug for Rfc2136Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rfc2136Publisher")
            .field("id", &self.id)
            .field("address", &self.address)
            .field("zone", &self.zone)
            .field("key_name", &self.key_name)
            .field("algorithm", &self.algorithm.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Rfc2136Publisher {
    pub fn new(config: &DnsServerConfig) -> Result<Self, ConfigError> {
        let key = |field: &str| format!("dns_servers `{}`.{field}", config.id);
        let secret = config.tsig_key().ok_or_else(|| ConfigError::invalid(key("tsig_secret"), "not base64"))?;
        let algorithm = match config.tsig_algorithm {
            TsigAlgorithm::HmacSha256 => HickoryAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha384 => HickoryAlgorithm::HmacSha384,
            TsigAlgorithm::HmacSha512 => HickoryAlgorithm::HmacSha512,
        };
        let key_name = absolute(&config.tsig_key_name)
            .ok_or_else(|| ConfigError::invalid(key("tsig_key_name"), "not a DNS name"))?;
        let signer = TSigner::new(secret.to_vec(), algorithm, key_name, FUDGE_SECONDS)
            .map_err(|error| ConfigError::invalid(key("tsig_algorithm"), error.to_string()))?;
        let zone_name = absolute(&config.zone).ok_or_else(|| ConfigError::invalid(key("zone"), "not a DNS name"))?;
        Ok(Self {
            id: config.id.clone(),
            address: config.address.clone(),
            zone: config.zone.clone(),
            zone_name,
            key_name: config.tsig_key_name.clone(),
            algorithm: config.tsig_algorithm,
            signer,
            timeout: config.timeout,
        })
    }

    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The record name normalised and checked to lie inside the zone, before anything is sent.
    fn record_name(&self, record: &str) -> Result<(String, Name), DnsUpdateError> {
        let normalized = normalize_absolute_name(record)
            .map_err(|reason| DnsUpdateError::InvalidName { name: record.to_owned(), reason })?;
        let outside = || DnsUpdateError::OutsideZone {
            server: self.id.clone(),
            name: normalized.clone(),
            zone: self.zone.clone(),
        };
        if !is_within(&normalized, &self.zone) {
            return Err(outside());
        }
        let name = absolute(&normalized)
            .ok_or_else(|| DnsUpdateError::InvalidName { name: record.to_owned(), reason: "not a DNS name".into() })?;
        // hickory's update builders assert this; checked here so a mismatch is an error, never a panic.
        if !self.zone_name.zone_of(&name) {
            return Err(outside());
        }
        Ok((normalized, name))
    }

    fn txt_record(name: &str, owner: Name, value: &str, ttl: u32) -> Result<RecordSet, DnsUpdateError> {
        if value.is_empty() || value.len() > MAX_TXT_VALUE {
            return Err(DnsUpdateError::InvalidValue {
                name: name.to_owned(),
                reason: format!("a TXT value must be 1 to {MAX_TXT_VALUE} bytes, this one is {}", value.len()),
            });
        }
        Ok(RecordSet::from(Record::from_rdata(owner, ttl, RData::TXT(TXT::new(vec![value.to_owned()])))))
    }

    /// Signs `message`, exchanges it and returns the answer once its TSIG verified. Refusals of the key itself
    /// come back unsigned (RFC 8945 section 5.3.2) and are reported as such rather than as a bad signature.
    async fn signed_exchange(&self, mut message: Message) -> Result<Message, DnsUpdateError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default();
        let verifier = message.finalize(&self.signer, now).map_err(|error| self.encode_error(&error))?;
        let request = message.to_vec().map_err(|error| self.encode_error(&error))?;
        let bytes = exchange(&self.address, &request, self.timeout).await.map_err(|error| match error {
            ExchangeError::Unreachable(reason) => {
                DnsUpdateError::Unreachable { server: self.id.clone(), address: self.address.clone(), reason }
            }
            ExchangeError::TimedOut => DnsUpdateError::TimedOut {
                server: self.id.clone(),
                address: self.address.clone(),
                seconds: self.timeout.as_secs(),
            },
        })?;
        let response = Message::from_vec(&bytes).map_err(|error| self.malformed(error.to_string()))?;
        if response.id != message.id || response.message_type != MessageType::Response {
            return Err(self.malformed("the answer belongs to another request".into()));
        }
        match response.signature() {
            Some(tsig) => {
                if let Some(error) = tsig.data.error {
                    return Err(self.key_rejected(tsig_error_detail(error, self.algorithm.as_str())));
                }
            }
            None if response.response_code == ResponseCode::NotAuth => {
                return Err(self.key_rejected("NOTAUTH without a TSIG record".into()));
            }
            None => {
                return Err(DnsUpdateError::BadResponseSignature {
                    server: self.id.clone(),
                    address: self.address.clone(),
                    reason: format!("the answer ({}) carries no TSIG record", rcode_mnemonic(response.response_code)),
                });
            }
        }
        let Some(mut verifier) = verifier else {
            return Err(self.encode_error(&"hickory returned no TSIG verifier"));
        };
        verifier.verify(&bytes).map_err(|error| DnsUpdateError::BadResponseSignature {
            server: self.id.clone(),
            address: self.address.clone(),
            reason: error.to_string(),
        })?;
        Ok(response)
    }

    async fn update(&self, message: Message, name: &str) -> Result<(), DnsUpdateError> {
        let response = self.signed_exchange(message).await?;
        match response.response_code {
            ResponseCode::NoError => Ok(()),
            ResponseCode::Refused => Err(DnsUpdateError::Refused {
                server: self.id.clone(),
                address: self.address.clone(),
                name: name.to_owned(),
                key: self.key_name.clone(),
            }),
            other => Err(self.rejected(name, other, rcode_meaning(other, &self.zone))),
        }
    }

    fn rejected(&self, name: &str, rcode: ResponseCode, meaning: String) -> DnsUpdateError {
        DnsUpdateError::Rejected {
            server: self.id.clone(),
            address: self.address.clone(),
            name: name.to_owned(),
            rcode: rcode_mnemonic(rcode),
            meaning,
        }
    }

    fn key_rejected(&self, detail: String) -> DnsUpdateError {
        DnsUpdateError::KeyRejected {
            server: self.id.clone(),
            address: self.address.clone(),
            key: self.key_name.clone(),
            detail,
        }
    }

    fn malformed(&self, reason: String) -> DnsUpdateError {
        DnsUpdateError::Malformed { server: self.id.clone(), address: self.address.clone(), reason }
    }

    /// Building or signing the request failed, so nothing was sent; not expected with validated input.
    fn encode_error(&self, error: &dyn std::fmt::Display) -> DnsUpdateError {
        DnsUpdateError::Encoding { server: self.id.clone(), reason: error.to_string() }
    }
}

#[async_trait]
impl TxtPublisher for Rfc2136Publisher {
    async fn add_txt(&self, record: &str, value: &str, ttl: u32) -> Result<(), DnsUpdateError> {
        let (normalized, name) = self.record_name(record)?;
        let rrset = Self::txt_record(&normalized, name, value, ttl)?;
        // RFC 2136 section 2.5.1, add to an RRset: other values at the name stay (two orders for one name, or a
        // wildcard and its base domain, need two values at once).
        let message = update_message::append(rrset, self.zone_name.clone(), false, false);
        self.update(message, &normalized).await?;
        tracing::info!(server = %self.id, record = %normalized, "dns-01: TXT value published");
        Ok(())
    }

    async fn remove_txt(&self, record: &str, value: &str) -> Result<(), DnsUpdateError> {
        let (normalized, name) = self.record_name(record)?;
        let rrset = Self::txt_record(&normalized, name, value, 0)?;
        // Section 2.5.4, delete an RR from an RRset: only this value; a value that is not there is ignored.
        let message = update_message::delete_by_rdata(rrset, self.zone_name.clone(), false);
        self.update(message, &normalized).await?;
        tracing::info!(server = %self.id, record = %normalized, "dns-01: TXT value removed");
        Ok(())
    }

    async fn txt_values(&self, record: &str) -> Result<Vec<String>, DnsUpdateError> {
        let (normalized, name) = self.record_name(record)?;
        let mut message = Message::query();
        // The zone's own data, never a cached copy from elsewhere.
        message.metadata.recursion_desired = false;
        message.add_query(Query::query(name.clone(), RecordType::TXT));
        let response = self.signed_exchange(message).await?;
        match response.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            ResponseCode::Refused => {
                return Err(self.rejected(
                    &normalized,
                    ResponseCode::Refused,
                    "the server does not answer certdesk's queries for this zone (allow-query)".into(),
                ));
            }
            other => return Err(self.rejected(&normalized, other, rcode_meaning(other, &self.zone))),
        }
        if !response.authoritative {
            return Err(self.rejected(
                &normalized,
                response.response_code,
                format!("the answer is not authoritative: this server does not serve zone `{}`", self.zone),
            ));
        }
        Ok(response
            .answers
            .iter()
            .filter(|answer| answer.name.zone_of(&name) && name.zone_of(&answer.name))
            .filter_map(|answer| match &answer.data {
                // A value split into several character-strings is one value (RFC 7208 section 3.3 reads them so).
                RData::TXT(txt) => Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect()),
                _ => None,
            })
            .collect())
    }
}

/// `name` as a fully qualified hickory name.
fn absolute(name: &str) -> Option<Name> {
    let mut name = Name::from_ascii(name).ok()?;
    name.set_fqdn(true);
    Some(name)
}
