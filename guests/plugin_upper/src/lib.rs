//! A plugin of the `kiln-test:probe` world `upper` (../plugin_probe/wit): `input` upper-cased.
//! What the call benches run.

wit_bindgen::generate!({ path: "../plugin_probe/wit", world: "upper" });

struct Upper;

impl Guest for Upper {
    fn upper(input: String) -> String {
        input.to_uppercase()
    }
}

export!(Upper);
