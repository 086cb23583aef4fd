//! An HTTP component that imports `kiln-test:greet/greeter` and answers every request with
//! `greet(LAST PATH SEGMENT)`: it runs once a dependency provides the greeter.

mod greet {
    wit_bindgen::generate!({ path: "../greet_rust/wit", world: "consumer" });
}

use greet::kiln_test::greet::greeter;
use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Handler;

impl wasi::exports::http::incoming_handler::Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let response = OutgoingResponse::new(Fields::new());
        let body = response.body().expect("body is taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = body.write().expect("stream is taken once");
        stream
            .blocking_write_and_flush(greeter::greet(&name).as_bytes())
            .expect("write body");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finish body");
    }
}

wasi::http::proxy::export!(Handler);
