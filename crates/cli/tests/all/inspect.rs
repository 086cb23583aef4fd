//! `kiln inspect` on a Spin SDK component, a Python one and a plain wasi:http one, with some of
//! their grants missing; on a component importing what kiln lacks; on one with dependencies,
//! judged composed; as WIT and as JSON.

use kiln_test_guests::{
    GREET_PYTHON, HTTP_GREET, HTTP_HELLO, PLUGIN_PROBE, PYTHON_KV, SPIN_SDK_V2,
};

use crate::util::{app_dir, kiln_output, path_str};

/// `kiln inspect ARGS`: exit code and stdout (stderr on failure).
fn inspect(args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    let output = kiln_output(&all);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), format!("{stdout}{stderr}"))
}

/// The line of `output` that judges `import`, with its spaces collapsed.
fn judged(output: &str, import: &str) -> String {
    output
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(import))
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no line for {import} in:\n{output}"))
}

fn app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "inspected"
[[trigger.http]]
route = "/sdk/..."
component = "sdk"
[[trigger.http]]
route = "/py/..."
component = "py"
[[trigger.http]]
route = "/plain/..."
component = "plain"
[component.sdk]
source = "{SPIN_SDK_V2}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
[component.py]
source = "{PYTHON_KV}"
[component.plain]
source = "{HTTP_HELLO}"
environment = {{ GREETING = "hi" }}
"#
    );
    app_dir(&[("spin.toml", &manifest)])
}

#[test]
fn imports_are_judged_against_each_components_grants() {
    let dir = app();
    let (code, out) = inspect(&["-f", path_str(dir.path())]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("component \"sdk\""), "{out}");
    assert!(
        out.contains("exports\n    wasi:http/incoming-handler@0.2.0"),
        "{out}"
    );
    assert_eq!(
        judged(&out, "fermyon:spin/key-value@2.0.0"),
        "granted fermyon:spin/key-value@2.0.0 key_value_stores: default"
    );
    assert_eq!(
        judged(&out, "fermyon:spin/redis@2.0.0"),
        "granted fermyon:spin/redis@2.0.0 allowed_outbound_hosts: redis://127.0.0.1:6379"
    );
    assert!(judged(&out, "fermyon:spin/sqlite@2.0.0")
        .starts_with("denied fermyon:spin/sqlite@2.0.0 no database granted (add sqlite_databases"));
    assert!(judged(&out, "fermyon:spin/postgres@2.0.0").starts_with("denied"));

    // The Python component alone: Spin's Python SDK imports key-value, which it is not granted.
    let (_, py) = inspect(&["py", "-f", path_str(dir.path())]);
    assert!(
        py.contains("component \"py\"") && !py.contains("component \"sdk\""),
        "{py}"
    );
    assert!(
        judged(&py, "fermyon:spin/key-value@2.0.0").starts_with("denied"),
        "{py}"
    );

    let (_, plain) = inspect(&["plain", "-f", path_str(dir.path())]);
    assert_eq!(
        judged(&plain, "wasi:cli/environment@0.2.12"),
        "granted wasi:cli/environment@0.2.12 environment: GREETING"
    );
    assert!(judged(&plain, "wasi:io/streams@0.2.12").starts_with("provided"));

    let (code, unknown) = inspect(&["nope", "-f", path_str(dir.path())]);
    assert_eq!(code, Some(1));
    assert!(
        unknown.contains("no component \"nope\"; it has: sdk, py, plain"),
        "{unknown}"
    );
}

#[test]
fn an_import_kiln_lacks_is_named_and_fails_the_command() {
    let (code, out) = inspect(&[PLUGIN_PROBE]);
    assert_eq!(code, Some(1), "{out}");
    let line = judged(&out, "kiln-test:probe/host@0.1.0");
    assert!(
        line.starts_with("missing kiln-test:probe/host@0.1.0 kiln does not provide it"),
        "{line}"
    );
    assert!(line.contains("`log`"), "{line}");
}

#[test]
fn wit_and_json_for_tools() {
    let (code, wit) = inspect(&[HTTP_HELLO, "--wit"]);
    assert_eq!(code, Some(0), "{wit}");
    assert!(
        wit.contains("export wasi:http/incoming-handler@0.2.12;"),
        "{wit}"
    );
    assert!(wit.contains("package wasi:http@0.2.12"), "{wit}");

    let (_, json) = inspect(&[SPIN_SDK_V2, "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sdk = &parsed[0];
    assert_eq!(sdk["id"], "spin_sdk_v2");
    assert!(sdk["digest"].as_str().unwrap().starts_with("sha256:"));
    let imports = sdk["imports"].as_array().unwrap();
    let kv = imports
        .iter()
        .find(|i| i["name"] == "fermyon:spin/key-value@2.0.0")
        .unwrap();
    assert_eq!(kv["status"], "denied");
}

#[test]
fn a_component_with_dependencies_is_judged_composed_as_kiln_loads_it() {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "composed"
[[trigger.http]]
route = "/..."
component = "web"
[component.web]
source = "{HTTP_GREET}"
[component.web.dependencies]
"kiln-test:greet/greeter@0.1.0" = {{ path = "{GREET_PYTHON}" }}
"#
    );
    let dir = app_dir(&[("spin.toml", &manifest)]);
    let (code, output) = inspect(&["-f", path_str(dir.path())]);
    assert_eq!(code, Some(0), "{output}");
    assert!(
        output.contains("composed with the dependencies for kiln-test:greet/greeter@0.1.0"),
        "{output}"
    );
    // The greeter import is filled; the Python greeter's own imports are the composition's.
    assert!(
        !output.contains("kiln-test:greet/greeter@0.1.0  "),
        "{output}"
    );
    assert_eq!(
        judged(&output, "wasi:random/random@0.2.0"),
        "provided wasi:random/random@0.2.0"
    );
}
