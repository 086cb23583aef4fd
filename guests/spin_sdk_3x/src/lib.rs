//! An HTTP component as Spin 2's templates made them: the Spin SDK 3.x, built for
//! wasm32-wasip1 (kiln adapts the module into a component). `GET /...` counts the visits in
//! the default key-value store and answers `hello WHO (visit N) from spin-sdk 3 at PATH`,
//! WHO being the `who` variable.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

#[http_component]
fn handle(request: Request) -> anyhow::Result<impl IntoResponse> {
    let store = Store::open_default()?;
    let visits = store
        .get("visits")?
        .and_then(|v| String::from_utf8(v).ok()?.parse::<u32>().ok())
        .unwrap_or(0)
        + 1;
    store.set("visits", visits.to_string().as_bytes())?;
    let who = spin_sdk::variables::get("who")?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(format!(
            "hello {who} (visit {visits}) from spin-sdk 3 at {}",
            request.path()
        ))
        .build())
}
