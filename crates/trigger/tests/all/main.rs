//! Trigger UI tests: every `ui/valid/*.toml` configures; every `ui/invalid/NAME.toml` loads as a
//! manifest but its triggers fail with the error in `NAME.err` (the message after the file
//! name, so `LINE:COL: message`).

use std::path::{Path, PathBuf};

use kiln_manifest::{AppSpec, LoadedManifest, ManifestError};
use kiln_runtime::AppOptions;
use kiln_trigger::http::{HttpRoute, HttpRoutes};
use kiln_trigger::AppTriggers;

fn cases(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ui")
        .join(dir);
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    cases
}

fn app(path: &Path) -> AppSpec {
    match LoadedManifest::load(path) {
        Ok(loaded) => loaded.app,
        Err(e) => panic!("{} should load as a manifest: {e}", path.display()),
    }
}

fn configure(path: &Path) -> Result<AppTriggers, ManifestError> {
    AppTriggers::configure(&app(path))
}

#[test]
fn valid_triggers_configure() {
    for case in cases("valid") {
        if let Err(e) = configure(&case) {
            panic!("{} should configure: {e}", case.display());
        }
    }
}

#[test]
fn invalid_triggers_fail_with_their_place_and_fix() {
    for case in cases("invalid") {
        let expected = std::fs::read_to_string(case.with_extension("err"))
            .unwrap_or_else(|_| panic!("{} needs a .err file", case.display()));
        let Err(error) = configure(&case) else {
            panic!("{} must fail", case.display());
        };
        let error = error.to_string();
        let prefix = format!("{}:", case.display());
        let rest = error.strip_prefix(&prefix).unwrap_or(&error);
        assert_eq!(rest, expected.trim_end(), "for {}", case.display());
    }
}

/// The manifest crate's full example: every HTTP field kiln reads.
fn full_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest/tests/ui/valid/full.toml")
}

#[test]
fn http_routes_resolve_fully() {
    let (routes, warnings) = HttpRoutes::read(&app(&full_manifest())).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(routes.base, "/");
    let routes: Vec<_> = routes
        .routes
        .iter()
        .map(|t| (t.component.as_str(), t.route.clone()))
        .collect();
    assert_eq!(
        routes,
        [
            ("hello", HttpRoute::Path("/hello/...".into())),
            ("api", HttpRoute::Path("/api".into())),
            ("internal", HttpRoute::Private),
            ("inline-component3", HttpRoute::Path("/inline".into())),
        ]
    );
}

#[test]
fn unknown_trigger_fields_are_warned_about_at_their_place() {
    let text = "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\ncolour = \"blue\"\n[component.a]\nsource = \"a.wasm\"\n";
    let app = LoadedManifest::from_text(Path::new("spin.toml"), text)
        .unwrap()
        .app;
    let triggers = AppTriggers::configure(&app).unwrap();
    assert_eq!(triggers.warnings.len(), 1, "{:?}", triggers.warnings);
    assert!(
        triggers.warnings[0].ends_with("spin.toml:7:10: unknown field `colour` ignored"),
        "{:?}",
        triggers.warnings
    );
}

#[test]
fn an_app_needs_each_http_components_requests_and_one_per_redis_trigger() {
    let manifest = r#"
spin_manifest_version = 2
[application]
name = "sizes"
[application.trigger.redis]
address = "redis://127.0.0.1:6379"
[[trigger.http]]
route = "/a/..."
component = "busy"
[[trigger.http]]
route = "/b/..."
component = "busy"
[[trigger.http]]
route = "/..."
component = "default"
[[trigger.redis]]
channel = "events"
component = "listener"
[component.busy]
source = "busy.wasm"
[component.busy.tool.kiln.limits]
max_concurrent = 8
[component.default]
source = "default.wasm"
[component.listener]
source = "listener.wasm"
[component.unused]
source = "unused.wasm"
"#;
    let spec = LoadedManifest::from_text(Path::new("spin.toml"), manifest)
        .expect("a valid manifest")
        .app;
    let triggers = AppTriggers::configure(&spec).expect("valid triggers");
    let default = kiln_runtime::DEFAULT_LIMITS.max_concurrent.unwrap();
    let expected = (8 + 1) + (default + 1) + 1;
    assert_eq!(
        triggers.instances_needed(&spec, &AppOptions::default()),
        expected
    );
    let options = AppOptions {
        limits: kiln_manifest::Limits {
            max_concurrent: Some(3),
            ..kiln_manifest::Limits::default()
        },
        ..AppOptions::default()
    };
    assert_eq!(
        triggers.instances_needed(&spec, &options),
        (8 + 1) + (3 + 1) + 1
    );
}
