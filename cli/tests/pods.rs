//! The seeds, observed from inside the pod: `peapod apply` of real pods
//! from busybox images, then `exec`, `get`, `logs`, `delete` as a user
//! would run them. Root only (namespaces, cgroups, mounts); each test has
//! its own `--root` and deletes its pods in a drop guard, even on failure.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Pod, exclusive, shared, start};
use peapod_testkit::HostSnapshot;

fn seed_000(share: bool) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: myapp
  labels:
    name: myapp
spec:
  shareProcessNamespace: {share}
  containers:
    - name: myapp1
      image: busybox:1.30.1
      command: ["sleep", "1000"]
      volumeMounts:
        - {{ mountPath: /usr/logs, name: logs }}
      resources:
        limits: {{ memory: "128Mi", cpu: "500m" }}
    - name: myapp2
      image: busybox:1.31.1
      command: ["sleep", "1000"]
      volumeMounts:
        - {{ mountPath: /usr/logs, name: logs }}
      resources:
        limits: {{ memory: "128Mi", cpu: "500m" }}
  volumes:
    - name: logs
      emptyDir: {{}}
"#
    )
}

fn namespaces(pod: &Pod<'_>, container: &str) -> Vec<String> {
    let out = pod.sh(
        container,
        "for n in net ipc uts mnt pid; do readlink /proc/self/ns/$n; done",
    );
    out.lines().map(str::to_owned).collect()
}

fn host_namespaces() -> Vec<String> {
    common::host_namespaces(&["net", "ipc", "uts", "mnt", "pid"])
}

#[test]
fn shared_pid_namespace_shows_pause_and_the_other_containers_sleep() {
    let Some((_host, root)) = start("shared_pid_namespace", "pods-share-pid", shared) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(true));
    let ps = pod.sh("myapp1", "ps");
    let lines: Vec<&str> = ps.lines().collect();
    assert!(lines[1].trim_start().starts_with("1 "), "{ps}");
    assert!(lines[1].ends_with("/pause"), "PID 1 is the pause: {ps}");
    let sleeps = ps.lines().filter(|l| l.ends_with("sleep 1000")).count();
    assert_eq!(sleeps, 2, "myapp2's sleep is visible from myapp1: {ps}");

    let a = namespaces(&pod, "myapp1");
    let b = namespaces(&pod, "myapp2");
    let host = host_namespaces();
    for (i, ns) in ["net", "ipc", "uts", "pid"].iter().enumerate() {
        let i = if *ns == "pid" { 4 } else { i };
        assert_eq!(a[i], b[i], "{ns} is shared in the pod");
        assert_ne!(a[i], host[i], "{ns} is not the host's");
    }
    assert_ne!(a[3], b[3], "each container has its own mount namespace");
    assert_ne!(a[3], host[3]);
}

#[test]
fn without_shared_pid_namespace_each_container_sees_only_itself() {
    let Some((_host, root)) = start("unshared_pid_namespace", "pods-own-pid", shared) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(false));
    let ps = pod.sh("myapp1", "ps");
    // Its own sleep as PID 1, and the exec'd `sh -c ps` (which runs ps).
    assert_eq!(ps.lines().count(), 3, "{ps}");
    assert!(
        ps.lines().nth(1).unwrap().trim_start().starts_with("1 "),
        "{ps}"
    );
    assert!(ps.lines().nth(1).unwrap().ends_with("sleep 1000"), "{ps}");
    assert!(!ps.contains("/pause"), "{ps}");
    let a = namespaces(&pod, "myapp1");
    let b = namespaces(&pod, "myapp2");
    assert_ne!(a[4], b[4], "pid namespaces differ");
    assert_eq!(a[0], b[0], "net is still shared");
}

#[test]
fn hostname_is_the_pod_name_in_every_container_and_empty_dir_is_shared() {
    let Some((_host, root)) = start("hostname_and_empty_dir", "pods-uts", shared) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(true));
    assert_eq!(pod.sh("myapp1", "hostname"), "myapp\n");
    assert_eq!(pod.sh("myapp2", "hostname"), "myapp\n");
    pod.sh("myapp1", "echo from-myapp1 > /usr/logs/shared.txt");
    assert_eq!(
        pod.sh("myapp2", "cat /usr/logs/shared.txt"),
        "from-myapp1\n"
    );
    let hosts = pod.sh("myapp2", "cat /etc/hosts");
    assert!(
        hosts.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"),
        "{hosts}"
    );
}

#[test]
fn containers_reach_each_other_on_localhost() {
    let Some((_host, root)) = start("localhost", "pods-localhost", shared) else {
        return;
    };
    let pod = root.apply(
        "web",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  containers:
    - name: server
      image: busybox:1.30.1
      command: ["sh", "-c", "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www"]
    - name: client
      image: busybox:1.30.1
      command: ["sleep", "1000"]
"#,
    );
    let deadline = Instant::now() + common::WAIT;
    loop {
        let (code, out) = pod.exec("client", &["wget", "-qO-", "http://127.0.0.1:8080/"]);
        if code == 0 {
            assert_eq!(out, "hello-from-server\n");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer on localhost:8080 ({code})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn posix_message_queues_are_shared_in_the_pod_and_not_across_pods() {
    let Some((_host, root)) = start("mqueue", "pods-mqueue", shared) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(true));
    pod.sh("myapp1", "touch /dev/mqueue/peapod-q");
    assert!(pod.sh("myapp2", "ls /dev/mqueue").contains("peapod-q"));
    let other = root.apply(
        "other",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: other }
spec:
  containers:
    - { name: c, image: busybox:1.30.1, command: ["sleep", "1000"] }
"#,
    );
    assert!(!other.sh("c", "ls /dev/mqueue").contains("peapod-q"));
}

#[test]
fn host_path_writes_land_on_the_host() {
    let Some((_host, root)) = start("host_path", "pods-hostpath", shared) else {
        return;
    };
    let data = root.path().join("data");
    let pod = root.apply(
        "writer",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: writer }}
spec:
  volumes:
    - name: shared-data
      hostPath: {{ path: {}, type: DirectoryOrCreate }}
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sh", "-c", "echo Hello from the container > /pod-data/index.html; exec sleep 1000"]
      volumeMounts:
        - {{ name: shared-data, mountPath: /pod-data }}
"#,
            data.display()
        ),
    );
    let file = data.join("index.html");
    let want = "Hello from the container\n";
    // The shell creates the file before it writes the line: wait for the
    // line, not for the file.
    let deadline = Instant::now() + common::WAIT;
    let mut got = String::new();
    while got != want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        got = std::fs::read_to_string(&file).unwrap_or_default();
    }
    assert_eq!(got, want, "{}", file.display());
    drop(pod);
    assert!(file.exists(), "a hostPath's content outlives the pod");
}

#[test]
fn init_containers_copy_before_the_main_container_starts() {
    let Some((_host, root)) = start("init_containers", "pods-init", shared) else {
        return;
    };
    let pod = root.apply(
        "javaweb",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: javaweb }
spec:
  initContainers:
    - name: war
      image: busybox:1.30.1
      command: ["sh", "-c", "sleep 0.2; echo sample-war > /app/sample.war"]
      volumeMounts: [{ mountPath: /app, name: app-volume }]
  containers:
    - name: tomcat
      image: busybox:1.30.1
      command: ["sh", "-c", "cat /webapps/sample.war; exec sleep 1000"]
      volumeMounts: [{ mountPath: /webapps, name: app-volume }]
  volumes:
    - { name: app-volume, emptyDir: {} }
"#,
    );
    let v = pod.json();
    assert_eq!(v["status"]["phase"], "Running");
    let init = &v["status"]["initContainerStatuses"][0];
    assert_eq!(init["state"]["terminated"]["exitCode"], 0, "{v:#}");
    assert_eq!(init["state"]["terminated"]["reason"], "Completed");
    let deadline = Instant::now() + common::WAIT;
    loop {
        let logs = root.ok(&["logs", "javaweb", "-c", "tomcat"]);
        if logs == "sample-war\n" {
            break;
        }
        assert!(Instant::now() < deadline, "logs: {logs:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sidecar_init_container_runs_beside_the_app_containers() {
    let Some((_host, root)) = start("sidecar", "pods-sidecar", shared) else {
        return;
    };
    let pod = root.apply(
        "side",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: side }
spec:
  initContainers:
    - { name: proxy, image: busybox:1.30.1, restartPolicy: Always, command: ["sleep", "1000"] }
    - { name: setup, image: busybox:1.30.1, command: ["true"] }
  containers:
    - { name: app, image: busybox:1.30.1, command: ["sleep", "1000"] }
"#,
    );
    let v = pod.json();
    assert_eq!(v["status"]["phase"], "Running", "{v:#}");
    let inits = &v["status"]["initContainerStatuses"];
    assert!(inits[0]["state"]["running"].is_object(), "{v:#}");
    assert_eq!(inits[1]["state"]["terminated"]["exitCode"], 0, "{v:#}");
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains(" Running "), "{table}");
}

#[test]
fn memory_limit_ends_in_oom_killed() {
    let Some((_host, root)) = start("oom_killed", "pods-oom", shared) else {
        return;
    };
    let pod = root.apply(
        "oom",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: oom }
spec:
  restartPolicy: Never
  containers:
    - name: hog
      image: busybox:1.30.1
      command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"]
      resources:
        limits: { memory: "128Mi" }
"#,
    );
    let v = pod.wait_for("the container ends", |v| v["status"]["phase"] == "Failed");
    let t = &v["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["reason"], "OOMKilled", "{v:#}");
    assert_eq!(t["exitCode"], 137);
    let table = root.ok(&["get", "pods"]);
    assert!(table.contains("OOMKilled"), "{table}");
}

#[test]
fn failed_starts_say_why_and_leave_nothing_behind() {
    let Some((_host, root)) = start("failed_start", "pods-fail", exclusive) else {
        return;
    };
    let before = HostSnapshot::take();
    let err = root.apply_fails(
        "nocmd",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: nocmd }
spec:
  containers:
    - { name: ok, image: busybox:1.30.1, command: ["sleep", "1000"] }
    - { name: web, image: busybox:1.30.1, command: ["/usr/sbin/nginx"] }
"#,
    );
    assert!(
        err.contains(r#"container "web": exec "/usr/sbin/nginx": no such file or directory"#),
        "{err}"
    );
    let err = root.apply_fails(
        "noimage",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: noimage }
spec:
  containers:
    - { name: c, image: "nginx:1.25", imagePullPolicy: Never, command: ["sleep", "1"] }
"#,
    );
    assert!(
        err.contains(r#"container "c""#) && err.contains("nginx"),
        "{err}"
    );
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    assert_no_new_pod_traces(&before, root.path(), None);
}

#[test]
fn killed_supervisor_reads_unknown_and_delete_still_removes_everything() {
    let Some((_host, root)) = start("killed_supervisor", "pods-kill9", exclusive) else {
        return;
    };
    let before = HostSnapshot::take();
    let pod = root.apply("myapp", &seed_000(true));
    let uid = pod.json()["metadata"]["uid"].as_str().unwrap().to_owned();
    let sleeps = pids_of_cgroup(&uid);
    assert!(sleeps.len() >= 3, "pause and two sleeps: {sleeps:?}");
    let sup = pod.supervisor_pid();
    Command::new("kill")
        .args(["-9", &sup.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + common::WAIT;
    // Phase Unknown with reason SupervisorLost, which the table shows as
    // kubectl shows a reason (1a4dfde).
    loop {
        let table = root.ok(&["get", "pods"]);
        if table.contains("SupervisorLost") {
            assert_eq!(pod.json()["status"]["phase"], "Unknown", "{table}");
            break;
        }
        assert!(Instant::now() < deadline, "{table}");
        std::thread::sleep(Duration::from_millis(20));
    }
    root.ok(&["delete", "pod", "myapp"]);
    for pid in sleeps {
        // SIGKILLed processes leave the cgroup a moment before they are
        // zombies (or gone).
        let deadline = Instant::now() + common::WAIT;
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || is_zombie(pid) {
                break;
            }
            assert!(Instant::now() < deadline, "pid {pid} left: {stat}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    assert_no_new_pod_traces(&before, root.path(), Some(&uid));
    drop(pod);
}

#[test]
fn tty_and_stdin_keep_a_shell_up_and_logs_are_cri_files() {
    let Some((_host, root)) = start("tty_stdin", "pods-tty", shared) else {
        return;
    };
    let pod = root.apply(
        "my-first-test",
        r#"
apiVersion: v1
kind: Pod
metadata: { name: my-first-test }
spec:
  hostAliases:
    - ip: 10.9.8.7
      hostnames: ["host.test.site", "host.aliases.test.site"]
  containers:
    - { name: my-test-container1, image: busybox, imagePullPolicy: Never, stdin: true, tty: true }
    - name: talker
      image: busybox
      imagePullPolicy: Never
      command: ["sh", "-c", "echo out; echo err >&2; exec sleep 1000"]
"#,
    );
    let v = pod.json();
    assert_eq!(v["status"]["phase"], "Running", "{v:#}");
    assert!(
        v["status"]["containerStatuses"][0]["state"]["running"].is_object(),
        "{v:#}"
    );
    let hosts = pod.sh("my-test-container1", "cat /etc/hosts");
    assert!(
        hosts.ends_with(
            "\n# Entries added by HostAliases.\n10.9.8.7\thost.test.site\thost.aliases.test.site\n"
        ),
        "{hosts}"
    );
    let uid = v["metadata"]["uid"].as_str().unwrap();
    let file = root
        .path()
        .join(format!("log/default_my-first-test_{uid}/talker/0.log"));
    // The talker wrote both lines as it started; wait for the supervisor
    // to have logged them.
    let deadline = Instant::now() + common::WAIT;
    let text = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.lines().count() >= 2 {
            break text;
        }
        assert!(Instant::now() < deadline, "talker's log: {text:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let streams: BTreeSet<&str> = text.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(streams, BTreeSet::from(["stderr", "stdout"]), "{text}");
    assert!(
        text.lines().all(|l| l.split(' ').nth(2) == Some("F")),
        "{text}"
    );
    let logs = root.ok(&["logs", "my-first-test", "-c", "talker"]);
    assert!(logs.contains("out\n") && logs.contains("err\n"), "{logs}");
}

#[test]
fn crashing_container_restarts_with_back_off_on_the_epoll_loop_and_keeps_its_previous_log() {
    let Some((_host, root)) = start("restart_backoff", "pods-restart", shared) else {
        return;
    };
    let file = root.path().join("crash.yaml");
    std::fs::write(
        &file,
        r#"
apiVersion: v1
kind: Pod
metadata: { name: crash }
spec:
  containers:
    - { name: c, image: busybox:1.30.1, command: ["sh", "-c", "echo run; exit 3"] }
"#,
    )
    .unwrap();
    let out = root
        .command(&["apply", "-f", file.to_str().unwrap()])
        .env("PEAPOD_BACKOFF_BASE_MS", "100")
        .env("PEAPOD_EVENT_LOOP", "epoll")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pod = Pod {
        root: &root,
        name: "crash".into(),
    };
    let v = pod.wait_for("two restarts", |v| {
        v["status"]["containerStatuses"][0]["restartCount"].as_i64() >= Some(2)
    });
    assert_eq!(v["status"]["phase"], "Running", "{v:#}");
    let c = &v["status"]["containerStatuses"][0];
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 3, "{v:#}");
    assert_eq!(root.ok(&["logs", "crash", "--previous"]), "run\n");
    let log = root.path().join("run/pods/default_crash/supervisor.log");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("event loop on Epoll"), "{log}");
}

#[test]
fn exec_propagates_the_exit_code() {
    let Some((_host, root)) = start("exec_exit_code", "pods-exec", shared) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(true));
    assert_eq!(pod.exec("myapp2", &["sh", "-c", "exit 7"]).0, 7);
    let table = root.ok(&["get", "pods"]);
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..4], ["myapp", "2/2", "Running", "0"], "{table}");
}

/// Deletes a pod of namespace `.1` named `.2` (grace period 0) when dropped.
struct DeleteOnDrop<'a>(&'a common::Root, &'a str, &'a str);

impl Drop for DeleteOnDrop<'_> {
    fn drop(&mut self) {
        let (ns, name) = (self.1, self.2);
        let _ = self
            .0
            .run(&["delete", "pod", name, "-n", ns, "--grace-period", "0"]);
    }
}

#[test]
fn a_pod_with_a_long_namespace_and_name_under_a_long_root_runs_and_goes_cleanly() {
    // A long `--root`: `/tmp/peapod-test-<this>-<pid>-<n>`.
    let tag = "pods-long-names-under-a-root-folder-whose-own-name-is-long-too";
    let Some((_host, root)) = start("long_names", tag, exclusive) else {
        return;
    };
    let before = HostSnapshot::take();
    // The longest the kubelet takes: its log folder
    // `<ns>_<name>_<uid>` must fit in 255 bytes, so ns + name <= 217.
    let ns = format!("long-namespace-{}", "n".repeat(48));
    let name = ["a".repeat(63), "b".repeat(63), "c".repeat(26)].join(".");
    assert_eq!((ns.len(), name.len()), (63, 154));
    let folder = root.path().join(format!("run/pods/{ns}_{name}"));
    let socket = folder.join("control.sock");
    assert!(socket.as_os_str().len() > 300, "{}", socket.display());
    // SIGTERM reaches the shell only when `delete` goes through the
    // supervisor's control socket (without it, `delete` SIGKILLs).
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let file = root.path().join("long.yaml");
    std::fs::write(
        &file,
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: {name}, namespace: {ns} }}
spec:
  containers:
    - name: c
      image: busybox:1.30.1
      command: ["sh", "-c", "trap 'echo stopped > /log/stop; exit 0' TERM; echo hello from $HOSTNAME; while true; do sleep 0.1 & wait; done"]
      volumeMounts: [{{ name: log, mountPath: /log }}]
  volumes: [{{ name: log, hostPath: {{ path: {}, type: Directory }} }}]
"#,
            shared.display()
        ),
    )
    .unwrap();
    let guard = DeleteOnDrop(&root, &ns, &name);
    root.ok(&["apply", "-f", file.to_str().unwrap()]);

    let json = root.ok(&["get", "pod", &name, "-n", &ns, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["status"]["phase"], "Running", "{v:#}");
    assert_eq!(v["metadata"]["namespace"], ns.as_str(), "{v:#}");
    let kind = std::fs::symlink_metadata(&socket).unwrap().file_type();
    assert!(kind.is_socket(), "{}: {kind:?}", socket.display());

    let out = root.ok(&["exec", &name, "-n", &ns, "--", "hostname"]);
    // The hostname is the name cut to 63 bytes.
    assert_eq!(out, format!("{}\n", "a".repeat(63)));
    let hello = format!("hello from {}\n", "a".repeat(63));
    let deadline = Instant::now() + common::WAIT;
    loop {
        let logs = root.ok(&["logs", &name, "-n", &ns]);
        if logs == hello {
            break;
        }
        assert!(Instant::now() < deadline, "{logs:?}");
        std::thread::sleep(Duration::from_millis(20));
    }

    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("supervisor.json")).unwrap())
            .unwrap();
    let sup = i32::try_from(record["pid"].as_i64().unwrap()).unwrap();
    root.ok(&["delete", "pod", &name, "-n", &ns]);
    // Its empty cgroups go after the answer, before it exits.
    wait_exited(sup);
    let stop = std::fs::read_to_string(shared.join("stop")).unwrap_or_default();
    assert_eq!(stop, "stopped\n", "the supervisor did not get the stop");
    assert!(!folder.exists(), "{} left", folder.display());
    // One more character and the log folder's name is over 255 bytes.
    let manifest = std::fs::read_to_string(&file).unwrap();
    let err = root.apply_fails("long", &manifest.replace(&name, &format!("{name}c")));
    assert!(
        err.contains("namespace and name take 218 characters together; at most 217 fit"),
        "{err}"
    );
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    assert_no_new_pod_traces(&before, root.path(), None);
    drop(guard);
}

/// The folders of pod `uid`'s cgroup `peapod-<uid>`: one per v1
/// hierarchy mounted below `/sys/fs/cgroup` (the unified one on v2).
fn cgroup_dirs(uid: &str) -> Vec<PathBuf> {
    let name = format!("peapod-{uid}");
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return vec![Path::new("/sys/fs/cgroup").join(name)];
    }
    ["cpu", "cpuacct", "memory", "devices", "freezer", "pids"]
        .iter()
        .map(|c| Path::new("/sys/fs/cgroup").join(c))
        .filter(|h| h.join("cgroup.procs").exists())
        .map(|h| h.join(&name))
        .collect()
}

/// The cgroup processes of pod `uid` (memory hierarchy on v1, the unified
/// one on v2).
fn pids_of_cgroup(uid: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for base in ["/sys/fs/cgroup/memory", "/sys/fs/cgroup"] {
        let dir = Path::new(base).join(format!("peapod-{uid}"));
        if dir.is_dir() {
            collect_procs(&dir, &mut out);
            break;
        }
    }
    out
}

fn collect_procs(dir: &Path, out: &mut Vec<i32>) {
    if let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(procs.lines().filter_map(|l| l.parse::<i32>().ok()));
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_procs(&e.path(), out);
        }
    }
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits (30 s at most) until process `pid` has exited.
fn wait_exited(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
        assert!(Instant::now() < deadline, "process {pid} still runs");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Nothing of a pod of ours appeared on the host: no mount under our root,
/// no `peapod-<uuid>` cgroup (other tests may run beside us, so only new
/// entries that are ours count; with `uid`, only that pod's cgroups, as
/// pods of other test binaries or people may come and go meanwhile).
fn assert_no_new_pod_traces(before: &HostSnapshot, root: &Path, uid: Option<&str>) {
    let after = HostSnapshot::take();
    let root = root.display().to_string();
    let mounts: Vec<_> = after
        .mounts
        .difference(&before.mounts)
        .filter(|m| m.contains(&root))
        .collect();
    assert!(mounts.is_empty(), "mounts left: {mounts:?}");
    let ours = |c: &&String| {
        c.rsplit('/')
            .next()
            .and_then(|n| n.strip_prefix("peapod-"))
            .is_some_and(|id| {
                id.len() == 36 && id.matches('-').count() == 4 && uid.is_none_or(|u| u == id)
            })
    };
    let cgroups: Vec<_> = after
        .cgroups
        .difference(&before.cgroups)
        .filter(ours)
        .collect();
    assert!(cgroups.is_empty(), "cgroups left: {cgroups:?}");
}

#[test]
fn host_pid_and_host_ipc_put_the_containers_in_the_hosts_namespaces() {
    let Some((_host, root)) = start("host_pid_ipc", "pods-host-pid-ipc", shared) else {
        return;
    };
    let pod = root.apply(
        "hostns",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: hostns
spec:
  terminationGracePeriodSeconds: 0
  hostPID: true
  hostIPC: true
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
"#,
    );
    let ns = |kind: &str| std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap();
    let inside = pod.sh(
        "c",
        "for n in pid ipc mnt; do readlink /proc/self/ns/$n; done",
    );
    let inside: Vec<&str> = inside.lines().collect();
    assert_eq!(inside[0], ns("pid").to_str().unwrap(), "hostPID");
    assert_eq!(inside[1], ns("ipc").to_str().unwrap(), "hostIPC");
    assert_ne!(
        inside[2],
        ns("mnt").to_str().unwrap(),
        "its own mounts still"
    );
    // The host's processes are visible, and its /dev/shm is the host's.
    let host_init = std::fs::read_to_string("/proc/1/cmdline").unwrap();
    let seen = pod.sh("c", "cat /proc/1/cmdline");
    assert_eq!(seen, host_init);
    let name = format!("peapod-test-host-ipc-{}", std::process::id());
    pod.sh("c", &format!("echo shared > /dev/shm/{name}"));
    let host_file = Path::new("/dev/shm").join(&name);
    let text = std::fs::read_to_string(&host_file);
    let _ = std::fs::remove_file(&host_file);
    assert_eq!(text.unwrap(), "shared\n");
}

#[test]
fn set_hostname_as_fqdn_makes_the_fqdn_the_hostname() {
    let Some((_host, root)) = start("fqdn_hostname", "pods-fqdn", shared) else {
        return;
    };
    let pod = root.apply(
        "fqdn",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: fqdn
spec:
  terminationGracePeriodSeconds: 0
  hostname: web
  subdomain: sub
  setHostnameAsFQDN: true
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
"#,
    );
    let fqdn = "web.sub.default.svc.cluster.local";
    assert_eq!(
        pod.sh("c", "hostname; cat /etc/hostname; echo $HOSTNAME"),
        format!("{fqdn}\n{fqdn}\n{fqdn}\n")
    );
    // /etc/hosts keeps kubelet's line: FQDN, then the short name.
    let hosts = pod.sh("c", "cat /etc/hosts");
    assert!(hosts.contains(&format!("\t{fqdn}\tweb\n")), "{hosts}");
}

/// Unmounts a mount this test made on the host, even when it fails.
struct HostMount(PathBuf);

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn recursive_read_only_makes_the_mounts_below_a_volume_read_only_too() {
    let Some((_host, root)) = start("recursive_read_only", "pods-rro", shared) else {
        return;
    };
    let dir = root.path().join("host-data");
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "peapod-test-rro"])
        .arg(&sub)
        .status()
        .unwrap();
    assert!(mounted.success());
    let _tmpfs = HostMount(sub.clone());
    let pod = root.apply(
        "rro",
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: rro
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
    volumeMounts:
    - {{name: data, mountPath: /plain, readOnly: true}}
    - {{name: data, mountPath: /rro, readOnly: true, recursiveReadOnly: Enabled}}
  volumes:
  - name: data
    hostPath: {{path: {}}}
"#,
            dir.display()
        ),
    );
    // Plain readOnly: the volume is read-only, the tmpfs below it is not
    // (the test can tell); recursiveReadOnly: both are.
    let (code, _) = pod.exec("c", &["touch", "/plain/top"]);
    assert_ne!(code, 0, "the volume itself is read-only");
    assert_eq!(pod.exec("c", &["touch", "/plain/sub/x"]).0, 0);
    let out = root.run(&["exec", "rro", "-c", "c", "--", "touch", "/rro/sub/y"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Read-only file system"), "{stderr}");
}

/// `delete` answers once the pod's processes, state, network rules and
/// mounts are gone and its folders are off their paths; its supervisor
/// removes its empty cgroups and the folders from the disk after
/// answering (one rename each on the user's path instead of an unlink per
/// file and folder), and before it exits, with whatever an earlier,
/// killed supervisor left in `<lib>/trash` (a pod's folder and the
/// cgroup of its uid).
/// A container's writable layer is its own (fresh at each start, removed
/// with the pod): its overlay is mounted `volatile`, so the container's
/// exit does not sync the host's disk under `<lib>`.
#[test]
fn a_containers_root_overlay_is_volatile() {
    let Some((_host, root)) = start(
        "a_containers_root_overlay_is_volatile",
        "pods-volatile",
        shared,
    ) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(true));
    let line = pod.sh("myapp1", "grep ' / / ' /proc/self/mountinfo");
    common::assert_volatile_overlay_root(&line);
    root.ok(&["delete", "pod", "myapp"]);
}

/// Unmounts `path` (lazily) when dropped, even when the test failed.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// `delete` returns while the supervisor still empties its trash; by then
/// it holds nothing open on the root's mounts (its lock and log were
/// there), so a script may unmount them at once, as `compare.sh` does.
#[test]
fn the_roots_run_folder_unmounts_right_after_delete() {
    let Some((_host, root)) = start(
        "the_roots_run_folder_unmounts_right_after_delete",
        "pods-umount",
        shared,
    ) else {
        return;
    };
    let run = root.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    assert!(
        Command::new("mount")
            .args(["-t", "tmpfs", "tmpfs"])
            .arg(&run)
            .status()
            .unwrap()
            .success()
    );
    let mounted = Unmount(run.clone());
    let pod = root.apply("myapp", &seed_000(true));
    // Enough files that emptying the trash outlasts the delete.
    pod.sh("myapp1", "for i in $(seq 3000); do : > /usr/logs/f$i; done");
    let sup = pod.supervisor_pid();
    root.ok(&["delete", "pod", "myapp"]);
    let unmounted = Command::new("umount").arg(&run).output().unwrap();
    assert!(
        unmounted.status.success(),
        "{}",
        String::from_utf8_lossy(&unmounted.stderr)
    );
    std::mem::forget(mounted);
    wait_exited(sup);
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    let trash: Vec<_> = std::fs::read_dir(root.path().join("lib/trash"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(trash, Vec::<PathBuf>::new());
}

#[test]
fn delete_moves_the_pods_folders_aside_and_its_supervisor_removes_them_before_it_exits() {
    let Some((_host, root)) = start("delete_moves_folders_aside", "pods-trash", shared) else {
        return;
    };
    let pod = root.apply("myapp", &seed_000(true));
    pod.sh("myapp1", "echo kept > /usr/logs/file");
    let sup = pod.supervisor_pid();
    let trash = root.path().join("lib/trash");
    let uid = pod.json()["metadata"]["uid"].as_str().unwrap().to_owned();
    let left = trash.join("0123-left-by-a-killed-supervisor-0");
    std::fs::create_dir_all(left.join("containers/c/upper")).unwrap();
    // A pod whose supervisor was killed after answering its delete: its
    // folder in the trash, its cgroup (emptied) still there.
    let killed = format!("0b5e2f3c-1d2e-4f50-8a9b-{:012x}", std::process::id());
    std::fs::create_dir_all(trash.join(format!("{killed}-0/containers"))).unwrap();
    let killed_cgroups = cgroup_dirs(&killed);
    for dir in &killed_cgroups {
        std::fs::create_dir(dir).unwrap();
    }
    root.ok(&["delete", "pod", "myapp"]);
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
    wait_exited(sup);
    let cgroups_left: Vec<_> = (cgroup_dirs(&uid).into_iter())
        .chain(killed_cgroups)
        .filter(|d| d.exists())
        .collect();
    assert_eq!(cgroups_left, Vec::<PathBuf>::new());
    let held: Vec<_> = std::fs::read_dir(&trash)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(held, Vec::<PathBuf>::new(), "removed before it exited");
}
