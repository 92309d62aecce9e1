//! Compiles the attack probe (`probe/probe.rs`) into a static executable
//! in `OUT_DIR`, for `busybox_rootfs` to copy into the fixture root
//! filesystem as `/bin/probe`.
//!
//! It is a std program built for `<arch>-unknown-linux-musl` (the
//! toolchain file installs the x86_64 one; CI builds the release binary
//! for it): std keeps its argument parsing and output plain Rust, and musl
//! links statically, so it runs in a busybox root with no loader or libc.
//! The no-std way of the pause would need hand-written argv parsing and
//! formatting for a program that only tests run.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "probe/probe.rs";
    println!("cargo::rerun-if-changed={source}");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    let triple = format!("{arch}-unknown-linux-musl");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = out_dir.join("probe");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--crate-name",
            "probe",
        ])
        .args(["--target", &triple])
        .args(["-C", "opt-level=s", "-C", "strip=symbols"])
        .args(["-C", "target-feature=+crt-static"])
        .arg("-o")
        .arg(&output)
        .arg(source)
        // The flags of the crate being built are not the probe's.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("run rustc for the probe program");
    assert!(
        status.success(),
        "compiling {source} for {triple} failed (is the {triple} target installed? `rustup target add {triple}`)"
    );
    println!("cargo::rustc-env=PEAPOD_PROBE={}", output.display());
}
