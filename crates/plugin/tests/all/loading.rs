//! Plugins refused at load with an error that names what is wrong: not Wasm, a core module, a
//! plugin for another world, an import the host lacks.

use kiln_plugin::{PluginConfig, PluginError, PluginHost};

use super::{probe_host, Probe};

#[test]
fn malformed_plugins_are_refused() {
    let host = probe_host().build().unwrap();
    let config = || PluginConfig::new().name("broken");
    let error = host.load(b"definitely not wasm", config()).err().unwrap();
    assert!(matches!(error, PluginError::Invalid(_)), "{error}");
    assert!(
        error.to_string().contains("is not a WebAssembly file"),
        "{error}"
    );

    let core_module = b"\0asm\x01\0\0\0";
    let error = host.load(core_module, config()).err().unwrap();
    assert!(
        error.to_string().contains("core WebAssembly module"),
        "{error}"
    );

    let truncated = &std::fs::read(kiln_test_guests::PLUGIN_PROBE).unwrap()[..4096];
    let error = host.load(truncated, config()).err().unwrap();
    assert!(error.to_string().contains("does not compile"), "{error}");

    let error = host
        .load_file("/no/such/plugin.wasm", PluginConfig::new())
        .err()
        .unwrap();
    assert!(matches!(error, PluginError::Unreadable { .. }), "{error}");
    assert!(error.to_string().contains("\"plugin\""), "{error}");
}

#[test]
fn a_plugin_for_another_world_is_refused() {
    let host = probe_host().build().unwrap();
    let http = host
        .load_file(kiln_test_guests::HTTP_HELLO, PluginConfig::new())
        .unwrap();
    let error = http.typed::<Probe>().err().unwrap();
    assert!(matches!(error, PluginError::World { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("http_hello"), "{message}");
    assert!(message.contains("Probe"), "{message}");
    assert!(message.contains("no export `allocate`"), "{message}");
}

#[test]
fn an_import_the_host_lacks_is_named() {
    // A host without the probe world's `host` interface.
    let host = PluginHost::new().unwrap();
    let error = host
        .load_file(kiln_test_guests::PLUGIN_PROBE, PluginConfig::new())
        .err()
        .unwrap();
    assert!(matches!(error, PluginError::Import { .. }), "{error}");
    assert!(
        error.to_string().contains("kiln-test:probe/host"),
        "{error}"
    );
}
