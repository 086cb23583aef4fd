//! Starting `kiln` and talking HTTP to it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

/// The `kiln` binary under test.
pub(crate) fn kiln() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command
        .env("KILN_CACHE_DIR", shared_cache_dir())
        .env_remove("KILN_LOG")
        .env_remove("RUST_LOG");
    command
}

/// One compile cache for the whole test run, so each guest compiles once.
pub(crate) fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kiln-cache")
}

/// Runs `kiln` to completion with `args`.
pub(crate) fn kiln_output(args: &[&str]) -> Output {
    kiln()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running kiln")
}

/// `kiln up` of the app in `dir` run by `command` (`kiln()` with its environment), which must
/// refuse to start (exit code 1); its stderr.
pub(crate) fn up_refused(mut command: Command, dir: &Path) -> String {
    let output = command
        .args(["up", "-f", path_str(dir), "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .expect("running kiln");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    stderr
}

/// A running `kiln up` or `kiln serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// Everything printed on stdout up to and including the routes.
    pub(crate) banner: Vec<String>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `kiln ARGS --listen 127.0.0.1:0` and waits for its `Serving` line.
    pub(crate) fn start(args: &[&str]) -> Server {
        Self::start_with(kiln(), args)
    }

    /// Like [`Server::start`] with a prepared command (extra environment).
    pub(crate) fn start_with(mut command: Command, args: &[&str]) -> Server {
        let mut child = command
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting kiln");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let mut url = None;
        // Generous: `kiln up --build` compiles a Rust guest before it serves.
        let deadline = Instant::now() + Duration::from_secs(600);
        while url.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("Serving ") {
                        url = Some(rest.trim().to_string());
                    }
                    banner.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "kiln did not start serving; stderr:\n{}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
        // Collect the route listing that follows, briefly.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            banner.push(line);
        }
        let stdout = Arc::new(Mutex::new(String::new()));
        let sink = stdout.clone();
        std::thread::spawn(move || {
            while let Ok(line) = rx.recv() {
                let mut stdout = sink.lock().unwrap();
                stdout.push_str(&line);
                stdout.push('\n');
            }
        });
        Server {
            child,
            url: url.unwrap(),
            banner,
            stdout,
            stderr,
        }
    }

    /// What kiln has printed on stdout since its banner.
    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// What kiln has printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until kiln has printed `needle` on stderr; the
    /// log line can arrive after the response that caused it.
    pub(crate) fn stderr_shows(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.stderr().contains(needle) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Sends a request; `headers` are added as given.
    pub(crate) async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response {
        request(&self.url, method, path, headers, body).await
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], "").await
    }

    /// `GET path`, reading the body frame by frame: `Ok` with the whole body if it ended
    /// cleanly, `Err` with what arrived before it failed.
    pub(crate) async fn get_streamed(&self, path: &str) -> (u16, Result<String, String>) {
        let mut sender = connect(&self.url).await;
        let request = http::Request::get(path)
            .header("host", self.url.trim_start_matches("http://"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender
            .send_request(request)
            .await
            .expect("sending the request");
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut received = Vec::new();
        loop {
            match body.frame().await {
                None => return (status, Ok(String::from_utf8_lossy(&received).into_owned())),
                Some(Ok(frame)) => {
                    received.extend_from_slice(frame.data_ref().map_or(&[][..], |d| d))
                }
                Some(Err(_)) => {
                    return (status, Err(String::from_utf8_lossy(&received).into_owned()))
                }
            }
        }
    }

    /// `POST path` with a chunked body of `chunks` (no `Content-Length`).
    pub(crate) async fn post_chunked(&self, path: &str, chunks: &[&str]) -> Response {
        let mut sender = connect(&self.url).await;
        let frames: Vec<Result<http_body::Frame<Bytes>, std::convert::Infallible>> = chunks
            .iter()
            .map(|c| Ok(http_body::Frame::data(Bytes::from(c.to_string()))))
            .collect();
        let body = http_body_util::StreamBody::new(futures::stream::iter(frames));
        let request = http::Request::post(path)
            .header("host", self.url.trim_start_matches("http://"))
            .body(body)
            .unwrap();
        let response = sender
            .send_request(request)
            .await
            .expect("sending the request");
        read_response(response).await.expect("reading the response")
    }

    /// `http://ADDR` of the admin listener, from the `Metrics at` line (`--admin-listen`).
    pub(crate) fn admin_url(&self) -> String {
        self.banner
            .iter()
            .find_map(|l| l.strip_prefix("Metrics at "))
            .expect("the admin address is printed")
            .trim_end_matches("/metrics")
            .to_string()
    }

    /// The process, to signal it.
    pub(crate) fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response, fully read.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: String,
}

impl Response {
    /// The lines of the body that start with `prefix`, without it.
    pub(crate) fn lines_with(&self, prefix: &str) -> Vec<String> {
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
            .collect()
    }

    /// The value the echo guest reports for request header `name`.
    pub(crate) fn echoed_header(&self, name: &str) -> Option<String> {
        self.lines_with("header: ")
            .into_iter()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
    }
}

/// One HTTP/1.1 request over a fresh connection.
pub(crate) async fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    try_request(base, method, path, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Like [`request`], with connection and protocol failures as `Err`.
pub(crate) async fn try_request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Response, String> {
    let authority = base.trim_start_matches("http://").to_string();
    let mut sender = try_connect(base).await?;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", &authority);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    read_response(response).await
}

/// A new HTTP/1.1 connection to `base` (`http://HOST:PORT`).
pub(crate) async fn connect<B>(base: &str) -> hyper::client::conn::http1::SendRequest<B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    try_connect(base).await.unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) async fn try_connect<B>(
    base: &str,
) -> Result<hyper::client::conn::http1::SendRequest<B>, String>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .map_err(|e| format!("connecting to kiln: {e}"))?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Reads `response` whole.
pub(crate) async fn read_response(
    response: hyper::Response<hyper::body::Incoming>,
) -> Result<Response, String> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Writes `files` (path, contents) under a new temporary directory.
pub(crate) fn app_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

/// `text` as a string path.
pub(crate) fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The value of the sample `series` (`name` or `name{labels}`) in a Prometheus text exposition.
pub(crate) fn metric(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// What component `id` of the app in `app` wrote to its stdout log: the lines that start with
/// `prefix`, without it.
pub(crate) fn logged_lines(app: &Path, id: &str, prefix: &str) -> Vec<String> {
    let log = std::fs::read_to_string(app.join(format!(".kiln/logs/{id}_stdout.txt")))
        .unwrap_or_default();
    log.lines()
        .filter_map(|line| line.strip_prefix(prefix).map(String::from))
        .collect()
}

/// Waits (up to `seconds`) until `done`.
pub(crate) async fn wait_until(seconds: u64, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `kiln_trigger_events_total` of `trigger`'s events for `component` that ended in `outcome`,
/// in a Prometheus text exposition.
pub(crate) fn trigger_events(
    metrics: &str,
    trigger: &str,
    component: &str,
    outcome: &str,
) -> Option<f64> {
    let series = format!(
        "kiln_trigger_events_total{{trigger=\"{trigger}\",component=\"{component}\",outcome=\"{outcome}\"}}"
    );
    metric(metrics, &series)
}

/// The metrics of `server`'s admin endpoint once `done` holds for them (events are counted
/// just after they end, so a client may see an event's effect first), or after 10 s.
pub(crate) async fn metrics_when(server: &Server, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = request(&server.admin_url(), "GET", "/metrics", &[], "")
            .await
            .body;
        if done(&metrics) || Instant::now() > deadline {
            return metrics;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
