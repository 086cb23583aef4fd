//! Spin SDK components (`fermyon:spin@2.0.0`, built with spin-sdk 5) on `kiln up`: key-value,
//! SQLite, variables and outbound HTTP behave as under `spin up`.

use kiln_test_guests::{
    HTTP_ECHO, SPIN_SDK_3X, SPIN_SDK_3X_WASIP1, SPIN_SDK_P3, SPIN_SDK_V2, SPIN_SDK_V2_WASIP1,
};
use serde_json::json;

use crate::util::{app_dir, kiln, kiln_output, path_str, Server};

fn manifest(extra_component: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "spin-sdk-v2"
[variables]
greeting = {{ default = "hello" }}
who = {{ required = true }}
[[trigger.http]]
route = "/..."
component = "app"
[[trigger.http]]
route = "/other/..."
component = "other"
[component.app]
source = "{SPIN_SDK_V2}"
key_value_stores = ["default"]
sqlite_databases = ["default"]
variables = {{ message = "{{{{ greeting }}}}, {{{{ who }}}}!", plain = "literal" }}
{extra_component}
[component.other]
source = "{SPIN_SDK_V2}"
"#
    )
}

/// [`manifest`] with `app_extra` in the `app` component, plus a Spin SDK 7 component `p3` at
/// `/p3/...` with `p3_extra`.
pub(crate) fn with_p3(app_extra: &str, p3_extra: &str) -> String {
    format!(
        r#"{}
[[trigger.http]]
route = "/p3/..."
component = "p3"
[component.p3]
source = "{SPIN_SDK_P3}"
{p3_extra}
"#,
        manifest(app_extra)
    )
}

pub(crate) fn start(dir: &tempfile::TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["up", "-f", path_str(dir.path()), "--variable", "who=kiln"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

#[tokio::test]
async fn key_value_round_trips_and_survives_a_restart() {
    let dir = app_dir(&[("spin.toml", &manifest(""))]);
    let server = start(&dir, &[]);
    assert_eq!(
        server
            .request("PUT", "/kv/default/greeting", &[], "bonjour")
            .await
            .body,
        "ok"
    );
    assert_eq!(
        server
            .request("PUT", "/kv/default/other", &[], "x")
            .await
            .body,
        "ok"
    );
    assert_eq!(server.get("/kv/default/greeting").await.body, "bonjour");
    assert_eq!(
        server
            .request("HEAD", "/kv/default/greeting", &[], "")
            .await
            .status,
        200
    );
    assert_eq!(server.get("/kv/default").await.body, "greeting\nother");
    assert_eq!(
        server
            .request("DELETE", "/kv/default/other", &[], "")
            .await
            .body,
        "ok"
    );
    let missing = server.get("/kv/default/other").await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (500, "error: not found")
    );
    drop(server);

    let server = start(&dir, &[]);
    assert_eq!(
        server.get("/kv/default/greeting").await.body,
        "bonjour",
        "{}",
        server.stderr()
    );
    assert_eq!(server.get("/kv/default").await.body, "greeting");
}

/// As Spin does, a label the component does not list is access denied, whether or not the
/// app defines it.
#[tokio::test]
async fn stores_not_granted_or_not_defined_are_refused() {
    let dir = app_dir(&[("spin.toml", &manifest(""))]);
    let server = start(&dir, &[]);
    let denied = server.get("/other/kv/default/k").await;
    assert_eq!(denied.body, "error: Error::AccessDenied");
    let unknown = server.get("/kv/nope/k").await;
    assert_eq!(unknown.body, "error: Error::AccessDenied");
    assert_eq!(
        server
            .post_sql("/other/sql/default", json!({"statement": "SELECT 1"}))
            .await,
        "error: Error::AccessDenied"
    );
    assert_eq!(
        server
            .post_sql("/sql/nope", json!({"statement": "SELECT 1"}))
            .await,
        "error: Error::AccessDenied"
    );
}

#[tokio::test]
async fn sql_with_every_value_type() {
    let dir = app_dir(&[("spin.toml", &manifest(""))]);
    let server = start(
        &dir,
        &[
            "--sqlite",
            "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)",
        ],
    );
    let params = json!([{"integer": -42}, {"real": 2.5}, {"text": "héllo"}, {"blob": [0, 1, 255]}, {"null": null}]);
    let inserted = server
        .post_sql(
            "/sql/default",
            json!({"statement": "INSERT INTO t VALUES (?, ?, ?, ?, ?)", "params": params}),
        )
        .await;
    assert_eq!(inserted, r#"{"columns":[],"rows":[]}"#);
    let selected = server
        .post_sql(
            "/sql/default",
            json!({"statement": "SELECT * FROM t WHERE i = ?", "params": [{"integer": -42}]}),
        )
        .await;
    let expected = json!({"columns": ["i", "r", "s", "b", "n"], "rows": [params]});
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&selected).unwrap(),
        expected
    );
    let bad = server
        .post_sql("/sql/default", json!({"statement": "SELEKT"}))
        .await;
    assert!(
        bad.starts_with("error: Error::Io(") && bad.contains("syntax error"),
        "{bad}"
    );
}

#[tokio::test]
async fn sqlite_setup_from_a_file() {
    let dir = app_dir(&[
        ("spin.toml", &manifest("")),
        (
            "setup.sql",
            "CREATE TABLE pets (name TEXT); INSERT INTO pets VALUES ('rex');",
        ),
    ]);
    let setup = format!("@{}", path_str(&dir.path().join("setup.sql")));
    let server = start(&dir, &["--sqlite", &setup]);
    let rows = server
        .post_sql(
            "/sql/default",
            json!({"statement": "SELECT name FROM pets"}),
        )
        .await;
    assert_eq!(rows, r#"{"columns":["name"],"rows":[[{"text":"rex"}]]}"#);
}

#[tokio::test]
async fn variables_come_from_defaults_flags_and_the_environment() {
    let dir = app_dir(&[("spin.toml", &manifest(""))]);
    let server = start(&dir, &[]);
    assert_eq!(server.get("/var/message").await.body, "hello, kiln!");
    assert_eq!(server.get("/var/plain").await.body, "literal");
    assert!(server
        .get("/var/greeting")
        .await
        .body
        .starts_with("error: Error::Undefined("));
    assert!(server
        .get("/var/Bad-Name")
        .await
        .body
        .starts_with("error: Error::InvalidName("));
    drop(server);

    let mut command = kiln();
    command
        .env("SPIN_VARIABLE_GREETING", "hi")
        .env("KILN_VARIABLE_WHO", "env");
    let server = Server::start_with(command, &["up", "-f", path_str(dir.path())]);
    assert_eq!(server.get("/var/message").await.body, "hi, env!");
    drop(server);

    let json_file = dir.path().join("vars.json");
    std::fs::write(&json_file, r#"{"who": "file"}"#).unwrap();
    let at = format!("@{}", path_str(&json_file));
    let server = Server::start(&["up", "-f", path_str(dir.path()), "--variable", &at]);
    assert_eq!(server.get("/var/message").await.body, "hello, file!");
}

#[test]
fn a_missing_required_variable_stops_kiln_up() {
    let dir = app_dir(&[("spin.toml", &manifest(""))]);
    let output = kiln_output(&["up", "-f", path_str(dir.path()), "--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("variable \"who\" is required and has no value: set it with --variable who=VALUE or KILN_VARIABLE_WHO"), "{stderr}");
}

#[tokio::test]
async fn outbound_http_follows_allowed_outbound_hosts() {
    let target = Server::start(&["serve", HTTP_ECHO]);
    let port = target.url.rsplit(':').next().unwrap().to_string();
    let grant = format!("allowed_outbound_hosts = [\"http://127.0.0.1:{port}\"]");
    let dir = app_dir(&[("spin.toml", &manifest(&grant))]);
    let server = start(&dir, &[]);
    let allowed = server
        .get(&format!("/outbound?url={}/hello", target.url))
        .await;
    assert!(
        allowed.body.starts_with("200 method: GET\npath: /hello\n"),
        "{}",
        allowed.body
    );

    let denied = server
        .get(&format!("/other/outbound?url={}/hello", target.url))
        .await;
    assert!(denied.body.contains("HttpRequestDenied"), "{}", denied.body);
    assert!(
        server.stderr_shows(
            "denied: add its scheme://host:port to allowed_outbound_hosts component_id=other"
        ),
        "{}",
        server.stderr()
    );
    let other_port = server.get("/outbound?url=http://127.0.0.1:1/x").await;
    assert!(
        other_port.body.contains("HttpRequestDenied"),
        "{}",
        other_port.body
    );
}

#[tokio::test]
async fn self_requests_are_served_through_the_app_routes() {
    let grant = r#"allowed_outbound_hosts = ["http://self"]"#;
    let dir = app_dir(&[("spin.toml", &manifest(grant))]);
    let server = start(&dir, &[]);
    let chained = server.get("/outbound?url=/var/plain").await;
    assert_eq!(chained.body, "200 literal", "{}", server.stderr());
    let to_other = server.get("/outbound?url=/other/nothing").await;
    assert_eq!(to_other.body, "404 no such route");

    let denied = server.get("/other/outbound?url=/var/plain").await;
    assert!(denied.body.contains("HttpRequestDenied"), "{}", denied.body);
    assert!(
        server.stderr_shows(r#"add "http://self" to allowed_outbound_hosts component_id=other"#),
        "{}",
        server.stderr()
    );
}

#[tokio::test]
async fn relative_urls_from_a_wasi_0_3_component_are_served_through_the_app_routes() {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "p3-self"
[[trigger.http]]
route = "/p3/..."
component = "p3"
[[trigger.http]]
route = "/ungranted/..."
component = "ungranted"
[component.p3]
source = "{SPIN_SDK_P3}"
allowed_outbound_hosts = ["http://self"]
[component.ungranted]
source = "{SPIN_SDK_P3}"
"#
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let relative = server.get("/p3/outbound?url=/p3/hello").await;
    assert_eq!(relative.body, "200 p3 GET /hello ", "{}", server.stderr());
    let unrouted = server.get("/p3/outbound?url=/nowhere").await;
    assert_eq!(unrouted.body, "404 Not Found\n");

    let denied = server.get("/ungranted/outbound?url=/p3/hello").await;
    assert!(denied.body.contains("HttpRequestDenied"), "{}", denied.body);
}

#[tokio::test]
async fn service_chaining_reaches_a_private_component_in_process() {
    let app = format!(
        r#"{}
[[trigger.http]]
route = {{ private = true }}
component = "back"
[component.back]
source = "{HTTP_ECHO}"
"#,
        manifest(r#"allowed_outbound_hosts = ["http://*.spin.internal"]"#)
    );
    let dir = app_dir(&[("spin.toml", &app)]);
    let server = start(&dir, &[]);
    let chained = server
        .get("/outbound?url=http://back.spin.internal/items/7?full=1")
        .await;
    let body = &chained.body;
    assert!(
        body.starts_with("200 method: GET\npath: /items/7?full=1\n"),
        "{body}"
    );
    for header in [
        "header: spin-path-info: /items/7",
        "header: spin-matched-route: /...",
        "header: spin-full-url: http://back.spin.internal/items/7?full=1",
        "header: spin-client-addr: 0.0.0.0:0",
    ] {
        assert!(body.contains(header), "{header} missing in {body}");
    }
    // A private component has no route of its own.
    assert_eq!(server.get("/back/items").await.body, "no such route");
    let missing = server
        .get("/outbound?url=http://nothing.spin.internal/")
        .await;
    assert!(
        missing.body.contains("DestinationNotFound"),
        "{}",
        missing.body
    );

    let denied = server
        .get("/other/outbound?url=http://back.spin.internal/")
        .await;
    assert!(denied.body.contains("HttpRequestDenied"), "{}", denied.body);
    assert!(
        server.stderr_shows(r#"add "http://back.spin.internal" (or "http://*.spin.internal") to allowed_outbound_hosts component_id=other"#),
        "{}",
        server.stderr()
    );
}

impl Server {
    async fn post_sql(&self, path: &str, body: serde_json::Value) -> String {
        self.request("POST", path, &[], &body.to_string())
            .await
            .body
    }
}

#[tokio::test]
async fn the_same_app_built_for_wasip1_is_adapted_and_runs() {
    let dir = app_dir(&[(
        "spin.toml",
        &manifest("").replace(SPIN_SDK_V2, SPIN_SDK_V2_WASIP1),
    )]);
    let server = start(&dir, &[]);
    assert_eq!(
        server
            .request("PUT", "/kv/default/k", &[], "from p1")
            .await
            .body,
        "ok",
        "{}",
        server.stderr()
    );
    assert_eq!(server.get("/kv/default/k").await.body, "from p1");
    assert_eq!(server.get("/var/message").await.body, "hello, kiln!");
    assert_eq!(
        server.get("/other/kv/default/k").await.body,
        "error: Error::AccessDenied"
    );
}

#[tokio::test]
async fn a_spin_sdk_3_component_as_spin_2_templates_built_it_serves() {
    // The same source built for wasm32-wasip1 (Spin 2's templates) and wasm32-wasip2.
    for source in [SPIN_SDK_3X_WASIP1, SPIN_SDK_3X] {
        let manifest = format!(
            "spin_manifest_version = 2\n[application]\nname = \"sdk3\"\n[variables]\nwho = {{ default = \"kiln\" }}\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"sdk3\"\n[component.sdk3]\nsource = \"{source}\"\nkey_value_stores = [\"default\"]\n[component.sdk3.variables]\nwho = \"{{{{ who }}}}\"\n"
        );
        let dir = app_dir(&[("spin.toml", &manifest)]);
        let server = Server::start(&["up", "-f", path_str(dir.path())]);
        assert_eq!(
            server.get("/a").await.body,
            "hello kiln (visit 1) from spin-sdk 3 at /a",
            "{source}: {}",
            server.stderr()
        );
        assert_eq!(
            server.get("/b/c").await.body,
            "hello kiln (visit 2) from spin-sdk 3 at /b/c"
        );
    }
}

#[tokio::test]
async fn a_spin_sdk_7_component_on_wasi_0_3_serves() {
    let target = Server::start(&["serve", HTTP_ECHO]);
    let port = target.url.rsplit(':').next().unwrap().to_string();
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "p3"
[variables]
color = {{ default = "teal" }}
[[trigger.http]]
route = "/p3/..."
component = "p3"
[component.p3]
source = "{SPIN_SDK_P3}"
allowed_outbound_hosts = ["http://127.0.0.1:{port}"]
variables = {{ shade = "dark {{{{ color }}}}" }}
key_value_stores = ["default"]
sqlite_databases = ["default"]
"#
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--sqlite",
        "CREATE TABLE pets (name TEXT)",
    ]);
    let hello = server.get("/p3/hello").await;
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "p3 GET /hello "),
        "{}",
        server.stderr()
    );
    assert_eq!(
        server.request("POST", "/p3/x", &[], "payload").await.body,
        "p3 POST /x payload"
    );

    // Many requests at once share and reuse instances.
    let requests = (0..32).map(|i| {
        let server = &server;
        async move { server.get(&format!("/p3/n{i}")).await.body }
    });
    let bodies = futures::future::join_all(requests).await;
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(body, &format!("p3 GET /n{i} "));
    }

    let allowed = server
        .get(&format!("/p3/outbound?url={}/from-p3", target.url))
        .await;
    assert!(
        allowed
            .body
            .starts_with("200 method: GET\npath: /from-p3\n"),
        "{}",
        allowed.body
    );
    let denied = server.get("/p3/outbound?url=http://127.0.0.1:1/").await;
    assert_eq!(denied.status, 500);
    assert!(denied.body.contains("HttpRequestDenied"), "{}", denied.body);

    assert_eq!(server.get("/p3/var/shade").await.body, "dark teal");
    assert!(server.get("/p3/var/color").await.body.contains("Undefined"));
    assert_eq!(server.get("/p3/config/shade").await.body, "dark teal");
    assert_eq!(server.get("/p3/config/color").await.status, 404);

    assert_eq!(
        server
            .request("PUT", "/p3/kv/default/b", &[], "two")
            .await
            .body,
        "ok"
    );
    assert_eq!(
        server
            .request("PUT", "/p3/kv/default/a", &[], "one")
            .await
            .body,
        "ok"
    );
    assert_eq!(server.get("/p3/kv/default/a").await.body, "one");
    assert_eq!(server.get("/p3/kv/default").await.body, "a\nb");
    assert_eq!(
        server.get("/p3/kv/default/zzz").await.body,
        "error: not found"
    );
    assert!(server
        .get("/p3/kv/other/a")
        .await
        .body
        .contains("AccessDenied"));
}

/// What both Spin SDK guests' Redis scripts answer against a real server.
const REDIS_SCRIPT_OUTPUT: &str = "get=Some(Ok(\"value\"))
incr=2
sadd=3
srem=1
smembers=[\"b\", \"c\"]
del=2
get-deleted=None
execute-set=[RedisResult::Status(\"OK\")]
execute-incrby=[RedisResult::Int64(50)]
execute-get=[RedisResult::Binary([53, 48])]
execute-missing=[RedisResult::Nil]
incr-text=Some(Error::TypeError)
";

#[tokio::test]
async fn redis_calls_reach_a_real_server_where_granted() {
    let manifest = with_p3(
        r#"allowed_outbound_hosts = ["redis://127.0.0.1:6379"]"#,
        r#"allowed_outbound_hosts = ["redis://127.0.0.1:*"]"#,
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let server = start(&dir, &[]);
    let v2 = server.get("/redis?redis://127.0.0.1:6379").await;
    assert_eq!((v2.status, v2.body.as_str()), (200, REDIS_SCRIPT_OUTPUT));
    let v3 = server.get("/p3/redis?redis://127.0.0.1:6379").await;
    assert_eq!((v3.status, v3.body.as_str()), (200, REDIS_SCRIPT_OUTPUT));

    let denied = server.get("/other/redis?redis://127.0.0.1:6379").await;
    assert_eq!(denied.body, "error: Error::InvalidAddress");
    assert!(server
        .stderr_shows("Redis connection to redis://127.0.0.1:6379 denied: add its redis://host:port to allowed_outbound_hosts component_id=other"));
    let wrong_port = server.get("/redis?redis://127.0.0.1:6380").await;
    assert_eq!(wrong_port.body, "error: Error::InvalidAddress");
    let unreachable = server.get("/p3/redis?redis://127.0.0.1:1").await;
    assert!(
        unreachable
            .body
            .starts_with("error: Error::Other(\"connecting to Redis:"),
        "{}",
        unreachable.body
    );
}

#[tokio::test]
async fn postgres_statements_reach_a_real_server_where_granted() {
    let grant = r#"allowed_outbound_hosts = ["postgres://127.0.0.1:5432"]"#;
    let dir = app_dir(&[("spin.toml", &manifest(grant))]);
    let server = start(&dir, &[]);
    let address = "postgres://postgres@127.0.0.1:5432/test";
    let v2 = server.get(&format!("/postgres?{address}")).await;
    assert_eq!(
        v2.body,
        r#"inserted=1
columns=["b:DbDataType::Boolean", "i16:DbDataType::Int16", "i32:DbDataType::Int32", "i64:DbDataType::Int64", "f32:DbDataType::Floating32", "f64:DbDataType::Floating64", "s:DbDataType::Str", "bin:DbDataType::Binary", "n:DbDataType::Int32", "u:DbDataType::Int64"]
rows=[[DbValue::Boolean(true), DbValue::Int16(-2), DbValue::Int32(3), DbValue::Int64(-4), DbValue::Floating32(1.5), DbValue::Floating64(2.25), DbValue::Str("text"), DbValue::Binary([1, 2]), DbValue::DbNull, DbValue::Int64(7)]]
bad=Some(Error::QueryFailed("column \"nope\" does not exist"))
"#,
        "{}",
        server.stderr()
    );
    let v3 = server.get(&format!("/postgres3?{address}")).await;
    assert_eq!(
        v3.body,
        r#"columns=["d:DbDataType::Date", "t:DbDataType::Time", "dt:DbDataType::Datetime", "ts:DbDataType::Timestamp"]
rows=[[DbValue::Date((2024, 2, 29)), DbValue::Time((13, 45, 30, 500000000)), DbValue::Datetime((2024, 2, 29, 13, 45, 30, 0)), DbValue::Timestamp(1700000000)]]
"#,
        "{}",
        server.stderr()
    );

    let denied = server.get(&format!("/other/postgres?{address}")).await;
    assert_eq!(
        denied.body,
        "error: Error::ConnectionFailed(\"address postgres://127.0.0.1:5432 is not permitted\")"
    );
    // libpq's key=value form names the same server, under the same grant.
    let key_value = "host=127.0.0.1%20port=5432%20user=postgres%20dbname=test";
    let v2 = server.get(&format!("/postgres?{key_value}")).await;
    assert!(v2.body.starts_with("inserted=1\n"), "{}", v2.body);
    let denied = server.get(&format!("/other/postgres?{key_value}")).await;
    assert!(
        denied
            .body
            .contains("address postgres://127.0.0.1:5432 is not permitted"),
        "{}",
        denied.body
    );
    let unreachable = server
        .get("/postgres?postgres://postgres@127.0.0.1:1/test")
        .await;
    assert!(
        unreachable.body.contains("ConnectionFailed"),
        "{}",
        unreachable.body
    );
}

#[tokio::test]
async fn postgres_is_granted_by_any_scheme_entry_for_its_host_and_port() {
    let grant = r#"allowed_outbound_hosts = ["*://127.0.0.1:5432"]"#;
    let dir = app_dir(&[("spin.toml", &manifest(grant))]);
    let server = start(&dir, &[]);
    for address in [
        "postgres://postgres@127.0.0.1:5432/test",
        "host=127.0.0.1%20user=postgres%20dbname=test",
    ] {
        let response = server.get(&format!("/postgres?{address}")).await;
        assert!(
            response.body.starts_with("inserted=1\n"),
            "{address}: {}\n{}",
            response.body,
            server.stderr()
        );
    }
}

#[tokio::test]
async fn mysql_statements_reach_a_real_server_where_granted() {
    let grant = r#"allowed_outbound_hosts = ["mysql://127.0.0.1:3306", "mysql://127.0.0.1:1"]"#;
    let dir = app_dir(&[("spin.toml", &with_p3(grant, grant))]);
    let server = start(&dir, &[]);
    let address = "mysql://root@127.0.0.1:3306/test";
    let columns = r#"["b:DbDataType::Int8", "i8:DbDataType::Int8", "i16:DbDataType::Int16", "i32:DbDataType::Int32", "i64:DbDataType::Int64", "u8:DbDataType::Uint8", "u16:DbDataType::Uint16", "u32:DbDataType::Uint32", "u64:DbDataType::Uint64", "f32:DbDataType::Floating32", "f64:DbDataType::Floating64", "s:DbDataType::Str", "t:DbDataType::Str", "bin:DbDataType::Binary", "n:DbDataType::Int32", "d:DbDataType::Other"]"#;
    let values = r#"DbValue::Int8(1), DbValue::Int8(-1), DbValue::Int16(-2), DbValue::Int32(-3), DbValue::Int64(-4), DbValue::Uint8(255), DbValue::Uint16(65535), DbValue::Uint32(7), DbValue::Uint64(18446744073709551615), DbValue::Floating32(1.5), DbValue::Floating64(2.25), DbValue::Str("text"), DbValue::Str("long text"), DbValue::Binary([0, 255]), DbValue::DbNull, DbValue::Unsupported"#;
    let bad = r#"Error::QueryFailed("Unknown column 'nope' in 'SELECT'")"#;
    // Twice each: the second request gets the pooled connection back, its temporary table
    // gone with the session reset.
    for _ in 0..2 {
        let v2 = server.get(&format!("/mysql?{address}")).await;
        assert_eq!(
            v2.body,
            format!("columns={columns}\nrows=[[{values}]]\nbad=Some({bad})\n"),
            "{}",
            server.stderr()
        );
        let v3 = server.get(&format!("/p3/mysql?{address}")).await;
        assert_eq!(
            v3.body,
            format!("columns={columns}\nrows=[[{values}]]\nbad=Some(MysqlError({bad}))\n"),
            "{}",
            server.stderr()
        );
    }

    let denied = server.get(&format!("/other/mysql?{address}")).await;
    assert_eq!(
        denied.body,
        format!("error: Error::ConnectionFailed(\"address {address} is not permitted\")")
    );
    assert!(server.stderr_shows("MySQL connection to mysql://127.0.0.1:3306 denied"));
    let unreachable = server.get("/mysql?mysql://root@127.0.0.1:1/test").await;
    assert!(
        unreachable
            .body
            .contains("ConnectionFailed(\"connecting to mysql://127.0.0.1:1: "),
        "{}",
        unreachable.body
    );
}

#[tokio::test]
async fn postgres_4_types_round_trip_through_both_sdks() {
    let grant = r#"allowed_outbound_hosts = ["postgres://127.0.0.1:5432"]"#;
    let dir = app_dir(&[("spin.toml", &with_p3(grant, grant))]);
    let server = start(&dir, &[]);
    let address = "postgres://postgres@127.0.0.1:5432/test";
    let v2 = server.get(&format!("/postgres4?{address}")).await;
    let p3 = server.get(&format!("/p3/postgres4?{address}")).await;
    // `[1,5]` comes back as PostgreSQL keeps it, `[1,6)`; the empty range `[3,3)` as `[0,0)`;
    // the `inet` as its type's name and its bytes.
    let columns = r#"["u:DbDataType::Uuid", "j:DbDataType::Jsonb", "d:DbDataType::Decimal", "r4:DbDataType::RangeInt32", "r8:DbDataType::RangeInt64", "rn:DbDataType::RangeDecimal", "a4:DbDataType::ArrayInt32", "a8:DbDataType::ArrayInt64", "ad:DbDataType::ArrayDecimal", "ast:DbDataType::ArrayStr", "iv:DbDataType::Interval", "e:DbDataType::RangeInt32", "n:DbDataType::Int32", "x:DbDataType::Other(\"inet\")"]"#;
    let json: Vec<u8> = br#"{"a":[1,null]}"#.to_vec();
    let row = format!(
        r#"DbValue::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), DbValue::Jsonb({json:?}), DbValue::Decimal("12.50"), DbValue::RangeInt32((Some((1, RangeBoundKind::Inclusive)), Some((6, RangeBoundKind::Exclusive)))), DbValue::RangeInt64((None, Some((9, RangeBoundKind::Exclusive)))), DbValue::RangeDecimal((Some(("1.5", RangeBoundKind::Exclusive)), None)), DbValue::ArrayInt32([Some(1), None]), DbValue::ArrayInt64([Some(-2)]), DbValue::ArrayDecimal([Some("0.1"), None]), DbValue::ArrayStr([Some("a"), None]), DbValue::Interval(Interval {{ micros: 1500000, days: 2, months: 14 }}), DbValue::RangeInt32((Some((0, RangeBoundKind::Exclusive)), Some((0, RangeBoundKind::Exclusive)))), DbValue::DbNull, DbValue::Unsupported([2, 32, 0, 4, 10, 0, 0, 1])"#
    );
    let bad = r#"Error::QueryFailed(QueryError::DbError(DbError { as-text: "column \"nope\" does not exist", severity: "ERROR", code: "42703", message: "column \"nope\" does not exist", detail: None, extras: [("position", "8")] }))"#;
    assert_eq!(
        v2.body,
        format!("columns={columns}\nrows=[[{row}]]\nbad=Some({bad})\n"),
        "{}",
        server.stderr()
    );
    assert_eq!(
        p3.body,
        format!(
            "columns={columns}\nrows=[[{row}]]\nbad=Some(PgError({bad}))\n\
             builder=Ok(\"connected\")\nca-root=Err(PgError(Error::Other({:?})))\n",
            "invalid root certificate: expected PEM (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)"
        ),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_follows_sslmode_and_a_ca_root() {
    let pg = crate::brokers::Broker::postgres_tls();
    let port = pg.port;
    let grant = format!(r#"allowed_outbound_hosts = ["postgres://localhost:{port}"]"#);
    let dir = app_dir(&[("spin.toml", &with_p3(&grant, &grant))]);
    let server = start(&dir, &[]);
    let base = format!("postgres://postgres@localhost:{port}/postgres");

    // `require` encrypts without checking the certificate, as libpq does.
    let required = server
        .get(&format!("/postgres?{base}?sslmode=require"))
        .await;
    assert!(
        required.body.starts_with("inserted=1\n"),
        "{}",
        required.body
    );
    let psql = std::process::Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable"
        ))
        .args(["-Atc", "SELECT count(*) FROM pg_stat_ssl WHERE ssl"])
        .output()
        .expect("psql");
    let encrypted = String::from_utf8_lossy(&psql.stdout).trim().to_string();
    assert_eq!(encrypted, "1", "{}", String::from_utf8_lossy(&psql.stderr));

    // `verify-full` checks it: the test CA is not among the platform's roots.
    let unverified = server
        .get(&format!("/postgres?{base}?sslmode=verify-full"))
        .await;
    assert!(
        unverified.body.contains("ConnectionFailed") && unverified.body.contains("UnknownIssuer"),
        "{}",
        unverified.body
    );
    // A CA root given through the connection builder (spin:postgres@4) is trusted.
    let ca = std::fs::read_to_string(pg.dir().join("ca.pem")).unwrap();
    let trusted = server
        .request(
            "POST",
            &format!("/p3/postgres-ca?{base}?sslmode=verify-full"),
            &[],
            &ca,
        )
        .await;
    assert_eq!(trusted.body, "[DbValue::Int32(1)]", "{}", server.stderr());
}
