//! The benchmark guest: the same work `bench/native` does natively, so the two compare.
//!
//! | path | work |
//! |---|---|
//! | `/cpu?n=N` | N rounds of xorshift, answers the result |
//! | `/touch?kib=N` | fills N KiB of fresh memory, answers the sum of its bytes |
//! | anything else | `Hello, kiln!` |

use std::hint::black_box;

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Work;

impl wasi::exports::http::incoming_handler::Guest for Work {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path_and_query = request.path_with_query().unwrap_or_default();
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((&path_and_query, ""));
        let number = query
            .split_once('=')
            .and_then(|(_, n)| n.parse::<u64>().ok())
            .unwrap_or(0);
        let text = match path {
            "/cpu" => xorshift(number).to_string(),
            "/touch" => touch(number as usize * 1024).to_string(),
            _ => "Hello, kiln!\n".to_string(),
        };
        let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
            .expect("valid header");
        let response = OutgoingResponse::new(headers);
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

/// `rounds` rounds of xorshift64 (as `bench/native` computes them).
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

wasi::http::proxy::export!(Work);
