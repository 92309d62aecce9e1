//! Which images the pods of this host use: what `image rm` and `image
//! prune` (and CRI's `RemoveImage`) must not delete.
//!
//! A pod uses the images its containers started from (`imageID` in its
//! status) and those its spec names that the store holds (a pod still
//! starting has no `imageID` yet). Every pod with a folder in the state
//! store counts, running or not, as containerd counts stopped containers.

use std::collections::BTreeMap;

use peapod_image::{Digest, Store};

use crate::error::Result;
use crate::paths::Paths;
use crate::state::{PodKey, StateStore};

/// Image ID → the pods that use it, sorted.
pub fn in_use(paths: &Paths, store: &Store) -> Result<BTreeMap<Digest, Vec<PodKey>>> {
    let mut users: BTreeMap<Digest, Vec<PodKey>> = BTreeMap::new();
    for dir in StateStore::new(paths).list()? {
        // A pod whose folder is being made or removed has no readable
        // pod.json: nothing of it runs from an image yet, or any more.
        let Ok(pod) = dir.read_pod() else {
            continue;
        };
        let spec = pod
            .spec
            .init_containers
            .iter()
            .chain(&pod.spec.containers)
            .filter_map(|c| store.image(&c.image).ok().map(|i| i.id));
        let started = pod.status.iter().flat_map(|s| {
            s.init_container_statuses
                .iter()
                .chain(&s.container_statuses)
                .filter_map(|c| Digest::parse(&c.image_id).ok())
        });
        for id in spec.chain(started) {
            let pods = users.entry(id).or_default();
            if !pods.contains(dir.key()) {
                pods.push(dir.key().clone());
            }
        }
    }
    for pods in users.values_mut() {
        pods.sort();
    }
    Ok(users)
}

/// How `image rm` names the first user of an image: `pod default/web`.
pub fn user_of(users: &BTreeMap<Digest, Vec<PodKey>>, id: &Digest) -> Option<String> {
    let key = users.get(id)?.first()?;
    Some(format!("pod {}/{}", key.namespace, key.name))
}
