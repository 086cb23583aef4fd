//! A wasmCloud messaging handler (`wasmcloud:messaging/handler`): prints `nats message SUBJECT
//! BODY` for each message; a request (a message with `reply-to`) is answered there with
//! `reply: BODY` through `wasmcloud:messaging/consumer`. A body of `fail` makes the handler
//! answer with an error, and `trap` makes it trap.

wit_bindgen::generate!({
    inline: "package kiln:nats-handler-guest; world guest { import wasmcloud:messaging/consumer@0.2.0; export wasmcloud:messaging/handler@0.2.0; }",
    path: "../../wit/deps/wasmcloud-messaging-0.2.0",
    world: "kiln:nats-handler-guest/guest",
    generate_all,
});

use exports::wasmcloud::messaging::handler::Guest;
use wasmcloud::messaging::consumer;
use wasmcloud::messaging::types::BrokerMessage;

struct Handler;

impl Guest for Handler {
    fn handle_message(message: BrokerMessage) -> Result<(), String> {
        let body = String::from_utf8_lossy(&message.body).into_owned();
        println!("nats message {} {body}", message.subject);
        match body.as_str() {
            "fail" => return Err("asked to fail".into()),
            "trap" => panic!("asked to trap"),
            _ => {}
        }
        if let Some(reply_to) = message.reply_to {
            let reply = BrokerMessage {
                subject: reply_to,
                body: format!("reply: {body}").into_bytes(),
                reply_to: None,
            };
            consumer::publish(&reply)?;
        }
        Ok(())
    }
}

export!(Handler);
