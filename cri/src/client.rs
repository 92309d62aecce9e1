//! A blocking CRI client over a unix socket: the tests and the
//! `cri_pod_start` bench drive `peapod serve` (and containerd, for the
//! comparison) with it, from the code generated for the server.

use std::future::Future;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint as Http};

use crate::api::image_service_client::ImageServiceClient;
use crate::api::runtime_service_client::RuntimeServiceClient;
use crate::error::{Error, Result};

/// Both CRI services of one socket, and the runtime that drives them.
#[derive(Debug)]
pub struct Client {
    runtime: tokio::runtime::Runtime,
    /// `runtime.v1.RuntimeService`.
    pub runtime_service: RuntimeServiceClient<Channel>,
    /// `runtime.v1.ImageService`.
    pub image_service: ImageServiceClient<Channel>,
}

impl Client {
    /// Connects to the CRI socket at `path`.
    pub fn connect(path: &Path) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("start the async runtime for", path, e))?;
        let socket: PathBuf = path.to_path_buf();
        let channel = runtime
            .block_on(async move {
                // The URI is required by tonic and ignored by the connector.
                Http::from_static("http://peapod.invalid")
                    .connect_with_connector(tower::service_fn(move |_| {
                        let socket = socket.clone();
                        async move {
                            tokio::net::UnixStream::connect(socket)
                                .await
                                .map(TokioIo::new)
                        }
                    }))
                    .await
            })
            .map_err(|e| Error::Server {
                op: "connect to the CRI socket",
                source: e.into(),
            })?;
        Ok(Self {
            runtime,
            runtime_service: RuntimeServiceClient::new(channel.clone()),
            image_service: ImageServiceClient::new(channel),
        })
    }

    /// Runs one call to its end: `client.block_on(client.runtime_service.clone().version(..))`.
    pub fn block_on<F: Future>(&self, call: F) -> F::Output {
        self.runtime.block_on(call)
    }
}
