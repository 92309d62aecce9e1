//! An apply that changed the running pod (`pod_update.rs`): a new
//! `activeDeadlineSeconds` counts from the pod's `startTime`, and a
//! container whose image changed is restarted with it as kubelet does
//! when a container's definition changed: a running one is stopped
//! (event `Killing`, "definition changed, will be restarted", its grace
//! period) and started again at once whatever the restart policy, with a
//! fresh back-off (kubelet keys the back-off by the container's
//! definition); one that is not running takes the new image at its next
//! start, at once if it was waiting out a back-off, else if its restart
//! policy starts it again.

use std::time::Duration;

use super::{ContainerInput, PodController, Time};
use crate::backoff::Backoff;
use crate::events::{EventType, reason};
use crate::termination;

impl PodController {
    /// Takes in the applied deadline and redefined containers.
    pub(super) fn configured(
        &mut self,
        active_deadline_seconds: Option<i64>,
        containers: Vec<(usize, ContainerInput)>,
        t: Time,
    ) {
        if self.stop.is_some() {
            return;
        }
        self.active_deadline = active_deadline_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| self.start_instant + Duration::from_secs(s));
        for (i, input) in containers {
            let grace = termination::grace(self.termination_grace_period);
            let c = &mut self.containers[i];
            c.spec = input.spec;
            c.stop_signal = input.stop_signal;
            c.pulled = input.pulled;
            let next = (c.spec.image.clone(), input.image_id);
            if !c.launched {
                (c.status.image, c.status.image_id) = next;
                continue;
            }
            c.next_image = Some(next);
            c.backoff = Backoff::default();
            if c.restart_at.is_some() {
                // Waiting out a back-off that no longer applies.
                c.restart_at = Some(t.now);
            }
            if !c.is_running() || c.stop.is_some() {
                continue;
            }
            c.redefined = true;
            let message = format!(
                "Container {} definition changed, will be restarted",
                c.name()
            );
            self.record(EventType::Normal, reason::KILLING, Some(i), message);
            self.begin_stop(i, grace, t);
        }
    }
}
