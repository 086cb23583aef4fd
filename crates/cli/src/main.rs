//! The `kiln` command line.

mod commands;
mod signals;
mod telemetry;

use clap::Parser;

// Every request allocates and frees a store's worth of small objects; mimalloc does that with
// thread-local free lists where glibc's allocator takes locks and consolidates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run WebAssembly components as serverless apps.
#[derive(Parser)]
#[command(name = "kiln", version, about)]
struct Cli {
    /// How log lines are written on stderr: text, or json (one object a line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: commands::Command,
}

/// The `--log-format` choices.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() {
    // Errors inside the runtime (some made on every request, as a store is dropped) would each
    // capture a stack trace when RUST_BACKTRACE is set; kiln's errors carry their context
    // instead. Panics still print backtraces as RUST_BACKTRACE asks.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = Cli::parse();
    init_logging(cli.log_format);
    // Every TLS client of kiln (registries, the OTLP exporter) uses rustls with ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let telemetry = match telemetry::Telemetry::from_env() {
        Ok(telemetry) => telemetry,
        Err(e) => exit_with_error(&e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => exit_with_error(&anyhow::Error::from(e).context("starting the async runtime")),
    };
    let outcome = runtime.block_on(cli.command.run());
    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(e) => exit_with_error(&e),
    }
}

/// Logs to stderr in `format`; `KILN_LOG` (or `RUST_LOG`) overrides the default level. The
/// client libraries log their own connection events only as warnings: kiln logs what matters.
fn init_logging(format: LogFormat) {
    let filter = std::env::var("KILN_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| {
            "info,wasmtime=warn,cranelift=warn,async_nats=warn,rumqttc=warn".to_string()
        });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

/// Prints the error and its causes, numbered, then exits 1.
fn exit_with_error(error: &anyhow::Error) -> ! {
    eprintln!("Error: {error}");
    let causes: Vec<_> = error.chain().skip(1).collect();
    if !causes.is_empty() {
        eprintln!("\nCaused by:");
        for (i, cause) in causes.iter().enumerate() {
            eprintln!("  {i}: {cause}");
        }
    }
    std::process::exit(1);
}
