//! Who is the client: the TCP peer, unless the peer is one of `server.trusted_proxies`; then the right-most
//! address of `X-Forwarded-For` that is not a trusted proxy. Everything left of that was written by the client
//! and proves nothing, so an untrusted peer's header is ignored entirely.

use std::net::IpAddr;

use http::HeaderMap;
use ipnet::IpNet;

pub const FORWARDED_FOR: &str = "x-forwarded-for";

pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |addr: &IpAddr| trusted_proxies.iter().any(|net| net.contains(addr));
    if !trusted(&peer) {
        return peer;
    }
    // Every X-Forwarded-For line, in order, as one list: proxies append to the right.
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(addr) if trusted(&addr) => nearest = addr,
            Ok(addr) => return addr,
            // Garbage can only come from beyond the trusted proxies: the last proxy is all that is known.
            Err(_) => return nearest,
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().unwrap()).collect()
    }

    const PROXY: &str = "10.0.0.5";

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_addr(peer, &headers(&["198.51.100.1"]), &nets(&["10.0.0.0/8"])), peer);
        assert_eq!(client_addr(peer, &headers(&["198.51.100.1"]), &[]), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let peer: IpAddr = PROXY.parse().unwrap();
        let trusted = nets(&["10.0.0.0/8"]);
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        // The client prepended a fake address; the proxy appended the real one.
        assert_eq!(client_addr(peer, &headers(&["1.2.3.4, 198.51.100.7"]), &trusted), client);
        // Two proxies, over two header lines.
        assert_eq!(client_addr(peer, &headers(&["1.2.3.4, 198.51.100.7", "10.0.0.9"]), &trusted), client);
        // Only proxies: the farthest proxy known.
        let far: IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(client_addr(peer, &headers(&["10.0.0.9"]), &trusted), far);
        // No header: the proxy itself.
        assert_eq!(client_addr(peer, &HeaderMap::new(), &trusted), peer);
        // Garbage from the client's side stops the walk at the last proxy.
        assert_eq!(client_addr(peer, &headers(&["not-an-ip"]), &trusted), peer);
        assert_eq!(client_addr(peer, &headers(&["2001:db8::1"]), &trusted), "2001:db8::1".parse::<IpAddr>().unwrap());
    }
}
