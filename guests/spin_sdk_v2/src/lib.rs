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
//! - `GET /mqtt?ADDRESS[&USER&PASSWORD]` publishes `q0`, `q1` and `q2` on `kiln/spin-sdk-v2` at
//!   QoS 0, 1, 2
//! - `GET /postgres?ADDRESS` writes and reads a row of every `fermyon:spin/postgres@2.0.0` type
//!   (and `/postgres3?ADDRESS` of the date and time types of `spin:postgres@3.0.0`, and
//!   `/postgres4?ADDRESS` of the types `spin:postgres@4` adds) in a temporary table, one line
//!   per result; the address is a URL or libpq's `key=value` form (spaces as `%20`)
//! - `GET /mysql?ADDRESS` writes and reads a row of every `fermyon:spin/mysql@2.0.0` type in a
//!   temporary table, one line per result
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
        // A libpq `key=value` address comes with its spaces as `%20`.
        ["postgres"] => postgres_script(&request.query().replace("%20", " ")).map_err(|e| format!("{e:?}")),
        ["postgres3"] => postgres3_script(request.query()).map_err(|e| format!("{e:?}")),
        ["postgres4"] => postgres4_script(request.query()).map_err(|e| format!("{e:?}")),
        ["mysql"] => mysql_script(request.query()).map_err(|e| format!("{e:?}")),
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
    let mut parts = address.split('&');
    let address = parts.next().unwrap_or_default();
    let (user, password) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let c = Connection::open(address, user, password, 30)?;
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

/// The table of the `spin:postgres@4` scripts (the Spin SDK 7 guest has the same): a column of
/// each type version 4 added, an empty range, and an `inet` the interface cannot carry.
const POSTGRES4_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS kiln_pg4 (u UUID, j JSONB, d NUMERIC, r4 INT4RANGE, r8 INT8RANGE, rn NUMRANGE, a4 INT4[], a8 INT8[], ad NUMERIC[], ast TEXT[], iv INTERVAL, e INT4RANGE, n INTEGER, x INET)";

/// Writes a row with a parameter of each type `spin:postgres@4` added, reads it back, and runs
/// a bad statement.
fn postgres4_script(address: &str) -> Result<String, spin_sdk::pg4::PgError> {
    use spin_sdk::pg4::{Connection, Interval, ParameterValue as P, RangeBoundKind as K};
    let c = Connection::open(address)?;
    c.execute(POSTGRES4_TABLE, &[])?;
    c.execute("DELETE FROM kiln_pg4", &[])?;
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
    c.execute("INSERT INTO kiln_pg4 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '10.0.0.1')", &params)?;
    let rows = c.query("SELECT * FROM kiln_pg4 WHERE d = $1", &[P::Decimal("12.5".into())])?;
    let columns: Vec<String> = rows.columns.iter().map(|c| format!("{}:{:?}", c.name, c.data_type)).collect();
    let bad = c.query("SELECT nope FROM kiln_pg4", &[]).err();
    Ok(format!("columns={columns:?}\nrows={:?}\nbad={bad:?}\n", rows.rows))
}

/// The table both MySQL scripts use: a column of each type the interfaces carry, and a
/// decimal they do not.
const MYSQL_TABLE: &str = "CREATE TEMPORARY TABLE kiln_mysql (b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, u8 TINYINT UNSIGNED, u16 SMALLINT UNSIGNED, u32 INT UNSIGNED, u64 BIGINT UNSIGNED, f32 FLOAT, f64 DOUBLE, s VARCHAR(20), t TEXT, bin BLOB, n INT, d DECIMAL(5,2))";

/// Writes a row with a parameter of each type, reads it back, and runs a bad statement.
fn mysql_script(address: &str) -> Result<String, spin_sdk::mysql::MysqlError> {
    use spin_sdk::mysql::{Connection, ParameterValue as P};
    let c = Connection::open(address)?;
    c.execute(MYSQL_TABLE, &[])?;
    let params = [P::Boolean(true), P::Int8(-1), P::Int16(-2), P::Int32(-3), P::Int64(-4), P::Uint8(255), P::Uint16(65535), P::Uint32(7), P::Uint64(u64::MAX), P::Floating32(1.5), P::Floating64(2.25), P::Str("text".into()), P::Str("long text".into()), P::Binary(vec![0, 255]), P::DbNull, P::Str("3.14".into())];
    c.execute("INSERT INTO kiln_mysql VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &params)?;
    let rows = c.query("SELECT * FROM kiln_mysql WHERE i32 = ?", &[P::Int32(-3)])?;
    let columns: Vec<String> = rows.columns.iter().map(|c| format!("{}:{:?}", c.name, c.data_type)).collect();
    let bad = c.query("SELECT nope FROM kiln_mysql", &[]).err();
    Ok(format!("columns={columns:?}\nrows={:?}\nbad={bad:?}\n", rows.rows))
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
