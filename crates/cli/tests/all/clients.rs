//! Clients kiln does not trust: oversized heads, malformed requests, heads sent byte by byte,
//! idle connections by the dozen; and the ones it serves well: keep-alive, pipelining, h2c,
//! and a graceful stop that lets in-flight requests finish.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kiln_test_guests::{HTTP_FAULTS, HTTP_HELLO, HTTP_WORK};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util::{request, Server};

/// Writes `raw` on a new connection and reads what comes back until kiln closes it (or 10 s).
async fn exchange(server: &Server, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(raw).await.unwrap();
    read_until_closed(&mut stream).await
}

async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn oversized_and_malformed_requests_get_431_and_400() {
    let server = Server::start(&["serve", HTTP_HELLO]);
    let big = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(100 << 10)
    );
    let answer = exchange(&server, big.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let answer = exchange(&server, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(server.get("/").await.status, 200);
}

#[tokio::test]
async fn a_client_that_sends_its_head_byte_by_byte_is_cut_off() {
    let server = Server::start(&["serve", "--header-read-timeout", "1s", HTTP_HELLO]);
    let mut slow = TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = b"GET / HTTP/1.1\r\nhost: slow\r\nx-padding: 0123456789\r\n\r\n";
    let mut closed = false;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
        // Other clients are served meanwhile.
        assert_eq!(server.get("/").await.status, 200);
    }
    assert!(closed, "kiln waited for the whole slow head");
}

#[tokio::test]
async fn idle_connections_are_bounded_and_then_closed() {
    let server = Server::start(&[
        "serve",
        "--max-connections",
        "4",
        "--header-read-timeout",
        "1s",
        HTTP_HELLO,
    ]);
    let address = server.url.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    // A fifth client waits until kiln closes an idle connection, then is served.
    let response = tokio::time::timeout(Duration::from_secs(10), server.get("/"))
        .await
        .expect("the fifth client was never served");
    assert_eq!(response.status, 200);
    for mut stream in idle {
        assert_eq!(read_until_closed(&mut stream).await, "");
    }
}

#[tokio::test]
async fn keep_alive_and_pipelining_serve_every_request_in_order() {
    let server = Server::start(&["serve", HTTP_WORK]);
    let pipelined = "GET /touch?kib=1 HTTP/1.1\r\nhost: x\r\n\r\nGET /hello HTTP/1.1\r\nhost: x\r\n\r\nGET /touch?kib=2 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let answer = exchange(&server, pipelined.as_bytes()).await;
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 3, "{answer}");
    // Chunked bodies: each is a chunk-size line, then the chunk.
    let position = |body: &str| answer.find(&format!("\r\n{body}\r\n")).expect(&answer);
    let (first, second, third) = (
        position("1024"),
        position("Hello, kiln!\n"),
        position("2048"),
    );
    assert!(first < second && second < third, "{answer}");
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
    let server = Server::start(&["serve", HTTP_HELLO]);
    let stream = TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let mut answers = Vec::new();
    for _ in 0..3 {
        let request = http::Request::get(format!("{}/", server.url))
            .body(Full::new(Bytes::new()))
            .unwrap();
        answers.push(sender.send_request(request));
    }
    for answer in answers {
        let response = answer.await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "Hello, kiln!\n");
    }
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let mut server = Server::start(&["serve", HTTP_FAULTS]);
    let url = server.url.clone();
    let in_flight =
        tokio::spawn(async move { request(&url, "GET", "/sleep?ms=1500", &[], "").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child().id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success());
    let response = in_flight.await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "slept");
    let status = server.child().wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    // Stopped accepting.
    assert!(TcpStream::connect(server.url.trim_start_matches("http://"))
        .await
        .is_err());
}
