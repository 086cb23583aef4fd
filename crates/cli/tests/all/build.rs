//! `kiln build` and `kiln up --build`: each component's build command, in its workdir.

use crate::util::{app_dir, kiln_output, path_str};

const MANIFEST: &str = r#"spin_manifest_version = 2
[application]
name = "built"
[[trigger.http]]
route = "/..."
component = "first"
[component.first]
source = "first.wasm"
[component.first.build]
command = "echo first-output && pwd > built-in.txt"
workdir = "sub"
[component.second]
source = "second.wasm"
[component.second.build]
command = ["echo one > second.txt", "echo two >> second.txt"]
"#;

#[test]
fn runs_each_build_command_in_its_workdir() {
    let dir = app_dir(&[("spin.toml", MANIFEST), ("sub/.keep", "")]);
    let output = kiln_output(&["build", "-f", path_str(dir.path())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("first-output"));
    assert!(
        stderr.contains("Building component first with `echo first-output && pwd > built-in.txt`"),
        "{stderr}"
    );
    let built_in = std::fs::read_to_string(dir.path().join("sub/built-in.txt")).unwrap();
    assert!(built_in.trim_end().ends_with("/sub"), "{built_in}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("second.txt")).unwrap(),
        "one\ntwo\n"
    );
}

#[test]
fn a_failing_build_names_the_component() {
    let manifest = MANIFEST.replace("echo one > second.txt", "exit 3");
    let dir = app_dir(&[("spin.toml", &manifest), ("sub/.keep", "")]);
    let output = kiln_output(&["build", "-f", path_str(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("component \"second\": build command `exit 3` failed (exit status: 3)"),
        "{stderr}"
    );
}
