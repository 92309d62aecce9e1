//! Carrying out a launch: the containers are created (each up to its
//! `execve`, on the other core while the supervisor goes on), then started
//! one by one and watched; the controller hears of each start or of the
//! first failure.

use std::os::fd::AsFd;

use super::Supervisor;
use crate::container;
use crate::controller::Event;
use crate::error::{Error, Result};
use crate::loop_token::Token;
use crate::state::ProcessRecord;
use tracing::warn;

impl Supervisor {
    /// Creates the containers of `list` (each set up to its `execve`, on
    /// the other core while the supervisor goes on), then starts them one
    /// by one. A creation error comes after the containers before it
    /// started, as if they had been started alone.
    pub(super) fn launch(&mut self, list: &[usize]) {
        let mut created = Vec::with_capacity(list.len());
        let mut failed = None;
        for &i in list {
            match self.create(i) {
                Ok(c) => created.push((i, c)),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let mut created = created.into_iter();
        for (i, c) in created.by_ref() {
            if let Err(e) = self.start_created(i, c) {
                failed = Some((i, e));
                break;
            }
        }
        // Dropping what is left of `created` after an error kills those.
        drop(created);
        if let Some((i, e)) = failed {
            let (message, refused) = match &e {
                Error::Container { message, .. } => (message.clone(), None),
                Error::Create {
                    reason, message, ..
                } => (message.clone(), Some(*reason)),
                other => (other.to_string(), None),
            };
            self.pending.push_back(Event::StartFailed {
                container: i,
                message,
                error: e.to_string(),
                refused,
            });
        }
    }

    /// Sets container `i` up to its `execve`, its log the file of its
    /// current run.
    pub(super) fn create(&mut self, i: usize) -> Result<container::Created> {
        let Some(sandbox) = &self.sandbox else {
            return Err(Error::container(self.slots[i].name(), "the pod is gone"));
        };
        let restarts = self.controller.restart_count(i);
        let slot = &mut self.slots[i];
        let log = container::run_log(&self.log_dir, slot.name(), restarts)?;
        slot.log_path = log.path().to_path_buf();
        let created = container::create(
            sandbox,
            &slot.spec,
            &slot.image,
            &self.hostname,
            log,
            Vec::new(),
        )?;
        // Where `attach` finds its input (`stdin`/`tty` containers).
        created.record_input(&container::layers_dir(&sandbox.lib_dir, slot.name()))?;
        Ok(created)
    }

    /// Starts what [`Supervisor::create`] made and watches it.
    pub(super) fn start_created(&mut self, i: usize, created: container::Created) -> Result<()> {
        // The pod's links are made while the first containers' children
        // make their mounts, and before any of them runs.
        if let Some(sandbox) = &mut self.sandbox {
            sandbox.connect_network()?;
        }
        let mut started = created.start()?;
        let slot = &self.slots[i];
        let name = slot.name().to_owned();
        let pid = started.process.pid();
        let watch = |e: peapod_core::Error| Error::container(slot.name(), e);
        self.events
            .watch_process(started.process.pidfd(), Token::Exit(i).encode())
            .map_err(watch)?;
        for stream in &mut started.streams {
            self.stream_ids += 1;
            stream.id = self.stream_ids;
            self.events
                .watch_readable(stream.fd.as_fd(), Token::Output(stream.id).encode())
                .map_err(watch)?;
        }
        let slot = &mut self.slots[i];
        slot.streams.append(&mut started.streams);
        slot.run = Some(started);
        // Before anyone hears of the start (`apply` returns on it).
        self.park_streams();
        if let Some(rec) = ProcessRecord::of(pid) {
            self.record.containers.insert(name, rec);
        }
        let _ = self.dir.write_supervisor(&self.record);
        self.pending.push_back(Event::Started(i));
        Ok(())
    }

    /// Parks copies of the log streams in use with the pause, in place of
    /// those parked before: a `kill -9` of this process leaves each pipe a
    /// reader ([`crate::parked_streams`]).
    pub(super) fn park_streams(&self) {
        let Some(sandbox) = &self.sandbox else {
            return;
        };
        let fds: Vec<_> = (self.slots.iter())
            .flat_map(|slot| &slot.streams)
            .map(|stream| stream.fd.as_fd())
            .collect();
        if let Err(e) = sandbox.parked.park(&fds) {
            warn!("parking the log streams with the pause: {e}");
        }
    }
}
