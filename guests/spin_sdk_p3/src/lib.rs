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
//! - `GET /postgres4?ADDRESS` writes and reads a row of the types `spin:postgres@4.2.0` added
//!   (async functions, rows streamed), as the Spin SDK 5 guest does, then opens connections
//!   through a `connection-builder` without and with a CA root;
//! - `POST /postgres-ca?ADDRESS` opens a connection trusting the body (PEM) as its CA root and
//!   answers what `SELECT 1` returns, or the error;
//! - `GET /mysql?ADDRESS` writes and reads a row of every `spin:mysql@3.0.0` type, as the Spin
//!   SDK 5 guest does;
//! - `GET /mqtt?ADDRESS[&USER&PASSWORD]` publishes `q0`, `q1` and `q2` on `kiln/spin-sdk-7` at
//!   QoS 0, 1, 2;
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
    if path_info == "/mysql" {
        let address = request.uri().query().unwrap_or_default().to_string();
        return Ok(match mysql_script(&address).await {
            Ok(text) => (StatusCode::OK, text),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
    }
    if path_info == "/postgres4" {
        let address = request.uri().query().unwrap_or_default().to_string();
        return Ok(match postgres4_script(&address).await {
            Ok(text) => (StatusCode::OK, text),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
    }
    if path_info == "/postgres-ca" {
        let address = request.uri().query().unwrap_or_default().to_string();
        let body = request.into_body().bytes().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let ca = String::from_utf8_lossy(&body).into_owned();
        return Ok(match select_one_trusting(&address, ca).await {
            Ok(text) => (StatusCode::OK, text),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e:?}")),
        }
        .into_response());
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

/// `SELECT 1` on a connection to `address` that trusts the certificate `ca` (PEM).
async fn select_one_trusting(address: &str, ca: String) -> Result<String, spin_sdk::pg::Error> {
    use spin_sdk::pg::{Certificate, Connection, OpenOptions};
    let options = OpenOptions { ca_root: Some(Certificate::Text(ca)) };
    let c = Connection::open_with_options(address, options).await?;
    let result = c.query("SELECT 1", vec![]).await?;
    let rows = result.collect().await?;
    Ok(format!("{:?}", rows.iter().map(|row| row[0].clone()).collect::<Vec<_>>()))
}

/// Writes a row with a parameter of each type `spin:postgres@4` added, streams it back, and
/// runs a bad statement.
async fn postgres4_script(address: &str) -> Result<String, spin_sdk::pg::Error> {
    use spin_sdk::pg::{Connection, Interval, ParameterValue as P, RangeBoundKind as K};
    let c = Connection::open(address).await?;
    c.execute(POSTGRES4_TABLE, vec![]).await?;
    c.execute("DELETE FROM kiln_pg4", vec![]).await?;
    let params = vec![
        P::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
        P::Jsonb(br#"{"a": [1, null]}"#.to_vec()),
        P::Decimal("12.50".into()),
        P::RangeInt32((Some((1, K::Inclusive)), Some((5, K::Inclusive)))),
        P::RangeInt64((None, Some((9, K::Exclusive)))),
        P::RangeDecimal((Some(("1.5".into(), K::Exclusive)), None)),
        P::ArrayInt32(vec![Some(1), None]),
        P::ArrayInt64(vec![Some(-2)]),
        P::ArrayDecimal(vec![Some("0.1".into()), None]),
        P::ArrayStr(vec![Some("a".into()), None]),
        P::Interval(Interval { micros: 1_500_000, days: 2, months: 14 }),
        P::RangeInt32((Some((3, K::Inclusive)), Some((3, K::Exclusive)))),
        P::DbNull,
    ];
    c.execute("INSERT INTO kiln_pg4 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '10.0.0.1')", params).await?;
    let result = c.query("SELECT * FROM kiln_pg4 WHERE d = $1", vec![P::Decimal("12.5".into())]).await?;
    let columns: Vec<String> = result.columns().iter().map(|c| format!("{}:{:?}", c.name, c.data_type)).collect();
    let width = columns.len();
    let rows: Vec<Vec<_>> = result.collect().await?.iter().map(|row| (0..width).map(|i| row[i].clone()).collect()).collect();
    let bad = c.query("SELECT nope FROM kiln_pg4", vec![]).await.err();
    use spin_sdk::pg::{Certificate, OpenOptions};
    let built = Connection::open_with_options(address, OpenOptions::default()).await.map(|_| "connected");
    let ca_root = OpenOptions { ca_root: Some(Certificate::Text("-----BEGIN CERTIFICATE-----".into())) };
    let tls = Connection::open_with_options(address, ca_root).await.map(|_| "connected");
    Ok(format!("columns={columns:?}\nrows={rows:?}\nbad={bad:?}\nbuilder={built:?}\nca-root={tls:?}\n"))
}

/// The table of the `spin:postgres@4` script, as the Spin SDK 5 guest creates it.
const POSTGRES4_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS kiln_pg4 (u UUID, j JSONB, d NUMERIC, r4 INT4RANGE, r8 INT8RANGE, rn NUMRANGE, a4 INT4[], a8 INT8[], ad NUMERIC[], ast TEXT[], iv INTERVAL, e INT4RANGE, n INTEGER, x INET)";

/// Writes a row with a parameter of each type, streams it back, and runs a bad statement.
async fn mysql_script(address: &str) -> Result<String, spin_sdk::mysql::Error> {
    use spin_sdk::mysql::{Connection, ParameterValue as P};
    let c = Connection::open(address).await?;
    c.execute(MYSQL_TABLE, vec![]).await?;
    let params = vec![P::Boolean(true), P::Int8(-1), P::Int16(-2), P::Int32(-3), P::Int64(-4), P::Uint8(255), P::Uint16(65535), P::Uint32(7), P::Uint64(u64::MAX), P::Floating32(1.5), P::Floating64(2.25), P::Str("text".into()), P::Str("long text".into()), P::Binary(vec![0, 255]), P::DbNull, P::Str("3.14".into())];
    c.execute("INSERT INTO kiln_mysql VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", params).await?;
    let result = c.query("SELECT * FROM kiln_mysql WHERE i32 = ?", vec![P::Int32(-3)]).await?;
    let columns: Vec<String> = result.columns().iter().map(|c| format!("{}:{:?}", c.name, c.data_type)).collect();
    let width = columns.len();
    let rows: Vec<Vec<_>> = result.collect().await?.iter().map(|row| (0..width).map(|i| row[i].clone()).collect()).collect();
    let bad = c.query("SELECT nope FROM kiln_mysql", vec![]).await.err();
    Ok(format!("columns={columns:?}\nrows={rows:?}\nbad={bad:?}\n"))
}

/// The table of the MySQL script, as the Spin SDK 5 guest creates it.
const MYSQL_TABLE: &str = "CREATE TEMPORARY TABLE kiln_mysql (b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, u8 TINYINT UNSIGNED, u16 SMALLINT UNSIGNED, u32 INT UNSIGNED, u64 BIGINT UNSIGNED, f32 FLOAT, f64 DOUBLE, s VARCHAR(20), t TEXT, bin BLOB, n INT, d DECIMAL(5,2))";

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
    let mut parts = address.split('&');
    let address = parts.next().unwrap_or_default();
    let (user, password) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let c = Connection::open(address, user, password, 30).await?;
    for (payload, qos) in [("q0", Qos::AtMostOnce), ("q1", Qos::AtLeastOnce), ("q2", Qos::ExactlyOnce)] {
        c.publish("kiln/spin-sdk-7", payload.as_bytes().to_vec(), qos).await?;
    }
    Ok(())
}
