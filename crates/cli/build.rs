//! Link options of the `kiln` binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Relative relocations packed (DT_RELR, glibc 2.36+): the dynamic loader applies the
    // binary's hundred thousand relative relocations from a table of a few KiB instead of
    // reading 2.7 MB of them: about a millisecond less for every start. A linker that does not
    // know the option warns and leaves it out.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu")
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
