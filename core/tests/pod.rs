//! A pod made of core primitives, as root: a pause holding new
//! net/IPC/UTS(/PID) namespaces, busybox containers joining it with their
//! own overlay root, exec into a container, cgroup limits and OOM kills,
//! cgroup v2 placement, and nothing left on the host afterwards.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use common::*;
use peapod_core::{
    CgroupHierarchy, CgroupLimits, CgroupVersion, ContainerSpawn, NamespacePlan, PauseSpec,
    ProcessSpec,
};
use peapod_testkit::{TempDir, require_host, require_root};

#[test]
fn containers_share_the_pause_namespaces_and_see_it_as_pid_1() {
    if !require_root("containers_share_the_pause_namespaces_and_see_it_as_pid_1") {
        return;
    }
    let _serial = serial();
    {
        let scratch = TempDir::new("core-pod");
        let mut cleanup = Cleanup::default();
        let pause = pause_with(&PauseSpec {
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
    cleanup.processes.push(pause_with(&PauseSpec::default()));
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
        cleanup.processes.push(pause_with(&PauseSpec {
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
    cleanup.processes.push(pause_with(&PauseSpec::default()));
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
    // Wait for the app to write its marker into its own root.
    let marker = format!("/proc/{}/root/tmp/marker", cleanup.processes[1].pid());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&marker).map_or(true, |t| t != "inside\n") {
        assert!(
            std::time::Instant::now() < deadline,
            "{marker} never written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

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
    // The app's cgroup namespace is rooted at its cgroup: an exec that
    // joined both sees itself at `/`, anywhere else would read `/..`.
    let memory = out.lines().find(|l| l.contains(":memory:"));
    let v2 = out.lines().find(|l| l.starts_with("0::"));
    assert!(
        memory.or(v2).is_some_and(|l| l.ends_with(":/")),
        "not in the container's cgroup:\n{out}"
    );
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
    let hierarchy = v2_hierarchy();
    if !require_host(
        "v2_clone_into_cgroup_and_cgroup_kill",
        "a cgroup v2 hierarchy",
        hierarchy.is_some(),
    ) {
        return;
    }
    let Some(hierarchy) = hierarchy else { return };
    {
        let scratch = TempDir::new("core-v2");
        let mut cleanup = Cleanup::default();
        let name = format!("peapod-core-v2-{}", std::process::id());
        let pod = hierarchy.create(&name).expect("pod cgroup");
        cleanup.cgroups.push(pod.clone());
        let ctr = pod.child("c").expect("container cgroup");
        cleanup.processes.push(pause_with(&PauseSpec::default()));
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
        // In its own cgroup namespace, rooted at its cgroup (checked from
        // the host just below).
        assert_eq!(first.trim_end(), "0::/");
        assert!(ctr.pids().expect("pids").contains(&app.pid()));
        ctr.kill_all(Duration::from_secs(30)).expect("cgroup.kill");
        assert_eq!(app.wait().expect("wait").signal, Some(9));
        drop(cleanup);
        assert!(!pod.dirs()[0].exists());
    }
    assert_eq!(ours(), Vec::<String>::new(), "left on the host");
}

#[test]
fn kill_all_empties_a_cgroup_of_forking_processes() {
    if !require_root("kill_all_empties_a_cgroup_of_forking_processes") {
        return;
    }
    let _serial = serial();
    {
        let scratch = TempDir::new("core-killall");
        let mut cleanup = Cleanup::default();
        let hierarchy = CgroupHierarchy::detect().expect("cgroups");
        let pod = hierarchy
            .create(format!("peapod-core-kill-{}", std::process::id()))
            .expect("pod cgroup");
        cleanup.cgroups.push(pod.clone());
        let ctr = pod.child("c").expect("container cgroup");
        cleanup.processes.push(pause_with(&PauseSpec::default()));
        let mut spawn = container(
            &cleanup.processes[0],
            scratch.path(),
            "c",
            false,
            &[
                "sh",
                "-c",
                "sleep 30 & sleep 30 & while :; do sleep 1 & wait; done",
            ],
        );
        spawn.cgroup = Some(&ctr);
        let app = spawn.spawn().expect("spawn");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while ctr.pids().expect("pids").len() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(ctr.pids().expect("pids").len() >= 3);
        ctr.kill_all(Duration::from_secs(30)).expect("kill_all");
        assert!(ctr.pids().expect("pids").is_empty());
        assert_eq!(app.wait().expect("wait").exit_code(), 137);
        drop(cleanup);
        for dir in pod.dirs() {
            assert!(!dir.exists(), "{} left", dir.display());
        }
    }
    assert_eq!(ours(), Vec::<String>::new(), "left on the host");
}
