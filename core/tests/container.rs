//! One container's own setup, as root: the typed error of a missing
//! executable, credentials, capabilities, no_new_privs and rlimits, a tty,
//! and mount targets that stay inside the root whatever the image's
//! symlinks say.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::*;
use peapod_core::{
    Capabilities, ContainerSpawn, MountPlan, NamespacePlan, PauseSpec, Rlimit, RlimitResource,
    RootFs, WindowSize,
};
use peapod_testkit::{TempDir, busybox_rootfs, require_root};

#[test]
fn missing_executable_is_a_typed_error() {
    if !require_root("missing_executable_is_a_typed_error") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-noexec");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
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
fn credentials_capabilities_no_new_privs_and_lowered_rlimits_apply() {
    if !require_root("credentials_capabilities_no_new_privs_and_lowered_rlimits_apply") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-creds");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec {
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
                "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status; ulimit -n; ulimit -s; readlink /proc/self/ns/net",
            ],
        )
    };
    spawn.process.user = peapod_core::Credentials {
        uid: 65534,
        gid: 65534,
        groups: vec![10, 20],
    };
    // NET_BIND_SERVICE.
    spawn.process.capabilities = Capabilities::from_number(10);
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
    assert_eq!(field("CapPrm:"), "0000000000000000");
    // Inheritable empty as runc sets it since CVE-2022-24769.
    assert_eq!(field("CapInh:"), "0000000000000000");
    assert_eq!(field("CapAmb:"), "0000000000000000");
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

/// Puts `layer` above busybox in the container's overlay and binds `hosts`
/// read-only onto its `/etc/hosts`; returns the upper layer.
fn layer_and_hosts_bind(spawn: &mut ContainerSpawn<'_>, layer: PathBuf, hosts: PathBuf) -> PathBuf {
    let plan = spawn.mounts.take().expect("plan");
    let RootFs::Overlay { upper, work, .. } = plan.root.clone() else {
        panic!("overlay root")
    };
    spawn.mounts = Some(
        MountPlan {
            root: RootFs::Overlay {
                lower: vec![layer, busybox_rootfs().to_path_buf()],
                upper: upper.clone(),
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
    upper
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
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let mut spawn = container(&cleanup.processes[0], scratch.path(), "c", false, &["true"]);
    layer_and_hosts_bind(&mut spawn, evil, hosts);
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
fn root_overlay_is_volatile_so_its_unmount_at_exit_syncs_nothing() {
    if !require_root("root_overlay_is_volatile_so_its_unmount_at_exit_syncs_nothing") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-volatile");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    // The root's line of the container's own mountinfo: its overlay's
    // options, as the kernel took them.
    let script = ["sh", "-c", "grep ' / / ' /proc/self/mountinfo"];
    let mut spawn = container(&cleanup.processes[0], scratch.path(), "c", false, &script);
    if let Some(plan) = &mut spawn.mounts {
        plan.volatile_root = true;
    }
    let (code, out) = output(spawn);
    assert_eq!(code, 0, "{out}");
    let options = out.rsplit(' ').next().unwrap_or_default();
    assert!(out.contains(" - overlay "), "{out}");
    // Newer kernels spell it `fsync=volatile`.
    assert!(
        options
            .trim_end()
            .split(',')
            .any(|o| o == "volatile" || o == "fsync=volatile"),
        "{out}"
    );
}

#[test]
fn bind_onto_an_image_file_copies_nothing_up_into_the_upper_layer() {
    if !require_root("bind_onto_an_image_file_copies_nothing_up_into_the_upper_layer") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-nocopyup");
    // An image layer that has its own /etc/hosts, above busybox.
    let layer = scratch.path().join("image-layer");
    std::fs::create_dir_all(layer.join("etc")).expect("mkdir");
    std::fs::write(layer.join("etc/hosts"), "127.0.0.1 from-image\n").expect("image hosts");
    let hosts = scratch.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 from-pod\n").expect("pod hosts");

    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let (r, w) = pipe();
    let mut spawn = container(
        &cleanup.processes[0],
        scratch.path(),
        "c",
        false,
        &["cat", "/etc/hosts"],
    );
    spawn.stdio.stdout = Some(w);
    let upper = layer_and_hosts_bind(&mut spawn, layer, hosts);
    let child = spawn.spawn().expect("spawn");
    let mut out = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut out)
        .expect("read");
    assert!(child.wait().expect("wait").success());
    assert_eq!(out, "127.0.0.1 from-pod\n");
    // The mount point was the image's file, used as it is: no copy of it
    // (nor of /etc) in the container's writable layer.
    assert!(
        !upper.join("etc").exists(),
        "copied up: {}",
        upper.display()
    );
}

#[test]
fn tty_container_gets_a_pty_of_its_own_devpts_as_controlling_terminal() {
    if !require_root("tty_container_gets_a_pty_of_its_own_devpts_as_controlling_terminal") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-tty");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let mut spawn = container(
        &cleanup.processes[0],
        scratch.path(),
        "t",
        false,
        &[
            "sh",
            "-c",
            "tty; readlink /proc/self/fd/0; readlink /proc/self/fd/2; : < /dev/tty && echo has-ctty; \
             stat -c %u:%g:%a /dev/pts/0; stty size",
        ],
    );
    spawn.process.tty = true;
    spawn.process.user.uid = 1234;
    spawn.process.window_size = Some(WindowSize { rows: 33, cols: 77 });
    let mut held = spawn.spawn_held().expect("spawn");
    let master = held.terminal().expect("the terminal's master");
    let child = held.release().expect("release");
    assert_eq!(child.wait().expect("wait").exit_code(), 0);
    // Every slave fd is closed now: the master reads what is buffered,
    // then EIO.
    let mut out = String::new();
    let mut buf = [0u8; 256];
    while let Ok(n @ 1..) = rustix::io::read(&master, &mut buf) {
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // The first pty of the container's own devpts, owned as runc leaves
    // it, the size given before the process ran.
    assert_eq!(
        out,
        "/dev/pts/0\r\n/dev/pts/0\r\n/dev/pts/0\r\nhas-ctty\r\n1234:5:620\r\n33 77\r\n"
    );
}

#[test]
fn tty_with_stdio_given_is_refused() {
    let mut spawn = ContainerSpawn::new(peapod_core::ProcessSpec::new(["true"]));
    spawn.process.tty = true;
    spawn.stdio.stdout = Some(pipe().1);
    let err = spawn.spawn().expect_err("refused");
    assert!(err.to_string().contains("own terminal"), "{err}");
}

#[test]
fn read_only_root_masked_and_read_only_proc_paths_hold() {
    if !require_root("read_only_root_masked_and_read_only_proc_paths_hold") {
        return;
    }
    let _serial = serial();
    let scratch = TempDir::new("core-ro");
    let mut cleanup = Cleanup::default();
    cleanup.processes.push(pause_with(&PauseSpec::default()));
    let mut spawn = container(
        &cleanup.processes[0],
        scratch.path(),
        "ro",
        false,
        &[
            "sh",
            "-c",
            "touch /newfile 2>/dev/null && echo root-writable; \
             touch /dev/shm/ok && echo shm-writable; \
             echo x > /proc/sys/kernel/domainname 2>/dev/null && echo proc-sys-writable; \
             for p in /proc/kcore /proc/timer_list /proc/keys; do \
             [ -e $p ] && echo $p $(wc -c < $p); done; \
             [ -d /sys/firmware ] && echo /sys/firmware $(ls -A /sys/firmware | wc -l)",
        ],
    );
    if let Some(plan) = spawn.mounts.as_mut() {
        plan.readonly_root = true;
    }
    let (r, w) = pipe();
    spawn.stdio.stdout = Some(w);
    let child = spawn.spawn().expect("spawn");
    let mut out = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut out)
        .expect("read");
    assert_eq!(child.wait().expect("wait").exit_code(), 0, "{out}");
    let mut lines = out.lines();
    // Only /dev/shm is writable.
    assert_eq!(lines.next(), Some("shm-writable"), "{out}");
    // Masked files read as /dev/null, masked folders are empty (the paths
    // this kernel has).
    let masked: Vec<_> = lines.collect();
    assert!(!masked.is_empty(), "{out}");
    for l in masked {
        assert!(l.ends_with(" 0"), "not masked: {l}\n{out}");
    }
}
