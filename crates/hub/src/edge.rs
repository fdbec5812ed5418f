//! What the hub takes from the network's edge: at most so many connections at once, and whose
//! word it takes for a client's address.
//!
//! - **A connection cap.** Each connection holds a permit for as long as it is open; one over
//!   [`Edge::max_connections`] is closed as soon as it is accepted, so that a stranger opening
//!   connections cannot take all of the hub's memory and file descriptors. The live feed's
//!   WebSockets count too: size the cap for every workstation and browser and then some.
//! - **Trusted proxies.** Behind a reverse proxy every request comes from the proxy's address,
//!   and the log-in limiter would count every client as one. The hub believes the client address
//!   header ([`Edge::client_ip_header`], `X-Forwarded-For` by default) only from the proxies IT
//!   names ([`Edge::trusted_proxies`]), and in it the right-most address that is not itself such
//!   a proxy: a client can prepend what it likes to the header, never append.

use axum::http::HeaderMap;
use axum_server::accept::Accept;
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

/// The hub's edge: see the module.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Connections open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
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
            trusted_proxies: Vec::new(),
            client_ip_header: "x-forwarded-for".into(),
        }
    }
}

impl Edge {
    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
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

/// One address in a client address header: `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443`
/// or `203.0.113.7:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// Accepts connections while fewer than the cap are open (see the module); wraps another
/// acceptor (TLS's) or none.
#[derive(Debug, Clone)]
pub struct ConnectionCap<A = axum_server::accept::DefaultAcceptor> {
    inner: A,
    open: Arc<Semaphore>,
    refused: Arc<AtomicU64>,
}

impl ConnectionCap {
    pub fn new(max: usize) -> Self {
        Self {
            inner: axum_server::accept::DefaultAcceptor,
            open: Arc::new(Semaphore::new(max.max(1))),
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
            refused: self.refused,
        }
    }
}

impl<A, I, S> Accept<I, S> for ConnectionCap<A>
where
    A: Accept<I, S> + Clone + Send + 'static,
    A::Future: Send,
    I: Send + 'static,
    S: Send + 'static,
{
    type Stream = Capped<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let permit = self.open.clone().try_acquire_owned();
        let (inner, refused) = (self.inner.clone(), self.refused.clone());
        Box::pin(async move {
            let Ok(permit) = permit else {
                let count = refused.fetch_add(1, Ordering::Relaxed) + 1;
                if count.is_power_of_two() {
                    tracing::warn!(
                        refused = count,
                        "connections closed: the hub has as many open as it takes (max_connections)"
                    );
                }
                return Err(io::Error::other("over the connection cap"));
            };
            let (stream, service) = inner.accept(stream, service).await?;
            Ok((
                Capped {
                    stream,
                    _permit: permit,
                },
                service,
            ))
        })
    }
}

/// A connection holding its place under the cap until it closes.
#[derive(Debug)]
pub struct Capped<S> {
    stream: S,
    _permit: OwnedSemaphorePermit,
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
