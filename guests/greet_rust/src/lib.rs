//! A `kiln-test:greet` provider in Rust: `greet(name)` is `Hello from Rust, NAME!`, and
//! `greet("capabilities")` reports what the greeter can reach of its host: the environment
//! variable `GREETER_SECRET`, the file `/greeting.txt`, the key-value store `default`, and an
//! outbound HTTP request to `http://127.0.0.1:$GREETER_PORT/`. A dependency that inherits
//! nothing reaches none of them.

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, OutgoingRequest, Scheme};

wit_bindgen::generate!({ path: "wit", world: "provider" });

struct Greeter;

impl exports::kiln_test::greet::greeter::Guest for Greeter {
    fn greet(name: String) -> String {
        if name == "capabilities" {
            return capabilities();
        }
        format!("Hello from Rust, {name}!")
    }
}

/// `env=... file=... kv=... http=...`: what each capability gave.
fn capabilities() -> String {
    let env = std::env::var("GREETER_SECRET").unwrap_or_else(|_| "none".into());
    let file = std::fs::read_to_string("/greeting.txt")
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "none".into());
    let kv = match spin_sdk::key_value::Store::open_default() {
        Ok(_) => "open".to_string(),
        Err(e) => format!("{e:?}"),
    };
    let port = std::env::var("GREETER_PORT").unwrap_or_else(|_| "9".into());
    format!("env={env} file={file} kv={kv} http={}", outbound(&port))
}

/// The status of `GET http://127.0.0.1:PORT/`, or the error that stopped it.
fn outbound(port: &str) -> String {
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&Scheme::Http));
    let _ = request.set_authority(Some(&format!("127.0.0.1:{port}")));
    let _ = request.set_path_with_query(Some("/"));
    let future = match outgoing_handler::handle(request, None) {
        Ok(future) => future,
        Err(e) => return format!("{e:?}"),
    };
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => response.status().to_string(),
        Some(Ok(Err(e))) => format!("{e:?}"),
        _ => "failed".to_string(),
    }
}

export!(Greeter);
