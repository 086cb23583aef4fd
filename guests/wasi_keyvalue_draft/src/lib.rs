//! Drives `wasi:keyvalue@0.2.0-draft` (the version wasmtime-wasi-keyvalue ships) through HTTP:
//!
//! - `GET /open/LABEL`: opens LABEL, answers `opened` or the error
//! - `GET /set/KEY/VALUE`, `GET /get/KEY`, `GET /delete/KEY`, `GET /exists/KEY`, `GET /keys`
//! - `GET /incr/KEY/DELTA`: atomics.increment
//! - `GET /batch`: set-many, get-many and delete-many, and what they saw
//!
//! Every store call is on `default`; errors answer with status 500 and their debug form. Paths
//! are read from `spin-path-info`, so the component works under any route prefix.

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/wasi-keyvalue-0.2.0-draft",
        world: "wasi:keyvalue/imports@0.2.0-draft",
        generate_all,
    });
}

use ::wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use bindings::wasi::keyvalue::{atomics, batch, store};

struct Handler;

impl ::wasi::exports::http::incoming_handler::Guest for Handler {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        // The path below the component's route, as `kiln up` passes it.
        let path = match request.headers().get("spin-path-info").first() {
            Some(info) => String::from_utf8_lossy(info).into_owned(),
            None => request.path_with_query().unwrap_or_default(),
        };
        let (status, body) = match answer(&path) {
            Ok(body) => (200, body),
            Err(e) => (500, format!("{e:?}")),
        };
        let response = OutgoingResponse::new(Fields::new());
        response.set_status_code(status).unwrap();
        let outgoing = response.body().unwrap();
        ResponseOutparam::set(out, Ok(response));
        let stream = outgoing.write().unwrap();
        stream.blocking_write_and_flush(body.as_bytes()).unwrap();
        drop(stream);
        OutgoingBody::finish(outgoing, None).unwrap();
    }
}

fn answer(path: &str) -> Result<String, store::Error> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["open", label] = parts[..] {
        return store::open(label).map(|_| "opened".into());
    }
    let bucket = store::open("default")?;
    Ok(match parts[..] {
        ["set", key, value] => bucket.set(key, value.as_bytes()).map(|()| "set".into())?,
        ["get", key] => match bucket.get(key)? {
            Some(value) => String::from_utf8_lossy(&value).into_owned(),
            None => "none".into(),
        },
        ["delete", key] => bucket.delete(key).map(|()| "deleted".into())?,
        ["exists", key] => bucket.exists(key)?.to_string(),
        ["keys"] => {
            let mut keys = bucket.list_keys(None)?.keys;
            keys.sort();
            keys.join(",")
        }
        ["incr", key, delta] => atomics::increment(&bucket, key, delta.parse().unwrap())?.to_string(),
        ["batch"] => {
            batch::set_many(&bucket, &[("b1".into(), b"1".to_vec()), ("b2".into(), b"2".to_vec())])?;
            let got = batch::get_many(&bucket, &["b1".into(), "b2".into(), "b3".into()])?;
            batch::delete_many(&bucket, &["b1".into()])?;
            let seen: Vec<String> = got
                .into_iter()
                .map(|entry| match entry {
                    Some((key, value)) => format!("{key}={}", String::from_utf8_lossy(&value)),
                    None => "-".into(),
                })
                .collect();
            format!("{} b1-exists={}", seen.join(","), bucket.exists("b1")?)
        }
        _ => "no such route".into(),
    })
}

::wasi::http::proxy::export!(Handler);
