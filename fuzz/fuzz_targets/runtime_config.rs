//! Any text given as a runtime config is either a config or an error; it never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let path = std::env::temp_dir().join("kiln-fuzz").join("runtime-config.toml");
    if let Err(error) = kiln_manifest::RuntimeConfig::from_text(&path, text) {
        let _ = error.to_string();
    }
});
