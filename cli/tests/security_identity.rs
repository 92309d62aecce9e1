//! Who a container's processes are and what they may do, seen from inside:
//! users and groups (pod and container `securityContext`, the image's
//! `USER`, `/etc/group`), the five capability sets, what an ordinary
//! container cannot do and a privileged one (or one given the capability)
//! can, `no_new_privs`, `runAsNonRoot` — for the container's own process
//! and for `peapod exec`. Root only; each test has its own `--root`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;

use common::{Pod, Root, shared, start};
use peapod_testkit::{TempDir, busybox_rootfs};

/// One pod of busybox containers, each `sleep`ing, with `spec_extra`
/// under `spec:` and each container's own lines.
fn pod_yaml(name: &str, spec_extra: &str, containers: &[(&str, &str, &str)]) -> String {
    let head = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{spec_extra}  containers:\n"
    );
    containers
        .iter()
        .fold(head, |yaml, (container, image, extra)| {
            yaml + &format!(
                "  - name: {container}\n    image: {image}\n    command: [sleep, \"1000\"]\n{extra}"
            )
        })
}

/// The capability and no_new_privs lines of `/proc/self/status` of a
/// process `peapod exec` runs in `container`, as `(name, value)` pairs.
fn status_fields(pod: &Pod<'_>, container: &str) -> Vec<(String, String)> {
    let out = pod.sh(
        container,
        "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status",
    );
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or_else(|| panic!("no {name} in {fields:?}"), |(_, v)| v.clone())
}

/// `CapInh CapPrm CapEff CapBnd CapAmb` in one string.
fn five_sets(pod: &Pod<'_>, container: &str) -> String {
    let f = status_fields(pod, container);
    ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        .iter()
        .map(|n| field(&f, n))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The test process's own permitted set: what peapod holds, so what a
/// privileged container gets.
fn own_permitted() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapPrm:"))
        .unwrap()
        .trim()
        .to_owned()
}

/// The exit code of `script` run with `sh -c` in `container`.
fn code(pod: &Pod<'_>, container: &str, script: &str) -> i32 {
    pod.exec(container, &["sh", "-c", script]).0
}

const DEFAULT_SET: &str = "00000000a80425fb";
const NONE: &str = "0000000000000000";

#[test]
fn pod_level_ids_supplemental_groups_and_fs_group_apply_in_the_container_and_in_exec() {
    let Some((_host, root)) = start("pod_level_ids", "sec-ids", shared) else {
        return;
    };
    let spec = "  securityContext:\n    runAsUser: 1000\n    runAsGroup: 3000\n    supplementalGroups: [4000]\n    fsGroup: 2000\n  volumes:\n  - name: data\n    emptyDir: {}\n";
    let mut yaml = pod_yaml("ids", spec, &[]);
    // The container's own process writes what it is before it sleeps.
    yaml.push_str(
        "  - name: app\n    image: busybox:1.31.1\n    command: [sh, -c, 'id > /data/id; touch /data/created; exec sleep 1000']\n    volumeMounts:\n    - {name: data, mountPath: /data}\n",
    );
    let pod = root.apply("ids", &yaml);
    let want = "uid=1000 gid=3000 groups=2000,3000,4000\n";
    let id_file = wait_for_file(&pod, "app", "/data/id");
    assert_eq!(id_file, want, "the container's own process");
    assert_eq!(pod.sh("app", "id"), want, "peapod exec");
    assert_eq!(pod.sh("app", "stat -c %u:%g /data/created"), "1000:2000\n");
    // HOME from the image's passwd, which has no uid 1000: `/`.
    assert_eq!(pod.sh("app", "echo $HOME"), "/\n");
    // A non-root user: nothing permitted or effective after execve, the
    // default set only as the bound, as under runc.
    assert_eq!(
        five_sets(&pod, "app"),
        format!("{NONE} {NONE} {NONE} {DEFAULT_SET} {NONE}")
    );
}

/// Waits until `path` in `container` is non-empty; returns its text.
fn wait_for_file(pod: &Pod<'_>, container: &str, path: &str) -> String {
    pod.sh(
        container,
        &format!("while [ ! -s {path} ]; do sleep 0.05; done; cat {path}"),
    )
}

#[test]
fn root_containers_get_containerds_default_set_and_add_drop_all_and_privileged_change_it() {
    let Some((_host, root)) = start("capability_sets", "sec-caps", shared) else {
        return;
    };
    let yaml = pod_yaml(
        "caps",
        "",
        &[
            ("plain", "busybox:1.31.1", ""),
            (
                "added",
                "busybox:1.31.1",
                "    securityContext:\n      capabilities:\n        add: [NET_ADMIN, CAP_SYS_ADMIN]\n        drop: [chown]\n",
            ),
            (
                "only",
                "busybox:1.31.1",
                "    securityContext:\n      capabilities:\n        drop: [ALL]\n        add: [NET_RAW]\n",
            ),
            (
                "none",
                "busybox:1.31.1",
                "    securityContext:\n      capabilities:\n        drop: [all]\n",
            ),
            (
                "privileged",
                "busybox:1.31.1",
                "    securityContext:\n      privileged: true\n",
            ),
        ],
    );
    let pod = root.apply("caps", &yaml);
    // Root: bounding = permitted = effective = the set; inheritable and
    // ambient empty (runc since CVE-2022-24769).
    let root_sets = |set: &str| format!("{NONE} {set} {set} {set} {NONE}");
    assert_eq!(five_sets(&pod, "plain"), root_sets(DEFAULT_SET));
    // + NET_ADMIN (12) + SYS_ADMIN (21) - CHOWN (0).
    assert_eq!(five_sets(&pod, "added"), root_sets("00000000a82435fa"));
    assert_eq!(five_sets(&pod, "only"), root_sets("0000000000002000"));
    assert_eq!(five_sets(&pod, "none"), root_sets(NONE));
    assert_eq!(five_sets(&pod, "privileged"), root_sets(&own_permitted()));
    // The container's own process, not only exec: its pid 1 is `sleep`.
    let own = pod.sh("plain", "grep CapEff /proc/1/status");
    assert!(own.contains(DEFAULT_SET), "{own}");
}

#[test]
fn an_ordinary_container_is_refused_what_privileged_or_an_added_capability_allows() {
    let Some((_host, root)) = start("capability_attacks", "sec-attacks", shared) else {
        return;
    };
    let yaml = pod_yaml(
        "attacks",
        "",
        &[
            ("plain", "busybox:1.31.1", ""),
            (
                "nonroot",
                "busybox:1.31.1",
                "    securityContext:\n      runAsUser: 1000\n",
            ),
            (
                "added",
                "busybox:1.31.1",
                "    securityContext:\n      capabilities:\n        add: [NET_ADMIN, SYS_ADMIN]\n",
            ),
            (
                "privileged",
                "busybox:1.31.1",
                "    securityContext:\n      privileged: true\n",
            ),
        ],
    );
    let pod = root.apply("attacks", &yaml);
    let mount = "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m";
    let address = "ip addr add 10.250.250.250/32 dev eth0";
    let hostname = "hostname attacked";
    let mknod = "mknod /tmp/disk b 8 0";
    let chown = "touch /tmp/f && chown 2000 /tmp/f";
    for (what, script) in [
        ("mount", mount),
        ("ip addr add", address),
        ("sethostname", hostname),
    ] {
        assert_ne!(
            code(&pod, "plain", script),
            0,
            "{what} in an ordinary container"
        );
        assert_ne!(code(&pod, "nonroot", script), 0, "{what} as non-root");
    }
    assert_ne!(code(&pod, "nonroot", mknod), 0, "mknod as non-root");
    assert_ne!(code(&pod, "nonroot", chown), 0, "chown as non-root");
    // The same succeed where the capability is there: the test can tell.
    assert_eq!(code(&pod, "added", mount), 0, "mount with SYS_ADMIN");
    // RuntimeDefault opens clone3 and new namespaces to CAP_SYS_ADMIN
    // (its capability-gated groups), not to the default set.
    let clone3 = ["probe", "clone3", "mount"];
    assert_eq!(pod.exec("plain", &clone3), (1, "clone3: ENOSYS\n".into()));
    assert_eq!(pod.exec("added", &clone3), (0, "clone3: ok\n".into()));
    assert_eq!(
        code(&pod, "added", address),
        0,
        "ip addr add with NET_ADMIN"
    );
    assert_eq!(code(&pod, "plain", chown), 0, "chown with CAP_CHOWN");
    assert_eq!(code(&pod, "privileged", mknod), 0, "mknod privileged");
    // Last: the pod shares one UTS namespace.
    assert_eq!(
        code(&pod, "privileged", hostname),
        0,
        "sethostname privileged"
    );
}

#[test]
fn allow_privilege_escalation_false_sets_no_new_privs_for_the_container_and_exec() {
    let Some((_host, root)) = start("no_new_privs", "sec-nnp", shared) else {
        return;
    };
    let yaml = pod_yaml(
        "nnp",
        "",
        &[
            ("default", "busybox:1.31.1", ""),
            (
                "locked",
                "busybox:1.31.1",
                "    securityContext:\n      allowPrivilegeEscalation: false\n",
            ),
        ],
    );
    let pod = root.apply("nnp", &yaml);
    assert_eq!(field(&status_fields(&pod, "default"), "NoNewPrivs"), "0");
    assert_eq!(field(&status_fields(&pod, "locked"), "NoNewPrivs"), "1");
    let own = pod.sh("locked", "grep NoNewPrivs /proc/1/status");
    assert!(own.ends_with("1\n"), "{own}");
}

/// Imports the busybox rootfs as `name`, with `change` instructions.
fn import(root: &Root, rootfs: &Path, name: &str, change: &str) {
    root.ok(&[
        "image",
        "import",
        "-c",
        r#"CMD ["sh"]"#,
        "-c",
        change,
        rootfs.to_str().unwrap(),
        name,
    ]);
}

#[test]
fn image_user_is_honoured_unless_run_as_user_is_set_and_its_groups_merge() {
    let Some((_host, root)) = start("image_user", "sec-image-user", shared) else {
        return;
    };
    // busybox with a user `app` (1000) listed in group `extra` (5000).
    let tmp = TempDir::new("sec-rootfs");
    let rootfs = tmp.path().join("rootfs");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(busybox_rootfs())
        .arg(&rootfs)
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:5000:app\n",
    )
    .unwrap();
    import(&root, &rootfs, "busybox:nobody", "USER nobody");
    import(&root, &rootfs, "busybox:app", "USER app");
    import(&root, &rootfs, "busybox:numeric", "USER 1000:3000");
    let strict = "  securityContext:\n    supplementalGroupsPolicy: Strict\n";
    let yaml = pod_yaml(
        "users",
        "",
        &[
            ("nobody", "busybox:nobody", ""),
            ("app", "busybox:app", ""),
            ("numeric", "busybox:numeric", ""),
            (
                "overridden",
                "busybox:app",
                "    securityContext:\n      runAsUser: 65534\n",
            ),
        ],
    );
    let pod = root.apply("users", &yaml);
    assert_eq!(
        pod.sh("nobody", "id"),
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
    );
    assert_eq!(pod.sh("nobody", "echo $HOME"), "/nonexistent\n");
    // Merge (the default): the groups /etc/group lists `app` in.
    assert_eq!(
        pod.sh("app", "id"),
        "uid=1000(app) gid=1000(app) groups=1000(app),5000(extra)\n"
    );
    assert_eq!(pod.sh("app", "echo $HOME"), "/home/app\n");
    assert_eq!(pod.sh("numeric", "id -u; id -g"), "1000\n3000\n");
    assert_eq!(pod.sh("overridden", "id -u; id -g"), "65534\n65534\n");
    let own = pod.sh("app", "grep -E '^(Uid|Gid):' /proc/1/status");
    assert!(own.contains("1000\t1000\t1000\t1000"), "{own}");
    drop(pod);
    let pod = root.apply(
        "strict",
        &pod_yaml("strict", strict, &[("app", "busybox:app", "")]),
    );
    assert_eq!(
        pod.sh("app", "id"),
        "uid=1000(app) gid=1000(app) groups=1000(app)\n"
    );
}

#[test]
fn run_as_non_root_waits_with_kubelets_reason_and_message() {
    let Some((_host, root)) = start("run_as_non_root", "sec-nonroot", shared) else {
        return;
    };
    let rootfs = busybox_rootfs();
    import(&root, rootfs, "busybox:named", "USER nobody");
    let non_root = "    securityContext:\n      runAsNonRoot: true\n";
    let yaml = pod_yaml(
        "guarded",
        "",
        &[
            ("rooted", "busybox:1.31.1", non_root),
            ("named", "busybox:named", non_root),
            (
                "numbered",
                "busybox:1.31.1",
                "    securityContext:\n      runAsNonRoot: true\n      runAsUser: 1000\n",
            ),
        ],
    );
    let pod = root.apply("guarded", &yaml);
    let v = pod.wait_for("both refused", |v| {
        v["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|s| {
                s.iter()
                    .filter(|c| c["state"]["waiting"]["reason"] == "CreateContainerConfigError")
                    .count()
                    == 2
            })
    });
    let uid = v["metadata"]["uid"].as_str().unwrap();
    let message = |name: &str| {
        v["status"]["containerStatuses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["state"]["waiting"]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        message("rooted"),
        format!(
            "container has runAsNonRoot and image will run as root (pod: \"guarded_default({uid})\", container: rooted)"
        )
    );
    assert_eq!(
        message("named"),
        format!(
            "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: \"guarded_default({uid})\", container: named)"
        )
    );
    // The verifiable one runs.
    assert_eq!(pod.sh("numbered", "id -u"), "1000\n");
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains("CreateContainerConfigError"), "{table}");
}

#[test]
fn hooks_and_exec_probes_run_with_the_containers_identity() {
    let Some((_host, root)) = start("hook_identity", "sec-hooks", shared) else {
        return;
    };
    let extra = "    securityContext:\n      runAsUser: 1000\n      runAsGroup: 3000\n      allowPrivilegeEscalation: false\n    lifecycle:\n      postStart:\n        exec:\n          command: [sh, -c, 'id > /tmp/hook; grep NoNewPrivs /proc/self/status >> /tmp/hook']\n    readinessProbe:\n      exec:\n        command: [sh, -c, 'test \"$(id -u):$(id -g)\" = 1000:3000']\n      periodSeconds: 1\n";
    let pod = root.apply(
        "hooks",
        &pod_yaml("hooks", "", &[("app", "busybox:1.31.1", extra)]),
    );
    assert_eq!(
        wait_for_file(&pod, "app", "/tmp/hook"),
        "uid=1000 gid=3000 groups=3000\nNoNewPrivs:\t1\n"
    );
    // The probe passes only as 1000:3000.
    pod.wait_for("ready", |v| {
        v["status"]["containerStatuses"][0]["ready"] == true
    });
}

#[test]
fn peapod_run_takes_the_image_user_and_the_default_capabilities() {
    let Some((_host, root)) = start("run_identity", "sec-run", shared) else {
        return;
    };
    import(&root, busybox_rootfs(), "busybox:named", "USER nobody");
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox:named",
        "sh",
        "-c",
        "id; grep -E '^Cap(Prm|Bnd)' /proc/self/status",
    ]);
    assert_eq!(
        out,
        format!(
            "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\nCapPrm:\t{NONE}\nCapBnd:\t{DEFAULT_SET}\n"
        )
    );
    let out = root.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox:1.31.1",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert_eq!(out, format!("CapEff:\t{DEFAULT_SET}\n"));
}

#[test]
fn a_refused_init_container_leaves_the_pod_pending_and_apply_returns() {
    let Some((_host, root)) = start("refused_init", "sec-refused-init", shared) else {
        return;
    };
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: held\nspec:\n  securityContext:\n    runAsNonRoot: true\n  initContainers:\n  - name: setup\n    image: busybox:1.31.1\n    command: [\"true\"]\n  containers:\n  - name: app\n    image: busybox:1.31.1\n    command: [sleep, \"1000\"]\n    securityContext:\n      runAsUser: 1000\n";
    let pod = root.apply("held", yaml);
    let v = pod.json();
    assert_eq!(v["status"]["phase"], "Pending", "{v:#}");
    let init = &v["status"]["initContainerStatuses"][0]["state"]["waiting"];
    assert_eq!(init["reason"], "CreateContainerConfigError", "{v:#}");
    assert!(
        init["message"]
            .as_str()
            .unwrap()
            .starts_with("container has runAsNonRoot and image will run as root"),
        "{v:#}"
    );
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains("Init:CreateContainerConfigError"), "{table}");
}

/// In a shared-PID pod, a container without CAP_SYS_PTRACE cannot ptrace
/// the process of a container that holds more capabilities than it does
/// (the kernel's rule; seccomp's RuntimeDefault allows `ptrace` itself, as
/// moby's does), and one given SYS_PTRACE can. Between two containers of
/// the same user and the same capabilities the kernel allows it, under
/// runc as under peapod.
#[test]
fn ptrace_of_a_more_privileged_container_in_a_shared_pid_pod_needs_sys_ptrace() {
    let Some((_host, root)) = start("ptrace_peer", "sec-ptrace", shared) else {
        return;
    };
    let container = |name: &str, add: &str, command: &str| {
        format!(
            "  - name: {name}\n    image: busybox:1.31.1\n    command: [sh, -c, '{command}']\n    securityContext: {{capabilities: {{add: [{add}]}}}}\n    volumeMounts:\n    - {{name: s, mountPath: /s}}\n"
        )
    };
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ptrace\nspec:\n  shareProcessNamespace: true\n  volumes:\n  - name: s\n    emptyDir: {{}}\n  containers:\n{}{}{}",
        // `$$` is the escape of `$` in a command (kubelet expands `$(VAR)`).
        container(
            "target",
            "NET_ADMIN",
            "echo $$$$ > /s/target; exec sleep 1000"
        ),
        container("peer", "", "exec sleep 1000"),
        container("tracer", "SYS_PTRACE", "exec sleep 1000"),
    );
    let pod = root.apply("ptrace", &yaml);
    let target = wait_for_file(&pod, "peer", "/s/target");
    let attach = format!("probe ptrace {} 2>&1", target.trim());
    let (code, out) = pod.exec("peer", &["sh", "-c", &attach]);
    assert_eq!((code, out.as_str()), (1, "ptrace: EPERM\n"), "peer");
    let (code, out) = pod.exec("tracer", &["sh", "-c", &attach]);
    assert_eq!((code, out.as_str()), (0, "ptrace: ok\n"), "tracer");
}

/// `peapod debug`'s ephemeral container goes through the same security
/// computation as the pod's containers: the pod-level user and groups,
/// containerd's default capability set as the bound (non-root: nothing
/// effective), RuntimeDefault, the masked paths.
#[test]
fn an_ephemeral_debug_container_gets_the_pods_identity_and_the_default_confinement() {
    let Some((_host, root)) = start("debug_identity", "sec-debug", shared) else {
        return;
    };
    let spec = "  securityContext:\n    runAsUser: 1000\n    runAsGroup: 3000\n    supplementalGroups: [4000]\n";
    let pod = root.apply(
        "debugged",
        &pod_yaml("debugged", spec, &[("app", "busybox:1.31.1", "")]),
    );
    let script = "id; grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status; \
                  probe keyctl; wc -c < /proc/keys; true";
    let out = root.run(&[
        "debug",
        "debugged",
        "-i",
        "-q",
        "--profile=baseline",
        "--image=busybox:1.31.1",
        "--target=app",
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "uid=1000 gid=3000 groups=3000,4000\nCapEff:\t{NONE}\nCapBnd:\t{DEFAULT_SET}\nNoNewPrivs:\t0\nSeccomp:\t2\nkeyctl: EPERM\n0\n"
        )
    );
    drop(pod);
}
