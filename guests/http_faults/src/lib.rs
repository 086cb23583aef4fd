//! A guest that misbehaves on request, one fault per path, so tests can check that each ends
//! only its own instance:
//!
//! | path | what the guest does |
//! |---|---|
//! | `/ok` (and any other) | 200 `ok` |
//! | `/loop` | loops forever before answering |
//! | `/trap` | executes `unreachable` |
//! | `/panic` | panics |
//! | `/divide` | divides by zero |
//! | `/stack` | recurses until the stack overflows |
//! | `/memory` | allocates until it runs out of memory |
//! | `/slow-body` | sends the head and a first chunk, then never finishes the body |
//! | `/huge-body` | writes an endless body |
//! | `/sleep?ms=N` | waits N milliseconds (without spinning), then 200 `slept` |

use std::hint::black_box;

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Faults;

impl wasi::exports::http::incoming_handler::Guest for Faults {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path_and_query = request.path_with_query().unwrap_or_default();
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((&path_and_query, ""));
        let number = |name: &str| -> u64 {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        match path {
            "/loop" => {
                let mut n = 0u64;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "/trap" => core::arch::wasm32::unreachable(),
            "/panic" => panic!("the guest panicked on purpose"),
            "/divide" => {
                let zero = black_box(0u32);
                respond(out, &format!("{}", black_box(7u32) / zero));
            }
            "/stack" => respond(out, &format!("{}", recurse(black_box(1)))),
            "/memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "/slow-body" => {
                let (_body, stream) = start(out);
                stream.blocking_write_and_flush(b"first chunk\n").ok();
                loop {
                    wasi::clocks::monotonic_clock::subscribe_duration(1_000_000_000).block();
                }
            }
            "/huge-body" => {
                let (_body, stream) = start(out);
                // blocking-write-and-flush takes at most 4096 bytes at a time.
                let chunk = [b'x'; 4096];
                while stream.blocking_write_and_flush(&chunk).is_ok() {}
            }
            "/sleep" => {
                let ms = number("ms");
                wasi::clocks::monotonic_clock::subscribe_duration(ms * 1_000_000).block();
                respond(out, "slept");
            }
            _ => respond(out, "ok"),
        }
    }
}

/// Recurses without end, with frames small enough that the engine's call stack runs out
/// before the stack Rust keeps in linear memory.
fn recurse(depth: u64) -> u64 {
    let frame = black_box(depth);
    recurse(black_box(depth + 1)).wrapping_add(frame)
}

/// Sends the response head and returns the open body.
fn start(out: ResponseOutparam) -> (OutgoingBody, wasi::io::streams::OutputStream) {
    let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
        .expect("valid header");
    let response = OutgoingResponse::new(headers);
    let body = response.body().expect("body is taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().expect("stream is taken once");
    (body, stream)
}

fn respond(out: ResponseOutparam, text: &str) {
    let (body, stream) = start(out);
    stream
        .blocking_write_and_flush(text.as_bytes())
        .expect("write body");
    drop(stream);
    OutgoingBody::finish(body, None).expect("finish body");
}

wasi::http::proxy::export!(Faults);
