//! Many hosts, one lattice: a real nats-server with JetStream, a real registry, and several
//! `kiln host` processes on this machine, each on its own port. Deployments spread by labels
//! and weights, every host answers for every deployment (forwarding to one that runs it), a
//! SIGKILLed host's replicas move elsewhere while the survivors keep answering, the
//! reconciler's death hands its lease to another host, a rolling update drops no request, a
//! NATS restart redeploys nothing, and bad deployments are clear errors that disturb nothing.

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use kiln_test_guests::{HTTP_ECHO, HTTP_FAULTS};
use serde_json::Value;

use crate::brokers::Broker;
use crate::util::{app_dir, kiln, read_response, try_connect, Response, Server};

/// A lattice of its own: NATS, a registry with two versions of an echo app, and hosts.
struct TestLattice {
    nats: Broker,
    /// The NATS flags besides the URL (credentials).
    credentials: Vec<String>,
    registry: Broker,
    state: tempfile::TempDir,
    hosts: BTreeMap<String, Server>,
}

impl TestLattice {
    fn new() -> Self {
        Self::with_nats(Broker::nats_jetstream(None), Vec::new())
    }

    /// A lattice on `nats`, reached with the flags `credentials`.
    fn with_nats(nats: Broker, credentials: Vec<String>) -> Self {
        let lattice = Self {
            nats,
            credentials,
            registry: Broker::registry(),
            state: tempfile::tempdir().unwrap(),
            hosts: BTreeMap::new(),
        };
        for version in ["v1", "v2"] {
            let manifest = format!(
                "spin_manifest_version = 2\n[application]\nname = \"echo\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"echo\"\n[component.echo]\nsource = \"{HTTP_ECHO}\"\nenvironment = {{ VERSION = \"{version}\" }}\n"
            );
            lattice.push(&lattice.app(version), &manifest);
        }
        lattice
    }

    /// Hosts `a`, `b` and `c`, and `replicas` of v1 deployed as `web`.
    fn with_web_on_three_hosts(replicas: &str) -> Self {
        let mut lattice = Self::new();
        for host in ["a", "b", "c"] {
            lattice.start_host(host, &[]);
        }
        lattice.deploy(&[&lattice.app("v1"), "--name", "web", "--replicas", replicas]);
        lattice
    }

    /// `REGISTRY/kiln/echo:VERSION`.
    fn app(&self, version: &str) -> String {
        format!("{}/kiln/echo:{version}", self.registry.host())
    }

    /// Pushes the app of `manifest` to `reference`.
    fn push(&self, reference: &str, manifest: &str) {
        let dir = app_dir(&[("spin.toml", manifest)]);
        let dir = dir.path().to_str().unwrap();
        let output = run(kiln().args(["registry", "push", reference, "-f", dir, "--insecure"]));
        assert!(output.status.success(), "{}", stderr(&output));
    }

    /// The flags that name this lattice.
    fn flags(&self) -> Vec<String> {
        let mut flags = vec![
            "--nats".into(),
            self.nats.url("nats"),
            "--lattice".into(),
            "test".into(),
        ];
        flags.extend(self.credentials.iter().cloned());
        flags
    }

    /// Starts a host `name` with `labels` (`KEY=VALUE`).
    fn start_host(&mut self, name: &str, labels: &[&str]) {
        self.start_host_with(kiln(), name, labels, &[]);
    }

    /// Like [`Self::start_host`], as `command` (its environment) and with more flags.
    fn start_host_with(&mut self, command: Command, name: &str, labels: &[&str], flags: &[&str]) {
        let mut args = vec!["host".to_string(), "--name".into(), name.into()];
        args.extend(flags.iter().map(|f| f.to_string()));
        args.extend(self.flags());
        args.extend(["--insecure".into(), "--state-dir".into()]);
        args.push(self.state.path().join(name).display().to_string());
        for label in labels {
            args.extend(["--label".into(), label.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let host = Server::start_with(command, &args);
        self.hosts.insert(name.to_string(), host);
    }

    /// Runs `kiln ARGS` against this lattice.
    fn kiln(&self, args: &[&str]) -> Output {
        let mut command = kiln();
        command.args(args).args(self.flags());
        run(&mut command)
    }

    /// `kiln deploy ARGS --insecure`, which must succeed.
    fn deploy(&self, args: &[&str]) -> Output {
        let mut all = vec!["deploy"];
        all.extend(args);
        all.push("--insecure");
        let output = self.kiln(&all);
        assert!(
            output.status.success(),
            "kiln deploy {args:?}: {}\n{}\n{}",
            stdout(&output),
            stderr(&output),
            self.logs()
        );
        output
    }

    /// Every host's log.
    fn logs(&self) -> String {
        let logs = self
            .hosts
            .iter()
            .map(|(name, host)| format!("host {name}:\n{}", host.stderr()));
        logs.collect::<Vec<_>>().join("\n")
    }

    /// `kiln lattice status --json`.
    fn status(&self) -> Value {
        let output = self.kiln(&["lattice", "status", "--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// The hosts serving `deployment`, with the release each serves.
    fn running(&self, deployment: &str) -> BTreeMap<String, String> {
        deployment_field(&self.status(), deployment, "running")
    }

    /// SIGKILLs host `name`.
    fn kill(&mut self, name: &str) {
        let mut host = self.hosts.remove(name).unwrap();
        host.child().kill().unwrap();
        host.child().wait().unwrap();
    }

    /// The URL of host `name`.
    fn url(&self, name: &str) -> String {
        self.hosts[name].url.clone()
    }
}

/// `field` (a map of host to release) of `deployment` in a status.
fn deployment_field(status: &Value, deployment: &str, field: &str) -> BTreeMap<String, String> {
    let Some(d) = status["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == deployment)
    else {
        return BTreeMap::new();
    };
    serde_json::from_value(d[field].clone()).unwrap()
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("running kiln")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `GET /` of `deployment` through the host at `base`, asking the echo app for `VERSION`.
async fn ask(base: &str, deployment: &str) -> Result<Response, String> {
    let mut sender = try_connect::<Empty<Bytes>>(base).await?;
    let request = http::Request::get("/")
        .header("host", format!("{deployment}.localhost"))
        .header("x-echo-env", "VERSION")
        .body(Empty::new())
        .unwrap();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    read_response(response).await
}

/// The version the echo app behind `base` reports.
async fn version(base: &str, deployment: &str) -> String {
    let response = ask(base, deployment).await.unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
    response.lines_with("env: VERSION=").join("")
}

/// Sends requests to each of `bases` in turn until `stop`; counts the answers and failures
/// (anything but a 200 from the echo app), with the first failures' reasons.
struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(bases: &[String], deployment: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
        let tasks = bases
            .iter()
            .map(|base| {
                let (stop, sent, failures) = (stop.clone(), sent.clone(), failures.clone());
                let (base, deployment) = (base.clone(), deployment.to_string());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let outcome = ask(&base, &deployment).await;
                        sent.fetch_add(1, Ordering::Relaxed);
                        match outcome {
                            Ok(r) if r.status == 200 => {}
                            Ok(r) => failures
                                .lock()
                                .unwrap()
                                .push(format!("{base}: {} {}", r.status, r.body)),
                            Err(e) => failures.lock().unwrap().push(format!("{base}: {e}")),
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            sent,
            failures,
            tasks,
        }
    }

    /// Stops; the requests sent and the failures.
    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.sent.load(Ordering::Relaxed), failures)
    }
}

/// Waits (up to `seconds`) until `done` holds for the lattice's status; the time it took.
async fn until(lattice: &TestLattice, seconds: u64, done: impl Fn(&Value) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let status = lattice.status();
        if done(&status) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(seconds),
            "the lattice did not get there in {seconds} s: {status:#}\n{}",
            lattice.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_follow_the_spread_and_every_host_answers() {
    let mut lattice = TestLattice::new();
    lattice.start_host("eu-1", &["region=eu"]);
    lattice.start_host("eu-2", &["region=eu"]);
    lattice.start_host("us-1", &["region=us", "tier=edge"]);
    let app = lattice.app("v1");
    lattice.deploy(&[
        &app,
        "--name",
        "web",
        "--replicas",
        "3",
        "--spread",
        "region=eu:2",
        "--spread",
        "region=us:1",
    ]);
    let running = lattice.running("web");
    assert_eq!(running.keys().collect::<Vec<_>>(), ["eu-1", "eu-2", "us-1"]);
    // One replica, on the only host with the required label: the others forward to it.
    let file = lattice.state.path().join("edge.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"edge\"\napp = \"{app}\"\nreplicas = 1\nrequires = {{ tier = \"edge\" }}\n"
        ),
    )
    .unwrap();
    lattice.deploy(&[file.to_str().unwrap()]);
    assert_eq!(lattice.running("edge").keys().collect::<Vec<_>>(), ["us-1"]);
    for host in ["eu-1", "eu-2", "us-1"] {
        let url = lattice.url(host);
        assert_eq!(version(&url, "web").await, "v1");
        assert_eq!(version(&url, "edge").await, "v1");
    }
    let unknown = ask(&lattice.url("eu-1"), "nothing").await.unwrap();
    assert_eq!(unknown.status, 404);
    assert!(
        unknown
            .body
            .contains("no deployment of this lattice answers"),
        "{}",
        unknown.body
    );
    let text = lattice.kiln(&["lattice", "status"]);
    let text = stdout(&text);
    assert!(text.contains("web: 3/3 serving release"), "{text}");
    assert!(text.contains("edge: 1/1 serving release"), "{text}");
    // Undeploying stops its replicas.
    let undeploy = lattice.kiln(&["lattice", "undeploy", "edge"]);
    assert!(undeploy.status.success(), "{}", stderr(&undeploy));
    until(&lattice, 10, |s| {
        let hosts = s["hosts"].as_array().unwrap();
        hosts.iter().all(|h| h["apps"].get("edge").is_none())
    })
    .await;
    let start = Instant::now();
    while ask(&lattice.url("eu-1"), "edge").await.unwrap().status != 404 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "edge is still served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_hosts_replica_moves_and_the_survivors_keep_answering() {
    let mut lattice = TestLattice::with_web_on_three_hosts("2");
    let before = lattice.running("web");
    assert_eq!(before.len(), 2);
    let spare = ["a", "b", "c"]
        .into_iter()
        .find(|h| !before.contains_key(*h))
        .unwrap();
    let victim = before.keys().next().unwrap().clone();
    let survivors: Vec<String> = ["a", "b", "c"]
        .into_iter()
        .filter(|h| *h != victim)
        .map(|h| lattice.url(h))
        .collect();
    let load = Load::start(&survivors, "web");
    tokio::time::sleep(Duration::from_millis(500)).await;
    lattice.kill(&victim);
    let moved = until(&lattice, 15, |s| {
        let running = deployment_field(s, "web", "running");
        running.contains_key(spare) && !running.contains_key(&victim) && running.len() == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (sent, failures) = load.finish().await;
    println!("the replica of {victim} serves on {spare} {moved:?} after SIGKILL; {sent} requests");
    assert!(moved < Duration::from_secs(5), "took {moved:?}");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {:?}\n{}",
        failures.len(),
        &failures[..failures.len().min(5)],
        lattice.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_reconcilers_host_dies_another_takes_over_without_double_placement() {
    let mut lattice = TestLattice::with_web_on_three_hosts("2");
    let leader = lattice.status()["reconciler"].as_str().unwrap().to_string();
    lattice.kill(&leader);
    let start = Instant::now();
    let mut new_leader = None;
    while start.elapsed() < Duration::from_secs(15) {
        let status = lattice.status();
        let placed = deployment_field(&status, "web", "placed");
        assert!(placed.len() <= 2, "placed twice: {status:#}");
        match status["reconciler"].as_str() {
            Some(holder) if holder != leader => {
                new_leader = Some(holder.to_string());
                break;
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let new_leader = new_leader.expect("no host took the reconciler's lease over");
    println!(
        "{new_leader} reconciles {:?} after {leader} was killed",
        start.elapsed()
    );
    // The new reconciler places what the old one had and what comes next.
    until(&lattice, 10, |s| {
        let running = deployment_field(s, "web", "running");
        running.len() == 2 && !running.contains_key(&leader)
    })
    .await;
    lattice.deploy(&[&lattice.app("v1"), "--name", "more", "--replicas", "2"]);
    let status = lattice.status();
    assert_eq!(deployment_field(&status, "web", "placed").len(), 2);
    assert_eq!(deployment_field(&status, "more", "placed").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_update_under_load_fails_no_request() {
    let lattice = TestLattice::with_web_on_three_hosts("3");
    let urls: Vec<String> = ["a", "b", "c"].iter().map(|h| lattice.url(h)).collect();
    let load = Load::start(&urls, "web");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let update = lattice.deploy(&[&lattice.app("v2"), "--name", "web", "--replicas", "3"]);
    assert!(
        stdout(&update).contains("Deployment web serving on a, b, c"),
        "{}",
        stdout(&update)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (sent, failures) = load.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(sent > 50, "only {sent} requests were sent");
    for url in &urls {
        assert_eq!(version(url, "web").await, "v2");
    }
    let releases: Vec<String> = lattice.running("web").into_values().collect();
    assert_eq!(releases.len(), 3);
    assert!(releases.windows(2).all(|w| w[0] == w[1]), "{releases:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_nats_restarts_the_hosts_carry_on_and_nothing_is_redeployed() {
    let mut lattice = TestLattice::new();
    lattice.start_host("a", &[]);
    lattice.start_host("b", &[]);
    lattice.deploy(&[&lattice.app("v1"), "--name", "web", "--replicas", "2"]);
    let starts = |lattice: &TestLattice| -> Vec<usize> {
        lattice
            .hosts
            .values()
            .map(|h| h.stderr().matches("starting deployment web").count())
            .collect()
    };
    assert_eq!(starts(&lattice), [1, 1], "{}", lattice.logs());
    lattice.nats.restart();
    // The apps kept serving, and the hosts find NATS again.
    for host in ["a", "b"] {
        assert_eq!(version(&lattice.url(host), "web").await, "v1");
    }
    until(&lattice, 20, |s| {
        deployment_field(s, "web", "running").len() == 2 && s["reconciler"].is_string()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        starts(&lattice),
        [1, 1],
        "a replica was started again:\n{}",
        lattice.logs()
    );
    // The lattice still takes deployments.
    lattice.deploy(&[&lattice.app("v2"), "--name", "web", "--replicas", "2"]);
    assert_eq!(version(&lattice.url("a"), "web").await, "v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deployments_are_clear_errors_and_disturb_nothing() {
    let mut lattice = TestLattice::new();
    lattice.start_host("a", &["region=eu"]);
    lattice.deploy(&[&lattice.app("v1"), "--name", "web"]);

    let missing = format!("{}/kiln/missing:v1", lattice.registry.host());
    let output = lattice.kiln(&["deploy", &missing, "--insecure"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot find"),
        "{}",
        stderr(&output)
    );

    let file = lattice.state.path().join("bad.toml");
    std::fs::write(
        &file,
        "name = \"web\"\napp = \"x/y:z\"\nreplicas = \"three\"\n",
    )
    .unwrap();
    let output = lattice.kiln(&["deploy", file.to_str().unwrap(), "--insecure"]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(error.contains("bad.toml:3:12"), "{error}");

    let output = lattice.kiln(&[
        "deploy",
        &lattice.app("v1"),
        "--name",
        "mars",
        "--spread",
        "region=mars:1",
        "--insecure",
    ]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(
        error.contains("cannot run as asked") && error.contains("region=mars"),
        "{error}"
    );
    let status = stdout(&lattice.kiln(&["lattice", "status"]));
    assert!(
        status.contains("problem: 1 replica(s) wanted on region=mars"),
        "{status}"
    );

    // Nothing else moved.
    assert_eq!(version(&lattice.url("a"), "web").await, "v1");
    assert_eq!(lattice.running("web").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_down_lets_requests_in_flight_finish() {
    let mut lattice = TestLattice::new();
    lattice.start_host("a", &[]);
    lattice.start_host("b", &[]);
    let app = format!("{}/kiln/faults:v1", lattice.registry.host());
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"faults\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"faults\"\n[component.faults]\nsource = \"{HTTP_FAULTS}\"\n"
    );
    lattice.push(&app, &manifest);
    lattice.deploy(&[&app, "--name", "slow", "--replicas", "2"]);
    // A slow request on b, which the scale-down to one replica removes (a keeps its own).
    let b = lattice.url("b");
    let slow = tokio::spawn(async move {
        let mut sender = try_connect::<Empty<Bytes>>(&b).await.unwrap();
        let request = http::Request::get("/sleep?ms=4000")
            .header("host", "slow.localhost")
            .body(Empty::new())
            .unwrap();
        read_response(sender.send_request(request).await.unwrap()).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    lattice.deploy(&[&app, "--name", "slow", "--replicas", "1"]);
    assert!(
        !slow.is_finished(),
        "the request ended before the scale-down"
    );
    let answer = slow.await.unwrap().unwrap();
    assert_eq!((answer.status, answer.body.trim()), (200, "slept"));
    assert_eq!(lattice.running("slow").keys().collect::<Vec<_>>(), ["a"]);
    assert!(lattice.hosts["b"].stderr_shows("stopping deployment slow"));
    assert!(lattice.hosts["b"].stderr_shows("stopped"));
    // b still answers for it, through a.
    assert_eq!(ask(&lattice.url("b"), "slow").await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lattice_behind_nats_credentials_and_beside_another() {
    let nats = Broker::nats_jetstream(Some(("kiln", "s3cret")));
    let credentials = ["--nats-user", "kiln", "--nats-password", "s3cret"].map(String::from);
    let mut lattice = TestLattice::with_nats(nats, credentials.to_vec());
    lattice.start_host("a", &[]);
    lattice.deploy(&[&lattice.app("v1"), "--name", "web"]);
    assert_eq!(version(&lattice.url("a"), "web").await, "v1");

    let url = lattice.nats.url("nats");
    let wrong = run(kiln().args([
        "lattice",
        "status",
        "--nats",
        &url,
        "--nats-user",
        "kiln",
        "--nats-password",
        "wrong",
    ]));
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("cannot connect to NATS"),
        "{}",
        stderr(&wrong)
    );

    // Another lattice on the same NATS sees none of this one.
    let other = run(kiln()
        .args([
            "lattice",
            "status",
            "--json",
            "--nats",
            &url,
            "--lattice",
            "other",
        ])
        .args(&credentials));
    assert!(other.status.success(), "{}", stderr(&other));
    let status: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_eq!(status["deployments"], serde_json::json!([]));
    assert_eq!(status["hosts"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_verifies_signatures_runs_only_signed_apps() {
    let mut lattice = TestLattice::new();
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = crate::registry::key_pair(keys.path(), "lattice");
    // A cache of its own, so that it has compiled nothing: the signed app's code comes with it.
    let cache = tempfile::tempdir().unwrap();
    let mut command = kiln();
    command
        .env("KILN_CACHE_DIR", cache.path())
        .env("KILN_LOG", "info,kiln_runtime=debug");
    lattice.start_host_with(command, "a", &[], &["--verify", &public]);
    let unsigned = lattice.kiln(&["deploy", &lattice.app("v1"), "--name", "web", "--insecure"]);
    assert!(!unsigned.status.success());
    let error = stderr(&unsigned);
    assert!(
        error.contains("cannot run as asked: host a:") && error.contains("sign"),
        "{error}"
    );
    let status = stdout(&lattice.kiln(&["lattice", "status"]));
    assert!(status.contains("problem: host a:"), "{status}");

    let signed = format!("{}/kiln/echo:signed", lattice.registry.host());
    let dir = app_dir(&[(
        "spin.toml",
        &format!("spin_manifest_version = 2\n[application]\nname = \"echo\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"echo\"\n[component.echo]\nsource = \"{HTTP_ECHO}\"\nenvironment = {{ VERSION = \"signed\" }}\n"),
    )]);
    let push = run(kiln().args([
        "registry",
        "push",
        &signed,
        "-f",
        dir.path().to_str().unwrap(),
        "--sign",
        &private,
        "--precompile",
        "--insecure",
    ]));
    assert!(push.status.success(), "{}", stderr(&push));
    lattice.deploy(&[&signed, "--name", "web"]);
    assert_eq!(version(&lattice.url("a"), "web").await, "signed");
    let log = lattice.hosts["a"].stderr();
    assert!(log.contains("loaded from the compile cache"), "{log}");
    assert!(!log.contains("compiled, caching as"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_leaves_hands_its_replica_over_at_once() {
    let mut lattice = TestLattice::with_web_on_three_hosts("2");
    let before = lattice.running("web");
    let leaving = before.keys().next().unwrap().clone();
    let stayers: Vec<String> = ["a", "b", "c"]
        .into_iter()
        .filter(|h| *h != leaving)
        .map(|h| lattice.url(h))
        .collect();
    let load = Load::start(&stayers, "web");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut host = lattice.hosts.remove(&leaving).unwrap();
    let pid = host.child().id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(signalled.success());
    let moved = until(&lattice, 10, |s| {
        let running = deployment_field(s, "web", "running");
        running.len() == 2 && !running.contains_key(&leaving)
    })
    .await;
    let exited = host.child().wait().unwrap();
    assert!(exited.success(), "kiln host exited with {exited}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (sent, failures) = load.finish().await;
    println!("{leaving} left; its replica serves elsewhere after {moved:?}; {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    // Gone from the lattice at once, not after its heartbeat aged out.
    let status = lattice.status();
    let hosts = status["hosts"].as_array().unwrap();
    assert!(
        hosts.iter().all(|h| h["name"] != leaving.as_str()),
        "{status:#}"
    );
}
