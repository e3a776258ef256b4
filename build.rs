//! Links the release `tollgate` binary with `linker/hot-text.ld`, which
//! places the functions a typical run executes together at the start of its
//! code (the file's header says why). Only the layout changes.
//!
//! Only in optimised builds: the linker matches every pattern of the script
//! against every function, which takes about 18 s in a debug build of many
//! small functions, and nobody times a debug build. Only where the linker is
//! known to read the script's `INSERT BEFORE`: Linux with glibc and the
//! toolchain's own linker (LLD, or GNU ld before Rust 1.90). A linker chosen
//! in cargo's configuration or in RUSTFLAGS (mold, say) links the binary as
//! if this file did not exist.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=linker/hot-text.ld");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    let optimised = env::var("PROFILE").as_deref() == Ok("release");
    let target_is_glibc_linux = env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let linker_chosen = env::var_os("RUSTC_LINKER").is_some()
        || rustflags.contains("linker")
        || rustflags.contains("fuse-ld");
    if optimised && target_is_glibc_linux && !linker_chosen {
        let script = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"))
            .join("linker/hot-text.ld");
        println!(
            "cargo::rustc-link-arg-bin=tollgate=-Wl,-T,{}",
            script.display()
        );
    }
}
