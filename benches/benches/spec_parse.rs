//! Manifest parsing: each seed pod, a generated pod of 50 containers
//! (each with env, ports, resources, mounts and a probe) and one of 50
//! plain containers (a name and an image each), through the
//! whole of `parse_manifest`: YAML, schema check, typed model, defaults,
//! validation. The target is well under a millisecond for the 50.
#![allow(missing_docs, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use peapod_spec::{ValidationMode, parse_manifest};

/// A pod of `count` containers sharing two volumes.
fn generated_pod(count: usize) -> String {
    let mut yaml = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  labels:\n    app: big\nspec:\n  containers:\n",
    );
    for i in 0..count {
        write!(
            yaml,
            "  - name: c{i}
    image: registry.example.com/team/app-{i}:1.{i}
    command: [\"/bin/app\"]
    args: [\"--port\", \"$(PORT)\", \"--id\", \"{i}\"]
    env:
    - name: PORT
      value: \"{port}\"
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    ports:
    - name: http
      containerPort: {port}
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
      limits:
        cpu: 100m
        memory: 64Mi
    volumeMounts:
    - name: data
      mountPath: /data
      subPath: c{i}
    - name: config
      mountPath: /etc/app
      readOnly: true
    readinessProbe:
      httpGet:
        path: /ready
        port: http
      periodSeconds: 5
",
            port = 8000 + i
        )
        .unwrap();
    }
    yaml.push_str("  volumes:\n  - name: data\n    emptyDir: {}\n  - name: config\n    hostPath:\n      path: /etc/app\n      type: Directory\n");
    yaml
}

/// A pod of `count` containers with a name and an image each.
fn plain_pod(count: usize) -> String {
    let mut yaml =
        String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\nspec:\n  containers:\n");
    for i in 0..count {
        write!(
            yaml,
            "  - name: c{i}\n    image: registry.example.com/team/app-{i}:1.{i}\n"
        )
        .unwrap();
    }
    yaml
}

fn seeds() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/tests/fixtures/seeds");
    let mut seeds: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".broken.yaml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

fn parse(c: &mut Criterion) {
    for (name, pod) in [
        ("spec_parse/pod_50_containers", generated_pod(50)),
        ("spec_parse/pod_50_plain_containers", plain_pod(50)),
    ] {
        let manifest = parse_manifest(&pod, "big.yaml", ValidationMode::Strict).unwrap();
        assert_eq!(manifest.pods[0].spec.containers.len(), 50);
        c.bench_function(name, |b| {
            b.iter(|| {
                parse_manifest(
                    std::hint::black_box(&pod),
                    "big.yaml",
                    ValidationMode::Strict,
                )
                .unwrap()
            });
        });
    }
    let mut group = c.benchmark_group("spec_parse/seed");
    for (name, source) in seeds() {
        parse_manifest(&source, &name, ValidationMode::Strict).unwrap();
        group.bench_function(&name, |b| {
            b.iter(|| {
                parse_manifest(std::hint::black_box(&source), &name, ValidationMode::Strict)
                    .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
