//! Compiles the pause program (`pause/pause.rs`: no std, no libc) into a
//! tiny static ELF in `OUT_DIR`, which `src/pause.rs` embeds.
//!
//! It runs on the machine the peapod binary runs on: it is built for the
//! host's triple when the host has the target's architecture (its `core`
//! is always installed), else for the target itself.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "pause/pause.rs";
    println!("cargo::rerun-if-changed={source}");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let host = std::env::var("HOST").expect("cargo sets HOST");
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let arch = |triple: &str| triple.split('-').next().map(str::to_owned);
    let triple = if arch(&host) == arch(&target) && host.contains("-linux") {
        host
    } else {
        target
    };
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = out_dir.join("pause");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--crate-name",
            "pause",
        ])
        .args(["--target", &triple])
        .args(["-C", "panic=abort", "-C", "opt-level=s"])
        // A plain static executable: no PIE, so nothing to relocate.
        .args(["-C", "relocation-model=static", "-C", "strip=symbols"])
        .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
        .args(["-C", "link-arg=-static"])
        .arg("-o")
        .arg(&output)
        .arg(source)
        // The flags of the crate being built are not the pause's.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("run rustc for the pause program");
    assert!(status.success(), "compiling {source} for {triple} failed");
}
