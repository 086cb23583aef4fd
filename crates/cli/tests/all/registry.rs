//! Apps as OCI artifacts against a real registry (the Distribution registry, Debian's
//! `docker-registry`, on a free local port): `kiln registry push` in Spin's layout, read and
//! copied by an independent client (`skopeo`), then `kiln up --from REF` runs the copy pulled
//! back, with its components, files and variables; a second push uploads nothing new; a digest
//! reference pulls exactly that artifact; an app another tool (oras) laid out in Spin's layout
//! runs, and a container image is refused; a layer corrupted in the registry is refused by its
//! digest and never cached; a signed app (cosign's format, checked by openssl too) runs only
//! under its key, and its precompiled code starts it without compiling; `kiln registry login` and `logout` manage the
//! credentials of a registry with accounts; an unknown reference and a missing registry are
//! clear errors.

use std::process::{Command, Stdio};

use kiln_test_guests::{HTTP_ECHO, HTTP_HELLO, SPIN_SDK_V2};

use crate::brokers::Broker;
use crate::util::{app_dir, kiln, path_str, Server};

/// An app of two components: `echo` with a small and a large file, `sdk` reading a variable.
fn app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "shipped"
version = "1.2.3"
[variables]
greeting = {{ default = "hello from the registry" }}
[[trigger.http]]
route = "/echo/..."
component = "echo"
[[trigger.http]]
route = "/sdk/..."
component = "sdk"
[component.echo]
source = "{HTTP_ECHO}"
files = ["static/*"]
[component.sdk]
source = "{SPIN_SDK_V2}"
variables = {{ message = "{{{{ greeting }}}}" }}
"#
    );
    let large = "x".repeat(4096);
    app_dir(&[
        ("spin.toml", &manifest),
        ("static/small.txt", "small"),
        ("static/large.txt", &large),
    ])
}

/// Runs `kiln ARGS` with the test's cache; exit code, stdout and stderr.
fn run(cache: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    run_with(kiln(), cache, args)
}

/// Like [`run`], with `command` prepared (environment).
fn run_with(
    mut command: Command,
    cache: &std::path::Path,
    args: &[&str],
) -> (Option<i32>, String, String) {
    let output = command
        .env("KILN_CACHE_DIR", cache)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_app_pushed_in_spins_layout_runs_from_its_reference() {
    let registry = Broker::registry();
    let dir = app();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/kiln/shipped:v1", registry.host());
    let push = || {
        let app = path_str(dir.path());
        run(
            cache.path(),
            &["registry", "push", &reference, "-f", app, "--insecure"],
        )
    };
    let (code, stdout, stderr) = push();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!("Pushed {reference}@sha256:")),
        "{stdout}"
    );
    assert!(
        stdout.contains("(4 layers uploaded, 0 already there)"),
        "{stdout}"
    );

    // An independent client reads the artifact: Spin's media types, one layer per distinct
    // Wasm and per large file; the small file travels inline in the locked app.
    let inspect = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("skopeo (scripts/services.sh installs it)");
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let media_types: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        media_types,
        [
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.layer.v1+data",
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.fermyon.spin.application.v1+config",
        ]
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "1.2.3"
    );

    // Pushing again uploads nothing: every layer is there.
    let (_, again, _) = push();
    assert!(
        again.contains("(0 layers uploaded, 4 already there)"),
        "{again}"
    );

    // skopeo copies it to another repository; kiln runs the copy.
    let copied = format!("{}/elsewhere/copied:v1", registry.host());
    let copy = Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .args([
            format!("docker://{reference}"),
            format!("docker://{copied}"),
        ])
        .output()
        .unwrap();
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );

    let state = tempfile::tempdir().unwrap();
    let mut command = kiln();
    command
        .env("KILN_CACHE_DIR", cache.path())
        .current_dir(state.path());
    let server = Server::start_with(command, &["up", "--from", &copied, "--insecure"]);
    assert!(
        server.stderr_shows(&format!("Pulled {copied}@sha256:")),
        "{}",
        server.stderr()
    );
    for (file, contents) in [
        ("/static/small.txt", "small".to_string()),
        ("/static/large.txt", "x".repeat(4096)),
    ] {
        let echoed = server
            .request("GET", "/echo/x", &[("x-echo-file", file)], "")
            .await;
        assert!(
            echoed.body.contains(&format!("file: {contents}")),
            "{file}: {}\n{}",
            echoed.body,
            server.stderr()
        );
    }
    let variable = server.get("/sdk/var/message").await;
    assert_eq!(
        variable.body,
        "hello from the registry",
        "{}",
        server.stderr()
    );
}

#[test]
fn an_unknown_reference_and_a_missing_registry_are_clear_errors() {
    let registry = Broker::registry();
    let cache = tempfile::tempdir().unwrap();
    let unknown = format!("{}/kiln/nothing:v9", registry.host());
    let (code, _, stderr) = run(cache.path(), &["registry", "pull", &unknown, "--insecure"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!("cannot pull {unknown}")),
        "{stderr}"
    );

    let (code, _, stderr) = run(
        cache.path(),
        &["up", "--from", "127.0.0.1:1/kiln/app:v1", "--insecure"],
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("cannot pull 127.0.0.1:1/kiln/app:v1"),
        "{stderr}"
    );
}

#[test]
fn credentials_from_login_open_a_registry_with_accounts_and_logout_forgets_them() {
    let registry = Broker::registry_with_account("kiln", "secret");
    let dir = app();
    let (cache, docker) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let kiln_as = |password: Option<&str>| {
        let mut command = kiln();
        command.env("DOCKER_CONFIG", docker.path());
        if let Some(password) = password {
            command.env("KILN_REGISTRY_PASSWORD", password);
        }
        command
    };
    let reference = format!("{}/kiln/private:v1", registry.host());
    let app = path_str(dir.path());
    let push = ["registry", "push", &reference, "-f", app, "--insecure"];

    let (code, _, stderr) = run_with(kiln_as(None), cache.path(), &push);
    assert_eq!(code, Some(1), "no credentials yet");
    assert!(
        stderr.contains(&format!("cannot push to {reference}")),
        "{stderr}"
    );
    let hint = format!("log in with kiln registry login {}", registry.host());
    assert!(stderr.contains(&hint), "{stderr}");

    let login = [
        "registry",
        "login",
        &registry.host(),
        "-u",
        "kiln",
        "--insecure",
    ];
    let (code, _, stderr) = run_with(kiln_as(Some("wrong")), cache.path(), &login);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("refused user \"kiln\""), "{stderr}");
    let (code, stdout, stderr) = run_with(kiln_as(Some("secret")), cache.path(), &login);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("Logged in to {} as kiln", registry.host())
    );
    let config = std::fs::read_to_string(docker.path().join("config.json")).unwrap();
    assert!(config.contains(&registry.host()), "{config}");

    let (code, _, stderr) = run_with(kiln_as(None), cache.path(), &push);
    assert_eq!(code, Some(0), "{stderr}");
    let pull = ["registry", "pull", &reference, "--insecure"];
    let (code, stdout, stderr) = run_with(kiln_as(None), cache.path(), &pull);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with(&format!("Pulled {reference}@sha256:")),
        "{stdout}"
    );

    let logout = ["registry", "logout", &registry.host()];
    let (_, stdout, _) = run_with(kiln_as(None), cache.path(), &logout);
    assert_eq!(stdout.trim(), format!("Logged out of {}", registry.host()));
    let (code, _, stderr) = run_with(kiln_as(None), cache.path(), &pull);
    assert_eq!(code, Some(1), "forgotten credentials: {stderr}");
    assert!(stderr.contains(&hint), "{stderr}");
}

#[test]
fn a_digest_reference_pulls_exactly_that_artifact() {
    let registry = Broker::registry();
    let dir = app();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/kiln/pinned:v1", registry.host());
    let app = path_str(dir.path());
    let push = ["registry", "push", &reference, "-f", app, "--insecure"];
    let (_, stdout, stderr) = run(cache.path(), &push);
    let digest = stdout
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"))
        .to_string();
    let pinned = format!("{}/kiln/pinned@{digest}", registry.host());
    let (code, stdout, stderr) = run(cache.path(), &["registry", "pull", &pinned, "--insecure"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), format!("Pulled {pinned}@{digest}"));
}

/// Pushes with oras (`tests/oras/push.py`, run by the venv scripts/python-venv.sh makes).
fn oras_push(registry: &Broker, target: &str, args: &[&str]) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join("target/python-venv/bin/python");
    let script = root.join("crates/cli/tests/oras/push.py");
    let output = Command::new(python)
        .arg(script)
        .args([registry.host().as_str(), target])
        .args(args)
        .output()
        .expect("the python venv (scripts/python-venv.sh)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn an_app_another_tool_laid_out_runs_and_a_container_image_is_refused() {
    let registry = Broker::registry();
    oras_push(&registry, "other/app:v1", &["spin", HTTP_HELLO]);
    oras_push(&registry, "other/image:v1", &["image"]);
    let cache = tempfile::tempdir().unwrap();

    let reference = format!("{}/other/app:v1", registry.host());
    let state = tempfile::tempdir().unwrap();
    let mut command = kiln();
    command
        .env("KILN_CACHE_DIR", cache.path())
        .current_dir(state.path());
    let server = Server::start_with(command, &["up", "--from", &reference, "--insecure"]);
    let hello = server.get("/anything").await;
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "Hello, kiln!\n"),
        "{}",
        server.stderr()
    );

    let image = format!("{}/other/image:v1", registry.host());
    let (code, _, stderr) = run(cache.path(), &["registry", "pull", &image, "--insecure"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!(
            "{image} is not a Spin or kiln app (a container image?)"
        )),
        "{stderr}"
    );
}

#[test]
fn a_corrupted_layer_is_refused_by_digest_and_never_cached() {
    let registry = Broker::registry();
    let dir = app();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/kiln/corrupt:v1", registry.host());
    let app = path_str(dir.path());
    let push = ["registry", "push", &reference, "-f", app, "--insecure"];
    let (code, _, stderr) = run(cache.path(), &push);
    assert_eq!(code, Some(0), "{stderr}");
    // The registry's copy of the large file goes bad on its disk.
    let large = "x".repeat(4096);
    let blobs = registry.dir().join("data/docker/registry/v2/blobs/sha256");
    let hex = sha256_hex(large.as_bytes());
    let stored = blobs.join(&hex[..2]).join(&hex).join("data");
    std::fs::write(&stored, "y".repeat(4096)).unwrap();

    let pull_cache = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        pull_cache.path(),
        &["registry", "pull", &reference, "--insecure"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("sha256:{hex}")),
        "the error names the layer: {stderr}"
    );
    assert!(
        stderr.contains("trying again"),
        "a bad download is tried again: {stderr}"
    );
    let cached = pull_cache.path().join("oci/sha256").join(&hex);
    assert!(
        !cached.exists(),
        "the cache never holds a blob that does not match its digest"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = kiln_manifest::digest_of(bytes);
    digest.trim_start_matches("sha256:").to_string()
}

/// An ECDSA P-256 key pair made by openssl in `dir`: (private key, public key).
pub(crate) fn key_pair(dir: &std::path::Path, name: &str) -> (String, String) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub"));
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .status()
            .expect("openssl");
        assert!(status.success());
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        path_str(&private),
    ]);
    openssl(&[
        "pkey",
        "-in",
        path_str(&private),
        "-pubout",
        "-out",
        path_str(&public),
    ]);
    (path_str(&private).into(), path_str(&public).into())
}

#[tokio::test]
async fn a_signed_app_runs_only_under_its_key_and_openssl_checks_the_signature() {
    let registry = Broker::registry();
    let dir = app();
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = key_pair(keys.path(), "kiln");
    let (_, other_public) = key_pair(keys.path(), "other");
    let cache = tempfile::tempdir().unwrap();
    let app = path_str(dir.path());
    let signed = format!("{}/kiln/signed:v1", registry.host());
    let push = [
        "registry",
        "push",
        &signed,
        "-f",
        app,
        "--insecure",
        "--sign",
        &private,
    ];
    let (code, stdout, stderr) = run(cache.path(), &push);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(", signed)"), "{stdout}");
    let unsigned = format!("{}/kiln/unsigned:v1", registry.host());
    run(
        cache.path(),
        &["registry", "push", &unsigned, "-f", app, "--insecure"],
    );

    let pull = |reference: &str, key: &str| {
        let cache = tempfile::tempdir().unwrap();
        let args = ["registry", "pull", reference, "--insecure", "--verify", key];
        let (code, _, stderr) = run(cache.path(), &args);
        (code, stderr)
    };
    assert_eq!(pull(&signed, &public).0, Some(0));
    let (code, stderr) = pull(&signed, &other_public);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("is not signed by the given key"),
        "{stderr}"
    );
    let (code, stderr) = pull(&unsigned, &public);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is not signed (no "), "{stderr}");

    let state = tempfile::tempdir().unwrap();
    let mut command = kiln();
    command
        .env("KILN_CACHE_DIR", cache.path())
        .current_dir(state.path());
    let args = ["up", "--from", &signed, "--insecure", "--verify", &public];
    let server = Server::start_with(command, &args);
    assert_eq!(
        server.get("/sdk/var/message").await.body,
        "hello from the registry"
    );

    // openssl, knowing nothing of kiln, checks the signature cosign's way: over the payload.
    let digest = stdout
        .split('@')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let sig_tag = format!(
        "{}/kiln/signed:{}.sig",
        registry.host(),
        digest.replacen(':', "-", 1)
    );
    let raw = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{sig_tag}"),
        ])
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let signature = layer["annotations"]["dev.cosignproject.cosign/signature"]
        .as_str()
        .unwrap();
    let copy = keys.path().join("sig");
    let status = Command::new("skopeo")
        .args([
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{sig_tag}"),
        ])
        .arg(format!("dir:{}", copy.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let payload = copy.join(
        layer["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let text = std::fs::read_to_string(&payload).unwrap();
    assert!(
        text.contains(&format!("\"docker-manifest-digest\":\"{digest}\"")),
        "{text}"
    );
    let der = keys.path().join("sig.der");
    let decoded = Command::new("base64")
        .arg("-d")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(signature.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    std::fs::write(&der, decoded.stdout).unwrap();
    let verified = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            &public,
            "-signature",
            path_str(&der),
        ])
        .arg(&payload)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&verified.stdout).trim(),
        "Verified OK"
    );

    // The tag tampered with: other content pushed over it, unsigned. The signature was of the
    // old manifest only.
    std::fs::write(dir.path().join("static/large.txt"), "tampered".repeat(100)).unwrap();
    run(
        cache.path(),
        &["registry", "push", &signed, "-f", app, "--insecure"],
    );
    let (code, stderr) = pull(&signed, &public);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is not signed (no "), "{stderr}");
}

#[tokio::test]
async fn precompiled_code_from_a_verified_artifact_starts_without_compiling() {
    let registry = Broker::registry();
    let dir = app();
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = key_pair(keys.path(), "kiln");
    let reference = format!("{}/kiln/precompiled:v1", registry.host());
    let app = path_str(dir.path());
    let push_cache = tempfile::tempdir().unwrap();
    let push = [
        "registry",
        "push",
        &reference,
        "-f",
        app,
        "--insecure",
        "--precompile",
        "--sign",
        &private,
    ];
    let (code, _, stderr) = run(push_cache.path(), &push);
    assert_eq!(code, Some(0), "{stderr}");
    let inspect = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let precompiled = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["mediaType"] == "application/vnd.kiln.component.precompiled.v1")
        .count();
    assert_eq!(precompiled, 2, "one per distinct component: {manifest}");

    // A new host: nothing cached. Verified, it runs the shipped code without compiling.
    let start = |verify: bool| {
        let (cache, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut command = kiln();
        command
            .env("KILN_CACHE_DIR", cache.path())
            .env("KILN_LOG", "info,kiln_runtime=debug")
            .current_dir(state.path());
        let mut args = vec!["up", "--from", &reference, "--insecure"];
        if verify {
            args.extend(["--verify", &public]);
        }
        (Server::start_with(command, &args), cache, state)
    };
    let (server, _cache, _state) = start(true);
    assert_eq!(
        server.get("/sdk/var/message").await.body,
        "hello from the registry"
    );
    assert!(
        server.stderr_shows("loaded from the compile cache"),
        "{}",
        server.stderr()
    );
    assert!(
        !server.stderr_shows("compiled, caching as"),
        "{}",
        server.stderr()
    );
    drop(server);

    // Unverified, the shipped code is not trusted: the components compile.
    let (server, _cache, _state) = start(false);
    assert_eq!(
        server.get("/sdk/var/message").await.body,
        "hello from the registry"
    );
    assert!(
        server.stderr_shows("carries precompiled code"),
        "{}",
        server.stderr()
    );
    assert!(
        server.stderr_shows("compiled, caching as"),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_verify_policy_in_the_runtime_config_refuses_unsigned_apps() {
    let registry = Broker::registry();
    let dir = app();
    let keys = tempfile::tempdir().unwrap();
    let (_, public) = key_pair(keys.path(), "kiln");
    let config = keys.path().join("runtime-config.toml");
    std::fs::write(&config, "[verify]\nkey = \"kiln.pub\"\n").unwrap();
    assert!(public.ends_with("kiln.pub"));
    let cache = tempfile::tempdir().unwrap();
    let unsigned = format!("{}/kiln/policy:v1", registry.host());
    let app = path_str(dir.path());
    run(
        cache.path(),
        &["registry", "push", &unsigned, "-f", app, "--insecure"],
    );
    let up = [
        "up",
        "--from",
        &unsigned,
        "--insecure",
        "--runtime-config-file",
        path_str(&config),
    ];
    let (code, _, stderr) = run(cache.path(), &up);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is not signed (no "), "{stderr}");
}
