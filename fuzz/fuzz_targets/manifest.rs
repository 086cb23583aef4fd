//! Any text given as a manifest is either an app or an error; it never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let path = std::env::temp_dir().join("kiln-fuzz").join("spin.toml");
    if let Err(error) = kiln_manifest::LoadedManifest::from_text(&path, text) {
        // Rendering the error locates it in the text: that must not panic either.
        let _ = error.to_string();
    }
});
