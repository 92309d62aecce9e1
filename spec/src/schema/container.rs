//! Container and what it holds: env, ports, resources, mounts, hooks,
//! probes, security context.

use super::Kind::{
    Any, Bool, Enum, Int32, Int64, IntOrString, List, Object, Quantity, QuantityMap, String,
};
use super::Support::{ClusterOnly, Unsupported};
use super::{TypeDef, opt, req, with};

const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
const MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];
const PROPAGATIONS: &[&str] = &["None", "HostToContainer", "Bidirectional"];

/// `Container`.
pub(crate) static CONTAINER: TypeDef = TypeDef {
    name: "Container",
    doc: "A single application container that you want to run within a pod.",
    fields: &[
        req(
            "name",
            String,
            "Name of the container, unique in the pod; a DNS-1123 label.",
        ),
        req(
            "image",
            String,
            "Container image name (docker.io/library/busybox:1.36, nginx@sha256:...).",
        ),
        opt(
            "imagePullPolicy",
            Enum(PULL_POLICIES),
            "Always, Never, IfNotPresent. Defaults to Always if the :latest tag (or no tag and no digest) is given, IfNotPresent otherwise.",
        ),
        opt(
            "command",
            List(&String),
            "Entrypoint array, not run in a shell; replaces the image's ENTRYPOINT and drops its CMD. $(VAR) references expand from the container's environment.",
        ),
        opt(
            "args",
            List(&String),
            "Arguments to the entrypoint; replace the image's CMD. $(VAR) references expand.",
        ),
        opt(
            "workingDir",
            String,
            "Container's working directory; the image's when not given.",
        ),
        opt(
            "env",
            List(&Object(&ENV_VAR)),
            "Environment variables to set in the container.",
        ),
        opt(
            "envFrom",
            List(&Object(&ENV_FROM_SOURCE)),
            "Sources of environment variables: every key of a ConfigMap or Secret. Set before env.",
        ),
        opt(
            "ports",
            List(&Object(&CONTAINER_PORT)),
            "Ports to expose from the container; hostPort publishes one on the host.",
        ),
        opt(
            "resources",
            Object(&RESOURCE_REQUIREMENTS),
            "Compute resources (cpu, memory) requested and limited; limits become cgroup limits.",
        ),
        opt(
            "volumeMounts",
            List(&Object(&VOLUME_MOUNT)),
            "Pod volumes to mount into the container's filesystem.",
        ),
        opt(
            "lifecycle",
            Object(&LIFECYCLE),
            "Actions taken in response to container lifecycle events: postStart, preStop.",
        ),
        opt(
            "livenessProbe",
            Object(&PROBE),
            "Periodic probe of container liveness; the container is restarted when it fails.",
        ),
        opt(
            "readinessProbe",
            Object(&PROBE),
            "Periodic probe of container service readiness.",
        ),
        opt(
            "startupProbe",
            Object(&PROBE),
            "Probe that the container has started; the other probes wait for it.",
        ),
        opt(
            "securityContext",
            Object(&SECURITY_CONTEXT),
            "Security options the container runs with.",
        ),
        opt(
            "restartPolicy",
            Enum(&["Always"]),
            "Init containers only: Always makes the init container a sidecar that runs beside the app containers.",
        ),
        with(
            "restartPolicyRules",
            Any,
            Unsupported,
            "Per-exit-code restart rules of a container (ContainerRestartRules, alpha); peapod restarts by the pod's restartPolicy only.",
        ),
        opt(
            "stdin",
            Bool,
            "Allocate a buffer for stdin in the container runtime. Default false.",
        ),
        opt(
            "stdinOnce",
            Bool,
            "Close stdin after the first attach ends. Default false. peapod has no attach: stdin stays open, as for a container no one attached to.",
        ),
        opt(
            "tty",
            Bool,
            "Allocate a TTY for the container; needs stdin. Default false.",
        ),
        opt(
            "terminationMessagePath",
            String,
            "File the container's termination message is read from. Default /dev/termination-log.",
        ),
        opt(
            "terminationMessagePolicy",
            Enum(MESSAGE_POLICIES),
            "File (default) or FallbackToLogsOnError: the last lines of the log when the file is empty and the container failed.",
        ),
        with(
            "resizePolicy",
            Any,
            ClusterOnly,
            "In-place resize policy; ignored.",
        ),
        with(
            "volumeDevices",
            Any,
            Unsupported,
            "Raw block devices from persistent volume claims; no claims on a single host.",
        ),
    ],
};

/// `EnvVar`.
pub(crate) static ENV_VAR: TypeDef = TypeDef {
    name: "EnvVar",
    doc: "EnvVar represents an environment variable present in a container.",
    fields: &[
        req("name", String, "Name of the environment variable."),
        opt(
            "value",
            String,
            "Value; $(VAR) references to earlier variables expand, $$(VAR) escapes.",
        ),
        opt(
            "valueFrom",
            Object(&ENV_VAR_SOURCE),
            "Source of the value; cannot be used with value.",
        ),
    ],
};

/// `EnvVarSource`.
pub(crate) static ENV_VAR_SOURCE: TypeDef = TypeDef {
    name: "EnvVarSource",
    doc: "EnvVarSource represents a source for the value of an EnvVar: exactly one field.",
    fields: &[
        opt(
            "fieldRef",
            Object(&OBJECT_FIELD_SELECTOR),
            "A field of the pod: metadata.name, metadata.namespace, metadata.uid, metadata.labels['<key>'], metadata.annotations['<key>'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP, status.podIPs.",
        ),
        opt(
            "resourceFieldRef",
            Object(&RESOURCE_FIELD_SELECTOR),
            "A resource of the container: limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage.",
        ),
        opt(
            "configMapKeyRef",
            Object(&KEY_SELECTOR),
            "A key of a ConfigMap.",
        ),
        opt("secretKeyRef", Object(&KEY_SELECTOR), "A key of a Secret."),
        with(
            "fileKeyRef",
            Any,
            Unsupported,
            "A key of an env file written by an init container into an emptyDir (EnvFiles, alpha); peapod does not read env files: use a configMapKeyRef, or source the file in the command.",
        ),
    ],
};

/// `ObjectFieldSelector`.
pub(crate) static OBJECT_FIELD_SELECTOR: TypeDef = TypeDef {
    name: "ObjectFieldSelector",
    doc: "ObjectFieldSelector selects a field of the pod.",
    fields: &[
        opt(
            "apiVersion",
            String,
            "Version of the schema the fieldPath is written in; default v1.",
        ),
        req("fieldPath", String, "Path of the field to select."),
    ],
};

/// `ResourceFieldSelector`.
pub(crate) static RESOURCE_FIELD_SELECTOR: TypeDef = TypeDef {
    name: "ResourceFieldSelector",
    doc: "ResourceFieldSelector represents container resources (cpu, memory) and their output format.",
    fields: &[
        opt(
            "containerName",
            String,
            "Container name: required for volumes, optional for env vars.",
        ),
        req(
            "resource",
            String,
            "Required: resource to select (limits.cpu, requests.memory, ...).",
        ),
        opt(
            "divisor",
            Quantity,
            "Output format of the exposed resources; default 1.",
        ),
    ],
};

/// `ConfigMapKeySelector` / `SecretKeySelector`.
pub(crate) static KEY_SELECTOR: TypeDef = TypeDef {
    name: "KeySelector",
    doc: "Selects a key of a ConfigMap or Secret.",
    fields: &[
        req(
            "name",
            String,
            "Name of the ConfigMap or Secret, in this file or supplied at run time.",
        ),
        req("key", String, "The key to select."),
        opt(
            "optional",
            Bool,
            "Specify whether the object or its key must be defined.",
        ),
    ],
};

/// `EnvFromSource`.
pub(crate) static ENV_FROM_SOURCE: TypeDef = TypeDef {
    name: "EnvFromSource",
    doc: "EnvFromSource represents the source of a set of environment variables.",
    fields: &[
        opt("prefix", String, "An identifier to prepend to each key."),
        opt(
            "configMapRef",
            Object(&OBJECT_REF),
            "The ConfigMap to select from.",
        ),
        opt(
            "secretRef",
            Object(&OBJECT_REF),
            "The Secret to select from.",
        ),
    ],
};

/// `ConfigMapEnvSource` / `SecretEnvSource`.
pub(crate) static OBJECT_REF: TypeDef = TypeDef {
    name: "EnvSource",
    doc: "Selects a whole ConfigMap or Secret.",
    fields: &[
        req("name", String, "Name of the ConfigMap or Secret."),
        opt(
            "optional",
            Bool,
            "Specify whether the object must be defined.",
        ),
    ],
};

/// `ContainerPort`.
pub(crate) static CONTAINER_PORT: TypeDef = TypeDef {
    name: "ContainerPort",
    doc: "ContainerPort represents a network port in a single container.",
    fields: &[
        opt(
            "name",
            String,
            "An IANA_SVC_NAME, unique within the pod; probes can refer to the port by it.",
        ),
        req(
            "containerPort",
            Int32,
            "Number of port to expose on the pod's IP address: 0 < x < 65536.",
        ),
        opt(
            "hostPort",
            Int32,
            "Number of port to expose on the host: 0 < x < 65536; forwarded to containerPort. Two pods cannot claim the same hostPort, protocol and hostIP.",
        ),
        opt(
            "hostIP",
            String,
            "What host IP to bind the external port to; all addresses when not given.",
        ),
        opt(
            "protocol",
            Enum(PROTOCOLS),
            "Protocol for port: UDP, TCP (default) or SCTP.",
        ),
    ],
};

/// `ResourceRequirements`.
pub(crate) static RESOURCE_REQUIREMENTS: TypeDef = TypeDef {
    name: "ResourceRequirements",
    doc: "ResourceRequirements describes the compute resource requirements.",
    fields: &[
        opt(
            "limits",
            QuantityMap,
            "Maximum amount of compute resources allowed (cpu, memory, ephemeral-storage, hugepages-<size>). ephemeral-storage is enforced as kubelet does: every 10 s the container's writable layer and logs (and, against the sum of the containers' limits, the whole pod's with its disk emptyDirs) are measured and the pod is evicted past it (phase Failed, reason Evicted).",
        ),
        opt(
            "requests",
            QuantityMap,
            "Minimum amount of compute resources required; defaults to limits.",
        ),
        with(
            "claims",
            Any,
            ClusterOnly,
            "Dynamic resource claims; ignored on a single host.",
        ),
    ],
};

/// `VolumeMount`.
pub(crate) static VOLUME_MOUNT: TypeDef = TypeDef {
    name: "VolumeMount",
    doc: "VolumeMount describes a mounting of a Volume within a container.",
    fields: &[
        req(
            "name",
            String,
            "This must match the name of a volume of the pod.",
        ),
        req(
            "mountPath",
            String,
            "Path within the container at which the volume should be mounted; must not contain ':'.",
        ),
        opt(
            "subPath",
            String,
            "Path within the volume from which the container's volume should be mounted; default the volume's root.",
        ),
        opt(
            "subPathExpr",
            String,
            "Like subPath, with $(VAR) references expanded from the container's environment. Exclusive with subPath.",
        ),
        opt(
            "readOnly",
            Bool,
            "Mounted read-only if true. Default false.",
        ),
        opt(
            "mountPropagation",
            Enum(PROPAGATIONS),
            "How mounts are propagated between host and container: None (default), HostToContainer, Bidirectional.",
        ),
        opt(
            "recursiveReadOnly",
            Enum(&["Disabled", "IfPossible", "Enabled"]),
            "With readOnly: IfPossible or Enabled make the mounts below the volume read-only too (mount_setattr with AT_RECURSIVE). Default Disabled.",
        ),
    ],
};

/// `Lifecycle`.
pub(crate) static LIFECYCLE: TypeDef = TypeDef {
    name: "Lifecycle",
    doc: "Lifecycle describes actions taken in response to container lifecycle events.",
    fields: &[
        opt(
            "postStart",
            Object(&LIFECYCLE_HANDLER),
            "Called right after the container is created; the container is not running until it returns, and is killed when it fails.",
        ),
        opt(
            "preStop",
            Object(&LIFECYCLE_HANDLER),
            "Called before the container is terminated; the grace period covers it.",
        ),
        opt(
            "stopSignal",
            String,
            "The signal that stops the container (SIGTERM, SIGUSR1, SIGRTMIN+1, ...), over the image's STOPSIGNAL. Needs spec.os.name.",
        ),
    ],
};

/// `LifecycleHandler`.
pub(crate) static LIFECYCLE_HANDLER: TypeDef = TypeDef {
    name: "LifecycleHandler",
    doc: "LifecycleHandler defines a specific action that should be taken in a lifecycle hook: exactly one field.",
    fields: &[
        opt(
            "exec",
            Object(&EXEC_ACTION),
            "Run a command in the container.",
        ),
        opt(
            "httpGet",
            Object(&HTTP_GET_ACTION),
            "Send an HTTP GET request.",
        ),
        opt(
            "tcpSocket",
            Object(&TCP_SOCKET_ACTION),
            "Deprecated; open a TCP connection.",
        ),
        opt("sleep", Object(&SLEEP_ACTION), "Sleep for a duration."),
    ],
};

/// `Probe`.
pub(crate) static PROBE: TypeDef = TypeDef {
    name: "Probe",
    doc: "Probe describes a health check to be performed against a container: exactly one of exec, httpGet, tcpSocket, grpc.",
    fields: &[
        opt(
            "exec",
            Object(&EXEC_ACTION),
            "Run a command in the container; exit status 0 is healthy.",
        ),
        opt(
            "httpGet",
            Object(&HTTP_GET_ACTION),
            "HTTP GET; a status from 200 to 399 is healthy.",
        ),
        opt(
            "tcpSocket",
            Object(&TCP_SOCKET_ACTION),
            "A TCP connection that opens is healthy.",
        ),
        with(
            "grpc",
            Object(&GRPC_ACTION),
            Unsupported,
            "gRPC health checks; use exec, httpGet or tcpSocket.",
        ),
        opt(
            "initialDelaySeconds",
            Int32,
            "Seconds after the container has started before probes are initiated. Default 0.",
        ),
        opt(
            "timeoutSeconds",
            Int32,
            "Seconds after which the probe times out. Default 1, minimum 1.",
        ),
        opt(
            "periodSeconds",
            Int32,
            "How often (in seconds) to perform the probe. Default 10, minimum 1.",
        ),
        opt(
            "successThreshold",
            Int32,
            "Consecutive successes for the probe to be considered successful after having failed. Default 1; must be 1 for liveness and startup.",
        ),
        opt(
            "failureThreshold",
            Int32,
            "Consecutive failures for the probe to be considered failed after having succeeded. Default 3, minimum 1.",
        ),
        opt(
            "terminationGracePeriodSeconds",
            Int64,
            "Grace period when the probe fails and the container is killed; the pod's when not given.",
        ),
    ],
};

/// `ExecAction`.
pub(crate) static EXEC_ACTION: TypeDef = TypeDef {
    name: "ExecAction",
    doc: "ExecAction describes a \"run in container\" action.",
    fields: &[req(
        "command",
        List(&String),
        "Command line to execute inside the container; not run in a shell.",
    )],
};

/// `HTTPGetAction`.
pub(crate) static HTTP_GET_ACTION: TypeDef = TypeDef {
    name: "HTTPGetAction",
    doc: "HTTPGetAction describes an action based on HTTP Get requests.",
    fields: &[
        opt(
            "path",
            String,
            "Path to access on the HTTP server; default /.",
        ),
        req(
            "port",
            IntOrString,
            "Number or name of the port to access on the container.",
        ),
        opt(
            "host",
            String,
            "Host name to connect to; the pod IP when not given.",
        ),
        opt(
            "scheme",
            Enum(&["HTTP", "HTTPS"]),
            "Scheme to use for connecting to the host: HTTP (default) or HTTPS.",
        ),
        opt(
            "httpHeaders",
            List(&Object(&HTTP_HEADER)),
            "Custom headers to set in the request.",
        ),
    ],
};

/// `HTTPHeader`.
pub(crate) static HTTP_HEADER: TypeDef = TypeDef {
    name: "HTTPHeader",
    doc: "HTTPHeader describes a custom header to be used in HTTP probes.",
    fields: &[
        req("name", String, "The header field name."),
        req("value", String, "The header field value."),
    ],
};

/// `TCPSocketAction`.
pub(crate) static TCP_SOCKET_ACTION: TypeDef = TypeDef {
    name: "TCPSocketAction",
    doc: "TCPSocketAction describes an action based on opening a socket.",
    fields: &[
        req(
            "port",
            IntOrString,
            "Number or name of the port to access on the container.",
        ),
        opt(
            "host",
            String,
            "Host name to connect to; the pod IP when not given.",
        ),
    ],
};

/// `SleepAction`.
pub(crate) static SLEEP_ACTION: TypeDef = TypeDef {
    name: "SleepAction",
    doc: "SleepAction describes a \"sleep\" action.",
    fields: &[req("seconds", Int64, "Seconds to sleep.")],
};

/// `GRPCAction`.
pub(crate) static GRPC_ACTION: TypeDef = TypeDef {
    name: "GRPCAction",
    doc: "GRPCAction specifies an action involving a gRPC port.",
    fields: &[
        req("port", Int32, "Port number of the gRPC service: 1-65535."),
        opt(
            "service",
            String,
            "Service name placed in the gRPC HealthCheckRequest.",
        ),
    ],
};

/// `SecurityContext`.
pub(crate) static SECURITY_CONTEXT: TypeDef = TypeDef {
    name: "SecurityContext",
    doc: "SecurityContext holds security configuration applied to a container; it overrides the pod's.",
    fields: &[
        opt(
            "capabilities",
            Object(&CAPABILITIES),
            "The capabilities to add/drop when running the container. Default: containerd's set (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE); ALL in add or drop; names with or without CAP_.",
        ),
        opt(
            "privileged",
            Bool,
            "Run container in privileged mode: all capabilities, the host's devices, /sys and the cgroup filesystem writable, no masked paths. Default false.",
        ),
        opt(
            "runAsUser",
            Int64,
            "The UID to run the entrypoint of the container process.",
        ),
        opt(
            "runAsGroup",
            Int64,
            "The GID to run the entrypoint of the container process.",
        ),
        opt(
            "runAsNonRoot",
            Bool,
            "Refuse to start the container if its process would run as UID 0.",
        ),
        opt(
            "readOnlyRootFilesystem",
            Bool,
            "Whether this container has a read-only root filesystem. Default false.",
        ),
        opt(
            "allowPrivilegeEscalation",
            Bool,
            "Whether a process can gain more privileges than its parent (no_new_privs when false).",
        ),
        opt(
            "procMount",
            Enum(&["Default", "Unmasked"]),
            "The type of proc mount: Default (masked and read-only paths of /proc and /sys) or Unmasked (none), which needs a user namespace (hostUsers: false).",
        ),
        opt(
            "seccompProfile",
            Object(&SECCOMP_PROFILE),
            "The seccomp profile of the container; overrides the pod's. With none anywhere peapod applies RuntimeDefault (as podman and Docker do; a kubelet only with --seccomp-default). privileged: true runs without seccomp.",
        ),
        with(
            "seLinuxOptions",
            Any,
            Unsupported,
            "SELinux labels; peapod does not label.",
        ),
        with(
            "appArmorProfile",
            Any,
            Unsupported,
            "AppArmor profiles; peapod does not load them.",
        ),
        with(
            "windowsOptions",
            Any,
            Unsupported,
            "Windows settings; peapod runs Linux containers.",
        ),
    ],
};

/// `Capabilities`.
pub(crate) static CAPABILITIES: TypeDef = TypeDef {
    name: "Capabilities",
    doc: "Adds and removes POSIX capabilities from running containers.",
    fields: &[
        opt(
            "add",
            List(&String),
            "Added capabilities (NET_ADMIN, SYS_TIME, ...).",
        ),
        opt(
            "drop",
            List(&String),
            "Removed capabilities (ALL, NET_RAW, ...).",
        ),
    ],
};

/// `SeccompProfile`.
pub(crate) static SECCOMP_PROFILE: TypeDef = TypeDef {
    name: "SeccompProfile",
    doc: "SeccompProfile defines a pod/container's seccomp profile settings.",
    fields: &[
        req(
            "type",
            Enum(&["RuntimeDefault", "Unconfined", "Localhost"]),
            "RuntimeDefault: the Docker/containerd default profile (about 370 calls allowed; the rest, such as mount, unshare, keyctl, bpf and io_uring_*, AF_ALG and AF_VSOCK sockets, and calls gated by a capability the container lacks, get EPERM; clone3 gives ENOSYS). Unconfined: no filter. Localhost: the profile file localhostProfile names. Only the native ABI passes (32-bit and x32 calls kill the process).",
        ),
        opt(
            "localhostProfile",
            String,
            "With Localhost: an OCI/Docker JSON profile, relative to /var/lib/peapod/seccomp (<root>/lib/seccomp with --root). A missing or malformed file stops the container with CreateContainerError.",
        ),
    ],
};
