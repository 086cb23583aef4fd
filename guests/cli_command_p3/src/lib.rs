//! A WASI 0.3 command (`wasi:cli/run@0.3.0`, through the wasip3 crate), for the `kiln run`
//! tests: prints `args: ARGS` and, per flag, `env NAME=VALUE` (`--env NAME`), `read PATH: TEXT`
//! (`--read PATH`, through a preopened directory), writes `--stderr TEXT` to stderr, and exits
//! with `--exit CODE`.

use wasip3::cli::{environment, exit, stderr, stdout};
use wasip3::filesystem::preopens;
use wasip3::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

struct Command;

wasip3::cli::command::export!(Command);

impl wasip3::exports::cli::run::Guest for Command {
    async fn run() -> Result<(), ()> {
        let args = environment::get_arguments();
        let mut out = format!("args: {}\n", args[1..].join(" "));
        let mut err = String::new();
        let mut exit_code = None;
        let mut rest = args[1..].iter();
        while let Some(flag) = rest.next() {
            let value = rest.next().cloned().unwrap_or_default();
            match flag.as_str() {
                "--env" => {
                    let found = environment::get_environment().into_iter().find(|(k, _)| *k == value);
                    match found {
                        Some((k, v)) => out.push_str(&format!("env {k}={v}\n")),
                        None => out.push_str(&format!("env {value} is not set\n")),
                    }
                }
                "--read" => match read(&value).await {
                    Ok(text) => out.push_str(&format!("read {value}: {}\n", text.trim_end())),
                    Err(e) => out.push_str(&format!("error: read {value}: {e}\n")),
                },
                "--stderr" => err.push_str(&format!("{value}\n")),
                "--exit" => exit_code = value.parse::<u8>().ok(),
                _ => {}
            }
        }
        write(out, true).await;
        if !err.is_empty() {
            write(err, false).await;
        }
        if let Some(code) = exit_code {
            exit::exit_with_code(code);
        }
        Ok(())
    }
}

/// Writes `text` to stdout (or stderr) through a stream.
async fn write(text: String, to_stdout: bool) {
    let (mut tx, rx) = wasip3::wit_stream::new();
    let sink = async {
        let done = if to_stdout {
            stdout::write_via_stream(rx)
        } else {
            stderr::write_via_stream(rx)
        };
        let _ = done.await;
    };
    let source = async {
        tx.write_all(text.into_bytes()).await;
        drop(tx);
    };
    futures::join!(sink, source);
}

/// The text of the file at `path`, opened through the preopened directory it is under.
async fn read(path: &str) -> Result<String, String> {
    let (dir, relative) = preopens::get_directories()
        .into_iter()
        .find_map(|(dir, guest)| {
            let relative = path.strip_prefix(guest.trim_end_matches('/'))?;
            Some((dir, relative.trim_start_matches('/').to_string()))
        })
        .ok_or_else(|| "not under a preopened directory".to_string())?;
    let file = dir
        .open_at(PathFlags::empty(), relative, OpenFlags::empty(), DescriptorFlags::READ)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (data, done) = file.read_via_stream(0);
    let bytes = data.collect().await;
    done.await.map_err(|e| format!("{e:?}"))?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}
