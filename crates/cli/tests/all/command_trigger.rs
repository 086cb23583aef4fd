//! `[[trigger.command]]` (Spin's trigger-command): `kiln up` runs a `wasi:cli/run` component
//! once, with the manifest's grants and the arguments after `--`, on kiln's own stdio, and
//! exits with its exit code.

use kiln_test_guests::{CLI_COMMAND, HTTP_HELLO};

use crate::util::{app_dir, kiln_output, path_str};

fn manifest(source: &str) -> String {
    format!(
        r#"spin_manifest_version = 2
[application]
name = "command"
[[trigger.command]]
component = "tool"
[component.tool]
source = "{source}"
files = [{{ source = "data", destination = "/data" }}]
environment = {{ GREETING = "hello" }}
"#
    )
}

/// Runs the app in `dir` with `args` after `--`: exit code, stdout, stderr.
fn up(dir: &tempfile::TempDir, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["up", "-f", path_str(dir.path()), "--"];
    all.extend(args);
    let output = kiln_output(&all);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn runs_once_with_the_grants_and_arguments_and_passes_the_exit_code_through() {
    let dir = app_dir(&[
        ("spin.toml", &manifest(CLI_COMMAND)),
        ("data/note.txt", "granted\n"),
    ]);
    let (code, stdout, stderr) = up(
        &dir,
        &[
            "--read",
            "/data/note.txt",
            "--env",
            "GREETING",
            "--exit",
            "3",
        ],
    );
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "Running command component tool",
            "args: --read /data/note.txt --env GREETING --exit 3",
            "read /data/note.txt: granted",
            "env GREETING=hello",
        ],
        "{stderr}"
    );

    let (code, stdout, _) = up(&dir, &["--read", "/etc/hostname"]);
    assert_eq!(
        code,
        Some(1),
        "a file outside the grants is not there: {stdout}"
    );
    let (code, _, _) = up(&dir, &[]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_trapping_command_exits_134_and_is_logged() {
    let dir = app_dir(&[("spin.toml", &manifest(CLI_COMMAND)), ("data/note.txt", "")]);
    let (code, _, stderr) = up(&dir, &["--panic"]);
    assert_eq!(code, Some(134), "{stderr}");
    assert!(stderr.contains("command failed"), "{stderr}");
    assert!(
        stderr.contains("component_id=tool") || stderr.contains("tool"),
        "{stderr}"
    );
}

#[test]
fn a_component_that_is_not_a_command_is_an_error_at_load() {
    let dir = app_dir(&[("spin.toml", &manifest(HTTP_HELLO)), ("data/note.txt", "")]);
    let (code, _, stderr) = up(&dir, &[]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("wasi:cli/run"), "{stderr}");
    assert!(stderr.contains("\"tool\""), "{stderr}");
}
