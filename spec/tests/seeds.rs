//! The Pod manifests of the seed blog posts: the good ones parse (and
//! round-trip), the broken ones give their errors.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;

use peapod_spec::{
    Context, Manifest, ValidationMode, parse_manifest, parse_manifest_with, to_yaml,
};

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn good_seeds() -> Vec<(String, Manifest)> {
    fixtures()
        .into_iter()
        .filter(|(name, _)| !name.ends_with(".broken.yaml"))
        .map(|(name, source)| {
            let manifest = parse_manifest(&source, &name, ValidationMode::Strict)
                .unwrap_or_else(|d| panic!("{name} must parse:\n{d}"));
            (name, manifest)
        })
        .collect()
}

fn broken_errors(name: &str) -> Vec<String> {
    let (_, source) = fixtures().into_iter().find(|(n, _)| n == name).unwrap();
    parse_manifest(&source, name, ValidationMode::Strict)
        .unwrap_err()
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_good_seed_holds_one_valid_pod() {
    let seeds = good_seeds();
    assert_eq!(seeds.len(), 13);
    for (name, manifest) in &seeds {
        assert_eq!(manifest.pods.len(), 1, "{name}");
    }
}

#[test]
fn every_good_seed_round_trips_through_yaml() {
    for (name, manifest) in good_seeds() {
        let pod = &manifest.pods[0];
        let yaml = to_yaml(pod).unwrap();
        let context = Context {
            config_maps: &manifest.config_maps,
            secrets: &manifest.secrets,
            references_checked: false,
        };
        let again = parse_manifest_with(&yaml, &name, ValidationMode::Strict, context)
            .unwrap_or_else(|d| panic!("{name} written back must parse:\n{d}\n{yaml}"));
        assert_eq!(&again.pods[0], pod, "{name}:\n{yaml}");
    }
}

#[test]
fn javaweb_2_seed_reports_its_indentation_and_its_typo() {
    assert_eq!(
        broken_errors("002-2-javaweb-2.broken.yaml"),
        [
            "002-2-javaweb-2.broken.yaml:9:6: bad indentation: \"name\" is indented more than \"image\" above it (column 6 against 5); keys of one mapping start in the same column",
            "002-2-javaweb-2.broken.yaml:14:3: spec.contaners: unknown field; did you mean \"containers\"?",
        ]
    );
}

#[test]
fn two_containers_seed_reports_its_indentation() {
    assert_eq!(
        broken_errors("002-1-two-containers.broken.yaml"),
        [
            "002-1-two-containers.broken.yaml:10:6: bad indentation: \"hostPath\" is indented more than \"name\" above it (column 6 against 5); keys of one mapping start in the same column",
        ]
    );
}

#[test]
fn kubia_seed_warns_about_its_cluster_fields() {
    let seeds = good_seeds();
    let (_, kubia) = seeds
        .iter()
        .find(|(name, _)| name.starts_with("003-1-kubia"))
        .unwrap();
    let warnings: Vec<String> = kubia.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "003-1-kubia-zxzij.yaml:28:3: spec.nodeName: ignored on a single host",
            "003-1-kubia-zxzij.yaml:30:3: spec.serviceAccountName: ignored on a single host",
        ]
    );
    assert_eq!(kubia.secrets.len(), 1);
    let pod = &kubia.pods[0];
    assert_eq!(pod.metadata.generate_name.as_deref(), Some("kubia-"));
    assert_eq!(
        pod.spec.node_name.as_deref(),
        Some("app-cluster-control-plane")
    );
}
