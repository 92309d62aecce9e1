//! The mount, cgroup and device boundary of a container (issue 13), tried
//! from inside real pods: what an ordinary container may not reach, and,
//! where it is meaningful, that the same attempt succeeds with
//! `privileged: true` (so each test can tell). Root only; each test has
//! its own `--root` and deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{Pod, Root, shared, start};
use peapod_testkit::{TempDir, busybox_rootfs};

/// A pod of one `busybox:1.31.1` container `c` running `sleep 3600`, with
/// `extra` lines added to the container (indented by four spaces) and
/// `spec` lines to the pod's spec (two spaces).
fn pod_yaml(name: &str, spec: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{spec}  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"3600\"]\n{extra}"
    )
}

const PRIVILEGED: &str = "    securityContext:\n      privileged: true\n";

/// `apply -f` of `yaml` without a pod network (loopback only), with `env`
/// set for `apply` and so for the pod's supervisor.
fn apply_output(root: &Root, name: &str, yaml: &str, env: &[(&str, &str)]) -> Output {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    root.command(&["apply", "-f", file.to_str().unwrap()])
        .env("PEAPOD_NETWORK", "none")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Applies `yaml` ([`apply_output`]); the guard deletes the pod.
fn apply<'r>(root: &'r Root, name: &str, yaml: &str, env: &[(&str, &str)]) -> Pod<'r> {
    let guard = Pod {
        root,
        name: name.to_owned(),
    };
    let out = apply_output(root, name, yaml, env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "apply {name}: {stderr}");
    guard
}

/// Applies `yaml` expecting it to fail; returns stderr.
fn apply_fails(root: &Root, name: &str, yaml: &str) -> String {
    let out = apply_output(root, name, yaml, &[]);
    assert!(!out.status.success(), "apply of {name} should fail");
    String::from_utf8(out.stderr).unwrap()
}

/// `pids.max` of the pod's cgroup, read on the host (v1 or v2).
fn pod_pids_max(pod: &Pod<'_>) -> String {
    let uid = pod.json()["metadata"]["uid"].as_str().unwrap().to_owned();
    std::fs::read_to_string(format!("/sys/fs/cgroup/pids/peapod-{uid}/pids.max"))
        .or_else(|_| std::fs::read_to_string(format!("/sys/fs/cgroup/peapod-{uid}/pids.max")))
        .unwrap()
        .trim()
        .to_owned()
}

/// The output of `script` (stdout and stderr) in container `c`, whatever
/// its exit code.
fn sh(pod: &Pod<'_>, script: &str) -> String {
    pod.exec("c", &["sh", "-c", &format!("{{ {script} ; }} 2>&1")])
        .1
}

/// A disk of the host (`/sys/block`, not loop, ram or zram): its name and
/// `MAJ:MIN`.
fn host_disk() -> (String, String) {
    let mut disks: Vec<_> = std::fs::read_dir("/sys/block")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            !["loop", "ram", "zram", "nbd", "dm-"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    disks.sort();
    let disk = disks.first().expect("a disk in /sys/block");
    let dev = std::fs::read_to_string(format!("/sys/block/{disk}/dev")).unwrap();
    (disk.clone(), dev.trim().to_owned())
}

/// Host paths of the masked ones that exist on this kernel.
fn present(paths: &[&'static str]) -> Vec<&'static str> {
    paths
        .iter()
        .copied()
        .filter(|p| Path::new(p).exists())
        .collect()
}

#[test]
fn masked_paths_are_empty_and_read_only_paths_refuse_writes_unless_privileged() {
    let Some((_g, root)) = start("masked paths", "sb-mask", shared) else {
        return;
    };
    let files = present(&[
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ]);
    assert!(!files.is_empty(), "no masked /proc file on this host");
    let plain = apply(&root, "masked", &pod_yaml("masked", "", ""), &[]);
    let privileged = apply(
        &root,
        "unmasked",
        &pod_yaml("unmasked", "", PRIVILEGED),
        &[],
    );
    for file in &files {
        let script = format!("wc -c < {file}");
        assert_eq!(sh(&plain, &script).trim(), "0", "{file} is not masked");
        // The mask is the null device; a privileged container sees the
        // kernel's file.
        let kind = format!("stat -c %F {file}");
        assert_eq!(sh(&plain, &kind).trim(), "character special file");
        assert_eq!(
            sh(&privileged, &kind).trim(),
            "regular empty file",
            "{file}"
        );
        // Files root always reads something from (not kcore: it is the
        // size of the address space; not keys: it lists what one may view).
        if ["/proc/timer_list", "/proc/sched_debug"].contains(file) {
            assert_ne!(
                sh(&privileged, &script).trim(),
                "0",
                "{file} masked when privileged"
            );
        }
    }
    let script = "ls /sys/firmware | wc -l";
    assert_eq!(sh(&plain, script).trim(), "0");
    assert_ne!(sh(&privileged, script).trim(), "0");
    // The masks cannot be lifted (no CAP_SYS_ADMIN), and hold after trying.
    let out = sh(
        &plain,
        "umount /proc/keys; umount -l /sys/firmware; wc -c < /proc/keys",
    );
    assert_eq!(out.matches("Operation not permitted").count(), 2, "{out}");
    assert!(out.trim_end().ends_with('0'), "{out}");
    // /sys stays read-only; a privileged container's is writable.
    let remount = "mount -o remount,rw /sys && echo REMOUNTED";
    let out = sh(&plain, remount);
    assert!(!out.contains("REMOUNTED"), "{out}");
    assert!(sh(&privileged, remount).contains("REMOUNTED"));
    // /proc/sys is read-only (the IPC namespace's own sysctl, harmless).
    let write = "echo 1 > /proc/sys/kernel/shm_rmid_forced && echo WROTE";
    assert!(
        sh(&plain, write).contains("Read-only file system"),
        "{}",
        sh(&plain, write)
    );
    assert!(sh(&privileged, write).contains("WROTE"));
    if Path::new("/proc/sysrq-trigger").exists() {
        // An empty write: refused by the read-only mount, a no-op otherwise.
        let script = "printf '' > /proc/sysrq-trigger && echo WROTE";
        assert!(!sh(&plain, script).contains("WROTE"));
        assert!(sh(&privileged, script).contains("WROTE"));
    }
}

#[test]
fn device_cgroup_refuses_made_nodes_of_the_kernel_log_and_host_disk_unless_privileged() {
    let Some((_g, root)) = start("device cgroup", "sb-dev", shared) else {
        return;
    };
    let (disk, dev) = host_disk();
    let (major, minor) = dev.split_once(':').unwrap();
    let plain = apply(&root, "devplain", &pod_yaml("devplain", "", ""), &[]);
    let privileged = apply(&root, "devpriv", &pod_yaml("devpriv", "", PRIVILEGED), &[]);
    let read = |pod: &Pod<'_>, kind: &str, major: &str, minor: &str| {
        sh(
            pod,
            &format!(
                "mknod /tmp/node {kind} {major} {minor} && echo MADE; \
                 dd if=/tmp/node of=/dev/null bs=8192 count=1 && echo READ; rm -f /tmp/node"
            ),
        )
    };
    // mknod itself is allowed (runc's `c *:* m`), opening the node is not.
    let kmsg = read(&plain, "c", "1", "11");
    assert!(kmsg.contains("MADE"), "{kmsg}");
    assert!(
        !kmsg.contains("READ") && kmsg.contains("Operation not permitted"),
        "{kmsg}"
    );
    let block = read(&plain, "b", major, minor);
    assert!(
        !block.contains("READ") && block.contains("Operation not permitted"),
        "{block}"
    );
    assert!(read(&privileged, "c", "1", "11").contains("READ"));
    // Some hosts refuse even their root a raw disk (this CI machine's
    // does): a privileged container reads it exactly when the host can.
    let host_reads = std::fs::File::open(format!("/dev/{disk}")).is_ok();
    let privileged_block = read(&privileged, "b", major, minor);
    assert_eq!(
        privileged_block.contains("READ"),
        host_reads,
        "{privileged_block}"
    );
    // The default devices still work, and a privileged container has the
    // host's nodes in its /dev.
    assert!(
        sh(
            &plain,
            "head -c 4 /dev/urandom | wc -c && echo x > /dev/null && echo OK"
        )
        .contains("OK")
    );
    assert!(sh(&privileged, "test -c /dev/kmsg && echo HOST").contains("HOST"));
    assert!(sh(&plain, "test -e /dev/kmsg || echo NONE").contains("NONE"));
}

#[test]
fn cgroup_filesystem_is_the_containers_own_and_read_only_unless_privileged() {
    let Some((_g, root)) = start("cgroup fs", "sb-cg", shared) else {
        return;
    };
    let plain = apply(&root, "cgplain", &pod_yaml("cgplain", "", ""), &[]);
    let privileged = apply(&root, "cgpriv", &pod_yaml("cgpriv", "", PRIVILEGED), &[]);
    // Its own cgroup is the root of its cgroup namespace.
    let own = sh(&plain, "cat /proc/self/cgroup");
    assert!(
        own.lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.ends_with(":/")),
        "{own}"
    );
    let pids = sh(
        &plain,
        "ls /sys/fs/cgroup/pids/ 2>/dev/null || ls /sys/fs/cgroup",
    );
    assert!(
        pids.contains("pids.max") || pids.contains("cgroup.procs"),
        "{pids}"
    );
    assert!(
        !pids.contains("peapod-"),
        "the host's cgroups are visible: {pids}"
    );
    // No hierarchy it is not placed in (whose root would be the host's).
    let listed = sh(&plain, "ls /sys/fs/cgroup");
    let listed: Vec<_> = listed.split_whitespace().collect();
    for unplaced in ["cpuset", "blkio", "systemd", "unified"] {
        if Path::new("/sys/fs/cgroup").join(unplaced).exists() {
            assert!(!listed.contains(&unplaced), "{unplaced} in {listed:?}");
        }
    }
    let write = "mkdir /sys/fs/cgroup/pids/x /sys/fs/cgroup/x 2>&1; ls -d /sys/fs/cgroup/pids/x /sys/fs/cgroup/x 2>/dev/null && echo MADE";
    let out = sh(&plain, write);
    assert!(
        !out.contains("MADE") && out.contains("Read-only file system"),
        "{out}"
    );
    let out = sh(
        &privileged,
        &format!("{write}; rmdir /sys/fs/cgroup/pids/x /sys/fs/cgroup/x"),
    );
    assert!(out.contains("MADE"), "{out}");
}

#[test]
fn release_agent_cannot_be_set_from_a_freshly_mounted_cgroup_hierarchy() {
    let Some((_g, root)) = start("release_agent", "sb-ra", shared) else {
        return;
    };
    let host_agents: Vec<_> = std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .map(|e| e.unwrap().path().join("release_agent"))
        .filter(|p| p.exists())
        .map(|p| (p.clone(), std::fs::read_to_string(p).unwrap()))
        .collect();
    let plain = apply(&root, "agent", &pod_yaml("agent", "", ""), &[]);
    let privileged = apply(
        &root,
        "agentpriv",
        &pod_yaml("agentpriv", "", PRIVILEGED),
        &[],
    );
    // A hierarchy that exists (memory), and a new named one. Two layers:
    // an ordinary container cannot mount (no CAP_SYS_ADMIN); a privileged
    // one can, but the kernel refuses release_agent outside the host's
    // cgroup namespace, and each container has its own.
    // The agent named is this run's own, so that a host hierarchy found
    // carrying it can only have been set by this test's containers.
    let agent = format!("/tmp/peapod-release-agent-{}", std::process::id());
    let attack = format!(
        "mkdir -p /tmp/cg /tmp/cg2; \
         mount -t cgroup -o memory cgroup /tmp/cg && echo MOUNTED && echo {agent} > /tmp/cg/release_agent && echo SET; \
         mount -t cgroup -o none,name=peapodtest cgroup /tmp/cg2 && echo {agent} > /tmp/cg2/release_agent && echo SET2"
    );
    let out = sh(&plain, &attack);
    assert!(!out.contains("MOUNTED") && !out.contains("SET"), "{out}");
    let out = sh(&privileged, &attack);
    assert!(out.contains("MOUNTED") && !out.contains("SET"), "{out}");
    for (path, before) in host_agents {
        // Nor left by an earlier run (this test wrote /tmp/x before).
        assert!(
            !before.starts_with("/tmp/peapod-release-agent-") && before.trim() != "/tmp/x",
            "{}: {before}",
            path.display()
        );
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(!after.contains(&agent), "{}: {after}", path.display());
        assert_eq!(after, before, "{}", path.display());
    }
}

#[test]
fn a_sub_path_symlink_to_root_planted_by_another_container_is_refused() {
    let Some((_g, root)) = start("subPath symlink", "sb-subpath", shared) else {
        return;
    };
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: escape\nspec:\n  restartPolicy: Never\n  volumes:\n  - name: shared\n    emptyDir: {}\n  initContainers:\n  - name: plant\n    image: busybox:1.31.1\n    command: [\"ln\", \"-s\", \"/\", \"/data/escape\"]\n    volumeMounts: [{name: shared, mountPath: /data}]\n  containers:\n  - name: victim\n    image: busybox:1.31.1\n    command: [\"ls\", \"/host/etc/shadow\"]\n    volumeMounts: [{name: shared, mountPath: /host, subPath: escape}]\n";
    let err = apply_fails(&root, "escape", yaml);
    assert!(
        err.contains("subPath \"escape\" escapes the volume through a symlink"),
        "{err}"
    );
    assert!(
        root.pod_leftovers().is_empty(),
        "{:?}",
        root.pod_leftovers()
    );
}

#[test]
fn a_working_dir_under_proc_self_fd_cannot_start_cve_2024_21626() {
    let Some((_g, root)) = start("workingDir fd", "sb-cwd", shared) else {
        return;
    };
    // Whatever the fd is open on (stdio, a pipe, a pidfd), the magic link
    // is never followed: the working folder is resolved inside the root.
    for fd in ["0", "1", "2", "3"] {
        let extra = format!("    workingDir: /proc/self/fd/{fd}\n");
        let err = apply_fails(&root, "cwd", &pod_yaml("cwd", "", &extra));
        assert!(
            err.contains(&format!(
                "chdir \"/proc/self/fd/{fd}\": too many levels of symbolic links"
            )),
            "{err}"
        );
    }
    // A symlink of the image is still followed, inside the root.
    let pod = apply(
        &root,
        "cwdok",
        &pod_yaml("cwdok", "", "    workingDir: /bin\n"),
        &[],
    );
    assert_eq!(sh(&pod, "readlink /proc/1/cwd").trim(), "/bin");
}

/// A copy of the busybox root filesystem to make an attack image of.
fn busybox_copy(tag: &str) -> TempDir {
    let image = TempDir::new(tag);
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", busybox_rootfs().display()))
        .arg(image.path())
        .status()
        .unwrap();
    assert!(status.success());
    image
}

/// Imports the folder `image` as the image `name`.
fn import(root: &Root, image: &TempDir, name: &str) {
    root.ok(&[
        "image",
        "import",
        "-c",
        r#"CMD ["sh"]"#,
        image.path().to_str().unwrap(),
        name,
    ]);
}

#[test]
fn an_image_whose_dev_null_is_a_symlink_does_not_redirect_the_masks_cve_2025_31133() {
    let Some((_g, root)) = start("dev/null symlink", "sb-null", shared) else {
        return;
    };
    // The attack image: /dev/null pointing at a file the mask would
    // otherwise expose writable (here a host file, and core_pattern).
    let image = busybox_copy("sb-null-image");
    let host_file = TempDir::new("sb-null-host");
    let target = host_file.path().join("secret");
    std::fs::write(&target, "host secret\n").unwrap();
    std::fs::create_dir_all(image.path().join("dev")).unwrap();
    let _ = std::fs::remove_file(image.path().join("dev/null"));
    std::os::unix::fs::symlink(
        "/proc/sys/kernel/core_pattern",
        image.path().join("dev/null"),
    )
    .unwrap();
    import(&root, &image, "nullattack:1");
    let core_pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let yaml = pod_yaml("nullattack", "", "").replace("busybox:1.31.1", "nullattack:1");
    let pod = apply(&root, "nullattack", &yaml, &[]);
    // /dev/null is the null device, and so is every masked file.
    let out = sh(&pod, "stat -c '%F %t:%T' /dev/null");
    assert_eq!(out.trim(), "character special file 1:3", "{out}");
    for file in present(&["/proc/kcore", "/proc/keys", "/proc/timer_list"]) {
        let out = sh(
            &pod,
            &format!("stat -c '%F %t:%T' {file}; echo '|/bin/x' > {file}; wc -c < {file}"),
        );
        assert!(
            out.starts_with("character special file 1:3"),
            "{file}: {out}"
        );
    }
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap(),
        core_pattern
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "host secret\n");
}

#[test]
fn a_fork_loop_stops_at_the_pod_pids_limit_with_eagain() {
    let Some((_g, root)) = start("pids limit", "sb-pids", shared) else {
        return;
    };
    let pod = apply(
        &root,
        "forks",
        &pod_yaml("forks", "", ""),
        &[("PEAPOD_POD_PIDS_LIMIT", "24")],
    );
    assert_eq!(pod_pids_max(&pod), "24");
    // At most 64 forks, from a subshell that dies at the first refused
    // one; the pause, the container, this shell and the subshell are
    // counted already, so at most 20 can start. Counted and killed with
    // builtins only: no fork is left to make.
    let out = sh(
        &pod,
        "( i=0; while [ $i -lt 64 ]; do sleep 1000 & echo $! >> /tmp/pids; i=$((i+1)); done ) 2>/tmp/err; \
         n=0; while read p; do n=$((n+1)); kill $p; done < /tmp/pids; echo started=$n; \
         while read l; do echo \"$l\"; done < /tmp/err",
    );
    let started: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("started="))
        .unwrap_or_else(|| panic!("{out}"))
        .trim()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&started), "{out}");
    assert!(out.contains("Resource temporarily unavailable"), "{out}");
    // The default, for a pod without the setting.
    let other = apply(
        &root,
        "forksdefault",
        &pod_yaml("forksdefault", "", ""),
        &[],
    );
    assert_eq!(pod_pids_max(&other), "4096");
}

#[test]
fn pod_sysctls_are_set_inside_the_pod_and_not_on_the_host() {
    let Some((_g, root)) = start("sysctls", "sb-sysctl", shared) else {
        return;
    };
    let host = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/{}", name.replace('.', "/")))
            .unwrap()
            .trim()
            .to_owned()
    };
    let port = "net.ipv4.ip_unprivileged_port_start";
    let shm = "kernel.shm_rmid_forced";
    let (port_before, shm_before) = (host(port), host(shm));
    let new_shm = if shm_before == "1" { "0" } else { "1" };
    let spec = format!(
        "  securityContext:\n    sysctls:\n    - name: {port}\n      value: \"81\"\n    - name: {shm}\n      value: \"{new_shm}\"\n"
    );
    let pod = apply(&root, "sysctls", &pod_yaml("sysctls", &spec, ""), &[]);
    let inside = sh(
        &pod,
        "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced",
    );
    assert_eq!(
        inside.split_whitespace().collect::<Vec<_>>(),
        ["81", new_shm]
    );
    assert_eq!(host(port), port_before);
    assert_eq!(host(shm), shm_before);
}

#[test]
fn a_forbidden_sysctl_is_refused_by_validate_and_apply() {
    let Some((_g, root)) = start("forbidden sysctl", "sb-sysctl-bad", shared) else {
        return;
    };
    let spec = "  securityContext:\n    sysctls:\n    - name: kernel.panic\n      value: \"5\"\n";
    let yaml = pod_yaml("badsysctl", spec, "");
    let file = root.path().join("badsysctl.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let out = root.run(&["validate", "-f", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("badsysctl.yaml:8:7: spec.securityContext.sysctls[0].name: SysctlForbidden: forbidden sysctl: \"kernel.panic\" not allowlisted"),
        "{text}"
    );
    let panic_before = std::fs::read_to_string("/proc/sys/kernel/panic").unwrap();
    let err = apply_fails(&root, "badsysctl", &yaml);
    assert!(err.contains("SysctlForbidden"), "{err}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/panic").unwrap(),
        panic_before
    );
}

#[test]
fn read_only_root_filesystem_refuses_writes_but_volumes_and_dev_shm_stay_writable() {
    let Some((_g, root)) = start("readOnlyRootFilesystem", "sb-rorootfs", shared) else {
        return;
    };
    let spec = "  volumes:\n  - name: scratch\n    emptyDir: {}\n";
    let extra = "    securityContext:\n      readOnlyRootFilesystem: true\n    volumeMounts:\n    - {name: scratch, mountPath: /scratch}\n";
    let pod = apply(&root, "rofs", &pod_yaml("rofs", spec, extra), &[]);
    for path in ["/x", "/etc/x", "/tmp/x"] {
        let out = sh(&pod, &format!("touch {path} && echo WROTE"));
        assert!(
            out.contains("Read-only file system") && !out.contains("WROTE"),
            "{path}: {out}"
        );
    }
    for path in ["/scratch/x", "/dev/shm/x"] {
        let out = sh(&pod, &format!("touch {path} && echo WROTE"));
        assert!(out.contains("WROTE"), "{path}: {out}");
    }
}

#[test]
fn a_container_process_holds_no_fd_but_its_stdio() {
    let Some((_g, root)) = start("no host fd", "sb-fds", shared) else {
        return;
    };
    let pod = apply(&root, "fds", &pod_yaml("fds", "", ""), &[]);
    // The container's own process (its PID 1), and an exec'd one (`ls`
    // itself holds the folder it lists, fd 3).
    assert_eq!(
        sh(&pod, "ls /proc/1/fd")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "1", "2"]
    );
    assert_eq!(
        sh(&pod, "ls /proc/self/fd")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
}

/// The files `ldd` lists for `binary` (its loader and libraries), none
/// for a static one.
fn shared_libraries(binary: &Path) -> Vec<std::path::PathBuf> {
    let out = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(std::path::PathBuf::from)
        .collect()
}

/// CVE-2019-5736: a container program that is the script `#!/proc/self/exe`
/// makes the process `peapod exec` clones run the binary that cloned it
/// inside the container, and a process of the container opens the host's
/// binary through that process's `/proc/<pid>/exe`. peapod's supervisor
/// runs its binary through a private read-only overlayfs, so the reopen
/// for writing is refused with EROFS (it was ETXTBSY before, which holds
/// only while some peapod process executes the file: after that, the
/// write went through to the host's binary).
#[test]
fn the_runtime_binary_cannot_be_opened_for_writing_through_proc_pid_exe_cve_2019_5736() {
    let Some((_g, root)) = start("/proc/pid/exe", "sb-exe", shared) else {
        return;
    };
    let peapod = Path::new(env!("CARGO_BIN_EXE_peapod"));
    // The attack image: busybox, the script, and what the peapod binary
    // needs to start (its loader and libraries, when it is not static).
    let image = busybox_copy("sb-exe-image");
    for library in shared_libraries(peapod) {
        let inside = image.path().join(library.strip_prefix("/").unwrap());
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        std::fs::copy(&library, &inside).unwrap();
    }
    let evil = image.path().join("evil");
    std::fs::write(&evil, "#!/proc/self/exe\n").unwrap();
    std::fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    import(&root, &image, "exeattack:1");
    // The container's own process watches for the runtime's binary.
    let yaml = pod_yaml("exeattack", "", "")
        .replace("busybox:1.31.1", "exeattack:1")
        .replace(
            "command: [\"sleep\", \"3600\"]",
            "command: [sh, -c, 'probe exe-write /proc/self/exe > /tmp/w; mv /tmp/w /tmp/caught; exec sleep 3600']",
        );
    let pod = apply(&root, "exeattack", &yaml, &[]);
    let mut caught = String::new();
    for _ in 0..200 {
        // Runs the peapod binary in the container (it fails on its
        // arguments); the watcher may catch it while it runs.
        let _ = pod.exec("c", &["/evil"]);
        let (code, out) = pod.exec("c", &["cat", "/tmp/caught"]);
        if code == 0 {
            caught = out;
            break;
        }
    }
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(peapod).unwrap());
    assert_eq!(caught, format!("exe-write: EROFS ino={inode}\n"));
}

/// `peapod cp POD:PATH here` unpacks what the container's own `tar`
/// writes; a container whose `tar` sends a hard link to a file of the
/// host (by its absolute path) gets the copy refused, and no link to that
/// file is made on the host.
#[test]
fn cp_from_a_container_whose_tar_links_to_a_host_file_is_refused() {
    let Some((_g, root)) = start("cp hard link", "sb-cp", shared) else {
        return;
    };
    let host_file = root.path().join("host-secret");
    std::fs::write(&host_file, "host secret\n").unwrap();
    let mut archive = tar::Builder::new(Vec::new());
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Link);
    link.set_size(0);
    archive
        .append_link(&mut link, "data/x", &host_file)
        .unwrap();
    let image = busybox_copy("sb-cp-image");
    std::fs::write(image.path().join("evil.tar"), archive.into_inner().unwrap()).unwrap();
    let tar = image.path().join("bin/tar");
    std::fs::remove_file(&tar).unwrap();
    std::fs::write(&tar, "#!/bin/sh\ncat /evil.tar\n").unwrap();
    std::fs::set_permissions(&tar, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    import(&root, &image, "cpattack:1");
    let yaml = pod_yaml("cpattack", "", "").replace("busybox:1.31.1", "cpattack:1");
    let _pod = apply(&root, "cpattack", &yaml, &[]);
    let dest = root.path().join("copied");
    let out = root.run(&["cp", "cpattack:/data", dest.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "data/x: a hard link to {} outside the copied path, refused",
            host_file.display()
        )),
        "{stderr}"
    );
    assert!(!dest.join("x").exists());
    assert_eq!(
        std::os::unix::fs::MetadataExt::nlink(&std::fs::metadata(&host_file).unwrap()),
        1
    );
}

/// What the caller's environment holds (a token in the admin's shell)
/// never reaches a container: `peapod exec` and `peapod run` give the
/// process the container's environment only, as `kubectl exec` does.
#[test]
fn the_callers_environment_does_not_reach_exec_or_run() {
    let Some((_g, root)) = start("caller env", "sb-env", shared) else {
        return;
    };
    let pod = apply(&root, "envleak", &pod_yaml("envleak", "", ""), &[]);
    let secret = ("HOST_ONLY_TOKEN", "s3cr3t-value");
    let exec = root
        .command(&["exec", "envleak", "--", "env"])
        .env(secret.0, secret.1)
        .output()
        .unwrap();
    let run = root
        .command(&["run", "--rm", "--network", "none", "busybox:1.31.1", "env"])
        .env(secret.0, secret.1)
        .output()
        .unwrap();
    for (what, out) in [("exec", exec), ("run", run)] {
        let env = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{what}: {out:?}");
        assert!(env.contains("PATH="), "{what}: {env}");
        assert!(!env.contains(secret.1), "{what}: {env}");
        assert!(!env.contains("PEAPOD"), "{what}: {env}");
    }
    drop(pod);
}
