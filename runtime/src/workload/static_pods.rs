//! Static pods (kubelet's `--pod-manifest-path`): `peapod serve
//! --manifests DIR` keeps the pods of DIR's manifest files running. A new
//! file starts its pods, a changed file replaces them, a removed file
//! deletes them, a pod deleted by hand is made again. Pods are named as
//! kubelet names static pods, `<name>-<hostname>`, and carry the file and
//! a hash of its text in annotations, so a restarted `serve` finds them
//! and leaves alone those whose file did not change. It wakes only on
//! inotify events: DIR's files, and the pods' folder (a pod removed).

use std::collections::{BTreeMap, BTreeSet};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use peapod_spec::{Pod, ValidationMode};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};

use crate::error::{Error, Result};
use crate::launch::{Launcher, key_of};
use crate::paths::Paths;
use crate::pod_config::PodConfig;

/// The annotation naming the manifest file a static pod comes from.
pub const MANIFEST_FILE_ANNOTATION: &str = "peapod.io/manifest-file";
/// kubelet's annotations of a static pod: where it comes from, and the
/// hash of its manifest.
const SOURCE_ANNOTATION: &str = "kubernetes.io/config.source";
const HASH_ANNOTATION: &str = "kubernetes.io/config.hash";

/// Keeps the pods of `dir`'s manifests running; returns only on an error
/// of the watch itself (bad files are reported on stderr and skipped).
pub fn keep(paths: &Paths, exe: &Path, dir: &Path) -> Result<()> {
    let dir = &std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    let inotify =
        inotify::init(CreateFlags::CLOEXEC).map_err(|e| Error::sys("inotify_init1", e))?;
    let file_events = WatchFlags::CLOSE_WRITE
        | WatchFlags::MOVED_TO
        | WatchFlags::MOVED_FROM
        | WatchFlags::DELETE
        | WatchFlags::CREATE;
    inotify::add_watch(&inotify, dir, file_events)
        .map_err(|e| Error::sys("inotify_add_watch", e))?;
    let pods = paths.run.join("pods");
    std::fs::create_dir_all(&pods).map_err(|e| Error::io(&pods, e))?;
    inotify::add_watch(&inotify, &pods, WatchFlags::DELETE | WatchFlags::ONLYDIR)
        .map_err(|e| Error::sys("inotify_add_watch", e))?;
    let launcher = Launcher {
        exe: exe.to_path_buf(),
        wait: true,
    };
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    // Pods that failed to start, with their manifest's hash: tried again
    // once the file changes, not on every wakeup (a failed start removes
    // its folder, which wakes the loop).
    let mut failed = BTreeSet::new();
    loop {
        sync(paths, &launcher, dir, &mut failed);
        // Blocks until something changed; the events themselves are not
        // needed: each wakeup compares the whole folder with the pods.
        match rustix::io::read(&inotify, &mut buf) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::sys("read inotify", e)),
        }
    }
}

/// The pods each manifest file of `dir` asks for, by file.
fn desired(dir: &Path) -> BTreeMap<PathBuf, Option<(Vec<Pod>, PodConfigs)>> {
    let mut files = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let manifest = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if !manifest || !path.is_file() {
            continue;
        }
        let read = read_file(&path);
        files.insert(path, read);
    }
    files
}

/// The ConfigMaps and Secrets of a file, for its pods.
type PodConfigs = (Vec<peapod_spec::ConfigMap>, Vec<peapod_spec::Secret>);

/// The pods of the manifest at `path`, named and annotated as static
/// pods; `None` (reported) when it cannot be read.
fn read_file(path: &Path) -> Option<(Vec<Pod>, PodConfigs)> {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("peapod serve: {name}: {e}");
            return None;
        }
    };
    let manifest = match peapod_spec::parse_manifest(&text, &name, ValidationMode::Strict) {
        Ok(manifest) => manifest,
        Err(diagnostics) => {
            eprintln!("peapod serve: {diagnostics}");
            return None;
        }
    };
    if !manifest.workloads.is_empty() {
        eprintln!("peapod serve: {name}: workloads are skipped: a static manifest holds pods");
    }
    let hash = fnv64(text.as_bytes());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let pods = manifest
        .pods
        .into_iter()
        .map(|mut pod| {
            let base = pod.metadata.name.clone().unwrap_or_default();
            pod.metadata.name = Some(format!("{base}-{host}"));
            let annotations = &mut pod.metadata.annotations;
            annotations.insert(MANIFEST_FILE_ANNOTATION.into(), name.clone());
            annotations.insert(SOURCE_ANNOTATION.into(), "file".into());
            annotations.insert(HASH_ANNOTATION.into(), hash.clone());
            pod
        })
        .collect();
    Some((pods, (manifest.config_maps, manifest.secrets)))
}

fn fnv64(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Brings the pods in line with the files: an unchanged file's running
/// pods are left alone.
fn sync(
    paths: &Paths,
    launcher: &Launcher,
    dir: &Path,
    failed: &mut BTreeSet<(Option<String>, Option<String>)>,
) {
    let files = desired(dir);
    let running = match crate::inspect::list(paths, None) {
        Ok(pods) => pods,
        Err(e) => {
            eprintln!("peapod serve: listing pods: {e}");
            return;
        }
    };
    let mut by_file: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    for pod in running {
        if let Some(file) = pod.metadata.annotations.get(MANIFEST_FILE_ANNOTATION)
            && Path::new(file).parent() == Some(dir)
        {
            by_file.entry(file.clone()).or_default().push(pod);
        }
    }
    // Files gone: their pods go.
    for (file, pods) in &by_file {
        if !files.contains_key(Path::new(file)) {
            delete(paths, pods);
        }
    }
    for (path, wanted) in files {
        // A file that does not read keeps whatever pods it had.
        let Some((pods, (config_maps, secrets))) = wanted else {
            continue;
        };
        let name = path.display().to_string();
        let have = by_file.remove(&name).unwrap_or_default();
        let same = |a: &Pod, b: &Pod| {
            a.metadata.name == b.metadata.name
                && a.metadata.annotations.get(HASH_ANNOTATION)
                    == b.metadata.annotations.get(HASH_ANNOTATION)
        };
        let stale: Vec<Pod> = have
            .iter()
            .filter(|h| !pods.iter().any(|p| same(h, p)))
            .cloned()
            .collect();
        delete(paths, &stale);
        for pod in pods {
            if have.iter().any(|h| same(h, &pod)) {
                continue;
            }
            let attempt = (
                pod.metadata.name.clone(),
                pod.metadata.annotations.get(HASH_ANNOTATION).cloned(),
            );
            if failed.contains(&attempt) {
                continue;
            }
            let config = PodConfig::for_pod(&pod, &config_maps, &secrets);
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            match launcher.create_with(paths, pod, &config) {
                Ok(_) => eprintln!("peapod serve: {name}: pod/{pod_name} created"),
                Err(e) => {
                    eprintln!("peapod serve: {name}: pod/{pod_name}: {e}");
                    failed.insert(attempt);
                }
            }
        }
    }
}

fn delete(paths: &Paths, pods: &[Pod]) {
    for pod in pods {
        let Ok(key) = key_of(pod) else { continue };
        match crate::teardown::delete(paths, &key, None) {
            Ok(()) | Err(Error::NotFound { .. }) => {
                eprintln!("peapod serve: pod/{} deleted", key.name);
            }
            Err(e) => eprintln!("peapod serve: delete pod/{}: {e}", key.name),
        }
    }
}
