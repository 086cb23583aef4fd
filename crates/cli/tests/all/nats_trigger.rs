//! `[[trigger.nats]]`: messages on a subject call the component's `wasmcloud:messaging/handler`,
//! each in a fresh instance; a request gets the reply the handler publishes; a queue group
//! takes each message once; a failing handler is logged and counted, and the next message
//! runs; the subscription survives a restart of the server; an unreachable server is an error
//! at start. Each test runs a NATS server of its own.

use std::time::{Duration, Instant};

use kiln_test_guests::{HTTP_HELLO, NATS_HANDLER};

use crate::brokers::Broker;
use crate::util::{
    app_dir, kiln_output, logged_lines, metrics_when, path_str, trigger_events, wait_until, Server,
};

/// An app whose `handler` (and, with `group`, also `twin`) take `subject`, and which serves
/// HTTP so that the test knows when it is up.
fn manifest(nats: &str, subject: &str, group: Option<&str>) -> String {
    let trigger = |component: &str| {
        match group {
        Some(group) => format!(
            "[[trigger.nats]]\nsubject = \"{subject}\"\ngroup = \"{group}\"\ncomponent = \"{component}\"\n"
        ),
        None => format!("[[trigger.nats]]\nsubject = \"{subject}\"\ncomponent = \"{component}\"\n"),
    }
    };
    let component = |id: &str| {
        format!("[component.{id}]\nsource = \"{NATS_HANDLER}\"\nallowed_outbound_hosts = [\"{nats}\"]\n")
    };
    let mut text = format!(
        r#"spin_manifest_version = 2
[application]
name = "nats-trigger"
[application.trigger.nats]
url = "{nats}"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "{HTTP_HELLO}"
"#
    );
    text += &trigger("handler");
    text += &component("handler");
    if group.is_some() {
        text += &trigger("twin");
        text += &component("twin");
    }
    text
}

/// The messages a component logged (`nats message SUBJECT BODY`), as `SUBJECT BODY`.
fn logged(app: &std::path::Path, component: &str) -> Vec<String> {
    logged_lines(app, component, "nats message ")
}

async fn ask(nats: &async_nats::Client, subject: &str, body: &str) -> Result<String, String> {
    let reply = tokio::time::timeout(
        Duration::from_secs(2),
        nats.request(subject.to_string(), body.to_string().into()),
    )
    .await
    .map_err(|_| "no reply in 2 s".to_string())?
    .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&reply.payload).into_owned())
}

#[tokio::test]
async fn a_request_gets_the_handlers_reply() {
    let broker = Broker::nats();
    let dir = app_dir(&[(
        "spin.toml",
        &manifest(&broker.url("nats"), "orders.*", None),
    )]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l == "Subscribed to NATS subject \"orders.*\" for component handler"),
        "{:?}",
        server.banner
    );
    let nats = async_nats::connect(broker.url("nats")).await.unwrap();
    assert_eq!(
        ask(&nats, "orders.new", "ping").await,
        Ok("reply: ping".into()),
        "{}",
        server.stderr()
    );
    nats.publish("orders.old", "plain".into()).await.unwrap();
    nats.flush().await.unwrap();
    wait_until(10, || logged(dir.path(), "handler").len() >= 2).await;
    assert_eq!(
        logged(dir.path(), "handler"),
        ["orders.new ping", "orders.old plain"]
    );
}

#[tokio::test]
async fn a_queue_group_takes_each_message_once() {
    let broker = Broker::nats();
    let manifest = manifest(&broker.url("nats"), "jobs", Some("workers"));
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let _server = Server::start(&["up", "-f", path_str(dir.path())]);
    let nats = async_nats::connect(broker.url("nats")).await.unwrap();
    for i in 0..20 {
        assert_eq!(
            ask(&nats, "jobs", &format!("job{i}")).await,
            Ok(format!("reply: job{i}"))
        );
    }
    let both = || logged(dir.path(), "handler").len() + logged(dir.path(), "twin").len();
    wait_until(10, || both() >= 20).await;
    // Late duplicates would show up by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        both(),
        20,
        "each message handled once by one member of the group"
    );
}

#[tokio::test]
async fn a_failing_handler_is_logged_and_counted_and_the_next_message_runs() {
    let broker = Broker::nats();
    let dir = app_dir(&[("spin.toml", &manifest(&broker.url("nats"), "work", None))]);
    let server = Server::start(&[
        "up",
        "-f",
        path_str(dir.path()),
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    let nats = async_nats::connect(broker.url("nats")).await.unwrap();
    nats.publish("work", "fail".into()).await.unwrap();
    nats.publish("work", "trap".into()).await.unwrap();
    assert_eq!(ask(&nats, "work", "after").await, Ok("reply: after".into()));
    wait_until(10, || {
        server.stderr().matches("NATS message failed").count() >= 2
    })
    .await;
    assert!(server.stderr_shows("asked to fail"), "{}", server.stderr());
    let metrics = metrics_when(&server, |m| {
        trigger_events(m, "nats", "handler", "ok") == Some(1.0)
            && trigger_events(m, "nats", "handler", "guest_error") == Some(1.0)
            && trigger_events(m, "nats", "handler", "trap") == Some(1.0)
    })
    .await;
    let events = |outcome| trigger_events(&metrics, "nats", "handler", outcome);
    assert_eq!(events("ok"), Some(1.0), "{metrics}");
    assert_eq!(events("guest_error"), Some(1.0), "{metrics}");
    assert_eq!(events("trap"), Some(1.0), "{metrics}");
}

#[tokio::test]
async fn the_subscription_survives_a_restart_of_the_server() {
    let mut broker = Broker::nats();
    let dir = app_dir(&[("spin.toml", &manifest(&broker.url("nats"), "ping", None))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let nats = async_nats::connect(broker.url("nats")).await.unwrap();
    assert_eq!(
        ask(&nats, "ping", "before").await,
        Ok("reply: before".into())
    );

    broker.restart();
    // Both clients reconnect by themselves; the trigger's subscription comes back with it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        let answer = ask(&nats, "ping", "after").await;
        if answer.is_ok() || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answer, Ok("reply: after".into()), "{}", server.stderr());
    assert!(
        server.stderr_shows("lost the NATS connection"),
        "{}",
        server.stderr()
    );
}

#[test]
fn an_unreachable_server_is_an_error_at_start() {
    let dir = app_dir(&[("spin.toml", &manifest("nats://127.0.0.1:1", "x", None))]);
    let output = kiln_output(&["up", "-f", path_str(dir.path()), "--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("nats trigger: cannot connect to NATS at nats://127.0.0.1:1")
            && stderr.contains("start the server, or set url under [application.trigger.nats]"),
        "{stderr}"
    );
}

#[test]
fn a_component_without_the_handler_export_is_an_error_at_load() {
    let text = manifest("nats://127.0.0.1:1", "x", None).replace(NATS_HANDLER, HTTP_HELLO);
    let dir = app_dir(&[("spin.toml", &text)]);
    let output = kiln_output(&["up", "-f", path_str(dir.path()), "--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("wasmcloud:messaging/handler@0.2.0"),
        "{stderr}"
    );
    assert!(stderr.contains("\"handler\""), "{stderr}");
}

#[tokio::test]
async fn user_and_password_open_a_protected_server() {
    let broker = Broker::nats_protected("kiln", "secret");
    let url = broker.url("nats");
    let with_credentials = |password: &str| {
        manifest(&url, "secure", None).replace(
            &format!("url = \"{url}\"\n"),
            &format!("url = \"{url}\"\nuser = \"kiln\"\npassword = \"{password}\"\n"),
        )
    };
    let dir = app_dir(&[("spin.toml", &with_credentials("secret"))]);
    let server = Server::start(&["up", "-f", path_str(dir.path())]);
    let nats = async_nats::ConnectOptions::with_user_and_password("kiln".into(), "secret".into())
        .connect(&url)
        .await
        .unwrap();
    // The trigger's connection and the handler's (replying) both log in.
    assert_eq!(
        ask(&nats, "secure", "in").await,
        Ok("reply: in".into()),
        "{}",
        server.stderr()
    );

    let wrong = app_dir(&[("spin.toml", &with_credentials("wrong"))]);
    let output = kiln_output(&[
        "up",
        "-f",
        path_str(wrong.path()),
        "--listen",
        "127.0.0.1:0",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("cannot connect to NATS at {url}")),
        "{stderr}"
    );
}
