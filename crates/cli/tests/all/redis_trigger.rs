//! `[[trigger.redis]]`: messages published on a channel reach Spin SDK 5 and SDK 7 handlers, a
//! failing message harms no other, and the subscription survives a Redis restart. The tests run
//! their own `redis-server` on a free port, so restarting it disturbs nothing else.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiln_test_guests::{SPIN_REDIS_P3, SPIN_REDIS_V2, SPIN_SDK_V2};

use crate::util::{app_dir, path_str, Server};

/// A `redis-server` of the test's own, killed when dropped.
pub(crate) struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    pub(crate) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/services.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(mut self) -> Self {
        let port = self.port;
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self);
        Self::start_on(port)
    }

    pub(crate) async fn query<T: redis::FromRedisValue>(&self, command: &mut redis::Cmd) -> T {
        let client = redis::Client::open(self.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        command.query_async(&mut connection).await.unwrap()
    }

    /// Waits until `list` holds `expected`.
    async fn wait_for_list(&self, list: &str, expected: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let items: Vec<String> = self
                .query(redis::cmd("LRANGE").arg(list).arg(0).arg(-1))
                .await;
            if items == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{list} holds {items:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn manifest(redis: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "redis-trigger"
[application.trigger.redis]
address = "{{{{ redis }}}}"
[variables]
redis = {{ default = "{redis}" }}
[[trigger.http]]
route = "/..."
component = "web"
[[trigger.redis]]
channel = "events"
component = "v2"
[[trigger.redis]]
channel = "events"
component = "p3"
[component.web]
source = "{SPIN_SDK_V2}"
[component.v2]
source = "{SPIN_REDIS_V2}"
allowed_outbound_hosts = ["{redis}"]
variables = {{ address = "{{{{ redis }}}}", list = "v2-received" }}
[component.p3]
source = "{SPIN_REDIS_P3}"
allowed_outbound_hosts = ["{redis}"]
variables = {{ address = "{{{{ redis }}}}", list = "p3-received" }}
"#
    )
}

#[tokio::test]
async fn messages_reach_both_sdk_generations_through_a_restart() {
    let redis = RedisServer::start();
    let dir = app_dir(&[("spin.toml", &manifest(&redis.url()))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert!(server
        .banner
        .iter()
        .any(|l| l == "Subscribed to Redis channel \"events\" for component v2"));

    for message in ["one", "fail", "two"] {
        let receivers: i64 = redis
            .query(redis::cmd("PUBLISH").arg("events").arg(message))
            .await;
        assert_eq!(receivers, 2);
    }
    redis.wait_for_list("v2-received", &["one", "two"]).await;
    redis
        .wait_for_list("p3-received", &["one", "fail", "two"])
        .await;
    assert!(
        server.stderr_shows("Redis message failed"),
        "{}",
        server.stderr()
    );
    assert_eq!(
        server.get("/var/none").await.status,
        500,
        "HTTP still serves"
    );

    let redis = redis.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let receivers: i64 = redis
            .query(redis::cmd("PUBLISH").arg("probe").arg("x"))
            .await;
        let subscribed: Vec<redis::Value> = redis
            .query(redis::cmd("PUBSUB").arg("NUMSUB").arg("events"))
            .await;
        let _ = receivers;
        if subscribed.get(1) == Some(&redis::Value::Int(2)) {
            break;
        }
        assert!(Instant::now() < deadline, "kiln did not resubscribe");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    redis
        .query::<i64>(redis::cmd("PUBLISH").arg("events").arg("three"))
        .await;
    redis.wait_for_list("v2-received", &["three"]).await;
    redis.wait_for_list("p3-received", &["three"]).await;
    assert!(server.stderr_shows("resubscribed"), "{}", server.stderr());
}

#[test]
fn an_unreachable_redis_stops_kiln_up_with_the_trigger() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = app_dir(&[("spin.toml", &manifest(&format!("redis://127.0.0.1:{port}")))]);
    let output = crate::util::kiln_output(&["up", "-f", path_str(dir.path())]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "component \"v2\": cannot subscribe to Redis channel \"events\" at redis://127.0.0.1:{port}"
        )),
        "{stderr}"
    );
}
