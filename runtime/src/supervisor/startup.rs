//! The supervisor's start: the images resolved, the control socket and
//! the event loop made, the sandbox built (a pod's, or an engine sandbox's
//! from its `sandbox.json`), and the controller's first tick.

use std::collections::{HashMap, VecDeque};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

use peapod_core::{EventLoop, TerminationSignals};
use peapod_image::Store;
use peapod_spec::Pod;
use tracing::{debug_span, warn};

use super::Supervisor;
use super::engine_mode;
use crate::backoff::BackoffPolicy;
use crate::control;
use crate::control_clients::ControlClients;
use crate::controller::{ContainerInput, Event, PodController, Time};
use crate::cri_log;
use crate::error::{Error, Result};
use crate::events::EventLog;
use crate::eviction::StorageLimits;
use crate::images;
use crate::launch::{StartReport, report_start};
use crate::loop_token::Token;
use crate::paths::Paths;
use crate::pod_files;
use crate::runs::Runs;
use crate::sandbox::Sandbox;
use crate::slot::Slot;
use crate::state::{PodDir, SupervisorRecord};
use crate::teardown::PodResources;
use crate::trash::Trash;

impl Supervisor {
    /// Builds the supervisor of the pod in `dir` and starts it.
    pub(super) fn start(
        paths: Paths,
        dir: PodDir,
        pod: Pod,
        record: SupervisorRecord,
    ) -> Result<Self> {
        // The pod's `startTime`: `activeDeadlineSeconds` counts from it.
        let start_time = Time::now();
        let _span = debug_span!("pod_start", pod = %dir.key().name).entered();
        let name = dir.key().name.clone();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        // Images first: a missing one fails before anything is made.
        let store = Store::open(paths.images()).map_err(|e| Error::pod(&name, e))?;
        let config = crate::pod_config::PodConfig::read(&dir)?;
        let pull_options = images::pull_options(&paths);
        let mut slots = Vec::new();
        let mut inputs = Vec::new();
        let listed = pod
            .spec
            .init_containers
            .iter()
            .map(|c| (c, true))
            .chain(pod.spec.containers.iter().map(|c| (c, false)));
        for (c, init) in listed {
            let image = images::resolve(&store, c, config.pull, &pull_options)?;
            inputs.push(ContainerInput {
                spec: c.clone(),
                init,
                image_id: image.id.clone(),
                stop_signal: image.stop_signal,
                pulled: image.pulled,
            });
            slots.push(Slot::new(c.clone(), image));
        }
        let controller = PodController::new(&pod, inputs, BackoffPolicy::from_env(), start_time);
        crate::sandbox::enter_private_mount_namespace()?;
        let socket = dir.control_socket();
        let listener = control::via_short_path(&socket, UnixListener::bind)
            .map_err(|e| Error::io(&socket, e))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&socket, e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io(&socket, e))?;
        let resources = PodResources {
            namespace: dir.key().namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
        };
        let log_dir = cri_log::pod_log_dir(&paths.log, &resources.namespace, &name, &uid);
        // Before any thread starts, so they all keep the signals blocked.
        let signals = TerminationSignals::block()
            .map_err(|e| warn!("no signalfd, SIGTERM ends the supervisor at once: {e}"))
            .ok();
        let mut events = EventLoop::new().map_err(|e| Error::pod(&name, e))?;
        if let Some(sfd) = &signals {
            events
                .watch_readable(sfd.fd(), Token::Signal.encode())
                .map_err(|e| Error::pod(&name, e))?;
        }
        eprintln!(
            "peapod supervise: pod {name}: event loop on {:?}",
            events.backend()
        );
        events
            .watch_readable(listener.as_fd(), Token::Control.encode())
            .map_err(|e| Error::pod(&name, e))?;
        let engine = crate::engine::record::read(&dir)?.map(engine_mode::EngineSide::new);
        let sandbox = match &engine {
            None => Sandbox::create(&paths, &pod, resources, config, None)?,
            Some(engine) => {
                let sandbox_config = &engine.status.config;
                let parent = (sandbox_config.cgroup_parent.as_deref())
                    .map(crate::engine::cgroup_parent)
                    .transpose()?;
                let built = sandbox_config.pod_with_ports(&pod);
                let mut sandbox =
                    Sandbox::create(&paths, &built, resources, config, parent.as_deref())?;
                // No container start to wait for: the links now.
                if let Err(e) = sandbox.connect_network() {
                    let _ = sandbox.destroy(&paths, &mut Trash::at_once());
                    return Err(e);
                }
                sandbox
            }
        };
        let storage_limits = StorageLimits::of(&pod);
        // The pod's emptied cgroups go before `delete` is answered (the
        // caller may check or remove their parent next); its folders go
        // after, from the trash.
        let trash = Trash::deferred(&paths.lib);
        let mut sup = Self {
            event_log: EventLog::open(&dir),
            hostname: pod_files::uts_hostname(&pod),
            paths,
            dir,
            pod,
            record,
            sandbox: Some(sandbox),
            slots,
            controller,
            pending: VecDeque::new(),
            listener,
            signals,
            events,
            stream_ids: 0,
            runs: Runs::default(),
            reaping: HashMap::new(),
            reap_ids: 0,
            incoming: ControlClients::default(),
            clients: Vec::new(),
            parked_exits: Vec::new(),
            failed_start: None,
            finished: false,
            storage_limits,
            log_dir,
            engine,
            removing: false,
            trash,
        };
        if sup.engine.is_some() {
            sup.publish();
            report_start(&StartReport::Running);
        } else {
            sup.feed(Event::Tick);
            sup.publish();
        }
        Ok(sup)
    }
}
