//! The pod's status from its containers: init containers (sidecars listed
//! with them but, running for the pod's life, counted neither for
//! `Initialized` nor the phase), app containers, phase, conditions,
//! `startTime`, and `Failed`/`DeadlineExceeded` once the deadline ran out
//! (`Failed`/`Evicted` once a storage limit was exceeded).

use std::net::IpAddr;

use peapod_spec::{PodIP, PodPhase, PodStatus, QOSClass};

use super::{DEADLINE_MESSAGE, Kind, PodController};
use crate::events::reason;
use crate::eviction;
use crate::status;

impl PodController {
    /// The pod's phase now.
    pub fn phase(&self) -> PodPhase {
        if self.deadline_exceeded || self.evicted.is_some() {
            return PodPhase::Failed;
        }
        let plain_init: Vec<_> = self
            .containers
            .iter()
            .filter(|c| c.kind == Kind::Init)
            .map(|c| c.status.clone())
            .collect();
        let app = self.containers.iter().filter(|c| c.kind == Kind::App);
        let restarting: Vec<bool> = app
            .clone()
            .map(|c| c.restart_at.is_some() || c.launching)
            .collect();
        let app: Vec<_> = app.map(|c| c.status.clone()).collect();
        status::compute_phase(self.restart_policy, &plain_init, &app, &restarting)
    }

    /// The pod's status, with the addresses the supervisor knows.
    pub fn pod_status(
        &self,
        ips: &[IpAddr],
        host_ip: Option<IpAddr>,
        qos_class: Option<QOSClass>,
    ) -> PodStatus {
        let statuses = |f: fn(Kind) -> bool| -> Vec<_> {
            self.containers
                .iter()
                .filter(|c| f(c.kind))
                .map(|c| c.status.clone())
                .collect()
        };
        let plain_init = statuses(|k| k == Kind::Init);
        let init = statuses(|k| k != Kind::App);
        let app = statuses(|k| k == Kind::App);
        let start_time = self.start_time.rfc3339();
        let mut status = PodStatus {
            phase: Some(self.phase()),
            conditions: status::conditions(&plain_init, &app, &start_time),
            pod_ip: ips.first().map(ToString::to_string),
            pod_ips: ips.iter().map(|ip| PodIP { ip: ip.to_string() }).collect(),
            host_ip: host_ip.map(|ip| ip.to_string()),
            start_time: Some(start_time),
            init_container_statuses: init,
            container_statuses: app,
            qos_class,
            ..PodStatus::default()
        };
        if self.deadline_exceeded {
            status.reason = Some(reason::DEADLINE_EXCEEDED.to_owned());
            status.message = Some(DEADLINE_MESSAGE.to_owned());
        }
        if let Some(message) = &self.evicted {
            status.reason = Some(eviction::REASON.to_owned());
            status.message = Some(message.clone());
        }
        status
    }
}
