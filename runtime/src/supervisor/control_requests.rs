//! The control socket and the termination signals: clients accepted and
//! read on the loop (`control_clients.rs`), a delete or a signal turned
//! into a stop request for the controller.

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use tracing::warn;

use super::Supervisor;
use crate::control::{self, Request, Response};
use crate::control_clients::Received;
use crate::controller::Event;
use crate::loop_token::Token;
use crate::termination;

impl Supervisor {
    /// Takes in the clients waiting on the control socket; their requests
    /// are read as they come ([`Supervisor::read_client`]).
    pub(super) fn accept(&mut self) {
        if let Err(e) = self
            .events
            .watch_readable(self.listener.as_fd(), Token::Control.encode())
        {
            warn!("control socket: {e}");
        }
        while let Ok((stream, _)) = self.listener.accept() {
            match self.incoming.add(stream, Instant::now()) {
                Ok(id) => self.read_client(id),
                Err((stream, e)) => {
                    let _ = control::send(&stream, &Response::Error(e.to_string()));
                }
            }
        }
    }

    /// Client `id` sent something: its request once whole.
    pub(super) fn read_client(&mut self, id: u64) {
        match self.incoming.read(id) {
            Received::Pending => {
                if let Some(stream) = self.incoming.stream(id)
                    && let Err(e) = self
                        .events
                        .watch_readable(stream.as_fd(), Token::Client(id).encode())
                {
                    warn!("control client: {e}");
                }
                return;
            }
            Received::Request(stream, Request::Ping) => {
                let _ = control::send(&stream, &Response::Ok);
            }
            Received::Request(
                stream,
                Request::Stop {
                    grace_period_seconds,
                },
            ) => self.stop_requested(grace_period_seconds, stream),
            Received::Request(stream, Request::Configure(update)) if self.engine.is_none() => {
                let answer = match self.configure(*update) {
                    Ok(()) => Response::Ok,
                    Err(e) => Response::Error(e.to_string()),
                };
                let _ = control::send(&stream, &answer);
            }
            Received::Request(stream, request) if self.engine.is_some() => {
                self.engine_request(request, stream);
            }
            Received::Request(stream, _) => {
                let why = "not a sandbox of the engine: its pod controller runs it".to_owned();
                let _ = control::send(&stream, &Response::Error(why));
            }
            Received::Refused(stream, why) => {
                let _ = control::send(&stream, &Response::Error(why));
            }
            Received::Gone => {}
        }
        let _ = self.events.unwatch(Token::Client(id).encode());
    }

    /// Clients that did not send their request in time are told so and
    /// dropped.
    pub(super) fn expire_clients(&mut self, now: Instant) {
        for (id, stream) in self.incoming.expired(now) {
            let _ = self.events.unwatch(Token::Client(id).encode());
            let why = "no request within a second".to_owned();
            let _ = control::send(&stream, &Response::Error(why));
        }
    }

    /// A delete: the pod shows `Terminating` and stops; `client` waits for
    /// the end.
    pub(super) fn stop_requested(&mut self, grace_seconds: Option<u64>, client: UnixStream) {
        let grace = grace_seconds.map_or_else(
            || termination::grace(self.pod.spec.termination_grace_period_seconds),
            Duration::from_secs,
        );
        if let Err(e) = crate::inspect::mark_deletion(&self.dir, grace.as_secs()) {
            warn!("{e}");
        }
        self.clients.push(client);
        self.feed(Event::StopRequested(Some(grace)));
    }

    /// SIGTERM, SIGINT, SIGHUP or SIGQUIT: the pod stops as a delete with its own grace
    /// period would, then the supervisor exits.
    pub(super) fn signalled(&mut self) {
        let Some(sfd) = &self.signals else {
            return;
        };
        let mut got = false;
        while let Some(sig) = sfd.read() {
            tracing::debug!(sig, "signal");
            got = true;
        }
        if let Err(e) = self.events.watch_readable(sfd.fd(), Token::Signal.encode()) {
            warn!("signalfd: {e}");
        }
        if got {
            self.feed(Event::StopRequested(None));
        }
    }
}
