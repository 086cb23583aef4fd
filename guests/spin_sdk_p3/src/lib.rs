//! A WASI 0.3 component built with the published Spin SDK 7 (`#[http_service]`, exporting
//! `wasi:http/handler@0.3.0`):
//!
//! - `GET /outbound?url=URL` sends a GET and answers with the status and body it got;
//! - `GET|PUT /kv/STORE/KEY` and `GET /kv/STORE` (keys, sorted, one per line) use
//!   `spin:key-value@3.0.0`;
//! - `POST /sql/DATABASE` runs the body as one statement (`spin:sqlite@3.1.0`) and answers
//!   `columns | row; row | rowid=N changes=N`, values in debug form;
//! - `GET /var/NAME` reads a variable (`spin:variables@3.0.0`), `GET /config/NAME` the same
//!   through `wasi:config/store`;
//! - `GET /backends` opens a connection with each of `spin:postgres@4.2.0` and
//!   `spin:mysql@3.0.0`, one line each;
//! - `GET /mqtt?ADDRESS` publishes `q0`, `q1` and `q2` on `kiln/spin-sdk-7` at QoS 0, 1, 2;
//! - `GET /redis?ADDRESS` runs every `spin:redis@3.0.0` function against ADDRESS on keys under
//!   `spin-sdk-7:`, one line each, as the Spin SDK 5 guest does;
//! - anything else answers `p3 METHOD PATH-INFO BODY`, where PATH-INFO is `spin-path-info`.

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{send, EmptyBody, IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(request: Request) -> anyhow::Result<impl IntoResponse> {
    let path_info = request
        .headers()
        .get("spin-path-info")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if let Some(name) = path_info.strip_prefix("/var/") {
        return Ok(match spin_sdk::variables::get(name).await {
            Ok(value) => (StatusCode::OK, value),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
    }
    if let Some(name) = path_info.strip_prefix("/config/") {
        return Ok(match spin_sdk::experimental::wasi::config::store::get(name) {
            Ok(Some(value)) => (StatusCode::OK, value),
            Ok(None) => (StatusCode::NOT_FOUND, "none".to_string()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
    }
    if let Some(rest) = path_info.strip_prefix("/kv/") {
        let method = request.method().clone();
        let body = request.into_body().bytes().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        return Ok(match key_value(&method, rest, &body).await {
            Ok(text) => (StatusCode::OK, text),
            Err(text) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {text}")),
        }
        .into_response());
    }
    if let Some(database) = path_info.strip_prefix("/sql/") {
        let database = database.to_string();
        let body = request.into_body().bytes().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        return Ok(match sql(&database, &String::from_utf8_lossy(&body)).await {
            Ok(text) => (StatusCode::OK, text),
            Err(text) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {text}")),
        }
        .into_response());
    }
    if path_info == "/redis" {
        let address = request.uri().query().unwrap_or_default().to_string();
        return Ok(match redis_script(&address).await {
            Ok(text) => (StatusCode::OK, text),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
    }
    if path_info == "/mqtt" {
        let address = request.uri().query().unwrap_or_default().to_string();
        return Ok(match mqtt_script(&address).await {
            Ok(()) => (StatusCode::OK, "published".to_string()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
    }
    if path_info == "/backends" {
        return Ok((StatusCode::OK, backends().await).into_response());
    }
    if path_info == "/outbound" {
        let query = request.uri().query().unwrap_or_default().to_string();
        return Ok(outbound(&query).await.into_response());
    }
    let method = request.method().to_string();
    let body = request.into_body().bytes().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(format!("p3 {method} {path_info} {}", String::from_utf8_lossy(&body)).into_response())
}

async fn outbound(query: &str) -> (StatusCode, String) {
    let Some(url) = query.strip_prefix("url=") else {
        return (StatusCode::BAD_REQUEST, "expected ?url=URL".into());
    };
    let request = match Request::get(url).body(EmptyBody::new()) {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()),
    };
    match send(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.into_body().bytes().await.unwrap_or_default();
            (StatusCode::OK, format!("{status} {}", String::from_utf8_lossy(&body)))
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
    }
}

async fn key_value(method: &spin_sdk::http::Method, path: &str, body: &[u8]) -> Result<String, String> {
    use spin_sdk::key_value::Store;
    let (label, key) = path.split_once('/').unwrap_or((path, ""));
    let store = Store::open(label).await.map_err(|e| format!("{e:?}"))?;
    if key.is_empty() {
        let mut keys = store.get_keys().await.collect().await.map_err(|e| format!("{e:?}"))?;
        keys.sort();
        return Ok(keys.join("\n"));
    }
    match *method {
        spin_sdk::http::Method::PUT => store.set(key, body).await.map(|()| "ok".into()).map_err(|e| format!("{e:?}")),
        _ => match store.get(key).await.map_err(|e| format!("{e:?}"))? {
            Some(value) => Ok(String::from_utf8_lossy(&value).into_owned()),
            None => Err("not found".into()),
        },
    }
}

async fn sql(database: &str, statement: &str) -> Result<String, String> {
    let connection = spin_sdk::sqlite::Connection::open(database).await.map_err(|e| format!("{e:?}"))?;
    let result = connection.execute(statement, []).await.map_err(|e| format!("{e:?}"))?;
    let columns = result.columns().join(",");
    let rows = result.collect().await.map_err(|e| format!("{e:?}"))?;
    let rows: Vec<String> = rows.iter().map(|row| format!("{:?}", row.values)).collect();
    let rowid = connection.last_insert_rowid().await;
    let changes = connection.changes().await;
    Ok(format!("{columns} | {} | rowid={rowid} changes={changes}", rows.join("; ")))
}

/// Opens a connection with each relational and messaging interface: `NAME: connected` or
/// `NAME: ERROR` per line.
async fn backends() -> String {
    fn line<T, E: std::fmt::Debug>(name: &str, opened: Result<T, E>) -> String {
        match opened {
            Ok(_) => format!("{name}: connected\n"),
            Err(e) => format!("{name}: {e:?}\n"),
        }
    }
    let mut text = line("postgres", spin_sdk::pg::Connection::open("postgres://127.0.0.1/test").await);
    text += &line("mysql", spin_sdk::mysql::Connection::open("mysql://root@127.0.0.1/test").await);
    text
}

/// Calls each Redis function once, on keys under `spin-sdk-7:`; one line per call.
async fn redis_script(address: &str) -> Result<String, spin_sdk::redis::Error> {
    use spin_sdk::redis::{Connection, RedisParameter as P};
    let c = Connection::open(address).await?;
    let key = |name: &str| format!("spin-sdk-7:{name}");
    let mut out = String::new();
    c.del([key("k"), key("n"), key("s"), key("e"), key("t")]).await?;
    c.set(key("k"), b"value").await?;
    out += &format!("get={:?}\n", c.get(key("k")).await?.map(String::from_utf8));
    c.incr(key("n")).await?;
    out += &format!("incr={}\n", c.incr(key("n")).await?);
    out += &format!("sadd={}\n", c.sadd(key("s"), ["a", "b", "c"]).await?);
    out += &format!("srem={}\n", c.srem(key("s"), ["a"]).await?);
    let mut members = c.smembers(key("s")).await?;
    members.sort();
    out += &format!("smembers={members:?}\n");
    out += &format!("del={}\n", c.del([key("k"), key("n"), key("missing")]).await?);
    out += &format!("get-deleted={:?}\n", c.get(key("k")).await?);
    let e = || P::Binary(key("e").into_bytes());
    out += &format!("execute-set={:?}\n", c.execute("SET", [e(), P::Int64(42)]).await?);
    out += &format!("execute-incrby={:?}\n", c.execute("INCRBY", [e(), P::Int64(8)]).await?);
    out += &format!("execute-get={:?}\n", c.execute("GET", [e()]).await?);
    let missing = P::Binary(key("missing").into_bytes());
    out += &format!("execute-missing={:?}\n", c.execute("GET", [missing]).await?);
    c.publish(key("channel"), b"hello").await?;
    c.set(key("t"), b"text").await?;
    out += &format!("incr-text={:?}\n", c.incr(key("t")).await.err());
    Ok(out)
}

/// Publishes one message at each QoS on `kiln/spin-sdk-7`.
async fn mqtt_script(address: &str) -> Result<(), spin_sdk::mqtt::Error> {
    use spin_sdk::mqtt::{Connection, Qos};
    let c = Connection::open(address, "", "", 30).await?;
    for (payload, qos) in [("q0", Qos::AtMostOnce), ("q1", Qos::AtLeastOnce), ("q2", Qos::ExactlyOnce)] {
        c.publish("kiln/spin-sdk-7", payload.as_bytes().to_vec(), qos).await?;
    }
    Ok(())
}
