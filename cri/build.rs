//! Generates the CRI v1 services and messages from `proto/api.proto` with
//! the `protoc` that `protoc-bin-vendored` ships.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        // RPCs peapod does not serve answer UNIMPLEMENTED.
        .generate_default_stubs(true)
        .compile_with_config(config, &["proto/api.proto"], &["proto"])?;
    println!("cargo::rerun-if-changed=proto/api.proto");
    Ok(())
}
