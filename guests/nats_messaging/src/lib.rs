//! A `wasi:http` component that uses `wasmcloud:messaging/consumer`: `/publish/SUBJECT` publishes
//! the request body on SUBJECT; `/request/SUBJECT` sends it as a request and answers with the
//! reply's body. An error from the broker interface is a 500 with its text.

wit_bindgen::generate!({
    inline: "package kiln:nats-messaging-guest; world guest { import wasmcloud:messaging/consumer@0.2.0; }",
    path: "../../wit/deps/wasmcloud-messaging-0.2.0",
    world: "kiln:nats-messaging-guest/guest",
    generate_all,
});

use wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasmcloud::messaging::consumer;
use wasmcloud::messaging::types::BrokerMessage;

struct Messaging;

impl wasi::exports::http::incoming_handler::Guest for Messaging {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let body = read_body(&request);
        let result = if let Some(subject) = path.strip_prefix("/publish/") {
            let message = BrokerMessage {
                subject: subject.to_string(),
                body,
                reply_to: None,
            };
            consumer::publish(&message).map(|()| b"published\n".to_vec())
        } else if let Some(subject) = path.strip_prefix("/request/") {
            consumer::request(subject, &body, 2000).map(|reply| reply.body)
        } else {
            Err("unknown path".to_string())
        };
        match result {
            Ok(body) => respond(out, 200, &body),
            Err(e) => respond(out, 500, e.as_bytes()),
        }
    }
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let body = request.consume().expect("the body is taken once");
    let mut bytes = Vec::new();
    {
        let stream = body.stream().expect("the stream is taken once");
        while let Ok(chunk) = stream.blocking_read(64 * 1024) {
            bytes.extend_from_slice(&chunk);
        }
    }
    IncomingBody::finish(body);
    bytes
}

fn respond(out: ResponseOutparam, status: u16, body: &[u8]) {
    let response = OutgoingResponse::new(Fields::new());
    response.set_status_code(status).expect("a valid status");
    let outgoing = response.body().expect("the body is taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().expect("the stream is taken once");
    stream.blocking_write_and_flush(body).expect("writing the body");
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("finishing the body");
}

wasi::http::proxy::export!(Messaging);
