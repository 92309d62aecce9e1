//! `runtime.v1.RuntimeService`: the runtime's identity and conditions.
//! Sandbox and container RPCs not served yet answer `UNIMPLEMENTED` (the
//! generated default stubs).

use peapod_runtime::Paths;
use peapod_runtime::network::Mode;
use tonic::{Request, Response, Status};

use crate::api::runtime_service_server::RuntimeService;
use crate::api::{
    RuntimeCondition, RuntimeStatus, StatusRequest, StatusResponse, VersionRequest, VersionResponse,
};

/// The version of the kubelet runtime API peapod speaks, as containerd
/// and CRI-O answer it.
const KUBELET_API_VERSION: &str = "0.1.0";

/// The runtime service.
#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    paths: Paths,
}

impl Runtime {
    pub(crate) fn new(paths: Paths) -> Self {
        Self { paths }
    }

    /// `RuntimeReady`: the state folder can be made.
    fn runtime_condition(&self) -> RuntimeCondition {
        let problem = std::fs::create_dir_all(&self.paths.run)
            .err()
            .map(|e| format!("{}: {e}", self.paths.run.display()));
        condition("RuntimeReady", problem.map(|m| ("RuntimeNotReady", m)))
    }

    /// `NetworkReady`: pods get the bridge network (`PEAPOD_NETWORK`
    /// unset or `bridge`); with `none` they would get loopback only.
    fn network_condition() -> RuntimeCondition {
        let problem = match Mode::from_env() {
            Ok(Mode::Bridge) => None,
            Ok(Mode::None) => Some((
                "NetworkPluginNotReady",
                "PEAPOD_NETWORK=none: pods would get loopback only".to_string(),
            )),
            Err(e) => Some(("NetworkPluginNotReady", e.to_string())),
        };
        condition("NetworkReady", problem)
    }
}

fn condition(kind: &str, problem: Option<(&str, String)>) -> RuntimeCondition {
    let (status, reason, message) = match problem {
        None => (true, String::new(), String::new()),
        Some((reason, message)) => (false, reason.to_string(), message),
    };
    RuntimeCondition {
        r#type: kind.to_string(),
        status,
        reason,
        message,
    }
}

#[tonic::async_trait]
impl RuntimeService for Runtime {
    async fn version(
        &self,
        _request: Request<VersionRequest>,
    ) -> Result<Response<VersionResponse>, Status> {
        Ok(Response::new(VersionResponse {
            version: KUBELET_API_VERSION.to_string(),
            runtime_name: "peapod".to_string(),
            runtime_version: env!("CARGO_PKG_VERSION").to_string(),
            runtime_api_version: "v1".to_string(),
        }))
    }

    async fn status(
        &self,
        _request: Request<StatusRequest>,
    ) -> Result<Response<StatusResponse>, Status> {
        Ok(Response::new(StatusResponse {
            status: Some(RuntimeStatus {
                conditions: vec![self.runtime_condition(), Self::network_condition()],
            }),
            ..StatusResponse::default()
        }))
    }
}
