//! One container of a running pod as the supervisor holds it on the host:
//! its spec and image, its process and its log streams. What happens to
//! it is the controller's to decide (`controller/`).

use std::path::PathBuf;

use peapod_spec::Container;

use crate::container::{LogStream, Started};
use crate::images::ResolvedImage;

/// One container of the pod, on the host.
#[derive(Debug)]
pub(crate) struct Slot {
    pub spec: Container,
    pub image: ResolvedImage,
    pub run: Option<Started>,
    /// Output streams; they may outlive the process (a grandchild holding
    /// the pipe), so they are kept apart from it.
    pub streams: Vec<LogStream>,
    /// The log file of its current (or last) run.
    pub log_path: PathBuf,
}

impl Slot {
    /// A container not started yet.
    pub fn new(spec: Container, image: ResolvedImage) -> Self {
        Self {
            spec,
            image,
            run: None,
            streams: Vec::new(),
            log_path: PathBuf::new(),
        }
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}
