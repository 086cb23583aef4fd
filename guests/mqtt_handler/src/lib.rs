//! An MQTT component (the spin-trigger-mqtt plugin's world, `handle-message`): prints `mqtt
//! message TOPIC PAYLOAD` for each message. A payload of `fail` makes it answer with an error.

wit_bindgen::generate!({
    path: "../../wit",
    world: "kiln:host/mqtt-handler",
    generate_all,
});

struct Handler;

impl Guest for Handler {
    fn handle_message(message: Payload, metadata: Metadata) -> Result<(), Error> {
        let payload = String::from_utf8_lossy(&message);
        println!("mqtt message {} {payload}", metadata.topic);
        if payload == "fail" {
            return Err(Error::Other("asked to fail".into()));
        }
        Ok(())
    }
}

export!(Handler);
