//! The streaming server of `peapod serve`: what the CRI's `Exec`,
//! `Attach` and `PortForward` return a URL on, as containerd and CRI-O
//! serve theirs. Each RPC validates its request and keeps it under a
//! one-time token ([`tokens`]); the client (a kubelet proxying
//! `kubectl exec`, or `crictl`) then opens `http://ADDR/exec/<token>` (or
//! `/attach/…`, `/portforward/…`) as a WebSocket with one of Kubernetes'
//! channel subprotocols ([`channel`]) and the session runs on it. It
//! listens on loopback TCP (`--streaming-addr`, an ephemeral port of
//! 127.0.0.1 by default), on the same current-thread runtime as the gRPC
//! server. SPDY is not spoken.

mod attach;
mod channel;
mod exec;
mod fd_io;
mod input;
mod port_forward;
mod tokens;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use peapod_runtime::Paths;
use peapod_runtime::engine::{ContainerState, Engine, SandboxState};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tonic::Status;

use crate::api::{AttachRequest, ExecRequest, PortForwardRequest};
use crate::error::{Error, Result};
use crate::status_code;

/// A request an RPC validated, waiting for its connection.
#[derive(Debug)]
pub(crate) enum Session {
    /// `Exec`.
    Exec(ExecRequest),
    /// `Attach`.
    Attach(AttachRequest),
    /// `PortForward`.
    PortForward(PortForwardRequest),
}

impl Session {
    /// The first segment of its URL's path.
    fn kind(&self) -> &'static str {
        match self {
            Self::Exec(_) => "exec",
            Self::Attach(_) => "attach",
            Self::PortForward(_) => "portforward",
        }
    }
}

/// The streaming server: the URLs the RPCs hand out, and the sessions on
/// them.
#[derive(Debug, Clone)]
pub(crate) struct Streaming {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    engine: Engine,
    paths: Paths,
    /// `http://ADDR`, what the URLs start with.
    base: String,
    tokens: Mutex<tokens::Tokens>,
}

impl Streaming {
    /// Binds `addr` (port 0: any free port); the server for the engine of
    /// `paths` and its listener, for [`Streaming::serve`].
    pub(crate) fn bind(
        addr: SocketAddr,
        engine: Engine,
        paths: Paths,
    ) -> Result<(Self, std::net::TcpListener)> {
        let fail = |source| Error::Streaming { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        let local = listener.local_addr().map_err(fail)?;
        let shared = Shared {
            engine,
            paths,
            base: format!("http://{local}"),
            tokens: Mutex::new(tokens::Tokens::new(tokens::TTL)),
        };
        Ok((
            Self {
                shared: Arc::new(shared),
            },
            listener,
        ))
    }

    /// `http://ADDR`, where it listens.
    pub(crate) fn base(&self) -> &str {
        &self.shared.base
    }

    /// `Exec`: the URL of a session running `request`.
    pub(crate) async fn exec(&self, request: ExecRequest) -> Result<String, Status> {
        if request.cmd.is_empty() {
            return Err(Status::invalid_argument("cmd is required"));
        }
        streams([request.stdin, request.stdout, request.stderr], request.tty)?;
        self.running(&request.container_id).await?;
        self.url(Session::Exec(request))
    }

    /// `Attach`: the URL of a session attached to `request`'s container.
    pub(crate) async fn attach(&self, request: AttachRequest) -> Result<String, Status> {
        streams([request.stdin, request.stdout, request.stderr], request.tty)?;
        self.running(&request.container_id).await?;
        self.url(Session::Attach(request))
    }

    /// `PortForward`: the URL of a session forwarding to `request`'s
    /// sandbox.
    pub(crate) async fn port_forward(&self, request: PortForwardRequest) -> Result<String, Status> {
        if let Some(bad) = request
            .port
            .iter()
            .find(|p| u16::try_from(**p).is_err() || **p == 0)
        {
            return Err(Status::invalid_argument(format!(
                "port {bad}: ports are 1-65535"
            )));
        }
        let (engine, id) = (self.shared.engine.clone(), request.pod_sandbox_id.clone());
        let sandbox = crate::blocking::blocking(move || {
            engine
                .sandbox_status(&id)
                .map_err(|e| status_code::of_runtime(&e))
        })
        .await?;
        if sandbox.state != SandboxState::Ready {
            return Err(Status::failed_precondition(format!(
                "sandbox {} is not ready",
                request.pod_sandbox_id
            )));
        }
        self.url(Session::PortForward(request))
    }

    /// Fails unless container `id` runs.
    async fn running(&self, id: &str) -> Result<(), Status> {
        let (engine, id) = (self.shared.engine.clone(), id.to_owned());
        crate::blocking::blocking(move || {
            let status = engine
                .container_status(&id)
                .map_err(|e| status_code::of_runtime(&e))?;
            if status.state == ContainerState::Running {
                Ok(())
            } else {
                Err(Status::failed_precondition(format!(
                    "container {id} is not running"
                )))
            }
        })
        .await
    }

    fn url(&self, session: Session) -> Result<String, Status> {
        let kind = session.kind();
        let token = self
            .shared
            .tokens
            .lock()
            .map_err(|_| Status::internal("the streaming tokens' lock is poisoned"))?
            .insert(session)?;
        Ok(format!("{}/{kind}/{token}", self.shared.base))
    }

    /// Accepts connections for ever, each served on a task of its own.
    pub(crate) async fn serve(self, listener: tokio::net::TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    // Small frames (a keystroke, a status) go out at once,
                    // not held for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let server = self.clone();
                    tokio::spawn(async move { server.connection(stream).await });
                }
                Err(e) => {
                    // Out of fds or memory: give the sessions a moment to
                    // end instead of spinning on the error.
                    tracing::warn!("streaming server: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// One connection: the WebSocket handshake on a URL handed out, then
    /// its session.
    async fn connection(self, stream: tokio::net::TcpStream) {
        let mut routed = None;
        // The error type is tungstenite's (the response refusing the
        // handshake), large or not.
        #[allow(clippy::result_large_err)]
        let callback = |request: &Request, mut response: Response| {
            let (session, protocol) = self
                .route(request)
                .map_err(|(status, message)| refuse(status, message))?;
            if !protocol.is_empty() {
                response.headers_mut().insert(
                    header::SEC_WEBSOCKET_PROTOCOL,
                    HeaderValue::from_static(protocol),
                );
            }
            routed = Some((session, protocol));
            Ok(response)
        };
        let ws = match tokio_tungstenite::accept_hdr_async(stream, callback).await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!("streaming server: handshake: {e}");
                return;
            }
        };
        let Some((session, protocol)) = routed else {
            return;
        };
        let v5 = protocol.starts_with("v5.");
        let engine = self.shared.engine.clone();
        match session {
            Session::Exec(request) => exec::run(ws, v5, engine, request).await,
            Session::Attach(request) => attach::run(ws, v5, engine, request).await,
            Session::PortForward(request) => {
                let ports = request
                    .port
                    .iter()
                    .filter_map(|p| u16::try_from(*p).ok())
                    .collect();
                port_forward::run(ws, self.shared.paths.clone(), request.pod_sandbox_id, ports)
                    .await;
            }
        }
    }

    /// The session a request's path names (its token taken) and the
    /// subprotocol chosen among those it offers.
    fn route(&self, request: &Request) -> Result<(Session, &'static str), (StatusCode, String)> {
        let path = request.uri().path();
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let (kind, token) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let session = self
            .shared
            .tokens
            .lock()
            .ok()
            .and_then(|mut tokens| tokens.take(token))
            .filter(|s| s.kind() == kind)
            .ok_or_else(|| {
                (
                    StatusCode::NOT_FOUND,
                    format!("{path}: no such session (a URL is good once, for a minute)"),
                )
            })?;
        let offered: Vec<&str> = request
            .headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let supported: &[&'static str] = match session {
            Session::PortForward(_) => &channel::PORT_FORWARD_PROTOCOLS,
            _ => &channel::STREAM_PROTOCOLS,
        };
        let protocol = channel::negotiate(&offered, supported).ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                format!(
                    "requested protocol(s) {offered:?} are not supported; supports {supported:?}"
                ),
            )
        })?;
        let session = match session {
            // The ports of kubelet's `?port=` query, when the client
            // names them: those the request allowed.
            Session::PortForward(mut forward) => {
                let asked = query_ports(request.uri().query().unwrap_or(""));
                if !asked.is_empty() {
                    if let Some(p) = asked.iter().find(|p| !forward.port.contains(p)) {
                        return Err((
                            StatusCode::BAD_REQUEST,
                            format!("port {p}: not in the PortForward request"),
                        ));
                    }
                    forward.port = asked;
                }
                Session::PortForward(forward)
            }
            other => other,
        };
        Ok((session, protocol))
    }
}

/// Refuses a handshake with `status` and `message`.
fn refuse(status: StatusCode, message: String) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(message));
    *response.status_mut() = status;
    response
}

/// The ports of a query's `port=` pairs, each a comma-separated list;
/// what does not parse is left out.
fn query_ports(query: &str) -> Vec<i32> {
    query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("port="))
        .flat_map(|list| list.split(','))
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// kubelet's checks of the streams asked for: stdin, stdout, stderr.
fn streams(wanted: [bool; 3], tty: bool) -> Result<(), Status> {
    let [_, _, stderr] = wanted;
    if !wanted.contains(&true) {
        return Err(Status::invalid_argument(
            "one of stdin, stdout, or stderr must be set",
        ));
    }
    if tty && stderr {
        return Err(Status::invalid_argument(
            "tty and stderr cannot both be true",
        ));
    }
    Ok(())
}
