//! Greets whoever asks: `GET /NAME` answers `Hello, NAME!` (the greeting comes from the
//! `GREETING` variable the manifest grants).

use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct HelloRust;

impl wasi::exports::http::incoming_handler::Guest for HelloRust {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let name = path.trim_start_matches('/').split('?').next().unwrap_or_default();
        let name = if name.is_empty() { "world" } else { name };
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hi".into());
        let text = format!("{greeting}, {name}! (served by kiln)\n");

        let headers = Fields::from_list(&[(
            "content-type".to_string(),
            b"text/plain; charset=utf-8".to_vec(),
        )])
        .expect("a valid header");
        let response = OutgoingResponse::new(headers);
        let body = response.body().expect("the body is taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().expect("the stream is taken once");
        stream
            .blocking_write_and_flush(text.as_bytes())
            .expect("writing the body");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finishing the body");
    }
}

wasi::http::proxy::export!(HelloRust);
