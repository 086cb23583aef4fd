//! A plugin of the `kiln-test:probe` world (wit/probe.wit): one export per limit or grant a
//! plugin host enforces, and a transform that uses the host's own functions.

mod probe {
    wit_bindgen::generate!({ path: "wit", world: "probe" });
}

mod keyvalue {
    wit_bindgen::generate!({
        path: "../../wit/deps/wasi-keyvalue-0.2.0-draft",
        world: "wasi:keyvalue/imports@0.2.0-draft",
        generate_all,
    });
}

use std::sync::atomic::{AtomicU32, Ordering};

use ::wasi::http::outgoing_handler;
use ::wasi::http::types::{Fields, OutgoingRequest, Scheme};
use keyvalue::wasi::keyvalue::{atomics, store};
use probe::kiln_test::probe::host;

static CALLS: AtomicU32 = AtomicU32::new(0);

struct Probe;

impl probe::Guest for Probe {
    fn transform(input: String) -> String {
        host::log(&format!("transforming {input}"));
        format!("{}{}", host::prefix(), input.to_uppercase())
    }

    fn calls() -> u32 {
        CALLS.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn spin(iterations: u64) -> u64 {
        let mut sum = 0u64;
        for i in 0..iterations {
            sum = std::hint::black_box(sum.wrapping_mul(31).wrapping_add(i));
        }
        sum
    }

    fn allocate(megabytes: u32) -> u32 {
        let mut kept = Vec::new();
        for _ in 0..megabytes {
            let block = vec![1u8; 1 << 20];
            kept.push(std::hint::black_box(block));
        }
        kept.len() as u32
    }

    fn read_file(path: String) -> Result<String, String> {
        std::fs::read_to_string(&path).map_err(|e| e.to_string())
    }

    fn env(name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    fn fetch(url: String) -> Result<u16, String> {
        let (scheme, rest) = url.split_once("://").ok_or("not a URL")?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let request = OutgoingRequest::new(Fields::new());
        let scheme = if scheme == "https" {
            Scheme::Https
        } else {
            Scheme::Http
        };
        request.set_scheme(Some(&scheme)).unwrap();
        request.set_authority(Some(authority)).unwrap();
        request.set_path_with_query(Some(path)).unwrap();
        let response = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
        response.subscribe().block();
        let response = response
            .get()
            .ok_or("no response")?
            .map_err(|()| "response taken twice")?
            .map_err(|e| format!("{e:?}"))?;
        Ok(response.status())
    }

    fn count(key: String) -> Result<u64, String> {
        let bucket = store::open("default").map_err(|e| format!("{e:?}"))?;
        atomics::increment(&bucket, &key, 1).map_err(|e| format!("{e:?}"))
    }

    fn crash(message: String) {
        panic!("{message}");
    }
}

probe::export!(Probe with_types_in probe);
