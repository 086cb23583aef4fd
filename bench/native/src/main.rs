//! A plain hyper server doing what the `http_work` guest does (`/cpu?n=N`, `/touch?kib=N`,
//! else hello), so `bench/run` can put kiln beside native code.
//! Usage: `kiln-bench-native ADDR`.

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8300".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("Serving http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|request: hyper::Request<_>| async move {
                Ok::<_, Infallible>(answer(request.uri()))
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(uri: &hyper::Uri) -> hyper::Response<Full<Bytes>> {
    let number = uri
        .query()
        .and_then(|q| q.split_once('='))
        .and_then(|(_, n)| n.parse::<u64>().ok())
        .unwrap_or(0);
    let text = match uri.path() {
        "/cpu" => xorshift(number).to_string(),
        "/touch" => touch(number as usize * 1024).to_string(),
        _ => "Hello, kiln!\n".to_string(),
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

/// `rounds` rounds of xorshift64, as the guest computes them.
fn xorshift(rounds: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15u64);
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Writes `bytes` fresh bytes and sums them.
fn touch(bytes: usize) -> u64 {
    let buffer = black_box(vec![1u8; bytes]);
    buffer.iter().map(|b| u64::from(*b)).sum()
}
