//! Reading secrets from a HashiCorp Vault KV version 2 engine, for the `vault` variables
//! provider: `GET {url}/v1/{mount}/data/{path}` with `X-Vault-Token`, whose secret holds the
//! variable in its `value` field (as Spin's Vault provider keeps it).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};

/// The `value` of the secret at `path`, or `None` when Vault has no such secret.
pub(crate) async fn read_value(
    url: &str,
    token: &str,
    mount: &str,
    path: &str,
) -> anyhow::Result<Option<String>> {
    let address = format!(
        "{}/v1/{}/data/{}",
        url.trim_end_matches('/'),
        mount.trim_matches('/'),
        path.trim_start_matches('/')
    );
    let request = http::Request::get(&address)
        .header("x-vault-token", token)
        .body(
            Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed_unsync(),
        )?;
    let (response, connection) = wasmtime_wasi_http::default_send_request(request, None)
        .await
        .map_err(|e| anyhow::anyhow!("reading {address}: {e}"))?;
    tokio::spawn(connection);
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {address}: {e}"))?
        .to_bytes();
    if status == http::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        anyhow::bail!(
            "reading {address}: Vault answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        );
    }
    let secret: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| anyhow::anyhow!("reading {address}: the answer is not JSON: {e}"))?;
    match &secret["data"]["data"]["value"] {
        serde_json::Value::String(value) => Ok(Some(value.clone())),
        serde_json::Value::Null => Ok(None),
        other => anyhow::bail!("reading {address}: `value` is {other}, not a string"),
    }
}
