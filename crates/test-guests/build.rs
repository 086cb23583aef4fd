//! Builds every crate of the `guests/` workspace for wasm32-wasip2 (and `spin_sdk_v2` also for
//! wasm32-wasip1), and the Python guest with componentize-py, once per change, then writes a
//! constant per guest with the path of its .wasm. A failed build fails this crate's build with
//! the tool's output: tests never run without their guests.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let guests = root.join("guests");
    let target_dir = root.join("target").join("guests");
    println!("cargo:rerun-if-changed={}", guests.display());

    cargo_build(&guests, &target_dir, "wasm32-wasip2", &["--workspace"]);
    // Spin SDK guests also as preview 1 modules, as older Spin templates build them: the SDK
    // 5 guest, and the SDK 3 one as Spin 2's templates made it.
    cargo_build(
        &guests,
        &target_dir,
        "wasm32-wasip1",
        &["-p", "spin_sdk_v2", "-p", "spin_sdk_3x"],
    );

    let out_dir = target_dir.join("wasm32-wasip2").join("release");
    let mut code = String::new();
    let mut names = Vec::new();
    for name in guest_names(&guests) {
        let wasm = out_dir.join(format!("{name}.wasm"));
        assert!(wasm.is_file(), "guest {name} built no {}", wasm.display());
        code.push_str(&format!(
            "/// Path of the `{name}` guest.\npub const {}: &str = {:?};\n",
            name.to_uppercase(),
            wasm.display().to_string()
        ));
        names.push(name);
    }
    for name in ["spin_sdk_v2", "spin_sdk_3x"] {
        let p1 = target_dir.join(format!("wasm32-wasip1/release/{name}.wasm"));
        code.push_str(&format!(
            "/// The `{name}` guest built for wasm32-wasip1 (a core module).\npub const {}_WASIP1: &str = {:?};\n",
            name.to_uppercase(),
            p1.display().to_string()
        ));
    }
    let site_packages = python_site_packages(&root);
    let python = componentize_python(
        &site_packages,
        true,
        &site_packages.join("spin_sdk").join("wit"),
        "spin-http",
        &guests.join("python_kv"),
        &target_dir,
    );
    code.push_str(&format!(
        "/// The `python_kv` guest: Spin's Python SDK, built by componentize-py.\npub const PYTHON_KV: &str = {:?};\n",
        python.display().to_string()
    ));
    code.push_str(&example_plugins(&root, &site_packages, &target_dir));
    let greet_python = componentize_python(
        &site_packages,
        false,
        &guests.join("greet_rust").join("wit"),
        "provider",
        &guests.join("greet_python"),
        &target_dir,
    );
    code.push_str(&format!(
        "/// A `kiln-test:greet` provider in Python, built by componentize-py.\npub const GREET_PYTHON: &str = {:?};\n",
        greet_python.display().to_string()
    ));
    code.push_str(&format!(
        "/// Every guest, by crate name.\npub const ALL: &[&str] = &{names:?};\n"
    ));
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("guests.rs"),
        code,
    )
    .unwrap();
}

/// Runs `cargo build --release --target TARGET ARGS` in the guests workspace, or fails the build.
fn cargo_build(guests: &Path, target_dir: &Path, target: &str, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(guests)
        .args(["build", "--release", "--target", target])
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir);
    // Settings meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        build.env_remove(var);
    }
    let output = build.output().expect("running cargo for the guests");
    if !output.status.success() {
        panic!(
            "building guests/ for {target} failed (is the target installed? `rustup target add {target}`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The plugins of `examples/plugin-host`: `redact` (Rust, a crate of its own) and `headline`
/// (Python), as constants `EXAMPLE_REDACT` and `EXAMPLE_HEADLINE`.
fn example_plugins(root: &Path, site_packages: &Path, target_dir: &Path) -> String {
    let example = root.join("examples").join("plugin-host");
    println!(
        "cargo:rerun-if-changed={}",
        example.join("plugins").display()
    );
    println!("cargo:rerun-if-changed={}", example.join("wit").display());
    let redact = example.join("plugins").join("redact");
    cargo_build(&redact, target_dir, "wasm32-wasip2", &["--locked"]);
    let redact = target_dir.join("wasm32-wasip2/release/redact.wasm");
    let headline = componentize_python(
        site_packages,
        false,
        &example.join("wit"),
        "text-filter",
        &example.join("plugins").join("headline"),
        target_dir,
    );
    format!(
        "/// The Rust plugin of examples/plugin-host.\npub const EXAMPLE_REDACT: &str = {:?};\n\
         /// The Python plugin of examples/plugin-host.\npub const EXAMPLE_HEADLINE: &str = {:?};\n",
        redact.display().to_string(),
        headline.display().to_string()
    )
}

/// The site-packages of the Python venv that `scripts/python-venv.sh` makes under
/// `target/python-venv`, with componentize-py and Spin's Python SDK.
fn python_site_packages(root: &Path) -> PathBuf {
    let venv = root.join("target").join("python-venv");
    let componentize_py = venv.join("bin").join("componentize-py");
    println!("cargo:rerun-if-changed={}", componentize_py.display());
    assert!(
        componentize_py.is_file(),
        "{} is missing: run scripts/python-venv.sh (scripts/test.sh does) to install componentize-py and Spin's Python SDK",
        componentize_py.display()
    );
    std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .expect("the Python venv has no site-packages")
}

/// Builds the Python app in `app_dir` (its `app.py`) for `world` of the WIT in `wit` with
/// componentize-py, into `<target_dir>/<app dir name>.wasm`; with `sdk`, the venv's packages
/// (Spin's Python SDK, whose WIT componentize-py then adds) are on its path.
fn componentize_python(
    site_packages: &Path,
    sdk: bool,
    wit: &Path,
    world: &str,
    app_dir: &Path,
    target_dir: &Path,
) -> PathBuf {
    let venv = site_packages.ancestors().nth(3).unwrap();
    let componentize_py = venv.join("bin").join("componentize-py");
    let name = app_dir.file_name().unwrap().to_string_lossy();
    // Built from a copy: componentize-py writes `__pycache__` beside the sources, which would
    // make every later build see the guests as changed.
    let sources = target_dir.join(format!("{name}-src"));
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::copy(app_dir.join("app.py"), sources.join("app.py")).unwrap();
    let wasm = target_dir.join(format!("{name}.wasm"));
    let mut command = Command::new(&componentize_py);
    command
        .arg("-d")
        .arg(wit)
        .args(["-w", world, "componentize", "-p"])
        .arg(&sources);
    if sdk {
        command.arg("-p").arg(site_packages);
    }
    let output = command
        .arg("app")
        .arg("-o")
        .arg(&wasm)
        .output()
        .expect("running componentize-py");
    if !output.status.success() {
        panic!(
            "componentize-py failed for {}:\n{}",
            app_dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    wasm
}

/// The member crates of the guests workspace: each directory with a Cargo.toml.
fn guest_names(guests: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(guests)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
