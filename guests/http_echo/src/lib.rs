//! Echoes the request it saw, one fact per line, so tests can assert routing and headers exactly:
//!
//! ```text
//! method: POST
//! path: /a/b?x=1
//! header: name: value      (one line per header, in the order received)
//! body: ...                (the request body, last)
//! ```
//! Request headers can ask for more: `x-echo-status: 404` sets the response status,
//! `x-echo-file: /path` adds `file: CONTENTS` (or `file-error: ...`), and `x-echo-env: NAME`
//! adds `env: NAME=VALUE` (or `env: NAME is not set`).

use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Echo;

impl wasi::exports::http::incoming_handler::Guest for Echo {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let mut text = String::new();
        text.push_str(&format!("method: {}\n", method_name(&request.method())));
        text.push_str(&format!(
            "path: {}\n",
            request.path_with_query().unwrap_or_default()
        ));
        let mut status = 200;
        let mut extra = String::new();
        for (name, value) in request.headers().entries() {
            let value = String::from_utf8_lossy(&value).into_owned();
            match name.as_str() {
                "x-echo-status" => status = value.parse().unwrap_or(200),
                "x-echo-file" => match std::fs::read_to_string(&value) {
                    Ok(contents) => extra.push_str(&format!("file: {}\n", contents.trim_end())),
                    Err(e) => extra.push_str(&format!("file-error: {e}\n")),
                },
                "x-echo-env" => match std::env::var(&value) {
                    Ok(v) => extra.push_str(&format!("env: {value}={v}\n")),
                    Err(_) => extra.push_str(&format!("env: {value} is not set\n")),
                },
                _ => {}
            }
            text.push_str(&format!("header: {name}: {value}\n"));
        }
        text.push_str(&extra);
        text.push_str("body: ");
        text.push_str(&String::from_utf8_lossy(&read_body(&request)));

        let headers = Fields::from_list(&[("content-type".to_string(), b"text/plain".to_vec())])
            .expect("valid header");
        let response = OutgoingResponse::new(headers);
        response.set_status_code(status).expect("valid status");
        let body = response.body().expect("body is taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().expect("stream is taken once");
        for chunk in text.as_bytes().chunks(4096) {
            stream.blocking_write_and_flush(chunk).expect("write body");
        }
        drop(stream);
        OutgoingBody::finish(body, None).expect("finish body");
    }
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let body = request.consume().expect("body is consumed once");
    let stream = body.stream().expect("stream is taken once");
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend_from_slice(&chunk);
    }
    bytes
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other.clone(),
    }
}

wasi::http::proxy::export!(Echo);
