//! What the hub takes from the network's edge: at most so many connections at once, and whose
//! word it takes for a client's address.
//!
//! - **A connection cap.** Each connection holds a place for as long as it is open; one over
//!   [`Edge::max_connections`], or over [`Edge::max_connections_per_client`] from one client,
//!   is closed as soon as it is accepted, so that a stranger opening connections can take
//!   neither all of the hub's memory and file descriptors nor every place. The live feed's
//!   WebSockets count too: size the cap for every workstation and browser and then some (and
//!   the process's file descriptor limit above it: the service unit sets 65536).
//! - **Trusted proxies.** Behind a reverse proxy every request comes from the proxy's address,
//!   and the log-in limiter would count every client as one. The hub believes the client address
//!   header ([`Edge::client_ip_header`], `X-Forwarded-For` by default) only from the proxies IT
//!   names ([`Edge::trusted_proxies`]), and in it the right-most address that is not itself such
//!   a proxy: a client can prepend what it likes to the header, never append.

use axum::http::HeaderMap;
use axum_server::accept::Accept;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections open at once by default.
pub const MAX_CONNECTIONS: usize = 4096;
/// Connections open at once from one client by default: a workstation holds a few (its feed,
/// requests, video), a browser console up to a dozen, and a control room behind one NAT
/// address or a proxy not listed as trusted all of theirs together.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 256;

/// The hub's edge: see the module.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Connections open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Connections open at once from one client (an address, or an IPv6 /64), so that one
    /// stranger cannot take every place; trusted proxies are not held to it.
    pub max_connections_per_client: usize,
    /// Proxies whose client address header the hub believes.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The header those proxies put the client's address in: `X-Forwarded-For` (a list, the
    /// nearest last) or a header with one address (`X-Real-IP`).
    pub client_ip_header: String,
}

impl Default for Edge {
    fn default() -> Self {
        Self {
            max_connections: MAX_CONNECTIONS,
            max_connections_per_client: MAX_CONNECTIONS_PER_CLIENT,
            trusted_proxies: Vec::new(),
            client_ip_header: "x-forwarded-for".into(),
        }
    }
}

impl Edge {
    fn trusted(&self, ip: IpAddr) -> bool {
        among(&self.trusted_proxies, ip)
    }

    /// The client a request is from: `peer` (the connection's address), or, when `peer` is a
    /// trusted proxy, the right-most address in the client address header that is not a trusted
    /// proxy. A missing or unreadable header leaves the last proxy as the client: requests it
    /// cannot place all count as one, never as someone they name.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let mut hops = Vec::new();
        // Several headers are one list, in order; one that is not text ends the trust.
        for value in headers.get_all(self.client_ip_header.as_str()) {
            match value.to_str() {
                Ok(text) => hops.extend(text.split(',')),
                Err(_) => return client,
            }
        }
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.trusted(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// Whether `ip` is in one of `nets`, an IPv4 peer seen as an IPv4-mapped IPv6 address (a
/// dual-stack listener) included.
fn among(nets: &[ipnet::IpNet], ip: IpAddr) -> bool {
    let ip = unmapped(ip);
    nets.iter().any(|net| net.contains(&ip))
}

/// An IPv4 address seen as an IPv4-mapped IPv6 address, as IPv4.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// One address in a client address header: `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443`
/// or `203.0.113.7:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// Accepts connections while fewer than the cap are open, and fewer than the per-client cap
/// from the connection's client (its address, or IPv6 /64; trusted proxies are not held to
/// it): see the module. Wraps another acceptor (TLS's) or none.
#[derive(Debug, Clone)]
pub struct ConnectionCap<A = axum_server::accept::DefaultAcceptor> {
    inner: A,
    open: Arc<Semaphore>,
    per_client: usize,
    clients: Clients,
    exempt: Arc<Vec<ipnet::IpNet>>,
    refused: Arc<Refusals>,
}

/// Connections open now per client.
type Clients = Arc<Mutex<HashMap<String, usize>>>;

/// Connections refused, warned of at most every [`WARN_EVERY_S`] seconds.
#[derive(Debug, Default)]
struct Refusals {
    count: AtomicU64,
    last_warned_s: AtomicU64,
}

const WARN_EVERY_S: u64 = 10;

impl Refusals {
    fn one(&self, why: &'static str) {
        let count = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let last = self.last_warned_s.load(Ordering::Relaxed);
        if now >= last + WARN_EVERY_S
            && self
                .last_warned_s
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(refused = count, why, "connections closed at once");
        }
    }
}

impl ConnectionCap {
    pub fn new(edge: &Edge) -> Self {
        Self {
            inner: axum_server::accept::DefaultAcceptor,
            open: Arc::new(Semaphore::new(edge.max_connections.max(1))),
            per_client: edge.max_connections_per_client.max(1),
            clients: Arc::default(),
            exempt: Arc::new(edge.trusted_proxies.clone()),
            refused: Arc::default(),
        }
    }
}

impl<A> ConnectionCap<A> {
    /// The same cap in front of `inner` (a TLS acceptor: the handshake is not even started for
    /// a connection over the cap).
    pub fn before<B>(self, inner: B) -> ConnectionCap<B> {
        ConnectionCap {
            inner,
            open: self.open,
            per_client: self.per_client,
            clients: self.clients,
            exempt: self.exempt,
            refused: self.refused,
        }
    }

    /// A place for a connection from `peer`, or why there is none.
    fn place(&self, peer: Option<IpAddr>) -> Result<Place, &'static str> {
        let permit =
            self.open.clone().try_acquire_owned().map_err(
                |_| "the hub has as many connections open as it takes (max_connections)",
            )?;
        // Trusted proxies carry many clients' connections: they are held to the cap in all
        // only.
        let client = peer
            .filter(|ip| !among(&self.exempt, *ip))
            .map(crate::auth::client_bucket);
        if let Some(client) = &client {
            let mut clients = self.clients.lock();
            let open = clients.entry(client.clone()).or_default();
            if *open >= self.per_client {
                return Err(
                    "one client has as many connections open as it may (max_connections_per_client)",
                );
            }
            *open += 1;
        }
        Ok(Place {
            _permit: permit,
            client: client.map(|c| (c, self.clients.clone())),
        })
    }
}

impl<A, S> Accept<tokio::net::TcpStream, S> for ConnectionCap<A>
where
    A: Accept<tokio::net::TcpStream, S> + Clone + Send + 'static,
    A::Future: Send,
    S: Send + 'static,
{
    type Stream = Capped<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let place = self.place(stream.peer_addr().ok().map(|a| a.ip()));
        let (inner, refused) = (self.inner.clone(), self.refused.clone());
        Box::pin(async move {
            let place = match place {
                Ok(place) => place,
                Err(why) => {
                    refused.one(why);
                    return Err(io::Error::other(why));
                }
            };
            let (stream, service) = inner.accept(stream, service).await?;
            Ok((
                Capped {
                    stream,
                    _place: place,
                },
                service,
            ))
        })
    }
}

/// A connection's place under the caps, given back when it closes.
#[derive(Debug)]
struct Place {
    _permit: OwnedSemaphorePermit,
    client: Option<(String, Clients)>,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((client, clients)) = &self.client {
            let mut clients = clients.lock();
            if let Some(open) = clients.get_mut(client) {
                *open -= 1;
                if *open == 0 {
                    clients.remove(client);
                }
            }
        }
    }
}

/// A connection holding its place under the cap until it closes.
#[derive(Debug)]
pub struct Capped<S> {
    stream: S,
    _place: Place,
}

impl<S: AsyncRead + Unpin> AsyncRead for Capped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Capped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn each_client_has_its_own_cap_but_trusted_proxies_share_the_whole() {
        let edge = Edge {
            max_connections: 12,
            max_connections_per_client: 1,
            trusted_proxies: vec!["10.0.0.0/24".parse().expect("net")],
            ..Edge::default()
        };
        let cap = ConnectionCap::new(&edge);
        let ip = |s: &str| Some(s.parse::<IpAddr>().expect("ip"));
        let first = cap.place(ip("198.51.100.1")).expect("a place");
        assert!(
            cap.place(ip("198.51.100.1")).is_err(),
            "over the client's cap"
        );
        assert!(cap.place(ip("198.51.100.2")).is_ok(), "another client");
        drop(first);
        let again = cap
            .place(ip("198.51.100.1"))
            .expect("given back when it closed");
        // A trusted proxy, also as a dual-stack listener sees it; this machine is a client
        // like any other unless listed.
        let shared: Vec<_> = ["10.0.0.2", "::ffff:10.0.0.2", "10.0.0.3"]
            .iter()
            .flat_map(|peer| [cap.place(ip(peer)), cap.place(ip(peer))])
            .collect();
        assert!(shared.iter().all(Result::is_ok), "{}", shared.len());
        let local = cap.place(ip("127.0.0.1")).expect("a place");
        assert!(
            cap.place(ip("127.0.0.1")).is_err(),
            "this machine is one client"
        );
        drop((again, shared, local));
        assert!(cap.clients.lock().is_empty(), "no count is left behind");
        let all: Vec<_> = (0..12).map(|_| cap.place(ip("10.0.0.2"))).collect();
        assert!(all.iter().all(Result::is_ok));
        assert!(
            cap.place(ip("198.51.100.3")).is_err(),
            "over the cap in all"
        );
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy_and_only_its_own_entry() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let stranger: IpAddr = "198.51.100.9".parse().expect("ip");
        let edge = Edge {
            trusted_proxies: vec!["10.0.0.0/24".parse().expect("net")],
            ..Edge::default()
        };
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Not from a proxy: the header is the client's own claim.
        assert_eq!(edge.client(stranger, &headers(&["203.0.113.7"])), stranger);
        assert_eq!(
            Edge::default().client(proxy, &headers(&["203.0.113.7"])),
            proxy
        );
        // From the proxy: its entry, the last; what the client prepended is ignored.
        assert_eq!(
            edge.client(proxy, &headers(&["1.2.3.4, 203.0.113.7"])),
            ip("203.0.113.7")
        );
        // A chain of trusted proxies is walked back to the first address that is not one.
        assert_eq!(
            edge.client(proxy, &headers(&["203.0.113.7, 10.0.0.9"])),
            ip("203.0.113.7")
        );
        assert_eq!(
            edge.client(proxy, &headers(&["1.2.3.4", "203.0.113.7"])),
            ip("203.0.113.7"),
            "two headers are one list"
        );
        assert_eq!(
            edge.client(proxy, &headers(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        // Missing or garbage: the proxy itself, never a name the garbage could choose.
        assert_eq!(edge.client(proxy, &HeaderMap::new()), proxy);
        assert_eq!(edge.client(proxy, &headers(&["1.2.3.4, nonsense"])), proxy);
        // An IPv4 proxy seen as an IPv4-mapped IPv6 address is still the proxy.
        assert_eq!(
            edge.client(ip("::ffff:10.0.0.2"), &headers(&["203.0.113.7"])),
            ip("203.0.113.7")
        );
    }
}
