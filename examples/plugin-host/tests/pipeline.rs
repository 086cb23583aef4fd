//! The example program run as a user would: a Rust and a Python plugin over a few lines.

use std::io::Write as _;
use std::process::{Command, Stdio};

fn run(args: &[&str], input: &str) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugin-host"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    (stdout, stderr)
}

#[test]
fn rust_and_python_plugins_filter_lines_in_turn() {
    let input = format!(
        "# a comment\nContacts:\nwrite to ana@example.com\nthe password is hunter2\n{}\n",
        "x".repeat(250)
    );
    let (stdout, stderr) = run(
        &[
            kiln_test_guests::EXAMPLE_REDACT,
            kiln_test_guests::EXAMPLE_HEADLINE,
        ],
        &input,
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..3],
        ["== CONTACTS ==", "write to *****", "the ***** is *****",],
        "{stdout}\n{stderr}"
    );
    // The long line passes unchanged: the Python plugin refused it.
    assert_eq!(lines[3].len(), 250);
    assert!(stderr.contains("[redact] masked 1 word(s)"), "{stderr}");
    assert!(stderr.contains("[headline] headline: Contacts"), "{stderr}");
    assert!(
        stderr.contains("[headline] line 5: line of 250 characters is too long"),
        "{stderr}"
    );
}

#[test]
fn without_the_granted_directory_the_blocklist_is_unread() {
    let (stdout, _) = run(
        &["--config", "/nonexistent", kiln_test_guests::EXAMPLE_REDACT],
        "the password is hunter2 for bo@example.org\n",
    );
    assert_eq!(stdout, "the password is hunter2 for *****\n");
}
