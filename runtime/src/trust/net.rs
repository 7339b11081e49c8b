//! The network a plugin may reach: outgoing HTTP (`wasi:http`) and TCP
//! connections to the hosts it was granted, as `host:port`, and nothing
//! else. A request anywhere else is refused with an error the plugin
//! receives (`HTTP-request-denied`), never a trap; name lookups and UDP stay
//! off, since a lookup alone can carry data to any name server.
//!
//! A granted host *name* is looked up by the host, and the request goes to
//! the address it checked: a name that leads to a loopback, private,
//! link-local or otherwise internal address is refused (only the name
//! `localhost` may lead to loopback), so that a name's owner cannot turn a
//! grant of their server into one of the user's own network. To reach an
//! internal host, grant its address.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// How many HTTP requests one plugin may have open at once (sent, and
/// their responses not yet read to the end or dropped).
pub const MAX_OPEN_REQUESTS: usize = 16;

/// The most bytes one outgoing body holds in the host: one write of at
/// most this many bytes, and one more waiting to be sent.
pub(crate) const BODY_CHUNK_BYTES: usize = 16 << 10;

/// The most bytes of names and values one set of HTTP fields (headers)
/// may hold.
pub(crate) const MAX_FIELDS_BYTES: usize = 16 << 10;

/// One granted `host:port`, the host in lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPort {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl HostPort {
    /// `host:port`, `[v6-address]:port`; `None` for anything else, a
    /// pattern (`*`) included.
    pub(crate) fn parse(text: &str) -> Option<HostPort> {
        let (host, port) = text.rsplit_once(':')?;
        let port = port.parse().ok()?;
        let host = host.to_ascii_lowercase();
        (!host.is_empty() && !host.contains('*')).then_some(HostPort { host, port })
    }

    /// The address, when the host is an IP address.
    fn ip(&self) -> Option<IpAddr> {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        bare.parse().ok()
    }
}

/// What one plugin may reach, and its requests open now. Cloning shares the
/// count of open requests.
#[derive(Debug, Clone)]
pub(crate) struct NetAccess {
    hosts: Arc<[HostPort]>,
    open: Arc<AtomicUsize>,
    wait: Duration,
}

impl NetAccess {
    /// Access to the granted `hosts`; a request's connection and each wait
    /// for its response are bounded by `wait`, the plugin's clock bound.
    pub(crate) fn new(hosts: &[String], wait: Duration) -> NetAccess {
        NetAccess {
            hosts: hosts.iter().filter_map(|h| HostPort::parse(h)).collect(),
            open: Arc::new(AtomicUsize::new(0)),
            wait,
        }
    }

    /// Whether any host was granted.
    pub(crate) fn any(&self) -> bool {
        !self.hosts.is_empty()
    }

    /// Whether `host:port` was granted (`host` as in a URL).
    fn allows(&self, host: &str, port: u16) -> bool {
        self.hosts
            .iter()
            .any(|h| h.port == port && h.host.eq_ignore_ascii_case(host))
    }

    /// Whether a socket may be used this way with `addr`: connecting to a
    /// granted IP address and port, and the implicit bind that comes with
    /// connecting; no listening, no explicit binds, no UDP.
    pub(crate) fn allows_socket(&self, addr: SocketAddr, use_: SocketAddrUse) -> bool {
        match use_ {
            SocketAddrUse::TcpConnect => self
                .hosts
                .iter()
                .any(|h| h.port == addr.port() && h.ip() == Some(addr.ip())),
            SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
            _ => false,
        }
    }

    /// Takes one of the plugin's open-request slots, if one is free.
    fn open_slot(&self) -> Option<OpenSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_OPEN_REQUESTS).then_some(n + 1)
            })
            .ok()
            .map(|_| OpenSlot(self.open.clone()))
    }

    /// `options` with every timeout at most the plugin's clock bound.
    fn bounded(&self, options: Option<RequestOptions>) -> RequestOptions {
        let bound = |t: Option<Duration>| Some(t.map_or(self.wait, |t| t.min(self.wait)));
        let options = options.unwrap_or_default();
        RequestOptions {
            connect_timeout: bound(options.connect_timeout),
            first_byte_timeout: bound(options.first_byte_timeout),
            between_bytes_timeout: bound(options.between_bytes_timeout),
        }
    }
}

/// One open request; frees its slot when the connection ends.
struct OpenSlot(Arc<AtomicUsize>);

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What `send_request` hands back to wasmtime-wasi-http.
type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for NetAccess {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        drop(fut);
        let uri = request.uri();
        // `user@host`: the host checked would not be the one connected to.
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        // Port 443 is granted for HTTPS: plain text is not sent there.
        let plain = uri.scheme() != Some(&http::uri::Scheme::HTTPS);
        if plain && uri.authority().and_then(|a| a.port_u16()) == Some(443) {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let default_port = if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
            443
        } else {
            80
        };
        let granted = uri.authority().is_some_and(|authority| {
            let port = authority.port_u16().unwrap_or(default_port);
            self.allows(authority.host(), port)
        });
        if !granted {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let Some(slot) = self.open_slot() else {
            return Box::new(async { Err(HttpError::ConnectionLimitReached) });
        };
        let options = self.bounded(options);
        let wait = self.wait;
        Box::new(async move {
            let request = pinned(request, wait).await?;
            let (response, connection) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            let connection = async move {
                let _slot = slot;
                connection.await
            };
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(connection) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }

    fn p2_outgoing_body_buffer_chunks(&mut self) -> usize {
        1
    }

    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        BODY_CHUNK_BYTES
    }
}

/// `request` with its host name, when it has one, looked up and replaced
/// by the address checked (its `Host` header keeps the name); refused when
/// the name leads to an internal address. An HTTPS request keeps its name
/// for the certificate check, after its addresses were checked.
async fn pinned(
    request: http::Request<WasiBody>,
    wait: Duration,
) -> Result<http::Request<WasiBody>, HttpError> {
    let uri = request.uri();
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let Some(authority) = uri.authority().cloned() else {
        return Ok(request);
    };
    let host = authority.host().to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return Ok(request);
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let looked_up = tokio::time::timeout(wait, tokio::net::lookup_host((bare, port)))
        .await
        .map_err(|_| HttpError::DnsTimeout)?
        .map_err(|_| dns_error())?;
    let addresses: Vec<SocketAddr> = looked_up.collect();
    let loopback_allowed = host == "localhost";
    let refused = |ip: IpAddr| is_internal(ip) && !(loopback_allowed && ip.is_loopback());
    let Some(address) = addresses.first().copied() else {
        return Err(dns_error());
    };
    if addresses.iter().any(|a| refused(a.ip())) {
        return Err(HttpError::HttpRequestDenied);
    }
    if https {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let mut uri = parts.uri.clone().into_parts();
    uri.authority = Some(
        address
            .to_string()
            .parse()
            .map_err(|_| HttpError::HttpRequestUriInvalid)?,
    );
    parts.uri = http::Uri::from_parts(uri).map_err(|_| HttpError::HttpRequestUriInvalid)?;
    Ok(http::Request::from_parts(parts, body))
}

/// A name that could not be looked up.
fn dns_error() -> HttpError {
    HttpError::DnsError {
        rcode: None,
        info_code: None,
    }
}

/// Whether `ip` is an address of the user's own machine or network, or no
/// address at all: loopback, private, link-local (cloud metadata among
/// them), shared (CGNAT), unique local, unspecified, multicast, broadcast,
/// or one of these written as an IPv4-mapped IPv6 address.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || (a == 192 && b == 0 && c == 0)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            // NAT64 (64:ff9b::/96) carries an IPv4 address.
            None if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] => {
                let [.., a, b, c, d] = v6.octets();
                is_internal(IpAddr::from([a, b, c, d]))
            }
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_told_apart_from_public_ones() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "198.18.0.1",
            "192.0.0.1",
            "240.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "100.128.0.1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    fn request(url: &str) -> http::Request<WasiBody> {
        let body = http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        http::Request::get(url).body(body).unwrap()
    }

    #[tokio::test]
    async fn user_information_and_plain_text_to_port_443_are_refused() {
        let mut net = access(&["api.example.com:443", "127.0.0.1:8080"]);
        for url in ["http://api.example.com:443/", "http://x@127.0.0.1:8080/"] {
            let sent = net.send_request(request(url), None, Box::new(async { Ok(()) }));
            let refused = Box::into_pin(sent).await;
            assert!(
                matches!(refused, Err(HttpError::HttpRequestDenied)),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn a_granted_name_that_leads_to_an_internal_address_is_refused() {
        let wait = Duration::from_secs(5);
        // `localhost` may lead to loopback: the request goes to the address.
        let pinned_to = pinned(request("http://localhost:8080/x"), wait)
            .await
            .unwrap();
        let host = pinned_to.uri().host().unwrap().to_string();
        assert!(host == "127.0.0.1" || host == "[::1]", "{host}");
        assert_eq!(pinned_to.uri().path(), "/x");
        // Another name for the same address may not.
        if std::net::ToSocketAddrs::to_socket_addrs(&("ip6-localhost", 80)).is_ok() {
            let refused = pinned(request("http://ip6-localhost:8080/"), wait).await;
            assert!(
                matches!(refused, Err(HttpError::HttpRequestDenied)),
                "{refused:?}"
            );
        }
        // An address is taken as it is.
        let literal = pinned(request("http://127.0.0.1:8080/"), wait)
            .await
            .unwrap();
        assert_eq!(literal.uri().host(), Some("127.0.0.1"));
    }

    fn access(hosts: &[&str]) -> NetAccess {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        NetAccess::new(&hosts, Duration::from_secs(5))
    }

    #[test]
    fn only_granted_hosts_and_ports_are_allowed() {
        let net = access(&["API.example.com:443", "127.0.0.1:8080", "[::1]:9000"]);
        assert!(net.allows("api.example.com", 443));
        assert!(!net.allows("api.example.com", 80));
        assert!(!net.allows("example.com", 443));
        assert!(net.allows("127.0.0.1", 8080));
        assert!(!net.allows("127.0.0.2", 8080));
        assert!(net.allows("[::1]", 9000));
        assert!(!access(&[]).allows("127.0.0.1", 8080));
    }

    #[test]
    fn sockets_connect_only_to_granted_addresses_and_never_listen() {
        let net = access(&["127.0.0.1:8080", "api.example.com:443"]);
        let granted: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(net.allows_socket(granted, SocketAddrUse::TcpConnect));
        assert!(!net.allows_socket("127.0.0.1:8081".parse().unwrap(), SocketAddrUse::TcpConnect));
        assert!(net.allows_socket("0.0.0.0:0".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!net.allows_socket("0.0.0.0:8080".parse().unwrap(), SocketAddrUse::TcpBind));
        assert!(!net.allows_socket(granted, SocketAddrUse::TcpListen));
        assert!(!net.allows_socket(granted, SocketAddrUse::UdpBind));
        assert!(!net.allows_socket(granted, SocketAddrUse::UdpSend));
    }

    #[test]
    fn open_requests_are_bounded_and_freed() {
        let net = access(&["127.0.0.1:8080"]);
        let slots: Vec<_> = (0..MAX_OPEN_REQUESTS)
            .filter_map(|_| net.open_slot())
            .collect();
        assert_eq!(slots.len(), MAX_OPEN_REQUESTS);
        assert!(net.open_slot().is_none());
        drop(slots);
        assert!(net.open_slot().is_some());
    }

    #[test]
    fn timeouts_are_bounded_by_the_clock_bound() {
        let net = access(&[]);
        let asked = RequestOptions {
            connect_timeout: Some(Duration::from_secs(600)),
            first_byte_timeout: Some(Duration::from_secs(1)),
            between_bytes_timeout: None,
        };
        let bounded = net.bounded(Some(asked));
        assert_eq!(bounded.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(bounded.first_byte_timeout, Some(Duration::from_secs(1)));
        assert_eq!(bounded.between_bytes_timeout, Some(Duration::from_secs(5)));
    }
}
