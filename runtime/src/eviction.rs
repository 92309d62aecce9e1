//! Local storage eviction, as kubelet's eviction manager does it
//! (`localStorageEviction`): on a timer of the supervisor's loop (every
//! [`DEFAULT_PERIOD`], kubelet's monitoring period; [`PERIOD_ENV`] for
//! tests) the pod's disk usage is measured, and the first of these that
//! holds, in kubelet's order, evicts the pod:
//!
//! 1. a disk emptyDir holds more than its `sizeLimit`:
//!    `Usage of EmptyDir volume "cache" exceeds the limit "10Mi". `;
//! 2. the pod (its containers' writable layers and logs, its disk
//!    emptyDirs and configMaps, its hosts files) holds more than the sum
//!    of its containers' `ephemeral-storage` limits:
//!    `Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. `;
//! 3. an app container's writable layer and logs hold more than its
//!    limit: `Container web exceeded its local ephemeral storage limit "10Mi". `.
//!
//! The measure (`du`) runs on a thread of its own, looked at every
//! 20 ms while it runs, so a large emptyDir does not hold the loop; a
//! limit exceeded is acted on at most one period plus one measure after
//! it happened (kubelet: its period plus its stats' age).
//!
//! The messages are kubelet's, trailing space included. The pod is then
//! stopped with kubelet's grace period for it ([`GRACE_SECONDS`]; the 2 s
//! minimum after SIGTERM applies) and stays `Failed` with reason
//! [`REASON`] and that message until it is deleted. A `medium: Memory`
//! emptyDir needs no measure: its tmpfs is sized to its `sizeLimit`, so
//! writes past it fail with `ENOSPC` instead. A pod with none of these
//! limits is never measured.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use peapod_spec::{Container, Pod, Quantity, StorageMedium, VolumeSource};
use peapod_volumes::{EmptyDirLimit, disk_usage};

use crate::container::layers_dir;
use crate::sandbox::Sandbox;

/// How often kubelet's eviction manager looks (`evictionMonitoringPeriod`).
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(10);

/// The environment variable that sets the period in milliseconds, so
/// tests see an eviction without waiting 10 s.
pub const PERIOD_ENV: &str = "PEAPOD_EVICTION_PERIOD_MS";

/// The pod's `status.reason` (and the event's) once evicted.
pub const REASON: &str = "Evicted";

/// The grace period of an eviction (kubelet's
/// `immediateEvictionGracePeriodSeconds`).
pub const GRACE_SECONDS: u64 = 1;

/// The resource name of the limits watched.
const EPHEMERAL_STORAGE: &str = "ephemeral-storage";

/// How often a measure running beside the loop is looked at.
const MEASURE_POLL: Duration = Duration::from_millis(20);

/// The storage limits of one pod and when to look next.
#[derive(Debug)]
pub(crate) struct StorageLimits {
    period: Duration,
    next: Instant,
    /// Some disk emptyDir has a `sizeLimit`.
    empty_dir_limits: bool,
    limits: Limits,
    /// Every container (init and app), whose usage counts for the pod.
    containers: Vec<String>,
    /// The measure running on its own thread, and when to look at it.
    measuring: Option<(JoinHandle<Option<String>>, Instant)>,
}

/// The `ephemeral-storage` limits a measure is held against.
#[derive(Debug, Clone)]
struct Limits {
    /// The sum of the containers' limits (kubelet's `PodLimits`), when
    /// any container has one.
    pod_limit: Option<Quantity>,
    /// App containers with a non-zero limit.
    container_limits: Vec<(String, Quantity)>,
}

/// What the pod holds on disk, as measured.
#[derive(Debug, Default)]
struct Usage {
    /// Per container: its writable layer and its logs.
    containers: Vec<(String, u64)>,
    /// Volumes and pod files.
    pod_level: u64,
}

/// One measure with all it needs owned, so it runs beside the loop: a
/// `du` of a large emptyDir takes long.
#[derive(Debug, Clone)]
struct Measure {
    empty_dirs: Vec<EmptyDirLimit>,
    /// Per container: its writable layer and its log folder.
    containers: Vec<(String, [PathBuf; 2])>,
    /// Local volumes and pod files.
    pod_dirs: Vec<PathBuf>,
    limits: Limits,
}

impl Measure {
    /// The eviction message, if a limit is exceeded (the module's order).
    fn run(self) -> Option<String> {
        let _span = tracing::debug_span!("storage_limits").entered();
        if let Some(over) = self.empty_dirs.iter().find_map(EmptyDirLimit::exceeded) {
            return Some(over.to_string());
        }
        self.limits.pod_limit.as_ref()?;
        let du =
            |dirs: &[PathBuf]| -> u64 { dirs.iter().map(|d| disk_usage(d).unwrap_or(0)).sum() };
        let usage = Usage {
            containers: (self.containers.iter())
                .map(|(name, dirs)| (name.clone(), du(dirs)))
                .collect(),
            pod_level: du(&self.pod_dirs),
        };
        tracing::debug!(?usage, "local ephemeral storage");
        self.limits.verdict(&usage)
    }
}

impl StorageLimits {
    /// The limits of `pod`; `None` when it sets none (nothing to measure).
    pub(crate) fn of(pod: &Pod) -> Option<Self> {
        let empty_dir_limits = pod.spec.volumes.iter().any(|v| match &v.source {
            VolumeSource::EmptyDir(e) => {
                e.medium != Some(StorageMedium::Memory)
                    && e.size_limit.as_ref().is_some_and(|q| q.milli_value() > 0)
            }
            _ => false,
        });
        let container_limits: Vec<(String, Quantity)> = pod
            .spec
            .containers
            .iter()
            .filter_map(|c| limit(c).map(|q| (c.name.clone(), q.clone())))
            .filter(|(_, q)| q.milli_value() != 0)
            .collect();
        let pod_limit = pod_limit(pod);
        if !empty_dir_limits && pod_limit.is_none() {
            return None;
        }
        Some(Self {
            period: period_from_env(),
            next: Instant::now(),
            empty_dir_limits,
            limits: Limits {
                pod_limit,
                container_limits,
            },
            measuring: None,
            containers: pod
                .spec
                .init_containers
                .iter()
                .chain(&pod.spec.containers)
                .map(|c| c.name.clone())
                .collect(),
        })
    }

    /// When to look next: the next measure, or the one running.
    pub(crate) fn due_at(&self) -> Instant {
        self.measuring.as_ref().map_or(self.next, |(_, poll)| *poll)
    }

    /// Takes the result of the measure running once it is done, and
    /// starts the next measure when due (on a thread of its own, so a
    /// large emptyDir does not hold the loop); the eviction message when
    /// a limit is exceeded.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        sandbox: &Sandbox,
        log_dir: &Path,
    ) -> Option<String> {
        if let Some((handle, poll)) = &mut self.measuring {
            if !handle.is_finished() {
                *poll = now + MEASURE_POLL;
                return None;
            }
            if let Some((handle, _)) = self.measuring.take()
                && let Ok(Some(message)) = handle.join()
            {
                return Some(message);
            }
        }
        if now < self.next {
            return None;
        }
        self.next = now + self.period;
        let measure = self.measure(sandbox, log_dir);
        let beside = measure.clone();
        match std::thread::Builder::new()
            .name("storage-limits".into())
            .spawn(move || beside.run())
        {
            Ok(handle) => {
                self.measuring = Some((handle, now + MEASURE_POLL));
                None
            }
            Err(e) => {
                tracing::warn!("no thread for the storage measure, measuring on the loop: {e}");
                measure.run()
            }
        }
    }

    /// What to measure now.
    fn measure(&self, sandbox: &Sandbox, log_dir: &Path) -> Measure {
        let empty_dirs = if self.empty_dir_limits {
            sandbox.volumes.empty_dir_limits().to_vec()
        } else {
            Vec::new()
        };
        let containers = if self.limits.pod_limit.is_some() {
            (self.containers.iter())
                .map(|name| {
                    let layer = layers_dir(&sandbox.lib_dir, name).join("upper");
                    (name.clone(), [layer, log_dir.join(name)])
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut pod_dirs = sandbox.volumes.local_dirs().to_vec();
        pod_dirs.push(sandbox.lib_dir.join("etc"));
        Measure {
            empty_dirs,
            containers,
            pod_dirs,
            limits: self.limits.clone(),
        }
    }
}

impl Drop for StorageLimits {
    /// A measure still running is waited for: no thread outlives the
    /// loop that started it.
    fn drop(&mut self) {
        if let Some((handle, _)) = self.measuring.take() {
            let _ = handle.join();
        }
    }
}

impl Limits {
    /// Steps 2 and 3 of the module's list on a measure.
    fn verdict(&self, usage: &Usage) -> Option<String> {
        let limit = self.pod_limit.as_ref()?;
        let total: u64 = usage.pod_level + usage.containers.iter().map(|(_, b)| b).sum::<u64>();
        if i128::from(total) > limit.value() {
            return Some(format!(
                "Pod ephemeral local storage usage exceeds the total limit of containers {}. ",
                limit.canonical()
            ));
        }
        usage.containers.iter().find_map(|(name, used)| {
            let (_, limit) = self.container_limits.iter().find(|(n, _)| n == name)?;
            (i128::from(*used) > limit.value()).then(|| {
                format!(
                    "Container {name} exceeded its local ephemeral storage limit {:?}. ",
                    limit.canonical()
                )
            })
        })
    }
}

fn limit(container: &Container) -> Option<&Quantity> {
    container.resources.as_ref()?.limits.get(EPHEMERAL_STORAGE)
}

/// The pod's limit as kubelet's `PodLimits` sums it: app containers and
/// sidecars add up; a plain init container counts alone with the
/// sidecars started before it, and the larger of the two wins. `None`
/// when no container sets one.
fn pod_limit(pod: &Pod) -> Option<Quantity> {
    let add = |sum: Option<Quantity>, q: &Quantity| match sum {
        None => Some(q.clone()),
        Some(s) => Some(s.plus(q)),
    };
    let mut sidecars: Option<Quantity> = None;
    let mut init_peak: Option<Quantity> = None;
    for c in &pod.spec.init_containers {
        let Some(q) = limit(c) else {
            continue;
        };
        if c.is_sidecar() {
            sidecars = add(sidecars, q);
        } else {
            let with_sidecars = sidecars.as_ref().map_or_else(|| q.clone(), |s| q.plus(s));
            if init_peak
                .as_ref()
                .is_none_or(|p| with_sidecars.milli_value() > p.milli_value())
            {
                init_peak = Some(with_sidecars);
            }
        }
    }
    let mut running = pod.spec.containers.iter().filter_map(limit).fold(None, add);
    if let Some(s) = &sidecars {
        running = add(running, s);
    }
    match (running, init_peak) {
        (Some(r), Some(i)) if i.milli_value() > r.milli_value() => Some(i),
        (Some(r), _) => Some(r),
        (None, i) => i,
    }
}

/// The period from [`PERIOD_ENV`], else [`DEFAULT_PERIOD`].
fn period_from_env() -> Duration {
    std::env::var(PERIOD_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(DEFAULT_PERIOD, Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).expect("pod")
    }

    fn container(name: &str, limit: Option<&str>) -> serde_json::Value {
        let mut c = serde_json::json!({ "name": name, "image": "busybox" });
        if let Some(l) = limit {
            c["resources"] = serde_json::json!({ "limits": { "ephemeral-storage": l } });
        }
        c
    }

    #[test]
    fn pod_without_limits_is_never_measured() {
        let p = pod(serde_json::json!({
            "metadata": { "name": "p" },
            "spec": {
                "containers": [container("a", None)],
                "volumes": [
                    { "name": "m", "emptyDir": { "medium": "Memory", "sizeLimit": "1Mi" } },
                    { "name": "d", "emptyDir": {} },
                ],
            },
        }));
        assert!(StorageLimits::of(&p).is_none());
    }

    #[test]
    fn pod_limit_sums_app_containers_and_sidecars_against_the_largest_init() {
        let p = pod(serde_json::json!({
            "metadata": { "name": "p" },
            "spec": {
                "initContainers": [
                    container("init", Some("100Mi")),
                    { "name": "side", "image": "busybox", "restartPolicy": "Always",
                      "resources": { "limits": { "ephemeral-storage": "10Mi" } } },
                ],
                "containers": [container("a", Some("20Mi")), container("b", None), container("c", Some("20Mi"))],
            },
        }));
        assert_eq!(pod_limit(&p).map(|q| q.canonical()), Some("100Mi".into()));
        let limits = StorageLimits::of(&p).expect("limits");
        assert_eq!(limits.limits.container_limits.len(), 2);
        assert_eq!(limits.containers, ["init", "side", "a", "b", "c"]);
        let p = pod(serde_json::json!({
            "metadata": { "name": "p" },
            "spec": {
                "initContainers": [container("init", Some("10Mi"))],
                "containers": [container("a", Some("20Mi")), container("c", Some("20Mi"))],
            },
        }));
        assert_eq!(pod_limit(&p).map(|q| q.canonical()), Some("40Mi".into()));
    }

    #[test]
    fn pod_over_the_sum_of_limits_is_evicted_before_a_container_over_its_own() {
        let p = pod(serde_json::json!({
            "metadata": { "name": "p" },
            "spec": { "containers": [container("a", Some("1Mi")), container("b", Some("1Mi"))] },
        }));
        let limits = StorageLimits::of(&p).expect("limits");
        let mi = 1024 * 1024;
        let usage = |a: u64, b: u64, pod_level: u64| Usage {
            containers: vec![("a".into(), a), ("b".into(), b)],
            pod_level,
        };
        assert_eq!(
            limits.limits.verdict(&usage(mi, mi, 0)),
            None,
            "at the limit is fine"
        );
        assert_eq!(
            limits.limits.verdict(&usage(mi + 1, 0, 0)).as_deref(),
            Some("Container a exceeded its local ephemeral storage limit \"1Mi\". ")
        );
        assert_eq!(
            limits.limits.verdict(&usage(mi + 1, mi, 0)).as_deref(),
            Some("Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. ")
        );
        assert_eq!(
            limits.limits.verdict(&usage(mi, mi, 1)).as_deref(),
            Some("Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. "),
            "volumes and pod files count for the pod"
        );
    }

    #[test]
    fn a_measure_reads_the_folders_and_names_what_is_over() {
        let tmp = peapod_testkit::TempDir::new("eviction-measure");
        let (cache, layer, logs) = (
            tmp.path().join("cache"),
            tmp.path().join("upper"),
            tmp.path().join("logs"),
        );
        for d in [&cache, &layer, &logs] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(layer.join("fill"), vec![1u8; 128 * 1024]).expect("write");
        let limits = Limits {
            pod_limit: Some(Quantity::parse("1Mi").expect("q")),
            container_limits: vec![("a".into(), Quantity::parse("64Ki").expect("q"))],
        };
        let mut measure = Measure {
            empty_dirs: vec![EmptyDirLimit {
                volume: "cache".into(),
                dir: cache.clone(),
                bytes: 64 * 1024,
                size_limit: "64Ki".into(),
            }],
            containers: vec![("a".into(), [layer, logs])],
            pod_dirs: vec![cache.clone()],
            limits,
        };
        assert_eq!(
            measure.clone().run().as_deref(),
            Some("Container a exceeded its local ephemeral storage limit \"64Ki\". ")
        );
        std::fs::write(cache.join("fill"), vec![1u8; 128 * 1024]).expect("write");
        assert_eq!(
            measure.clone().run().as_deref(),
            Some("Usage of EmptyDir volume \"cache\" exceeds the limit \"64Ki\". "),
            "the emptyDir first"
        );
        measure.empty_dirs.clear();
        measure.limits.container_limits.clear();
        assert_eq!(measure.run(), None, "1Mi holds both");
    }

    #[test]
    fn disk_empty_dir_size_limit_alone_is_watched() {
        let p = pod(serde_json::json!({
            "metadata": { "name": "p" },
            "spec": {
                "containers": [container("a", None)],
                "volumes": [{ "name": "d", "emptyDir": { "sizeLimit": "64Ki" } }],
            },
        }));
        let limits = StorageLimits::of(&p).expect("limits");
        assert!(limits.empty_dir_limits);
        assert!(limits.limits.pod_limit.is_none());
    }
}
