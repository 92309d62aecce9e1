//! Layer unpacking: a 50 MB layer (the busybox rootfs plus 1,000 files of
//! 48 KiB in 20 folders, so both the many-small-entries and the bulk-bytes
//! costs show) imported from an uncompressed tar and from gzip into a
//! fresh store each time: the checked unpacker (openat2 per parent, *at
//! calls per entry), the diffID hash of the stream, the commit. Throughput
//! is in bytes of the uncompressed tar; compare with `tar -x` of the same
//! file (`PEAPOD_BENCH_KEEP=1` leaves it in the temp dir). `TMPDIR=/dev/shm`
//! takes the disk out and leaves the CPU cost.
#![allow(missing_docs, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use peapod_image::{ImageConfig, Store};
use peapod_testkit::{TempDir, busybox_rootfs};

/// Files of pseudo-random bytes (xorshift: no compression shortcut).
fn layer_tar(out: &Path) -> u64 {
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    b.follow_symlinks(false);
    b.append_dir_all(".", busybox_rootfs()).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut data = vec![0u8; 48 * 1024];
    for i in 0..1000 {
        for chunk in data.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(
            &mut h,
            format!("usr/share/data{}/file{i}", i % 20),
            &data[..],
        )
        .unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
    std::fs::metadata(out).unwrap().len()
}

fn gzip_file(from: &Path, to: &Path) {
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut std::fs::File::open(from).unwrap(), &mut gz).unwrap();
    gz.finish().unwrap();
}

fn unpack(c: &mut Criterion) {
    let tmp = TempDir::new("bench-unpack");
    let tar = tmp.path().join("layer.tar");
    let gz = tmp.path().join("layer.tar.gz");
    let size = layer_tar(&tar);
    gzip_file(&tar, &gz);
    let mut group = c.benchmark_group("image_unpack");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size));
    for (name, file) in [("tar_50MB", &tar), ("tar_gz_50MB", &gz)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = TempDir::new("bench-store");
                    let store = Store::open(dir.path().join("images")).unwrap();
                    (dir, store)
                },
                |(dir, store)| {
                    store
                        .import(file, "bench:1", ImageConfig::default())
                        .unwrap();
                    dir
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
    if std::env::var_os("PEAPOD_BENCH_KEEP").is_some() {
        let kept = std::env::temp_dir().join("peapod-bench-layer.tar");
        std::fs::copy(&tar, &kept).unwrap();
        eprintln!("layer kept at {}", kept.display());
    }
}

criterion_group!(benches, unpack);
criterion_main!(benches);
