//! Test images built by hand: layer tars, an OCI image layout and the
//! `docker save` manifest beside it, so the loaders and the registry tests
//! get images no tool of ours made.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::Path;

use sha2::{Digest as _, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in Sha256::digest(bytes) {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

/// The tree at `dir` as an uncompressed tar.
pub fn tar_dir(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all(".", dir).unwrap();
    b.into_inner().unwrap()
}

/// A tar of regular files (`path`, `content`).
pub fn tar_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Writes `bytes` as a blob of the layout at `dir`; returns its digest.
pub fn put_blob(dir: &Path, bytes: &[u8]) -> String {
    let d = sha256(bytes);
    let p = dir.join("blobs/sha256");
    fs::create_dir_all(&p).unwrap();
    fs::write(p.join(&d[7..]), bytes).unwrap();
    d
}

/// Writes the config, layer blobs and manifest of an image for `arch`;
/// returns (manifest digest, manifest size, config digest, layer paths).
fn image_blobs(
    dir: &Path,
    layers: &[Vec<u8>],
    cmd: &str,
    arch: &str,
) -> (String, usize, String, Vec<String>) {
    let mut diff_ids = Vec::new();
    let mut layer_descs = Vec::new();
    let mut layer_paths = Vec::new();
    for l in layers {
        diff_ids.push(sha256(l));
        let gz = gzip(l);
        let d = put_blob(dir, &gz);
        layer_paths.push(format!("blobs/sha256/{}", &d[7..]));
        layer_descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": d, "size": gz.len()}));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": [cmd], "Env": ["PATH=/bin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_digest = put_blob(dir, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    }))
    .unwrap();
    (
        put_blob(dir, &manifest),
        manifest.len(),
        config_digest,
        layer_paths,
    )
}

fn push_index_entry(dir: &Path, entry: serde_json::Value) {
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut index = read_json(&dir.join("index.json"))
        .unwrap_or_else(|| serde_json::json!({"schemaVersion": 2, "manifests": []}));
    index["manifests"].as_array_mut().unwrap().push(entry);
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Adds a multi-platform image: an index with an arm64 image (running
/// `arm_cmd`) and an amd64 image of `layers` (running `cmd`), named `name`.
/// Returns the index digest.
pub fn add_multi_platform_image(
    dir: &Path,
    name: &str,
    layers: &[Vec<u8>],
    cmd: &str,
    arm_cmd: &str,
) -> String {
    let arm_layer = tar_files(&[("arm", b"arm64\n")]);
    let (arm, arm_size, _, _) = image_blobs(dir, &[arm_layer], arm_cmd, "arm64");
    let (amd, amd_size, _, _) = image_blobs(dir, layers, cmd, "amd64");
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "size": arm_size,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": amd_size,
             "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    }))
    .unwrap();
    let digest = put_blob(dir, &index);
    push_index_entry(
        dir,
        serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest, "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": name},
        }),
    );
    digest
}

/// Adds an image of these uncompressed layer tars (gzipped as blobs) to
/// the OCI layout and the docker `manifest.json` at `dir`, named `name`
/// (full reference). Returns the manifest digest.
pub fn add_image(dir: &Path, name: &str, layers: &[Vec<u8>], cmd: &str) -> String {
    let (manifest_digest, manifest_size, config_digest, layer_paths) =
        image_blobs(dir, layers, cmd, "amd64");
    push_index_entry(
        dir,
        serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": name},
        }),
    );
    let mut docker = read_json(&dir.join("manifest.json")).unwrap_or_else(|| serde_json::json!([]));
    docker.as_array_mut().unwrap().push(serde_json::json!({
        "Config": format!("blobs/sha256/{}", &config_digest[7..]),
        "RepoTags": [name],
        "Layers": layer_paths,
    }));
    fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&docker).unwrap(),
    )
    .unwrap();
    manifest_digest
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    fs::read(path)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap())
}

/// The three layers of the test image: busybox, then a layer that adds
/// `/etc/motd` and whites out `/etc/group`, then one that adds `/hello`.
pub fn three_layers(busybox: &Path) -> Vec<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "etc/motd", &b"hello\n"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "etc/.wh.group", std::io::empty())
        .unwrap();
    vec![
        tar_dir(busybox),
        b.into_inner().unwrap(),
        tar_files(&[("hello", b"world\n")]),
    ]
}

/// The folder at `dir` as a tar file at `out` (members relative to `dir`).
pub fn tar_folder_to(dir: &Path, out: &Path) {
    fs::write(out, tar_dir(dir)).unwrap();
}
