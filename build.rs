//! Links the optimised `tollgate` binary with `linker/hot-text.ld`, which
//! places the functions a typical run executes together at the start of its
//! code (the file's header says why). Only the layout changes.
//!
//! Only in optimised builds: the linker matches every pattern of the script
//! against every section, which makes each link of a debug build take about
//! 3.8 s instead of 0.5 s, and nobody times a debug build. Only where the
//! linker is known to be the toolchain's own LLD, which reads the script's
//! `INSERT BEFORE`: x86-64 Linux with glibc, from Rust 1.90, with no linker
//! chosen in cargo's configuration or in RUSTFLAGS. Other linkers may not
//! read it (gold rejects it), and a linker brought in some other way cannot
//! be seen from here: setting `TOLLGATE_PLAIN_LINK=1` links the binary as
//! if this file did not exist.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=linker/hot-text.ld");
    println!("cargo::rerun-if-env-changed=TOLLGATE_PLAIN_LINK");
    if default_lld_links_an_optimised_build() && env::var_os("TOLLGATE_PLAIN_LINK").is_none() {
        let script = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"))
            .join("linker/hot-text.ld");
        println!(
            "cargo::rustc-link-arg-bin=tollgate=-Wl,-T,{}",
            script.display()
        );
    }
}

fn default_lld_links_an_optimised_build() -> bool {
    let var = |name| env::var(name).unwrap_or_default();
    let rustflags = var("CARGO_ENCODED_RUSTFLAGS");
    var("OPT_LEVEL") != "0"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && env::var_os("RUSTC_LINKER").is_none()
        && !["linker", "fuse-ld", "link-arg=-B", "link-args=-B"]
            .iter()
            .any(|flag| rustflags.contains(flag))
        && rustc_minor_version().is_some_and(|minor| minor >= 90)
}

/// The minor version of the compiler cargo runs, from `rustc 1.95.0 (...)`.
fn rustc_minor_version() -> Option<u32> {
    let rustc = env::var_os("RUSTC")?;
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    version
        .split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
