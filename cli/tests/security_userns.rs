//! `hostUsers: false` (issue 13 item 2): a pod in a user namespace of its
//! own, tried from inside real pods and checked from the host: the id map,
//! who the processes are on the host, how image files and volumes look,
//! the host id blocks (disjoint, freed on delete, also after `kill -9` of
//! the supervisor), and capabilities that count only inside the pod. Root
//! only; each test has its own `--root` and deletes its pods in a drop
//! guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Output;

use common::{Pod, Root, shared, start};

/// A `hostUsers: false` pod of one `busybox:1.31.1` container `c` running
/// `sleep 3600` with an emptyDir at `/scratch`, `extra` lines added to the
/// container (four spaces) and `spec` lines to the pod's spec (two).
fn pod_yaml(name: &str, spec: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  hostUsers: false\n  terminationGracePeriodSeconds: 0\n{spec}  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"3600\"]\n    volumeMounts:\n    - {{name: scratch, mountPath: /scratch}}\n{extra}  volumes:\n  - name: scratch\n    emptyDir: {{}}\n"
    )
}

fn apply_output(root: &Root, name: &str, yaml: &str) -> Output {
    let file = root.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    root.command(&["apply", "-f", file.to_str().unwrap()])
        .env("PEAPOD_NETWORK", "none")
        .output()
        .unwrap()
}

/// Applies `yaml` without a pod network; the guard deletes the pod.
fn apply<'r>(root: &'r Root, name: &str, yaml: &str) -> Pod<'r> {
    let guard = Pod {
        root,
        name: name.to_owned(),
    };
    let out = apply_output(root, name, yaml);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "apply {name}: {stderr}");
    assert!(!stderr.contains("hostUsers"), "no warning: {stderr}");
    guard
}

/// The output of `script` (stdout and stderr) in container `c`, whatever
/// its exit code.
fn sh(pod: &Pod<'_>, script: &str) -> String {
    pod.exec("c", &["sh", "-c", &format!("{{ {script} ; }} 2>&1")])
        .1
}

/// The host id of the pod's uid 0, read from its uid map inside; checks
/// the map has the shape of issue 13 (one line, 65,536 ids, 64K-aligned
/// above the host's own ids) and that the gid map is the same.
fn host_base(pod: &Pod<'_>) -> u32 {
    let uid_map = sh(pod, "cat /proc/self/uid_map");
    let gid_map = sh(pod, "cat /proc/self/gid_map");
    assert_eq!(uid_map, gid_map);
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{uid_map}");
    assert_eq!(fields[0], "0");
    assert_eq!(fields[2], "65536");
    let base: u32 = fields[1].parse().unwrap();
    assert!(base >= 65_536 && base.is_multiple_of(65_536), "{uid_map}");
    base
}

/// The lease files of the id blocks under the test's `--root`.
fn blocks(root: &Root) -> Vec<String> {
    let dir = root.path().join("lib/userns");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "lock")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn uid_of(pod: &Pod<'_>) -> String {
    pod.json()["metadata"]["uid"].as_str().unwrap().to_owned()
}

#[test]
fn pod_root_is_an_unprivileged_host_id_and_files_look_owned_by_the_pod() {
    let Some((_g, root)) = start("userns_ids", "userns-ids", shared) else {
        return;
    };
    let pod = apply(&root, "ids", &pod_yaml("ids", "", ""));
    let base = host_base(&pod);
    assert_eq!(sh(&pod, "id"), "uid=0(root) gid=0(root) groups=0(root)\n");
    // On the host, the container's process is the block's first id.
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pod.container_pid("c"))).unwrap();
    let line = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ids = format!("{base} {base} {base} {base}");
    assert_eq!(line("Uid:"), ids);
    assert_eq!(line("Gid:"), ids);
    // The image's files, owned by 0 in the layers, are root's inside (the
    // lower layers are idmapped, not chowned), and so is `/`.
    assert_eq!(
        sh(
            &pod,
            "stat -c '%u:%g %n' / /bin/busybox /etc/passwd /etc/hosts"
        ),
        "0:0 /\n0:0 /bin/busybox\n0:0 /etc/passwd\n0:0 /etc/hosts\n"
    );
    let layer = PathBuf::from(format!(
        "{}/lib/pods/{}/containers/c/upper",
        root.path().display(),
        uid_of(&pod)
    ));
    // A file root makes in the writable layer is the block's on the host.
    assert_eq!(sh(&pod, "echo x > /made && stat -c %u:%g /made"), "0:0\n");
    let made = std::fs::metadata(layer.join("made")).unwrap();
    assert_eq!((made.uid(), made.gid()), (base, base));
    // The emptyDir is an idmapped bind: the file is root's inside, and
    // written with the pod's ids (0) on the host's disk.
    assert_eq!(
        sh(&pod, "echo y > /scratch/f && stat -c %u:%g /scratch/f"),
        "0:0\n"
    );
    let scratch = root.path().join(format!(
        "lib/pods/{}/volumes/emptyDir/scratch/f",
        uid_of(&pod)
    ));
    let f = std::fs::metadata(&scratch).unwrap();
    assert_eq!((f.uid(), f.gid()), (0, 0), "{}", scratch.display());
    // Ids of the pod map one to one; ids outside its 65,536 do not exist.
    assert_eq!(
        sh(&pod, "chown 1000:1000 /scratch && stat -c %u /scratch"),
        "1000\n"
    );
    assert_eq!(
        std::fs::metadata(scratch.parent().unwrap()).unwrap().uid(),
        1000
    );
    let outside = sh(&pod, "chown 65536 /scratch/f && echo CHOWNED");
    assert!(outside.contains("Invalid argument"), "{outside}");
}

#[test]
fn pods_get_disjoint_blocks_freed_on_delete_and_after_kill_9() {
    let Some((_g, root)) = start("userns_blocks", "userns-blocks", shared) else {
        return;
    };
    let a = apply(&root, "a", &pod_yaml("a", "", ""));
    let b = apply(&root, "b", &pod_yaml("b", "", ""));
    let (base_a, base_b) = (host_base(&a), host_base(&b));
    assert_ne!(base_a, base_b);
    assert!(base_a.abs_diff(base_b) >= 65_536);
    assert_eq!(blocks(&root).len(), 2);
    drop(a);
    assert_eq!(blocks(&root), vec![(base_b / 65_536).to_string()]);
    // The supervisor killed: its block stays taken (its processes may
    // still run) until delete.
    let killed = std::process::Command::new("kill")
        .args(["-9", &b.supervisor_pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(blocks(&root), vec![(base_b / 65_536).to_string()]);
    drop(b);
    assert_eq!(blocks(&root), Vec::<String>::new());
    // A freed block is handed out again.
    let c = apply(&root, "c", &pod_yaml("c", "", ""));
    assert_eq!(host_base(&c), base_a.min(base_b));
    drop(c);
    assert_eq!(blocks(&root), Vec::<String>::new());
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn capabilities_count_only_inside_the_pod() {
    let Some((_g, root)) = start("userns_caps", "userns-caps", shared) else {
        return;
    };
    let sys_admin = "    securityContext:\n      capabilities:\n        add: [SYS_ADMIN]\n";
    let pod = apply(&root, "caps", &pod_yaml("caps", "", sys_admin));
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    // The pod's UTS namespace is owned by its user namespace.
    assert_eq!(sh(&pod, "hostname inpod && hostname"), "inpod\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host_name
    );
    // Its mount namespace is the host's to own: CAP_SYS_ADMIN of the pod
    // mounts nothing.
    let mount = sh(&pod, "mount -t tmpfs t /tmp && echo MOUNTED");
    assert!(!mount.contains("MOUNTED"), "{mount}");
    assert!(
        mount.contains("denied") || mount.contains("not permitted"),
        "{mount}"
    );

    // The same container with the host's ids mounts: the test can tell.
    let host_users = pod_yaml("hostcaps", "", sys_admin).replace("  hostUsers: false\n", "");
    let same = apply(&root, "hostcaps", &host_users);
    assert_eq!(
        sh(&same, "mount -t tmpfs t /tmp && echo MOUNTED"),
        "MOUNTED\n"
    );
}

#[test]
fn proc_mount_unmasked_is_allowed_in_a_user_namespace() {
    let Some((_g, root)) = start("userns_unmasked", "userns-unmasked", shared) else {
        return;
    };
    let unmasked = "    securityContext:\n      procMount: Unmasked\n";
    let pod = apply(&root, "unmasked", &pod_yaml("unmasked", "", unmasked));
    assert_eq!(sh(&pod, "stat -c %F /proc/keys"), "regular empty file\n");
    let masked = apply(&root, "masked", &pod_yaml("masked", "", ""));
    assert_eq!(
        sh(&masked, "stat -c %F /proc/keys"),
        "character special file\n"
    );
}

#[test]
fn a_filesystem_that_cannot_be_idmapped_fails_the_pod_naming_it() {
    let Some((_g, root)) = start("userns_noidmap", "userns-noidmap", shared) else {
        return;
    };
    let yaml = pod_yaml("sysfs", "", "    - {name: sys, mountPath: /hostsys}\n").replace(
        "  volumes:\n",
        "  volumes:\n  - name: sys\n    hostPath: {path: /sys/kernel}\n",
    );
    let _guard = Pod {
        root: &root,
        name: "sysfs".to_owned(),
    };
    let out = apply_output(&root, "sysfs", &yaml);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "idmapped mount for the pod's user namespace \"/sys/kernel\": invalid argument"
        ),
        "{stderr}"
    );
    assert_eq!(blocks(&root), Vec::<String>::new());
    assert_eq!(root.pod_leftovers(), Vec::<PathBuf>::new());
}

#[test]
fn pod_sysctls_shared_pid_and_init_containers_work_in_a_user_namespace() {
    let Some((_g, root)) = start("userns_pod", "userns-pod", shared) else {
        return;
    };
    let spec = "  shareProcessNamespace: true\n  securityContext:\n    sysctls:\n    - {name: kernel.shm_rmid_forced, value: \"1\"}\n    - {name: net.ipv4.ip_unprivileged_port_start, value: \"80\"}\n  initContainers:\n  - name: init\n    image: busybox:1.31.1\n    command: [\"sh\", \"-c\", \"id -u > /scratch/init\"]\n    volumeMounts:\n    - {name: scratch, mountPath: /scratch}\n";
    let user = "    securityContext: {runAsUser: 1000, runAsGroup: 3000}\n";
    let pod = apply(&root, "shared", &pod_yaml("shared", spec, user));
    let base = host_base(&pod);
    // The IPC and net namespaces are the pod's: their sysctls were
    // written by the pause as the namespace's root.
    assert_eq!(
        sh(
            &pod,
            "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start"
        ),
        "1\n80\n"
    );
    // The init container ran as the pod's root, the app as its 1000.
    assert_eq!(
        sh(&pod, "cat /scratch/init; id -u; id -g"),
        "0\n1000\n3000\n"
    );
    // The pause is PID 1 of the pod, its root, and the block's first id
    // on the host; the app is base + 1000.
    assert_eq!(sh(&pod, "stat -c %u /proc/1"), "0\n");
    let host_uid = |pid: i32| std::fs::metadata(format!("/proc/{pid}")).unwrap().uid();
    assert_eq!(host_uid(pod.container_pid("c")), base + 1000);
    let pause: i32 = common::cgroups_of(&uid_of(&pod))
        .iter()
        .find_map(|cg| std::fs::read_to_string(cg.join("_pause/cgroup.procs")).ok())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(host_uid(pause), base);
}

#[test]
fn every_volume_type_looks_owned_by_the_pod() {
    let Some((_g, root)) = start("userns_volumes", "userns-volumes", shared) else {
        return;
    };
    let host = root.path().join("hostdir");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("file"), "hostdata\n").unwrap();
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: vols\nspec:\n  hostUsers: false\n  terminationGracePeriodSeconds: 0\n  securityContext: {{fsGroup: 2000}}\n  containers:\n  - name: c\n    image: busybox:1.31.1\n    command: [\"sleep\", \"3600\"]\n    securityContext: {{runAsUser: 1000}}\n    volumeMounts:\n    - {{name: mem, mountPath: /mem}}\n    - {{name: mem, mountPath: /sub, subPath: a/b}}\n    - {{name: host, mountPath: /host}}\n    - {{name: cm, mountPath: /cm}}\n    - {{name: sec, mountPath: /sec}}\n    - {{name: dapi, mountPath: /dapi}}\n    - {{name: proj, mountPath: /proj}}\n  volumes:\n  - name: mem\n    emptyDir: {{medium: Memory}}\n  - name: host\n    hostPath: {{path: {}}}\n  - name: cm\n    configMap: {{name: cm}}\n  - name: sec\n    secret: {{secretName: s}}\n  - name: dapi\n    downwardAPI: {{items: [{{path: name, fieldRef: {{fieldPath: metadata.name}}}}]}}\n  - name: proj\n    projected: {{sources: [{{configMap: {{name: cm}}}}]}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm}}\ndata: {{k: cmdata}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: {{k: secdata}}\n",
        host.display()
    );
    let pod = apply(&root, "vols", &yaml);
    // Files the runtime wrote as host root are the pod's root's; the
    // fsGroup is the pod's 2000. Unmapped, they would show 65534.
    assert_eq!(
        sh(
            &pod,
            "stat -L -c '%u:%g %n' /host/file /cm/k /sec/k /dapi/name /proj/k /mem /sub"
        ),
        "0:0 /host/file\n0:2000 /cm/k\n0:2000 /sec/k\n0:2000 /dapi/name\n0:2000 /proj/k\n0:2000 /mem\n0:2000 /sub\n"
    );
    assert_eq!(
        sh(&pod, "cat /host/file /cm/k /sec/k /dapi/name /proj/k"),
        "hostdata\ncmdatasecdatavolscmdata"
    );
    // The app's uid 1000 writes as itself into the Memory emptyDir and
    // through the subPath.
    assert_eq!(
        sh(
            &pod,
            "echo x > /mem/f && echo y > /sub/g && stat -c %u:%g /mem/f /sub/g"
        ),
        "1000:2000\n1000:2000\n"
    );
}
