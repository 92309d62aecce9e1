//! What a hook or probe does, resolved from the manifest: the command, or
//! the HTTP request, the TCP port, the sleep — ports looked up by name
//! against the container's ports, paths and schemes defaulted as kubelet
//! does.

use std::time::Duration;

use peapod_spec::{Container, IntOrString, LifecycleHandler, Probe, URIScheme};

use crate::error::{Error, Result};

/// Who runs the handler. It changes kubelet's `User-Agent`
/// (`kube-probe/…` or `kube-lifecycle/…`) and what an HTTP answer means:
/// a probe passes on 200–399, a hook on any answer at all (kubelet's hook
/// runner only checks that the request went through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `postStart` or `preStop`.
    Hook,
    /// A startup, liveness or readiness probe.
    Probe,
}

/// One handler, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// Run a command in the container; exit 0 passes.
    Exec(Exec),
    /// An HTTP GET.
    HttpGet(HttpGet),
    /// A TCP connection that opens passes.
    TcpSocket(TcpSocket),
    /// Wait, then pass.
    Sleep(Duration),
}

/// `exec`: the command, not run through a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    /// `argv`.
    pub command: Vec<String>,
}

/// HTTP or HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Plain HTTP.
    #[default]
    Http,
    /// TLS without certificate verification, as kubelet does.
    Https,
}

impl Scheme {
    /// `http` or `https`, as a URL writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// `httpGet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGet {
    /// The host to connect to; the pod IP (from the run context) when `None`.
    pub host: Option<String>,
    /// The port, resolved to a number.
    pub port: u16,
    /// The request target: path and query, starting with `/`.
    pub path: String,
    /// HTTP or HTTPS.
    pub scheme: Scheme,
    /// Extra headers, in order; a `Host` or `User-Agent` here replaces
    /// kubelet's.
    pub headers: Vec<(String, String)>,
    /// Hook or probe.
    pub purpose: Purpose,
}

/// `tcpSocket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSocket {
    /// The host to connect to; the pod IP (from the run context) when `None`.
    pub host: Option<String>,
    /// The port, resolved to a number.
    pub port: u16,
}

impl Handler {
    /// The handler of a `postStart` or `preStop` hook of `container`. A
    /// `tcpSocket` hook is refused, as kubelet fails it: record the error
    /// as the hook's failure (`FailedPostStartHook`).
    pub fn from_spec(handler: &LifecycleHandler, container: &Container) -> Result<Self> {
        let set = [
            handler.exec.is_some(),
            handler.http_get.is_some(),
            handler.tcp_socket.is_some(),
            handler.sleep.is_some(),
        ];
        exactly_one(&set)?;
        if handler.tcp_socket.is_some() {
            // Accepted by the API for backward compatibility, but kubelet's
            // handler runner refuses it: the hook fails at run time.
            return Err(Error::invalid(
                "tcpSocket",
                "not supported as a lifecycle handler",
            ));
        }
        if let Some(sleep) = &handler.sleep {
            let seconds = u64::try_from(sleep.seconds)
                .map_err(|_| Error::invalid("sleep.seconds", "must not be negative"))?;
            return Ok(Self::Sleep(Duration::from_secs(seconds)));
        }
        Self::from_action(
            handler.exec.as_ref(),
            handler.http_get.as_ref(),
            None,
            container,
            Purpose::Hook,
        )
    }

    /// The handler of a startup, liveness or readiness probe of
    /// `container`. gRPC probes are not supported yet.
    pub fn from_probe(probe: &Probe, container: &Container) -> Result<Self> {
        let set = [
            probe.exec.is_some(),
            probe.http_get.is_some(),
            probe.tcp_socket.is_some(),
            probe.grpc.is_some(),
        ];
        exactly_one(&set)?;
        if probe.grpc.is_some() {
            return Err(Error::invalid("grpc", "gRPC probes are not supported"));
        }
        Self::from_action(
            probe.exec.as_ref(),
            probe.http_get.as_ref(),
            probe.tcp_socket.as_ref(),
            container,
            Purpose::Probe,
        )
    }

    fn from_action(
        exec: Option<&peapod_spec::ExecAction>,
        http_get: Option<&peapod_spec::HTTPGetAction>,
        tcp_socket: Option<&peapod_spec::TCPSocketAction>,
        container: &Container,
        purpose: Purpose,
    ) -> Result<Self> {
        if let Some(exec) = exec {
            if exec.command.is_empty() {
                return Err(Error::invalid("exec.command", "empty command"));
            }
            return Ok(Self::Exec(Exec {
                command: exec.command.clone(),
            }));
        }
        if let Some(get) = http_get {
            return Ok(Self::HttpGet(HttpGet {
                host: non_empty(get.host.as_deref()),
                port: resolve_port(&get.port, container)?,
                path: request_target(get.path.as_deref()),
                scheme: match get.scheme {
                    URIScheme::Http => Scheme::Http,
                    URIScheme::Https => Scheme::Https,
                },
                headers: get
                    .http_headers
                    .iter()
                    .map(|h| (h.name.clone(), h.value.clone()))
                    .collect(),
                purpose,
            }));
        }
        if let Some(tcp) = tcp_socket {
            return Ok(Self::TcpSocket(TcpSocket {
                host: non_empty(tcp.host.as_deref()),
                port: resolve_port(&tcp.port, container)?,
            }));
        }
        Err(Error::invalid("handler", "no action given"))
    }

    /// `exec`, `httpGet`, `tcpSocket` or `sleep`, as the manifest names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Exec(_) => "exec",
            Self::HttpGet(_) => "httpGet",
            Self::TcpSocket(_) => "tcpSocket",
            Self::Sleep(_) => "sleep",
        }
    }
}

fn exactly_one(set: &[bool]) -> Result<()> {
    match set.iter().filter(|s| **s).count() {
        1 => Ok(()),
        0 => Err(Error::invalid("handler", "no action given")),
        _ => Err(Error::invalid("handler", "more than one action given")),
    }
}

fn non_empty(host: Option<&str>) -> Option<String> {
    host.filter(|h| !h.is_empty()).map(str::to_owned)
}

/// The path as an HTTP request target: `/` when empty, a leading `/` added
/// when missing (Go's client sends `/` for an empty path).
fn request_target(path: Option<&str>) -> String {
    match path.unwrap_or("") {
        "" => "/".to_owned(),
        p if p.starts_with('/') => p.to_owned(),
        p => format!("/{p}"),
    }
}

/// kubelet's `extractPort`: a number, or the name of one of the
/// container's ports, or — last try — a number written as a string; then
/// 1–65535.
pub(crate) fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16> {
    let number = match port {
        IntOrString::Int(n) => i64::from(*n),
        IntOrString::String(name) => {
            let named = container
                .ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .map(|p| i64::from(p.container_port));
            match named.or_else(|| name.parse().ok()) {
                Some(n) => n,
                None => return Err(Error::UnknownPort { name: name.clone() }),
            }
        }
    };
    u16::try_from(number)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| Error::invalid("port", format!("invalid port number: {number}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::{ContainerPort, ExecAction, HTTPGetAction, HTTPHeader, SleepAction};

    fn container_with_port(name: &str, port: i32) -> Container {
        Container {
            name: "web".into(),
            ports: vec![ContainerPort {
                name: Some(name.into()),
                container_port: port,
                ..ContainerPort::default()
            }],
            ..Container::default()
        }
    }

    fn http_probe(get: HTTPGetAction) -> Probe {
        Probe {
            http_get: Some(get),
            ..Probe::default()
        }
    }

    #[test]
    fn named_port_resolves_against_container_ports() {
        let c = container_with_port("http", 8080);
        let probe = http_probe(HTTPGetAction {
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        });
        let Handler::HttpGet(get) = Handler::from_probe(&probe, &c).unwrap() else {
            panic!("not httpGet");
        };
        assert_eq!(get.port, 8080);
        assert_eq!(
            get.host, None,
            "default host is the pod IP, given at run time"
        );
        assert_eq!(get.path, "/");
        assert_eq!(get.scheme, Scheme::Http);
        assert_eq!(get.purpose, Purpose::Probe);
    }

    #[test]
    fn port_name_that_is_a_number_is_taken_as_one() {
        let c = Container::default();
        assert_eq!(
            resolve_port(&IntOrString::String("9090".into()), &c).unwrap(),
            9090
        );
    }

    #[test]
    fn unknown_port_name_is_named_in_the_error() {
        let c = container_with_port("http", 80);
        let err = resolve_port(&IntOrString::String("metrics".into()), &c).unwrap_err();
        assert!(err.to_string().contains("\"metrics\""), "{err}");
    }

    #[test]
    fn port_out_of_range_is_refused() {
        let c = Container::default();
        for bad in [0, -1, 65536] {
            let err = resolve_port(&IntOrString::Int(bad), &c).unwrap_err();
            assert!(err.to_string().contains("invalid port number"), "{err}");
        }
    }

    #[test]
    fn https_scheme_headers_and_path_are_kept() {
        let c = Container::default();
        let probe = http_probe(HTTPGetAction {
            path: Some("healthz?full=1".into()),
            port: IntOrString::Int(8443),
            host: Some("example.test".into()),
            scheme: URIScheme::Https,
            http_headers: vec![HTTPHeader {
                name: "X-Probe".into(),
                value: "1".into(),
            }],
        });
        let Handler::HttpGet(get) = Handler::from_probe(&probe, &c).unwrap() else {
            panic!("not httpGet");
        };
        assert_eq!(get.scheme, Scheme::Https);
        assert_eq!(get.path, "/healthz?full=1");
        assert_eq!(get.host.as_deref(), Some("example.test"));
        assert_eq!(get.headers, vec![("X-Probe".into(), "1".into())]);
    }

    #[test]
    fn lifecycle_exec_and_sleep_build() {
        let c = Container::default();
        let exec = LifecycleHandler {
            exec: Some(ExecAction {
                command: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            }),
            ..LifecycleHandler::default()
        };
        assert_eq!(
            Handler::from_spec(&exec, &c).unwrap(),
            Handler::Exec(Exec {
                command: vec!["/bin/sh".into(), "-c".into(), "true".into()]
            })
        );
        let sleep = LifecycleHandler {
            sleep: Some(SleepAction { seconds: 5 }),
            ..LifecycleHandler::default()
        };
        assert_eq!(
            Handler::from_spec(&sleep, &c).unwrap(),
            Handler::Sleep(Duration::from_secs(5))
        );
    }

    #[test]
    fn hook_http_get_is_marked_as_hook() {
        let c = container_with_port("http", 80);
        let hook = LifecycleHandler {
            http_get: Some(HTTPGetAction {
                port: IntOrString::String("http".into()),
                ..HTTPGetAction::default()
            }),
            ..LifecycleHandler::default()
        };
        let Handler::HttpGet(get) = Handler::from_spec(&hook, &c).unwrap() else {
            panic!("not httpGet");
        };
        assert_eq!(get.purpose, Purpose::Hook);
    }

    #[test]
    fn tcp_socket_hook_is_refused_as_kubelet_does() {
        let hook = LifecycleHandler {
            tcp_socket: Some(peapod_spec::TCPSocketAction {
                port: IntOrString::Int(80),
                host: None,
            }),
            ..LifecycleHandler::default()
        };
        let err = Handler::from_spec(&hook, &Container::default()).unwrap_err();
        assert!(err.to_string().contains("tcpSocket"), "{err}");
    }

    #[test]
    fn empty_or_double_handlers_are_refused() {
        let c = Container::default();
        assert!(Handler::from_spec(&LifecycleHandler::default(), &c).is_err());
        let two = LifecycleHandler {
            exec: Some(ExecAction {
                command: vec!["true".into()],
            }),
            sleep: Some(SleepAction { seconds: 1 }),
            ..LifecycleHandler::default()
        };
        assert!(Handler::from_spec(&two, &c).is_err());
        let empty = LifecycleHandler {
            exec: Some(ExecAction::default()),
            ..LifecycleHandler::default()
        };
        assert!(Handler::from_spec(&empty, &c).is_err());
    }
}
