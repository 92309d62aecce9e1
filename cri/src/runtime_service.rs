//! `runtime.v1.RuntimeService`: the runtime's identity and conditions,
//! and sandboxes and containers on peapod's engine (the kubelet is the
//! controller: the engine runs no restart, probe or hook for them). RPCs
//! a single host does not serve answer `UNIMPLEMENTED` with a message
//! saying why.

use std::time::Duration;

use peapod_runtime::Paths;
use peapod_runtime::engine::{
    ContainerState, ContainerStatus, Engine, SandboxState, SandboxStatus,
};
use peapod_runtime::network::Mode;
use tonic::{Request, Response, Status};

use crate::api::runtime_service_server::RuntimeService;
use crate::api::{
    AttachRequest, AttachResponse, CgroupDriver, CheckpointContainerRequest,
    CheckpointContainerResponse, ContainerEventResponse, ContainerStatsRequest,
    ContainerStatsResponse, ContainerStatusRequest, ContainerStatusResponse,
    CreateContainerRequest, CreateContainerResponse, ExecRequest, ExecResponse, ExecSyncRequest,
    ExecSyncResponse, GetEventsRequest, LinuxRuntimeConfiguration, ListContainerStatsRequest,
    ListContainerStatsResponse, ListContainersRequest, ListContainersResponse,
    ListMetricDescriptorsRequest, ListMetricDescriptorsResponse, ListPodSandboxMetricsRequest,
    ListPodSandboxMetricsResponse, ListPodSandboxRequest, ListPodSandboxResponse,
    ListPodSandboxStatsRequest, ListPodSandboxStatsResponse, PodSandboxStatsRequest,
    PodSandboxStatsResponse, PodSandboxStatusRequest, PodSandboxStatusResponse, PortForwardRequest,
    PortForwardResponse, RemoveContainerRequest, RemoveContainerResponse, RemovePodSandboxRequest,
    RemovePodSandboxResponse, ReopenContainerLogRequest, ReopenContainerLogResponse,
    RunPodSandboxRequest, RunPodSandboxResponse, RuntimeCondition, RuntimeConfigRequest,
    RuntimeConfigResponse, RuntimeStatus, StartContainerRequest, StartContainerResponse,
    StatusRequest, StatusResponse, StopContainerRequest, StopContainerResponse,
    StopPodSandboxRequest, StopPodSandboxResponse, UpdateContainerResourcesRequest,
    UpdateContainerResourcesResponse, UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse,
    VersionRequest, VersionResponse,
};
use crate::blocking::blocking;
use crate::streaming::Streaming;
use crate::{from_engine, status_code, to_engine};

/// The version of the kubelet runtime API peapod speaks, as containerd
/// and CRI-O answer it.
const KUBELET_API_VERSION: &str = "0.1.0";

/// The runtime service.
#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    paths: Paths,
    engine: Engine,
    streaming: Streaming,
}

impl Runtime {
    /// The service on the state under `paths`, through `engine`; the
    /// streaming RPCs' URLs are `streaming`'s.
    pub(crate) fn new(paths: Paths, engine: Engine, streaming: Streaming) -> Self {
        Self {
            paths,
            engine,
            streaming,
        }
    }

    /// Runs `call` on the engine, on the blocking pool; the runtime's
    /// errors as gRPC statuses.
    async fn engine<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Engine) -> peapod_runtime::Result<T> + Send + 'static,
    ) -> Result<T, Status> {
        let engine = self.engine.clone();
        blocking(move || call(&engine).map_err(|e| status_code::of_runtime(&e))).await
    }

    /// The containers `ListContainers` and `ListContainerStats` filter:
    /// by id, sandbox, state and labels.
    async fn containers(
        &self,
        id: String,
        sandbox: String,
        state: Option<i32>,
        selector: std::collections::HashMap<String, String>,
    ) -> Result<Vec<ContainerStatus>, Status> {
        let all = self
            .engine(move |e| {
                let sandbox = Some(sandbox.as_str()).filter(|s| !s.is_empty());
                match e.list_containers(sandbox) {
                    // A filter naming a sandbox that is gone matches nothing.
                    Err(peapod_runtime::Error::NotFound { .. }) => Ok(Vec::new()),
                    other => other,
                }
            })
            .await?;
        Ok(all
            .into_iter()
            .filter(|c| id.is_empty() || c.id == id)
            .filter(|c| state.is_none_or(|s| from_engine::container_state(c) == s))
            .filter(|c| from_engine::selected(&selector, &c.labels))
            .collect())
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

/// The stats of each of `containers` that runs; one that ended meanwhile
/// is left out.
fn running_stats<'a>(
    e: &Engine,
    containers: impl IntoIterator<Item = &'a ContainerStatus>,
) -> Vec<crate::api::ContainerStats> {
    let now = crate::image_service::now_nanos();
    containers
        .into_iter()
        .filter(|c| c.state == ContainerState::Running)
        .filter_map(|c| {
            e.stats(&c.id)
                .ok()
                .map(|s| from_engine::container_stats(c, &s, now))
        })
        .collect()
}

/// The stats of sandbox `s` and of its running containers.
fn sandbox_stats(
    e: &Engine,
    s: &SandboxStatus,
) -> peapod_runtime::Result<crate::api::PodSandboxStats> {
    let stats = e.sandbox_stats(&s.id)?;
    let containers = running_stats(e, s.containers.values());
    Ok(from_engine::pod_sandbox_stats(
        s,
        &stats,
        containers,
        crate::image_service::now_nanos(),
    ))
}

/// What peapod answers for an RPC a single host does not serve.
fn not_served(rpc: &str, why: &str) -> Status {
    Status::unimplemented(format!("{rpc}: {why}"))
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

    async fn run_pod_sandbox(
        &self,
        request: Request<RunPodSandboxRequest>,
    ) -> Result<Response<RunPodSandboxResponse>, Status> {
        let request = request.into_inner();
        if !request.runtime_handler.is_empty() {
            return Err(Status::invalid_argument(format!(
                "runtime_handler {:?}: peapod has only its default handler",
                request.runtime_handler
            )));
        }
        let config = to_engine::sandbox(&request.config.unwrap_or_default())?;
        let pod_sandbox_id = self.engine(move |e| e.create_sandbox(&config)).await?;
        Ok(Response::new(RunPodSandboxResponse { pod_sandbox_id }))
    }

    async fn stop_pod_sandbox(
        &self,
        request: Request<StopPodSandboxRequest>,
    ) -> Result<Response<StopPodSandboxResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        self.engine(move |e| e.stop_sandbox(&id)).await?;
        Ok(Response::new(StopPodSandboxResponse {}))
    }

    async fn remove_pod_sandbox(
        &self,
        request: Request<RemovePodSandboxRequest>,
    ) -> Result<Response<RemovePodSandboxResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        self.engine(move |e| e.remove_sandbox(&id)).await?;
        Ok(Response::new(RemovePodSandboxResponse {}))
    }

    async fn pod_sandbox_status(
        &self,
        request: Request<PodSandboxStatusRequest>,
    ) -> Result<Response<PodSandboxStatusResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        let status = self.engine(move |e| e.sandbox_status(&id)).await?;
        let containers_statuses = status
            .containers
            .values()
            .map(from_engine::container_status)
            .collect();
        Ok(Response::new(PodSandboxStatusResponse {
            status: Some(from_engine::pod_sandbox_status(&status)),
            containers_statuses,
            ..PodSandboxStatusResponse::default()
        }))
    }

    async fn list_pod_sandbox(
        &self,
        request: Request<ListPodSandboxRequest>,
    ) -> Result<Response<ListPodSandboxResponse>, Status> {
        let filter = request.into_inner().filter.unwrap_or_default();
        let all = self.engine(Engine::list_sandboxes).await?;
        let items = all
            .iter()
            .filter(|s| filter.id.is_empty() || s.id == filter.id)
            .filter(|s| {
                filter
                    .state
                    .as_ref()
                    .is_none_or(|v| from_engine::sandbox_state(s) == v.state)
            })
            .filter(|s| from_engine::selected(&filter.label_selector, &s.config.labels))
            .map(from_engine::pod_sandbox)
            .collect();
        Ok(Response::new(ListPodSandboxResponse { items }))
    }

    async fn create_container(
        &self,
        request: Request<CreateContainerRequest>,
    ) -> Result<Response<CreateContainerResponse>, Status> {
        let request = request.into_inner();
        let config = to_engine::container(&request.config.unwrap_or_default())?;
        let sandbox = request.pod_sandbox_id;
        let container_id = self
            .engine(move |e| e.create_container(&sandbox, &config))
            .await?;
        Ok(Response::new(CreateContainerResponse { container_id }))
    }

    async fn start_container(
        &self,
        request: Request<StartContainerRequest>,
    ) -> Result<Response<StartContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        self.engine(move |e| e.start_container(&id)).await?;
        Ok(Response::new(StartContainerResponse {}))
    }

    async fn stop_container(
        &self,
        request: Request<StopContainerRequest>,
    ) -> Result<Response<StopContainerResponse>, Status> {
        let request = request.into_inner();
        let timeout = Duration::from_secs(u64::try_from(request.timeout).unwrap_or(0));
        let id = request.container_id;
        self.engine(move |e| e.stop_container(&id, timeout)).await?;
        Ok(Response::new(StopContainerResponse {}))
    }

    async fn remove_container(
        &self,
        request: Request<RemoveContainerRequest>,
    ) -> Result<Response<RemoveContainerResponse>, Status> {
        let id = request.into_inner().container_id;
        self.engine(move |e| e.remove_container(&id)).await?;
        Ok(Response::new(RemoveContainerResponse {}))
    }

    async fn list_containers(
        &self,
        request: Request<ListContainersRequest>,
    ) -> Result<Response<ListContainersResponse>, Status> {
        let f = request.into_inner().filter.unwrap_or_default();
        let containers = self
            .containers(
                f.id,
                f.pod_sandbox_id,
                f.state.map(|s| s.state),
                f.label_selector,
            )
            .await?
            .iter()
            .map(from_engine::container)
            .collect();
        Ok(Response::new(ListContainersResponse { containers }))
    }

    async fn container_status(
        &self,
        request: Request<ContainerStatusRequest>,
    ) -> Result<Response<ContainerStatusResponse>, Status> {
        let id = request.into_inner().container_id;
        let status = self.engine(move |e| e.container_status(&id)).await?;
        Ok(Response::new(ContainerStatusResponse {
            status: Some(from_engine::container_status(&status)),
            ..ContainerStatusResponse::default()
        }))
    }

    async fn update_container_resources(
        &self,
        request: Request<UpdateContainerResourcesRequest>,
    ) -> Result<Response<UpdateContainerResourcesResponse>, Status> {
        let request = request.into_inner();
        let linux = request
            .linux
            .ok_or_else(|| Status::invalid_argument("linux resources are required"))?;
        let resources = to_engine::resources(&linux)?;
        let id = request.container_id;
        self.engine(move |e| e.update_resources(&id, &resources))
            .await?;
        Ok(Response::new(UpdateContainerResourcesResponse {}))
    }

    async fn reopen_container_log(
        &self,
        request: Request<ReopenContainerLogRequest>,
    ) -> Result<Response<ReopenContainerLogResponse>, Status> {
        let id = request.into_inner().container_id;
        self.engine(move |e| e.reopen_log(&id)).await?;
        Ok(Response::new(ReopenContainerLogResponse {}))
    }

    async fn exec_sync(
        &self,
        request: Request<ExecSyncRequest>,
    ) -> Result<Response<ExecSyncResponse>, Status> {
        let request = request.into_inner();
        if request.cmd.is_empty() {
            return Err(Status::invalid_argument("cmd is required"));
        }
        // 0: no timeout, as the CRI says.
        let timeout = match u64::try_from(request.timeout) {
            Ok(0) | Err(_) => Duration::MAX,
            Ok(s) => Duration::from_secs(s),
        };
        let (id, cmd) = (request.container_id, request.cmd);
        let out = self
            .engine(move |e| e.exec_sync(&id, &cmd, timeout))
            .await?;
        Ok(Response::new(ExecSyncResponse {
            stdout: out.stdout,
            stderr: out.stderr,
            exit_code: out.exit_code,
        }))
    }

    async fn exec(&self, request: Request<ExecRequest>) -> Result<Response<ExecResponse>, Status> {
        let url = self.streaming.exec(request.into_inner()).await?;
        Ok(Response::new(ExecResponse { url }))
    }

    async fn attach(
        &self,
        request: Request<AttachRequest>,
    ) -> Result<Response<AttachResponse>, Status> {
        let url = self.streaming.attach(request.into_inner()).await?;
        Ok(Response::new(AttachResponse { url }))
    }

    async fn port_forward(
        &self,
        request: Request<PortForwardRequest>,
    ) -> Result<Response<PortForwardResponse>, Status> {
        let url = self.streaming.port_forward(request.into_inner()).await?;
        Ok(Response::new(PortForwardResponse { url }))
    }

    async fn container_stats(
        &self,
        request: Request<ContainerStatsRequest>,
    ) -> Result<Response<ContainerStatsResponse>, Status> {
        let id = request.into_inner().container_id;
        let (status, stats) = self
            .engine(move |e| Ok((e.container_status(&id)?, e.stats(&id)?)))
            .await?;
        Ok(Response::new(ContainerStatsResponse {
            stats: Some(from_engine::container_stats(
                &status,
                &stats,
                crate::image_service::now_nanos(),
            )),
        }))
    }

    async fn list_container_stats(
        &self,
        request: Request<ListContainerStatsRequest>,
    ) -> Result<Response<ListContainerStatsResponse>, Status> {
        let f = request.into_inner().filter.unwrap_or_default();
        let running = api_running();
        let containers = self
            .containers(f.id, f.pod_sandbox_id, Some(running), f.label_selector)
            .await?;
        let stats = self
            .engine(move |e| Ok(running_stats(e, &containers)))
            .await?;
        Ok(Response::new(ListContainerStatsResponse { stats }))
    }

    async fn pod_sandbox_stats(
        &self,
        request: Request<PodSandboxStatsRequest>,
    ) -> Result<Response<PodSandboxStatsResponse>, Status> {
        let id = request.into_inner().pod_sandbox_id;
        let status = self.engine(move |e| e.sandbox_status(&id)).await?;
        if status.state != SandboxState::Ready {
            return Err(Status::failed_precondition(format!(
                "pod sandbox {}: not ready (stopped): nothing runs in it to measure",
                status.id
            )));
        }
        let stats = self.engine(move |e| sandbox_stats(e, &status)).await?;
        Ok(Response::new(PodSandboxStatsResponse {
            stats: Some(stats),
        }))
    }

    async fn list_pod_sandbox_stats(
        &self,
        request: Request<ListPodSandboxStatsRequest>,
    ) -> Result<Response<ListPodSandboxStatsResponse>, Status> {
        let filter = request.into_inner().filter.unwrap_or_default();
        let stats = self
            .engine(move |e| {
                Ok(e.list_sandboxes()?
                    .iter()
                    .filter(|s| filter.id.is_empty() || s.id == filter.id)
                    .filter(|s| from_engine::selected(&filter.label_selector, &s.config.labels))
                    .filter(|s| s.state == SandboxState::Ready)
                    // A sandbox stopped or removed meanwhile is left out.
                    .filter_map(|s| sandbox_stats(e, s).ok())
                    .collect())
            })
            .await?;
        Ok(Response::new(ListPodSandboxStatsResponse { stats }))
    }

    async fn runtime_config(
        &self,
        _request: Request<RuntimeConfigRequest>,
    ) -> Result<Response<RuntimeConfigResponse>, Status> {
        // peapod writes its cgroups itself, under the parent the kubelet
        // names (`cgroup_parent`): the kubelet's cgroupfs driver.
        Ok(Response::new(RuntimeConfigResponse {
            linux: Some(LinuxRuntimeConfiguration {
                cgroup_driver: CgroupDriver::Cgroupfs as i32,
            }),
        }))
    }

    async fn update_runtime_config(
        &self,
        request: Request<UpdateRuntimeConfigRequest>,
    ) -> Result<Response<UpdateRuntimeConfigResponse>, Status> {
        let cidr = request
            .into_inner()
            .runtime_config
            .and_then(|c| c.network_config)
            .map(|n| n.pod_cidr)
            .unwrap_or_default();
        let ours = peapod_runtime::network::pod_subnet();
        if cidr.is_empty() || cidr == ours {
            return Ok(Response::new(UpdateRuntimeConfigResponse {}));
        }
        Err(Status::invalid_argument(format!(
            "runtime_config.network_config.pod_cidr {cidr}: peapod's pods take their \
             addresses from its bridge's subnet {ours}, which the kubelet cannot change: \
             give this node that pod CIDR"
        )))
    }

    async fn checkpoint_container(
        &self,
        _request: Request<CheckpointContainerRequest>,
    ) -> Result<Response<CheckpointContainerResponse>, Status> {
        Err(not_served(
            "CheckpointContainer",
            "peapod does not checkpoint containers (no CRIU)",
        ))
    }

    async fn get_container_events(
        &self,
        _request: Request<GetEventsRequest>,
    ) -> Result<Response<tonic::codegen::BoxStream<ContainerEventResponse>>, Status> {
        Err(not_served(
            "GetContainerEvents",
            "peapod sends no container events: the kubelet's generic PLEG polls (leave the \
             EventedPLEG feature gate off)",
        ))
    }

    async fn list_metric_descriptors(
        &self,
        _request: Request<ListMetricDescriptorsRequest>,
    ) -> Result<Response<ListMetricDescriptorsResponse>, Status> {
        Err(not_served(
            "ListMetricDescriptors",
            "peapod serves no Prometheus metrics over the CRI: the kubelet reads \
             ListPodSandboxStats (leave the PodAndContainerStatsFromCRI feature gate off)",
        ))
    }

    async fn list_pod_sandbox_metrics(
        &self,
        _request: Request<ListPodSandboxMetricsRequest>,
    ) -> Result<Response<ListPodSandboxMetricsResponse>, Status> {
        Err(not_served(
            "ListPodSandboxMetrics",
            "peapod serves no Prometheus metrics over the CRI: the kubelet reads \
             ListPodSandboxStats (leave the PodAndContainerStatsFromCRI feature gate off)",
        ))
    }
}

fn api_running() -> i32 {
    crate::api::ContainerState::ContainerRunning as i32
}
