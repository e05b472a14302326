//! The DNS lookups of a validation: A and AAAA (where http-01 and tls-alpn-01 connect) and TXT (dns-01), asked of
//! the configured recursive resolver, or of the `nameserver`s in /etc/resolv.conf, with recursion desired.
//!
//! Over TCP (the `dns_update` transport), never UDP: an off-path attacker cannot spoof an answer into a TCP
//! connection the way it can race a UDP reply, which matters when the answer decides who gets a certificate; and
//! nothing is ever truncated. Nothing is cached: each validation sees the resolver's current answer, as a CA must.
//! /etc/hosts is not read: it is this machine's view of names, not the DNS.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::time::Instant;

use super::ValidationFailure;
use crate::config::ConfigError;
use crate::dns_update::rcode_mnemonic;
use crate::dns_update::transport::{ExchangeError, exchange};

/// glibc reads at most three `nameserver` lines (MAXNS); so does certdesk.
const MAX_SYSTEM_SERVERS: usize = 3;
const RESOLV_CONF: &str = "/etc/resolv.conf";

#[derive(Debug)]
pub(super) struct Resolver {
    /// Asked in order; the next one only when one is unreachable, silent or failing (SERVFAIL, REFUSED).
    servers: Vec<SocketAddr>,
}

/// What one question got, before it is put in words.
#[derive(Debug)]
enum LookupError {
    NxDomain,
    Rcode(ResponseCode),
    TimedOut,
    Unreachable { server: SocketAddr, reason: String },
    Malformed { server: SocketAddr, reason: String },
}

impl Resolver {
    pub(super) fn new(configured: Option<SocketAddr>) -> Result<Self, ConfigError> {
        let servers = match configured {
            Some(server) => vec![server],
            None => match std::fs::read_to_string(RESOLV_CONF) {
                Ok(text) => system_servers(&text),
                // resolv.conf(5): without the file (or a nameserver line) the resolver on this machine is used.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => {
                    return Err(ConfigError::invalid(
                        "acme_validation.resolver",
                        format!("not set, and {RESOLV_CONF} cannot be read ({error}): set it, or fix the file"),
                    ));
                }
            },
        };
        let servers =
            if servers.is_empty() { vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53)] } else { servers };
        Ok(Self { servers })
    }

    /// The addresses of `name`, IPv6 first (as Boulder tries them). Fails only when neither family has one.
    pub(super) async fn addresses(&self, name: &str, deadline: Instant) -> Result<Vec<IpAddr>, ValidationFailure> {
        let query_name = absolute(name)?;
        let (v6, v4) = tokio::join!(
            self.lookup(&query_name, RecordType::AAAA, deadline),
            self.lookup(&query_name, RecordType::A, deadline)
        );
        let mut addresses: Vec<IpAddr> = Vec::new();
        for answer in [&v6, &v4].into_iter().flatten().flatten() {
            match answer {
                RData::AAAA(aaaa) => addresses.push(IpAddr::V6(aaaa.0)),
                RData::A(a) => addresses.push(IpAddr::V4(a.0)),
                _ => {}
            }
        }
        // Nothing listens on these to prove anything; connecting to them would reach this machine or nothing.
        addresses.retain(|ip| !ip.is_unspecified() && !ip.is_multicast() && *ip != IpAddr::V4(Ipv4Addr::BROADCAST));
        let mut unique = Vec::with_capacity(addresses.len());
        for ip in addresses {
            if !unique.contains(&ip) {
                unique.push(ip);
            }
        }
        let addresses = unique;
        if !addresses.is_empty() {
            return Ok(addresses);
        }
        // The A answer speaks for the name unless it was fine and only AAAA failed.
        match (v4, v6) {
            (Err(error), _) => Err(describe(&error, "A", name)),
            (Ok(_), Err(error)) => Err(describe(&error, "AAAA", name)),
            (Ok(_), Ok(_)) => {
                Err(ValidationFailure::dns(format!("DNS problem: no usable A or AAAA record for {name}")))
            }
        }
    }

    /// The TXT values at `name` (each record's character-strings joined, RFC 7208 §3.3); empty when the name
    /// exists without TXT records. NXDOMAIN and resolver failures are `dns` problems.
    pub(super) async fn txt(&self, name: &str, deadline: Instant) -> Result<Vec<Vec<u8>>, ValidationFailure> {
        let query_name = absolute(name)?;
        let answers =
            self.lookup(&query_name, RecordType::TXT, deadline).await.map_err(|error| describe(&error, "TXT", name))?;
        Ok(answers
            .into_iter()
            .filter_map(|answer| match answer {
                RData::TXT(txt) => Some(txt.txt_data.iter().flat_map(|part| part.iter().copied()).collect()),
                _ => None,
            })
            .collect())
    }

    /// The answers of `record_type` for `name`, from the first server that gives a definite answer.
    async fn lookup(&self, name: &Name, record_type: RecordType, deadline: Instant) -> Result<Vec<RData>, LookupError> {
        let mut last = LookupError::TimedOut;
        for (index, server) in self.servers.iter().enumerate() {
            // A silent server may use its share of the time, not all of it: the others still get asked.
            let left = u32::try_from(self.servers.len() - index).unwrap_or(1);
            let budget = deadline.saturating_duration_since(Instant::now()) / left;
            if budget.is_zero() {
                break;
            }
            match ask(*server, name, record_type, budget).await {
                Ok(answers) => return Ok(answers),
                Err(error @ LookupError::NxDomain) => return Err(error),
                Err(error @ LookupError::Rcode(ResponseCode::ServFail | ResponseCode::Refused))
                | Err(
                    error @ (LookupError::TimedOut | LookupError::Unreachable { .. } | LookupError::Malformed { .. }),
                ) => {
                    last = error;
                }
                Err(error) => return Err(error),
            }
        }
        Err(last)
    }
}

/// One question to one server.
async fn ask(
    server: SocketAddr,
    name: &Name,
    record_type: RecordType,
    budget: Duration,
) -> Result<Vec<RData>, LookupError> {
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name.clone(), record_type));
    let malformed = |reason: String| LookupError::Malformed { server, reason };
    let request = message.to_vec().map_err(|error| malformed(format!("the question cannot be encoded: {error}")))?;
    let bytes = exchange(&server.to_string(), &request, budget).await.map_err(|error| match error {
        ExchangeError::TimedOut => LookupError::TimedOut,
        ExchangeError::Unreachable(reason) => LookupError::Unreachable { server, reason },
    })?;
    let response = Message::from_vec(&bytes).map_err(|error| malformed(format!("unreadable answer: {error}")))?;
    let same_question = response.queries.len() == 1
        && response.queries[0].name == *name
        && response.queries[0].query_type == record_type;
    if response.id != message.id || response.message_type != MessageType::Response || !same_question {
        return Err(malformed("the answer belongs to another question".into()));
    }
    match response.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Err(LookupError::NxDomain),
        other => return Err(LookupError::Rcode(other)),
    }
    // A CNAME chain comes with the records it ends at; only those of the asked type count.
    Ok(response
        .answers
        .into_iter()
        .filter(|answer| answer.record_type() == record_type)
        .map(|answer| answer.data)
        .collect())
}

/// The wording Let's Encrypt uses, so operators recognise it.
fn describe(error: &LookupError, record_type: &str, name: &str) -> ValidationFailure {
    let detail = match error {
        LookupError::NxDomain => {
            format!(
                "DNS problem: NXDOMAIN looking up {record_type} for {name} - check that a DNS record exists for this domain"
            )
        }
        LookupError::Rcode(rcode) => format!(
            "DNS problem: {} looking up {record_type} for {name} - the domain's nameservers may be malfunctioning",
            rcode_mnemonic(*rcode)
        ),
        LookupError::TimedOut => format!("DNS problem: query timed out looking up {record_type} for {name}"),
        LookupError::Unreachable { server, reason } => {
            format!(
                "DNS problem: the resolver {server} cannot be reached looking up {record_type} for {name}: {reason}"
            )
        }
        LookupError::Malformed { server, reason } => {
            format!("DNS problem: the resolver {server} looking up {record_type} for {name}: {reason}")
        }
    };
    ValidationFailure::dns(detail)
}

fn absolute(name: &str) -> Result<Name, ValidationFailure> {
    let mut parsed =
        Name::from_ascii(name).map_err(|error| ValidationFailure::dns(format!("DNS problem: `{name}`: {error}")))?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

/// The `nameserver` addresses of a resolv.conf, port 53, in order; lines certdesk cannot use (an IPv6 address with
/// a `%interface` zone) are skipped.
fn system_servers(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next()).flatten()
        })
        .filter_map(|address| address.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .take(MAX_SYSTEM_SERVERS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_are_read_in_order_at_most_three() {
        let text = "# generated\nsearch corp.example\nnameserver 10.0.0.2\n;nameserver 10.9.9.9\n\
                    nameserver   fd00::53  \nnameserver fe80::1%eth0\noptions ndots:2\nnameserver 10.0.0.3\n\
                    nameserver 10.0.0.4\n";
        let servers: Vec<String> = system_servers(text).iter().map(ToString::to_string).collect();
        assert_eq!(servers, ["10.0.0.2:53", "[fd00::53]:53", "10.0.0.3:53"]);
        assert!(system_servers("search example\n").is_empty());
    }

    #[test]
    fn the_configured_resolver_wins_and_the_machine_is_the_fallback() {
        let configured: SocketAddr = "127.0.0.1:8053".parse().unwrap();
        assert_eq!(Resolver::new(Some(configured)).unwrap().servers, [configured]);
        assert!(!Resolver::new(None).unwrap().servers.is_empty());
    }
}
