//! A `kiln-test:greet` provider in Rust: `greet(name)` is `Hello from Rust, NAME!`.

wit_bindgen::generate!({ path: "wit", world: "provider" });

struct Greeter;

impl exports::kiln_test::greet::greeter::Guest for Greeter {
    fn greet(name: String) -> String {
        format!("Hello from Rust, {name}!")
    }
}

export!(Greeter);
