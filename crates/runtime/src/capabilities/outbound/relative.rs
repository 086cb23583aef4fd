//! Relative URLs from WASI 0.3 guests. Spin SDKs built for WASI 0.2 send a request to their
//! own app (`/api/items`) with the authority `:80`, which [`super::local`] serves in-process;
//! built for WASI 0.3 they set no authority at all, and `wasi:http`'s conversion of such a
//! request fails (a URI with a scheme needs an authority). kiln's `wasi:http/client.send`
//! gives such a request the same `:80` first, then sends it as `wasi:http`'s own does.

use http::uri::Authority;
use wasmtime::component::{Accessor, Linker, Resource};
use wasmtime_wasi_http::p3::bindings::http::client::HostWithStore;
use wasmtime_wasi_http::p3::bindings::http::types::{ErrorCode, Host as _};
use wasmtime_wasi_http::p3::{Request, Response};
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

/// The WASI 0.3 interface whose `send` this replaces.
const CLIENT: &str = "wasi:http/client@0.3.0";

/// Replaces `wasi:http/client.send` (0.3) in `linker`, which already has `wasi:http`'s.
pub(crate) fn link<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let defined = linker.instance(CLIENT)?.func_wrap_concurrent(
        "send",
        |accessor: &Accessor<T>, (request,): (Resource<Request>,)| {
            Box::pin(async move {
                accessor.with(|mut store| -> wasmtime::Result<()> {
                    let request = store.get().http().table.get_mut(&request)?;
                    if request.authority.is_none() {
                        request.authority = Some(Authority::from_static(":80"));
                    }
                    Ok(())
                })?;
                let http = accessor.with_getter::<WasiHttp>(T::http);
                let sent: Result<Resource<Response>, ErrorCode> =
                    match <WasiHttp as HostWithStore<T>>::send(&http, request).await {
                        Ok(response) => Ok(response),
                        Err(error) => {
                            Err(http.with(|mut store| store.get().convert_error_code(error))?)
                        }
                    };
                Ok((sent,))
            })
        },
    );
    linker.allow_shadowing(false);
    defined.map_err(Into::into)
}
