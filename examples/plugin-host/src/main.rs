//! A text pipeline whose stages are WebAssembly plugins of the `text-filter` world
//! (wit/text-filter.wit), written in any language. Each line of stdin goes through every
//! plugin in order; what is left is printed.
//!
//! ```text
//! plugin-host [--config DIR] [--timeout-ms N] PLUGIN.wasm... < input.txt
//! ```
//!
//! Every plugin runs in a fresh instance per line, held to 64 MiB of memory and the timeout
//! (100 ms by default), and sees only the `REDACT_MASK` environment variable and DIR (default
//! `config`) read-only at `/config`. A plugin that fails on a line (an error it returns, a trap,
//! a timeout) is skipped for that line, which goes on unchanged.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::time::Duration;

use kiln_plugin::{PluginConfig, PluginHost, TypedPlugin};
use wasmtime::component::HasSelf;

wasmtime::component::bindgen!({
    path: "wit",
    world: "text-filter",
    imports: { default: async },
    exports: { default: async },
});

kiln_plugin::bindings!(TextFilter, TextFilterIndices);

/// What the host's `log` works on during a call: the plugin's name.
struct Stage {
    plugin: String,
}

impl example::text::host::Host for Stage {
    async fn log(&mut self, message: String) {
        eprintln!("[{}] {message}", self.plugin);
    }
}

struct Options {
    config: PathBuf,
    timeout: Duration,
    plugins: Vec<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        config: PathBuf::from("config"),
        timeout: Duration::from_millis(100),
        plugins: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => options.config = args.next().ok_or("--config needs a DIR")?.into(),
            "--timeout-ms" => {
                let ms = args.next().ok_or("--timeout-ms needs a number")?;
                let ms = ms
                    .parse()
                    .map_err(|_| format!("--timeout-ms {ms}: not a number"))?;
                options.timeout = Duration::from_millis(ms);
            }
            _ => options.plugins.push(arg.into()),
        }
    }
    if options.plugins.is_empty() {
        return Err(
            "usage: plugin-host [--config DIR] [--timeout-ms N] PLUGIN.wasm... < input".into(),
        );
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let host = PluginHost::<Stage>::builder()
        .imports(|linker| {
            example::text::host::add_to_linker::<_, HasSelf<Stage>>(linker, kiln_plugin::host_data)
        })
        .build()?;
    let mut stages: Vec<TypedPlugin<TextFilter, Stage>> = Vec::new();
    for path in &options.plugins {
        let mut config = PluginConfig::new()
            .max_memory(64 << 20)
            .timeout(options.timeout)
            .env("REDACT_MASK", "*****");
        if options.config.is_dir() {
            config = config.dir_read_only(&options.config, "/config");
        }
        stages.push(host.load_file(path, config)?.typed()?);
    }

    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let mut line = Some(line?);
        for stage in &stages {
            let Some(text) = line.take() else { break };
            let plugin = stage.plugin().name().to_string();
            let data = Stage {
                plugin: plugin.clone(),
            };
            let outcome = stage
                .call(data, async |filter, store| {
                    filter.call_filter(store, &text).await
                })
                .await;
            line = match outcome {
                Ok(Ok(filtered)) => filtered,
                Ok(Err(refused)) => {
                    eprintln!("[{plugin}] line {}: {refused}", number + 1);
                    Some(text)
                }
                Err(failed) => {
                    eprintln!("line {}: {failed}", number + 1);
                    Some(text)
                }
            };
        }
        if let Some(line) = line {
            println!("{line}");
        }
    }
    Ok(())
}
