//! Opens a raw TCP connection with `wasi:sockets`, for tests of what the host lets out:
//! `GET /?addr=IPV4:PORT` answers `connected`, or `failed: ` and the error code.

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};

struct TcpConnect;

impl wasi::exports::http::incoming_handler::Guest for TcpConnect {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let query = request.path_with_query().unwrap_or_default();
        let addr = query.split_once("addr=").map_or("", |(_, a)| a);
        let text = match parse(addr) {
            Some(address) => match connect(address) {
                Ok(()) => "connected".to_string(),
                Err(code) => format!("failed: {code:?}"),
            },
            None => format!("failed: bad address {addr:?}"),
        };
        let response = OutgoingResponse::new(Fields::new());
        let body = response.body().expect("body is taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().expect("stream is taken once");
        stream
            .blocking_write_and_flush(text.as_bytes())
            .expect("write body");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finish body");
    }
}

fn parse(addr: &str) -> Option<IpSocketAddress> {
    let (ip, port) = addr.split_once(':')?;
    let octets: Vec<u8> = ip.split('.').map(|o| o.parse().ok()).collect::<Option<_>>()?;
    let [a, b, c, d] = octets[..] else { return None };
    Some(IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port: port.parse().ok()?,
        address: (a, b, c, d),
    }))
}

fn connect(address: IpSocketAddress) -> Result<(), wasi::sockets::network::ErrorCode> {
    let network = wasi::sockets::instance_network::instance_network();
    let socket = wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4)?;
    socket.start_connect(&network, address)?;
    socket.subscribe().block();
    let (input, output) = socket.finish_connect()?;
    drop((input, output));
    Ok(())
}

wasi::http::proxy::export!(TcpConnect);
