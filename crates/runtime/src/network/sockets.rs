//! `wasi:sockets` under `allowed_outbound_hosts`, as Spin grants them: TCP where an entry's
//! scheme is `tcp` (or `*`), UDP where it is `udp` (or `*`), to the hosts and ports the entry
//! names. An entry naming a host by name allows the addresses that name resolves to, looked up
//! when the guest connects. Binding a local socket is allowed for a protocol that is granted
//! at all (a UDP socket binds before it sends).

use std::net::SocketAddr;
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::WasiCtxBuilder;

use super::allowed_hosts::{AllowedHost, Destination};

/// Lets `wasi` open the sockets `hosts` grant, and nothing else. Made for every instance:
/// it only looks the entries over and shares them with the check, which runs per socket.
pub fn grant(wasi: &mut WasiCtxBuilder, hosts: &Arc<[AllowedHost]>) {
    let grants = |scheme: &str| hosts.iter().any(|h| h.scheme_matches(scheme));
    let (tcp, udp) = (grants("tcp"), grants("udp"));
    let by_name = hosts
        .iter()
        .any(|h| h.host_name().is_some() && (h.scheme_matches("tcp") || h.scheme_matches("udp")));
    let hosts = hosts.clone();
    wasi.allow_tcp(tcp)
        .allow_udp(udp)
        .allow_ip_name_lookup(by_name)
        .socket_addr_check(move |addr, using| {
            let hosts = hosts.clone();
            Box::pin(async move { allowed(&hosts, addr, using).await })
        });
}

/// Whether `hosts` let a guest use `addr` for `using`.
async fn allowed(hosts: &[AllowedHost], addr: SocketAddr, using: SocketAddrUse) -> bool {
    let scheme = match using {
        SocketAddrUse::TcpBind | SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => {
            return hosts.iter().any(|h| h.scheme_matches("tcp"))
        }
        SocketAddrUse::UdpBind => return hosts.iter().any(|h| h.scheme_matches("udp")),
        SocketAddrUse::TcpConnect => "tcp",
        SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => "udp",
    };
    let to = Destination {
        scheme: scheme.to_string(),
        host: addr.ip().to_string(),
        port: Some(addr.port()),
    };
    for host in hosts.iter().filter(|h| h.scheme_matches(scheme)) {
        if host.allows(&to) {
            return true;
        }
        if let Some(name) = host.host_name() {
            let named = Destination {
                host: name.to_string(),
                ..to.clone()
            };
            if host.allows(&named) && resolves_to(name, addr).await {
                return true;
            }
        }
    }
    false
}

/// Whether the host `name` resolves to `addr`'s IP address.
async fn resolves_to(name: &str, addr: SocketAddr) -> bool {
    match tokio::net::lookup_host((name, addr.port())).await {
        Ok(mut found) => found.any(|a| a.ip() == addr.ip()),
        Err(_) => false,
    }
}
