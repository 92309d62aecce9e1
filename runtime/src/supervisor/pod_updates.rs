//! An apply that changed the running pod ([`crate::pod_update`]): the
//! new images are resolved first (one missing: nothing is changed), then
//! the pod's record takes the update and the controller decides the
//! restarts.

use peapod_image::Store;

use super::Supervisor;
use crate::controller::{ContainerInput, Event};
use crate::error::{Error, Result};
use crate::images;
use crate::pod_update::PodUpdate;

impl Supervisor {
    /// Applies `update`; `pod.json` holds it when this returns.
    pub(super) fn configure(&mut self, update: PodUpdate) -> Result<()> {
        let name = self.dir.key().name.clone();
        let mut redefined = Vec::new();
        if !update.images.is_empty() {
            let store = Store::open(self.paths.images()).map_err(|e| Error::pod(&name, e))?;
            // The pod's `--pull`, if it was applied with one.
            let pull = crate::pod_config::PodConfig::read(&self.dir)?.pull;
            let options = images::pull_options(&self.paths);
            for (i, slot) in self.slots.iter().enumerate() {
                let Some(image) = update.images.get(slot.name()) else {
                    continue;
                };
                let mut spec = slot.spec.clone();
                spec.image.clone_from(image);
                let resolved = images::resolve(&store, &spec, pull, &options)?;
                redefined.push((i, spec, resolved));
            }
        }
        let init = self.pod.spec.init_containers.len();
        let mut inputs = Vec::with_capacity(redefined.len());
        for (i, spec, resolved) in redefined {
            let listed = if i < init {
                &mut self.pod.spec.init_containers[i]
            } else {
                &mut self.pod.spec.containers[i - init]
            };
            listed.image.clone_from(&spec.image);
            inputs.push((
                i,
                ContainerInput {
                    spec: spec.clone(),
                    init: i < init,
                    image_id: resolved.id.clone(),
                    stop_signal: resolved.stop_signal,
                    pulled: resolved.pulled,
                },
            ));
            let slot = &mut self.slots[i];
            slot.spec = spec;
            slot.image = resolved;
        }
        self.pod.metadata.labels = update.labels;
        self.pod.metadata.annotations = update.annotations;
        self.pod.spec.active_deadline_seconds = update.active_deadline_seconds;
        self.dir.write_pod(&self.pod)?;
        self.feed(Event::Configured {
            active_deadline_seconds: update.active_deadline_seconds,
            containers: inputs,
        });
        Ok(())
    }
}
