//! `kiln run`: a command component sees its arguments, granted env and dirs, and nothing else;
//! a WASI 0.3 command (`wasi:cli/run@0.3.0`) runs through its 0.3 `run`, with the same.

use std::io::Write;
use std::process::Stdio;

use kiln_test_guests::{CLI_COMMAND, CLI_COMMAND_P3};

use crate::util::{kiln, kiln_output, path_str};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn args_env_and_a_granted_dir_reach_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "from the host\n").unwrap();
    let grant = format!("{}::/data", path_str(dir.path()));
    let output = kiln_output(&[
        "run",
        "--env",
        "GREETING=hi",
        "--dir",
        &grant,
        CLI_COMMAND,
        "--env",
        "GREETING",
        "--read",
        "/data/note.txt",
        "plain-arg",
    ]);
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        out.contains("args: --env GREETING --read /data/note.txt plain-arg"),
        "{out}"
    );
    assert!(out.contains("env GREETING=hi"), "{out}");
    assert!(out.contains("read /data/note.txt: from the host"), "{out}");
}

#[test]
fn the_exit_code_becomes_kilns() {
    let output = kiln_output(&["run", CLI_COMMAND, "--exit", "7"]);
    assert_eq!(
        output.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = kiln_output(&["run", CLI_COMMAND, "--exit", "0"]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_trap_exits_like_wasmtime_run() {
    let output = kiln_output(&["run", CLI_COMMAND, "--panic"]);
    assert_eq!(output.status.code(), Some(134));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("asked to panic"), "{stderr}");
    assert!(stderr.contains("trapped"), "{stderr}");
}

#[test]
fn nothing_is_visible_without_a_grant() {
    let output = kiln()
        .args([
            "run",
            CLI_COMMAND,
            "--env-count",
            "--env",
            "HOME",
            "--read",
            "/etc/hostname",
        ])
        .env("SECRET_TOKEN", "x")
        .output()
        .unwrap();
    let out = stdout(&output);
    assert!(out.contains("env count: 0"), "{out}");
    assert!(out.contains("env HOME is not set"), "{out}");
    assert!(out.contains("error: read /etc/hostname"), "{out}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn env_without_a_value_passes_one_variable_through() {
    let output = kiln()
        .args([
            "run",
            "--env",
            "PASSED",
            CLI_COMMAND,
            "--env",
            "PASSED",
            "--env",
            "OTHER",
        ])
        .env("PASSED", "yes")
        .env("OTHER", "no")
        .output()
        .unwrap();
    let out = stdout(&output);
    assert!(out.contains("env PASSED=yes"), "{out}");
    assert!(out.contains("env OTHER is not set"), "{out}");
}

#[test]
fn a_read_only_dir_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ro = format!("{}::/data:ro", path_str(dir.path()));
    let output = kiln_output(&["run", "--dir", &ro, CLI_COMMAND, "--write", "/data/new.txt"]);
    assert!(
        stdout(&output).contains("error: write /data/new.txt"),
        "{}",
        stdout(&output)
    );
    assert!(!dir.path().join("new.txt").exists());

    let rw = format!("{}::/data", path_str(dir.path()));
    let output = kiln_output(&["run", "--dir", &rw, CLI_COMMAND, "--write", "/data/new.txt"]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("new.txt")).unwrap(),
        "written by guest"
    );
}

#[test]
fn sockets_need_allow_outbound() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let denied = kiln_output(&["run", CLI_COMMAND, "--connect", &addr]);
    assert!(
        stdout(&denied).contains(&format!("error: connect {addr}")),
        "{}",
        stdout(&denied)
    );
    let allowed = kiln_output(&["run", "--allow-outbound", CLI_COMMAND, "--connect", &addr]);
    assert!(
        stdout(&allowed).contains(&format!("connected {addr}")),
        "{}",
        stdout(&allowed)
    );
}

#[test]
fn stdin_and_stderr_are_connected() {
    let mut child = kiln()
        .args(["run", CLI_COMMAND, "--echo-stdin", "--stderr", "to-stderr"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"typed input\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        stdout(&output).contains("stdin: typed input"),
        "{}",
        stdout(&output)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("to-stderr"));
}

#[test]
fn a_preview1_core_module_runs_with_its_exit_code() {
    // fd_write "hi\n" to stdout, then proc_exit(3).
    let module = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hi\n")
            (func (export "_start")
                (i32.store (i32.const 0) (i32.const 16))
                (i32.store (i32.const 4) (i32.const 3))
                (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
                (call $proc_exit (i32.const 3))))"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p1.wasm");
    std::fs::write(&path, module).unwrap();
    let output = kiln_output(&["run", path_str(&path)]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(stdout(&output), "hi\n");
}

#[test]
fn a_file_that_is_not_wasm_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.wasm");
    std::fs::write(&path, "not wasm at all").unwrap();
    let output = kiln_output(&["run", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a WebAssembly file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_wasi_0_3_command_gets_args_env_dirs_stdio_and_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "from the host\n").unwrap();
    let grant = format!("{}::/data", path_str(dir.path()));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--env",
            "GREETING=hi",
            "--dir",
            &grant,
            CLI_COMMAND_P3,
        ];
        args.extend_from_slice(extra);
        kiln_output(&args)
    };
    let output = run(&[
        "--env",
        "GREETING",
        "--read",
        "/data/note.txt",
        "--stderr",
        "to stderr",
    ]);
    let out = stdout(&output);
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{out}\n{err}");
    assert!(
        out.contains("args: --env GREETING --read /data/note.txt --stderr to stderr"),
        "{out}"
    );
    assert!(out.contains("env GREETING=hi"), "{out}");
    assert!(out.contains("read /data/note.txt: from the host"), "{out}");
    assert!(err.contains("to stderr"), "{err}");
    // Not granted: another variable, a path outside the directory.
    let denied = stdout(&run(&["--env", "HOME", "--read", "/etc/hostname"]));
    assert!(denied.contains("env HOME is not set"), "{denied}");
    assert!(denied.contains("error: read /etc/hostname"), "{denied}");
    assert_eq!(run(&["--exit", "7"]).status.code(), Some(7));
}
