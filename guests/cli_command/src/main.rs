//! A `wasi:cli/command` that reports what it can see, for the `kiln run` tests.
//!
//! Usage: `cli_command [--read PATH] [--write PATH] [--env NAME] [--env-count] [--connect ADDR]
//! [--echo-stdin] [--stderr TEXT] [--panic] [--exit CODE] ARGS...`
//! Each flag prints one line to stdout; a failure prints `error: ...` and exits 1.

use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("args: {}", args[1..].join(" "));
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().cloned().unwrap_or_default();
        match flag.as_str() {
            "--read" => {
                let path = value();
                match std::fs::read_to_string(&path) {
                    Ok(text) => println!("read {path}: {}", text.trim_end()),
                    Err(e) => fail(&format!("read {path}: {e}")),
                }
            }
            "--write" => {
                let path = value();
                match std::fs::write(&path, "written by guest") {
                    Ok(()) => println!("wrote {path}"),
                    Err(e) => fail(&format!("write {path}: {e}")),
                }
            }
            "--env" => {
                let name = value();
                match std::env::var(&name) {
                    Ok(v) => println!("env {name}={v}"),
                    Err(_) => println!("env {name} is not set"),
                }
            }
            "--env-count" => println!("env count: {}", std::env::vars().count()),
            "--connect" => {
                let addr = value();
                match std::net::TcpStream::connect(&addr) {
                    Ok(_) => println!("connected {addr}"),
                    Err(e) => fail(&format!("connect {addr}: {e}")),
                }
            }
            "--echo-stdin" => {
                let mut input = String::new();
                std::io::stdin().read_to_string(&mut input).unwrap_or_default();
                println!("stdin: {}", input.trim_end());
            }
            "--stderr" => {
                let text = value();
                let _ = writeln!(std::io::stderr(), "{text}");
            }
            "--panic" => panic!("asked to panic"),
            "--exit" => {
                // std::process::exit maps every failure to 1; wasi:cli 0.2.12 carries the code.
                let code: u8 = value().parse().unwrap_or(1);
                let _ = std::io::stdout().flush();
                wasip2::cli::exit::exit_with_code(code);
            }
            _ => {}
        }
    }
}

fn fail(message: &str) -> ! {
    println!("error: {message}");
    let _ = std::io::stdout().flush();
    std::process::exit(1);
}
