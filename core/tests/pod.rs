//! A pod made of core primitives, as root: a pause holding new
//! net/IPC/UTS(/PID) namespaces, busybox containers joining it with their
//! own overlay root, exec into a container, the error pipe, cgroup limits
//! and OOM kills, and nothing left on the host afterwards.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use peapod_core::{
    Capabilities, Cgroup, CgroupHierarchy, CgroupLimits, CgroupVersion, ContainerSpawn, MountPlan,
    NamespacePlan, PauseSpec, Process, ProcessSpec, Rlimit, RlimitResource, RootFs, Stdio,
    spawn_pause,
};
use peapod_testkit::{HostSnapshot, TempDir, busybox_rootfs, require_root};

/// Root tests run one at a time: each compares the host before and after.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills every process and removes every cgroup it holds when dropped,
/// even when the test panics.
#[derive(Default)]
struct Cleanup {
    processes: Vec<Process>,
    cgroups: Vec<Cgroup>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.processes {
            let _ = p.kill();
        }
        // Containers before the pause: a PID 1 that exits waits until every
        // process of its namespace is reaped, and we are their parent.
        for p in self.processes.iter().rev() {
            let _ = p.wait();
        }
        for cg in self.cgroups.iter().rev() {
            let _ = cg.kill_all(Duration::from_secs(2));
            let _ = cg.remove(Duration::from_secs(2));
        }
    }
}

/// What this test process left on the host: the snapshot's entries that
/// carry our pid (our cgroup names and scratch dirs do). Other suites may
/// run beside these tests on the same host, and their leftovers are theirs.
fn ours() -> Vec<String> {
    let pid = std::process::id().to_string();
    let snap = HostSnapshot::take();
    snap.mounts
        .into_iter()
        .chain(snap.links)
        .chain(snap.cgroups)
        .filter(|e| e.contains(&pid))
        .collect()
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe")
}

/// The mount plan of a busybox container: overlay of the fixture with
/// upper/work in `scratch`, the standard mounts.
fn busybox_plan(scratch: &Path, name: &str) -> MountPlan {
    let dir = scratch.join(name);
    for d in ["upper", "work", "rootfs"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    MountPlan::new(
        RootFs::Overlay {
            lower: vec![busybox_rootfs().to_path_buf()],
            upper: dir.join("upper"),
            work: dir.join("work"),
        },
        dir.join("rootfs"),
    )
    .with_standard_mounts(None, 64 << 20)
}

/// Runs `sh -c script` as a container of the pod whose pause is `pause`,
/// and returns (exit code, stdout).
fn run_in_pod(
    pause: &Process,
    scratch: &Path,
    name: &str,
    share_pid: bool,
    cgroup: Option<&Cgroup>,
    script: &str,
) -> (i32, String) {
    let (r, w) = pipe();
    let mut spawn = container(pause, scratch, name, share_pid, &["sh", "-c", script]);
    spawn.cgroup = cgroup;
    spawn.stdio.stdout = Some(w);
    let child = spawn.spawn().expect("spawn container");
    let mut out = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut out)
        .expect("read");
    let status = child.wait().expect("wait");
    (status.exit_code(), out)
}

/// A pause from the `peapod-pause` test binary.
fn pause_with(mut spec: PauseSpec<'_>) -> Process {
    spec.exe = Some(env!("CARGO_BIN_EXE_peapod-pause").into());
    spawn_pause(&spec).expect("spawn pause")
}

/// A busybox container of the pod whose pause is `pause`.
fn container<'a>(
    pause: &'a Process,
    scratch: &Path,
    name: &str,
    share_pid: bool,
    argv: &[&str],
) -> ContainerSpawn<'a> {
    ContainerSpawn {
        process: ProcessSpec::new(argv.iter().copied()),
        namespaces: NamespacePlan::container(false, share_pid),
        join_from: Some(pause.pidfd()),
        mounts: Some(busybox_plan(scratch, name)),
        cgroup: None,
        stdio: Stdio::default(),
    }
}

fn host_ns(kind: &str) -> PathBuf {
    std::fs::read_link(format!("/proc/self/ns/{kind}")).expect("readlink")
}

#[test]
fn containers_share_the_pause_namespaces_and_see_it_as_pid_1() {
    if !require_root("containers_share_the_pause_namespaces_and_see_it_as_pid_1") {
        return;
    }
    let _serial = serial();
    {
        let scratch = TempDir::new("core-pod");
        let mut cleanup = Cleanup::default();
        let pause = pause_with(PauseSpec {
            share_process_namespace: true,
            hostname: Some("mypod".into()),
            ..PauseSpec::default()
        });
        let script = "for n in net ipc uts mnt; do readlink /proc/self/ns/$n; done; hostname; ps -o pid,args";
        cleanup.processes.push(pause);
        let pause = &cleanup.processes[0];
        // A long-running container, seen from the host and from the other.
        let sleeper = container(pause, scratch.path(), "sleeper", true, &["sleep", "30"])
            .spawn()
            .expect("spawn sleeper");
        let sleeper_ns = |kind: &str| {
            std::fs::read_link(format!("/proc/{}/ns/{kind}", sleeper.pid()))
                .expect("readlink")
                .display()
                .to_string()
        };
        let sleeper_mnt = sleeper_ns("mnt");
        let sleeper_net = sleeper_ns("net");
        cleanup.processes.push(sleeper);
        let pause = &cleanup.processes[0];
        let (code_a, a) = run_in_pod(pause, scratch.path(), "a", true, None, script);
        let la: Vec<_> = a.lines().collect();
        assert_eq!(code_a, 0, "{a}");
        // net, ipc, uts shared with the pod, not the host's.
        for (i, kind) in ["net", "ipc", "uts"].iter().enumerate() {
            assert_ne!(Path::new(la[i]), host_ns(kind), "{kind} is the host's");
        }
        assert_eq!(la[0], sleeper_net);
        // mnt: one per container.
        assert_ne!(la[3], sleeper_mnt, "mount namespace shared");
        assert_ne!(Path::new(la[3]), host_ns("mnt"));
        assert!(
            a.contains("sleep 30"),
            "the other container's process is not seen:\n{a}"
        );
        assert_eq!(la[4], "mypod");
        let pid1 = la
            .iter()
            .find(|l| l.trim_start().starts_with("1 "))
            .unwrap_or_else(|| panic!("no PID 1 in ps:\n{a}"));
        assert_eq!(
            pid1.split_whitespace().collect::<Vec<_>>(),
            ["1", "/pause"],
            "{a}"
        );
    }
    assert_eq!(ours(), Vec::<String>::new(), "left on the host");
}

#[test]
fn without_shared_pid_namespace_each_container_is_pid_1() {
    if !require_root("without_shared_pid_namespace_each_container_is_pid_1") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-nopid");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(PauseSpec::default()));
    let (code, out) = run_in_pod(
        &cleanup.processes[0],
        scratch.path(),
        "c",
        false,
        None,
        "echo $$; ps -o pid,args | wc -l",
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines[0], "1", "{out}");
    // header, sh, ps, wc
    assert!(lines[1].trim().parse::<u32>().expect("count") <= 4, "{out}");
}

#[test]
fn missing_executable_is_a_typed_error() {
    if !require_root("missing_executable_is_a_typed_error") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-noexec");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(PauseSpec::default()));
    let pause = &cleanup.processes[0];
    for (argv0, want) in [
        (
            "/usr/sbin/nginx",
            "exec \"/usr/sbin/nginx\": no such file or directory",
        ),
        (
            "nginx",
            "exec \"nginx\": executable file not found in $PATH",
        ),
    ] {
        let err = container(pause, scratch.path(), "x", false, &[argv0])
            .spawn()
            .expect_err("no such program");
        assert_eq!(err.to_string(), want);
    }
}

#[test]
fn memory_limit_gets_dd_oom_killed_and_detected() {
    if !require_root("memory_limit_gets_dd_oom_killed_and_detected") {
        return;
    }
    let _serial = serial();
    {
        let scratch = TempDir::new("core-oom");
        let mut cleanup = Cleanup::default();
        let hierarchy = CgroupHierarchy::detect().expect("cgroups");
        let pod = hierarchy
            .create(format!("peapod-core-oom-{}", std::process::id()))
            .expect("pod cgroup");
        cleanup.cgroups.push(pod.clone());
        let pause_cg = pod.child("pause").expect("pause cgroup");
        let ctr = pod.child("dd").expect("container cgroup");
        ctr.set_limits(&CgroupLimits {
            memory_max_bytes: Some(128 << 20),
            pids_max: Some(64),
            cpu_shares: Some(512),
            ..CgroupLimits::default()
        })
        .expect("limits");
        cleanup.processes.push(pause_with(PauseSpec {
            cgroup: Some(&pause_cg),
            ..PauseSpec::default()
        }));
        let (code, out) = run_in_pod(
            &cleanup.processes[0],
            scratch.path(),
            "dd",
            false,
            Some(&ctr),
            "exec dd if=/dev/zero of=/dev/null bs=200M count=1",
        );
        assert_eq!(code, 137, "{out}");
        assert!(ctr.oom_kills().expect("oom count") >= 1);
        drop(cleanup);
        for dir in pod.dirs() {
            assert!(!dir.exists(), "{} left", dir.display());
        }
    }
    assert_eq!(ours(), Vec::<String>::new(), "left on the host");
}

#[test]
fn exec_joins_every_namespace_and_the_cgroup_of_a_container() {
    if !require_root("exec_joins_every_namespace_and_the_cgroup_of_a_container") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-exec");
    let mut cleanup = Cleanup::default();
    let hierarchy = CgroupHierarchy::detect().expect("cgroups");
    let pod = hierarchy
        .create(format!("peapod-core-exec-{}", std::process::id()))
        .expect("pod cgroup");
    cleanup.cgroups.push(pod.clone());
    let ctr_cg = pod.child("app").expect("container cgroup");
    cleanup.processes.push(pause_with(PauseSpec::default()));
    let mut spawn = container(
        &cleanup.processes[0],
        scratch.path(),
        "app",
        false,
        &["sh", "-c", "echo inside > /tmp/marker; exec sleep 30"],
    );
    spawn.cgroup = Some(&ctr_cg);
    let app = spawn.spawn().expect("spawn app");
    let app_mnt = std::fs::read_link(format!("/proc/{}/ns/mnt", app.pid())).expect("ns");
    cleanup.processes.push(app);
    // Let the app write its marker into its own root.
    std::thread::sleep(Duration::from_millis(100));

    let (r, w) = pipe();
    let mut exec = ContainerSpawn::new(ProcessSpec::new([
        "sh",
        "-c",
        "readlink /proc/self/ns/mnt; cat /tmp/marker; tr '\\0' ' ' < /proc/1/cmdline; echo; cat /proc/self/cgroup; exit 7",
    ]));
    exec.namespaces = NamespacePlan::exec();
    exec.join_from = Some(cleanup.processes[1].pidfd());
    exec.cgroup = Some(&ctr_cg);
    exec.stdio.stdout = Some(w);
    let child = exec.spawn().expect("exec into app");
    let mut out = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut out)
        .expect("read");
    let status = child.wait().expect("wait");
    assert_eq!(status.exit_code(), 7, "{out}");
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(Path::new(lines[0]), app_mnt, "{out}");
    assert_eq!(lines[1], "inside", "{out}");
    assert_eq!(lines[2], "sleep 30 ", "PID 1 is not the app's:\n{out}");
    let want = format!("/peapod-core-exec-{}/app", std::process::id());
    assert!(
        out.lines()
            .any(|l| l.contains(":memory:") && l.ends_with(&want))
            || out
                .lines()
                .any(|l| l.starts_with("0::") && l.ends_with(&want)),
        "not in the container's cgroup:\n{out}"
    );
}

#[test]
fn credentials_capabilities_no_new_privs_and_lowered_rlimits_apply() {
    if !require_root("credentials_capabilities_no_new_privs_and_lowered_rlimits_apply") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-creds");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(PauseSpec {
        host_network: true,
        ..PauseSpec::default()
    }));
    let (r, w) = pipe();
    let mut spawn = ContainerSpawn {
        namespaces: NamespacePlan::container(true, false),
        ..container(
            &cleanup.processes[0],
            scratch.path(),
            "c",
            false,
            &[
                "sh",
                "-c",
                "grep -E '^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs):' /proc/self/status; ulimit -n; ulimit -s; readlink /proc/self/ns/net",
            ],
        )
    };
    spawn.process.user = peapod_core::Credentials {
        uid: 65534,
        gid: 65534,
        groups: vec![10, 20],
    };
    spawn.process.capabilities = Capabilities::from_name("NET_BIND_SERVICE");
    spawn.process.no_new_privs = true;
    spawn.process.rlimits = vec![
        Rlimit {
            resource: RlimitResource::Nofile,
            soft: Some(64),
            hard: Some(128),
        },
        // Far above what is inherited: clipped, never raised.
        Rlimit {
            resource: RlimitResource::Stack,
            soft: Some(u64::MAX / 2),
            hard: None,
        },
    ];
    spawn.stdio.stdout = Some(w);
    let child = spawn.spawn().expect("spawn");
    let mut out = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut out)
        .expect("read");
    assert_eq!(child.wait().expect("wait").exit_code(), 0, "{out}");
    let field = |name: &str| {
        out.lines().find_map(|l| l.strip_prefix(name)).map_or_else(
            || panic!("no {name} in\n{out}"),
            |v| v.split_whitespace().collect::<Vec<_>>().join(" "),
        )
    };
    assert_eq!(field("Uid:"), "65534 65534 65534 65534");
    assert_eq!(field("Gid:"), "65534 65534 65534 65534");
    assert_eq!(field("Groups:"), "10 20");
    // As with containerd and CRI-O, a non-root process gets no ambient
    // capabilities: exec leaves it none effective; the bound is what stays.
    assert_eq!(field("CapEff:"), "0000000000000000");
    assert_eq!(field("CapBnd:"), "0000000000000400");
    assert_eq!(field("NoNewPrivs:"), "1");
    let lines: Vec<_> = out.lines().collect();
    let n = lines.len();
    assert_eq!(lines[n - 3], "64", "{out}");
    let inherited_stack = rustix::process::getrlimit(RlimitResource::Stack)
        .current
        .map_or("unlimited".to_owned(), |b| (b / 1024).to_string());
    assert_eq!(lines[n - 2], inherited_stack, "{out}");
    // hostNetwork: the host's net namespace.
    assert_eq!(Path::new(lines[n - 1]), host_ns("net"));
}

/// The cgroup v2 hierarchy of this host: the whole of it on a unified
/// host, the controller-less `unified` mount on a hybrid one.
fn v2_hierarchy() -> Option<CgroupHierarchy> {
    let detected = CgroupHierarchy::detect().ok()?;
    if detected.version() == CgroupVersion::V2 {
        return Some(detected);
    }
    let unified = Path::new("/sys/fs/cgroup/unified");
    unified
        .join("cgroup.procs")
        .exists()
        .then(|| CgroupHierarchy::v2(unified))
}

#[test]
fn v2_clone_into_cgroup_and_cgroup_kill() {
    if !require_root("v2_clone_into_cgroup_and_cgroup_kill") {
        return;
    }
    let _serial = serial();
    let Some(hierarchy) = v2_hierarchy() else {
        eprintln!("no cgroup v2 hierarchy here");
        return;
    };
    {
        let scratch = TempDir::new("core-v2");
        let mut cleanup = Cleanup::default();
        let name = format!("peapod-core-v2-{}", std::process::id());
        let pod = hierarchy.create(&name).expect("pod cgroup");
        cleanup.cgroups.push(pod.clone());
        let ctr = pod.child("c").expect("container cgroup");
        cleanup.processes.push(pause_with(PauseSpec::default()));
        let mut spawn = container(
            &cleanup.processes[0],
            scratch.path(),
            "c",
            false,
            &["sh", "-c", "grep ^0:: /proc/self/cgroup; exec sleep 30"],
        );
        spawn.cgroup = Some(&ctr);
        let (r, w) = pipe();
        spawn.stdio.stdout = Some(w);
        let app = spawn.spawn().expect("spawn into v2 cgroup");
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(std::fs::File::from(r)),
            &mut first,
        )
        .expect("read");
        assert_eq!(first.trim_end(), format!("0::/{name}/c"));
        assert!(ctr.pids().expect("pids").contains(&app.pid()));
        ctr.kill_all(Duration::from_secs(2)).expect("cgroup.kill");
        assert_eq!(app.wait().expect("wait").signal, Some(9));
        drop(cleanup);
        assert!(!pod.dirs()[0].exists());
    }
    assert_eq!(ours(), Vec::<String>::new(), "left on the host");
}

#[test]
fn image_symlink_cannot_send_a_mount_outside_the_root() {
    if !require_root("image_symlink_cannot_send_a_mount_outside_the_root") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-escape");
    let host_dir = scratch.path().join("host-side");
    std::fs::create_dir_all(&host_dir).expect("mkdir");
    // A layer whose /etc points at a host folder, above busybox.
    let evil = scratch.path().join("evil-layer");
    std::fs::create_dir_all(&evil).expect("mkdir");
    std::os::unix::fs::symlink(&host_dir, evil.join("etc")).expect("symlink");
    let hosts = scratch.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 escape-test\n").expect("hosts");

    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(PauseSpec::default()));
    let mut spawn = container(&cleanup.processes[0], scratch.path(), "c", false, &["true"]);
    let plan = spawn.mounts.take().expect("plan");
    let RootFs::Overlay { upper, work, .. } = plan.root.clone() else {
        panic!("overlay root")
    };
    spawn.mounts = Some(
        MountPlan {
            root: RootFs::Overlay {
                lower: vec![evil, busybox_rootfs().to_path_buf()],
                upper,
                work,
            },
            ..plan
        }
        .step(peapod_core::MountStep::Bind {
            source: hosts,
            target: "/etc/hosts".into(),
            recursive: false,
            options: peapod_core::MountOptions::default().read_only(),
        }),
    );
    // `/etc` resolves inside the root to a folder that does not exist
    // there: the spawn fails with a typed error rather than follow the link
    // onto the host.
    let err = spawn.spawn().expect_err("dangling in root").to_string();
    assert_eq!(err, "mkdir \"/etc/hosts\": no such file or directory");
    // Nothing was made on the host side of the link.
    let made: Vec<_> = std::fs::read_dir(&host_dir).expect("read").collect();
    assert!(made.is_empty(), "made on the host: {made:?}");
}

#[test]
fn tty_container_gets_the_pty_as_controlling_terminal() {
    if !require_root("tty_container_gets_the_pty_as_controlling_terminal") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-tty");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(PauseSpec::default()));
    let master =
        rustix::pty::openpt(rustix::pty::OpenptFlags::RDWR | rustix::pty::OpenptFlags::NOCTTY)
            .expect("openpt");
    rustix::pty::grantpt(&master).expect("grantpt");
    rustix::pty::unlockpt(&master).expect("unlockpt");
    let name = rustix::pty::ptsname(&master, Vec::new()).expect("ptsname");
    let open_slave = || {
        rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .expect("open slave")
    };
    let mut spawn = container(
        &cleanup.processes[0],
        scratch.path(),
        "t",
        false,
        // `ps -o tty` would need the host's devpts; the session's own
        // checks are enough: stdin is a tty and /dev/tty opens.
        &[
            "sh",
            "-c",
            "test -t 0 && echo stdin-is-tty; : < /dev/tty && echo has-ctty",
        ],
    );
    spawn.process.tty = true;
    spawn.stdio.stdin = Some(open_slave());
    spawn.stdio.stdout = Some(open_slave());
    spawn.stdio.stderr = Some(open_slave());
    let child = spawn.spawn().expect("spawn");
    assert_eq!(child.wait().expect("wait").exit_code(), 0);
    // Every slave fd is closed now: the master reads what is buffered,
    // then EIO.
    let mut out = String::new();
    let mut buf = [0u8; 256];
    while let Ok(n @ 1..) = rustix::io::read(&master, &mut buf) {
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(out.contains("stdin-is-tty"), "{out}");
    assert!(out.contains("has-ctty"), "{out}");
}
