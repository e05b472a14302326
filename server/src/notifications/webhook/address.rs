//! Which addresses a webhook may be delivered to: globally routable unicast only. Every special-purpose range of
//! the IANA IPv4 and IPv6 registries that is not globally reachable is refused, and so is every IPv6 range that
//! embeds an IPv4 address certdesk's network may route to (NAT64, 6to4, Teredo, IPv4-compatible); an IPv4-mapped
//! address is judged by the IPv4 address it maps onto.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(first: u16, second: u16, third: u16, prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(first, second, third, 0, 0, 0, 0, 0), prefix)
}

/// IPv4 ranges that are not a public webhook target (RFC 6890 and the IANA special-purpose registry).
const REFUSED_V4: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),       // "this network", 0.0.0.0
    v4(10, 0, 0, 0, 8),      // private
    v4(100, 64, 0, 0, 10),   // shared address space (carrier-grade NAT)
    v4(127, 0, 0, 0, 8),     // loopback
    v4(169, 254, 0, 0, 16),  // link-local, cloud metadata
    v4(172, 16, 0, 0, 12),   // private
    v4(192, 0, 0, 0, 24),    // IETF protocol assignments
    v4(192, 0, 2, 0, 24),    // documentation
    v4(192, 88, 99, 0, 24),  // 6to4 relay anycast (deprecated)
    v4(192, 168, 0, 0, 16),  // private
    v4(198, 18, 0, 0, 15),   // benchmarking
    v4(198, 51, 100, 0, 24), // documentation
    v4(203, 0, 113, 0, 24),  // documentation
    v4(224, 0, 0, 0, 4),     // multicast
    v4(240, 0, 0, 0, 4),     // reserved, broadcast
];

/// IPv6 ranges that are not a public webhook target. `::ffff:0:0/96` (IPv4-mapped) is not here: it is judged by
/// the IPv4 address it carries.
const REFUSED_V6: [Ipv6Net; 16] = [
    v6(0, 0, 0, 96), // IPv4-compatible (deprecated), with :: and ::1
    Ipv6Net::new_assert(Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, 0, 0), 96), // IPv4-translated (SIIT)
    v6(0x64, 0xff9b, 0, 96), // NAT64, well-known prefix
    v6(0x64, 0xff9b, 1, 48), // NAT64, local use
    v6(0x100, 0, 0, 64), // discard-only
    v6(0x2001, 0, 0, 32), // Teredo (embeds an IPv4 address)
    v6(0x2001, 0x2, 0, 48), // benchmarking
    v6(0x2001, 0x10, 0, 28), // ORCHID (deprecated)
    v6(0x2001, 0xdb8, 0, 32), // documentation
    v6(0x2002, 0, 0, 16), // 6to4 (embeds an IPv4 address)
    v6(0x3fff, 0, 0, 20), // documentation
    v6(0x5f00, 0, 0, 16), // segment routing SIDs
    v6(0xfc00, 0, 0, 7), // unique local
    v6(0xfe80, 0, 0, 10), // link-local
    v6(0xfec0, 0, 0, 10), // site-local (deprecated)
    v6(0xff00, 0, 0, 8), // multicast
];

/// Globally routable, as far as a webhook is concerned.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !REFUSED_V4.iter().any(|range| range.contains(&v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => !REFUSED_V6.iter().any(|range| range.contains(&v6)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        !is_public(text.parse().unwrap())
    }

    #[test]
    fn private_loopback_and_metadata_addresses_are_refused() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn benchmarking_and_documentation_ranges_are_refused() {
        for address in ["198.18.0.1", "198.19.255.254", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.0.0.8"] {
            assert!(refused(address), "{address}");
        }
        for address in ["2001:db8::1", "3fff::1", "2001:2::1"] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn nat64_addresses_are_refused() {
        // 64:ff9b::a00:1 is 10.0.0.1 through a NAT64 gateway; the public ones are refused too (the gateway is ours).
        for address in ["64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::5db8:d822", "64:ff9b:1::1", "64:ff9b:1:ffff::1"]
        {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn six_to_four_and_teredo_addresses_are_refused() {
        // 2002:0a00:0001:: is 6to4 for 10.0.0.1.
        for address in ["2002:a00:1::1", "2002:5db8:d822::1", "2001::1", "2001:0:4136:e378::1"] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn site_local_addresses_are_refused() {
        for address in ["fec0::1", "feff:ffff::1"] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn ipv4_compatible_and_translated_addresses_are_refused() {
        for address in ["::a00:1", "::7f00:1", "::5db8:d822", "::ffff:0:a00:1"] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn ipv4_mapped_addresses_are_judged_by_the_ipv4_address() {
        for address in ["::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:198.18.0.1"] {
            assert!(refused(address), "{address}");
        }
        assert!(is_public("::ffff:93.184.216.34".parse().unwrap()));
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in ["93.184.216.34", "1.1.1.1", "198.20.0.1", "100.128.0.1", "2606:2800:220:1::1", "2a00:1450::1"] {
            assert!(is_public(address.parse().unwrap()), "{address}");
        }
    }
}
