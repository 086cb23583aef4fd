//! Manifest UI tests: every `ui/valid/*.toml` loads; every `ui/invalid/NAME.toml` fails with the
//! error in `NAME.err` (the message after the file name, so `LINE:COL: message`).

use std::path::{Path, PathBuf};

use kiln_manifest::{KeyValueStoreConfig, LoadedManifest, ManifestError, RuntimeConfig};

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

#[test]
fn valid_manifests_load() {
    for case in cases("valid") {
        if let Err(e) = LoadedManifest::load(&case) {
            panic!("{} should load: {e}", case.display());
        }
    }
}

/// Each `NAME.toml` in `dir` fails to load with the error in `NAME.err` (after the file name).
fn check_invalid<T>(dir: &str, load: impl Fn(&Path) -> Result<T, ManifestError>) {
    for case in cases(dir) {
        let expected = std::fs::read_to_string(case.with_extension("err"))
            .unwrap_or_else(|_| panic!("{} needs a .err file", case.display()));
        let Err(error) = load(&case) else {
            panic!("{} must fail", case.display());
        };
        let error = error.to_string();
        let prefix = format!("{}:", case.display());
        let rest = error.strip_prefix(&prefix).unwrap_or(&error);
        assert_eq!(rest, expected.trim_end(), "for {}", case.display());
    }
}

#[test]
fn invalid_manifests_fail_with_their_place_and_fix() {
    check_invalid("invalid", LoadedManifest::load);
}

#[test]
fn invalid_runtime_configs_fail_with_their_place_and_fix() {
    check_invalid("runtime-config/invalid", RuntimeConfig::load);
}

#[test]
fn a_runtime_config_resolves_fully() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/runtime-config/valid");
    let config = RuntimeConfig::load(&dir.join("all.toml")).unwrap();
    assert_eq!(
        config.key_value_stores["default"],
        KeyValueStoreConfig::Spin {
            path: Some(dir.join("data/kv.db"))
        }
    );
    assert_eq!(
        config.key_value_stores["cache"],
        KeyValueStoreConfig::Redis {
            url: "redis://127.0.0.1:6379".into()
        }
    );
    assert_eq!(
        config.key_value_stores["shared"],
        KeyValueStoreConfig::Nats {
            url: "nats://127.0.0.1:4222".into(),
            bucket: "shared".into()
        }
    );
    assert_eq!(
        config.sqlite_databases["default"].path,
        Some(dir.join("data/app.db"))
    );
    assert_eq!(config.variable_providers.len(), 2);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);

    let unknown = RuntimeConfig::from_text(
        &dir.join("x.toml"),
        "[key_value_store.a]\ntype = \"spin\"\ncolour = 1\n",
    )
    .unwrap();
    assert_eq!(unknown.warnings.len(), 1);
    assert!(
        unknown.warnings[0]
            .ends_with("x.toml:3:10: unknown field `key_value_store.a.colour` ignored"),
        "{:?}",
        unknown.warnings
    );
}

#[test]
fn a_spin_app_resolves_fully() {
    let loaded = LoadedManifest::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/valid/full.toml"),
    )
    .unwrap();
    let app = loaded.app;
    assert_eq!(app.name, "full");
    let triggers: Vec<_> = app
        .triggers
        .iter()
        .map(|t| (t.trigger_type.as_str(), t.component.as_str()))
        .collect();
    assert_eq!(
        triggers,
        [
            ("http", "hello"),
            ("http", "api"),
            ("http", "internal"),
            ("http", "inline-component3"),
        ]
    );
    assert_eq!(app.triggers[1].id, "api-trigger");
    let hello = app.component("hello").unwrap();
    assert!(hello.source.path().is_some_and(|p| p.is_absolute()));
    assert_eq!(
        hello.environment,
        [("GREETING".to_string(), "hi".to_string())]
    );
    assert_eq!(hello.key_value_stores, ["default"]);
    assert_eq!(hello.variables["message"], "Hello {{ who }}");
    let build = hello.build.as_ref().unwrap();
    assert_eq!(
        build.commands,
        ["cargo build --target wasm32-wasip2 --release"]
    );
    assert!(build.workdir.ends_with("hello"));
    assert_eq!(
        app.component("api").unwrap().allowed_outbound_hosts,
        ["http://example.com", "https://example.com"]
    );
    assert!(app.variables["token"].secret);
    let warnings = loaded.warnings.join("\n");
    assert_eq!(loaded.warnings.len(), 2, "{warnings}");
    assert!(
        warnings.contains("full.toml:44:10: unknown field `component.api.colour` ignored"),
        "{warnings}"
    );
    assert!(warnings.contains("full.toml:43:22: allowed_http_hosts is deprecated: replace it with allowed_outbound_hosts = [\"http://example.com\", \"https://example.com\"]"), "{warnings}");
}
