//! A component built with the published Spin SDK 5 (`fermyon:spin@2.0.0` on WASI 0.2) that
//! drives each Spin interface from an HTTP request, so tests can check kiln against Spin:
//!
//! - `GET|PUT|DELETE|HEAD /kv/STORE/KEY` and `GET /kv/STORE` (keys, one per line)
//! - `POST /sql/DATABASE` with `{"statement": "...", "params": [{"integer": 1}, ...]}`
//!   answers `{"columns": [...], "rows": [[{"text": "..."}, ...]]}`
//! - `GET /var/NAME`
//! - `GET /outbound?url=URL` sends a GET and answers with the status and body it got
//! - `GET /redis?ADDRESS` runs every `fermyon:spin/redis` function against ADDRESS on keys
//!   under `spin-sdk-v2:`, one line each (see `redis_script`)
//! - `GET /mqtt?ADDRESS` publishes `q0`, `q1` and `q2` on `kiln/spin-sdk-v2` at QoS 0, 1, 2
//! - `GET /postgres?ADDRESS` writes and reads a row of every `fermyon:spin/postgres@2.0.0` type
//!   (and `/postgres3?ADDRESS` of the date and time types of `spin:postgres@3.0.0`) in a
//!   temporary table, one line per result
//! - `GET /mysql` opens a connection to a local server
//!
//! Paths are read from `spin-path-info`, so the component works under any route prefix.
//! A failure answers 500 with `error: ` and the error's debug form (`AccessDenied`, ...).

use serde_json::{json, Value as Json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::sqlite::{Connection, Value};

#[http_component]
async fn handle(request: Request) -> Response {
    // The path below the matched route, as Spin passes it.
    let path = request.header("spin-path-info").and_then(|h| h.as_str()).unwrap_or_default().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = match parts.as_slice() {
        ["kv", store, key] => key_value(request.method(), store, key, request.body()),
        ["kv", store] => keys(store),
        ["sql", database] => sql(database, request.body()),
        ["var", name] => spin_sdk::variables::get(name).map_err(|e| format!("{e:?}")),
        ["outbound"] => outbound(request.query()).await,
        ["redis"] => redis_script(request.query()).map_err(|e| format!("{e:?}")),
        ["postgres"] => postgres_script(request.query()).map_err(|e| format!("{e:?}")),
        ["postgres3"] => postgres3_script(request.query()).map_err(|e| format!("{e:?}")),
        ["mysql"] => spin_sdk::mysql::Connection::open("mysql://root@127.0.0.1/test").map(|_| "connected".into()).map_err(|e| format!("{e:?}")),
        ["mqtt"] => mqtt_script(request.query()).map_err(|e| format!("{e:?}")),
        _ => return Response::new(404, "no such route"),
    };
    match result {
        Ok(body) => Response::new(200, body),
        Err(error) => Response::new(500, format!("error: {error}")),
    }
}

fn key_value(method: &Method, store: &str, key: &str, body: &[u8]) -> Result<String, String> {
    let store = Store::open(store).map_err(|e| format!("{e:?}"))?;
    let done = |r: Result<(), spin_sdk::key_value::Error>| r.map(|()| "ok".to_string()).map_err(|e| format!("{e:?}"));
    match method {
        Method::Get => match store.get(key).map_err(|e| format!("{e:?}"))? {
            Some(value) => Ok(String::from_utf8_lossy(&value).into_owned()),
            None => Err("not found".into()),
        },
        Method::Put => done(store.set(key, body)),
        Method::Delete => done(store.delete(key)),
        Method::Head => store.exists(key).map(|e| e.to_string()).map_err(|e| format!("{e:?}")),
        other => Err(format!("method {other:?} is not used")),
    }
}

fn keys(store: &str) -> Result<String, String> {
    let store = Store::open(store).map_err(|e| format!("{e:?}"))?;
    let mut keys = store.get_keys().map_err(|e| format!("{e:?}"))?;
    keys.sort();
    Ok(keys.join("\n"))
}

fn sql(database: &str, body: &[u8]) -> Result<String, String> {
    let request: Json = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let statement = request["statement"].as_str().ok_or("no statement")?;
    let params: Vec<Value> = request["params"]
        .as_array()
        .map(|ps| ps.iter().map(to_value).collect::<Result<_, _>>())
        .transpose()?
        .unwrap_or_default();
    let connection = Connection::open(database).map_err(|e| format!("{e:?}"))?;
    let result = connection.execute(statement, &params).map_err(|e| format!("{e:?}"))?;
    let rows: Vec<Json> = result
        .rows
        .iter()
        .map(|row| Json::Array(row.values.iter().map(from_value).collect()))
        .collect();
    Ok(json!({ "columns": result.columns, "rows": rows }).to_string())
}

fn to_value(param: &Json) -> Result<Value, String> {
    let (kind, value) = param.as_object().and_then(|o| o.iter().next()).ok_or("a parameter is {type: value}")?;
    Ok(match kind.as_str() {
        "integer" => Value::Integer(value.as_i64().ok_or("integer")?),
        "real" => Value::Real(value.as_f64().ok_or("real")?),
        "text" => Value::Text(value.as_str().ok_or("text")?.to_string()),
        "blob" => Value::Blob(serde_json::from_value(value.clone()).map_err(|e| e.to_string())?),
        "null" => Value::Null,
        other => return Err(format!("unknown parameter type {other}")),
    })
}

fn from_value(value: &Value) -> Json {
    match value {
        Value::Integer(i) => json!({ "integer": i }),
        Value::Real(f) => json!({ "real": f }),
        Value::Text(s) => json!({ "text": s }),
        Value::Blob(b) => json!({ "blob": b }),
        Value::Null => json!({ "null": null }),
    }
}

async fn outbound(query: &str) -> Result<String, String> {
    let url = query.strip_prefix("url=").ok_or("expected ?url=URL")?;
    let response: Response = spin_sdk::http::send(Request::get(url)).await.map_err(|e| format!("{e:?}"))?;
    Ok(format!("{} {}", response.status(), String::from_utf8_lossy(response.body())))
}

/// Calls each Redis function once, on keys under `spin-sdk-v2:`; one line per call.
fn redis_script(address: &str) -> Result<String, spin_sdk::redis::Error> {
    use spin_sdk::redis::{Connection, RedisParameter as P};
    let c = Connection::open(address)?;
    let key = |name: &str| format!("spin-sdk-v2:{name}");
    let mut out = String::new();
    c.del(&[key("k"), key("n"), key("s"), key("e"), key("t")])?;
    c.set(&key("k"), b"value")?;
    out += &format!("get={:?}\n", c.get(&key("k"))?.map(String::from_utf8));
    c.incr(&key("n"))?;
    out += &format!("incr={}\n", c.incr(&key("n"))?);
    out += &format!("sadd={}\n", c.sadd(&key("s"), &["a".into(), "b".into(), "c".into()])?);
    out += &format!("srem={}\n", c.srem(&key("s"), &["a".into()])?);
    let mut members = c.smembers(&key("s"))?;
    members.sort();
    out += &format!("smembers={members:?}\n");
    out += &format!("del={}\n", c.del(&[key("k"), key("n"), key("missing")])?);
    out += &format!("get-deleted={:?}\n", c.get(&key("k"))?);
    let e = P::Binary(key("e").into_bytes());
    out += &format!("execute-set={:?}\n", c.execute("SET", &[e.clone(), P::Int64(42)])?);
    out += &format!("execute-incrby={:?}\n", c.execute("INCRBY", &[e.clone(), P::Int64(8)])?);
    out += &format!("execute-get={:?}\n", c.execute("GET", &[e.clone()])?);
    out += &format!("execute-missing={:?}\n", c.execute("GET", &[P::Binary(key("missing").into_bytes())])?);
    c.publish(&key("channel"), b"hello")?;
    c.set(&key("t"), b"text")?;
    out += &format!("incr-text={:?}\n", c.incr(&key("t")).err());
    Ok(out)
}

/// Publishes one message at each QoS on `kiln/spin-sdk-v2`.
fn mqtt_script(address: &str) -> Result<String, spin_sdk::mqtt::Error> {
    use spin_sdk::mqtt::{Connection, Qos};
    let c = Connection::open(address, "", "", 30)?;
    for (payload, qos) in [("q0", Qos::AtMostOnce), ("q1", Qos::AtLeastOnce), ("q2", Qos::ExactlyOnce)] {
        c.publish("kiln/spin-sdk-v2", &payload.as_bytes().to_vec(), qos)?;
    }
    Ok("published".into())
}

/// Writes a row with a parameter of each type, reads it back, and runs a bad statement.
fn postgres_script(address: &str) -> Result<String, spin_sdk::pg::PgError> {
    use spin_sdk::pg::{Connection, ParameterValue as P};
    let c = Connection::open(address)?;
    c.execute("CREATE TEMP TABLE IF NOT EXISTS kiln_v2 (b BOOLEAN, i16 SMALLINT, i32 INTEGER, i64 BIGINT, f32 REAL, f64 DOUBLE PRECISION, s TEXT, bin BYTEA, n INTEGER, u BIGINT)", &[])?;
    c.execute("DELETE FROM kiln_v2", &[])?;
    let params = [P::Boolean(true), P::Int16(-2), P::Int32(3), P::Int64(-4), P::Floating32(1.5), P::Floating64(2.25), P::Str("text".into()), P::Binary(vec![1, 2]), P::DbNull, P::Uint32(7)];
    let inserted = c.execute("INSERT INTO kiln_v2 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", &params)?;
    let rows = c.query("SELECT * FROM kiln_v2 WHERE i32 = $1", &[P::Int32(3)])?;
    let columns: Vec<String> = rows.columns.iter().map(|c| format!("{}:{:?}", c.name, c.data_type)).collect();
    let bad = c.query("SELECT nope", &[]).err();
    Ok(format!("inserted={inserted}\ncolumns={columns:?}\nrows={:?}\nbad={bad:?}\n", rows.rows))
}

/// Writes and reads the date and time types of `spin:postgres@3.0.0`.
fn postgres3_script(address: &str) -> Result<String, spin_sdk::pg3::Error> {
    use spin_sdk::pg3::{Connection, ParameterValue as P};
    let c = Connection::open(address)?;
    c.execute("CREATE TEMP TABLE IF NOT EXISTS kiln_v3 (d DATE, t TIME, dt TIMESTAMP, ts TIMESTAMPTZ)", &[])?;
    c.execute("DELETE FROM kiln_v3", &[])?;
    let params = [P::Date((2024, 2, 29)), P::Time((13, 45, 30, 500_000_000)), P::Datetime((2024, 2, 29, 13, 45, 30, 0)), P::Timestamp(1_700_000_000)];
    c.execute("INSERT INTO kiln_v3 VALUES ($1, $2, $3, $4)", &params)?;
    let rows = c.query("SELECT * FROM kiln_v3", &[])?;
    let columns: Vec<String> = rows.columns.iter().map(|c| format!("{}:{:?}", c.name, c.data_type)).collect();
    Ok(format!("columns={columns:?}\nrows={:?}\n", rows.rows))
}
