//! Terminals and data in and out of a pod: `exec -it` on a real pty,
//! `exec -i` with piped stdin, `top`. Root only; each test has its own
//! `--root` and deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{Pod, Root, free_port, shared, start};
use rustix::termios::{InputModes, LocalModes};

/// A pod with a container spinning on a CPU and one holding 20 MiB (a
/// tmpfs file is memory charged to its writer, never inactive cache).
const USAGE: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: usage
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: burn
    image: busybox:1.31.1
    command: ["sh", "-c", "while :; do :; done"]
  - name: mem
    image: busybox:1.31.1
    command: ["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=20 2>/dev/null && touch /tmp/ready; exec sleep 1000"]
"#;

/// `top`'s table: rows of cells, the header first.
fn cells(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// `123m` → 123, `20Mi` → 20.
fn number(cell: &str, unit: &str) -> u64 {
    cell.strip_suffix(unit)
        .unwrap_or_else(|| panic!("{cell:?} lacks {unit}"))
        .parse()
        .unwrap()
}

#[test]
fn top_was_an_unrecognized_subcommand() {
    let Some((_g, root)) = start("top_pod", "top", shared) else {
        return;
    };
    let pod = root.apply("usage", USAGE);
    pod.sh(
        "mem",
        "i=0; until [ -f /tmp/ready ] || [ $i -ge 400 ]; do i=$((i+1)); sleep 0.05; done; [ -f /tmp/ready ]",
    );
    let rows = cells(&root.ok(&["top", "pod", "usage", "--containers"]));
    assert_eq!(rows[0], ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.get(1).map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
            .clone()
    };
    let (burn, mem) = (row("burn"), row("mem"));
    assert_eq!(burn[0], "usage");
    assert!(number(&burn[2], "m") > 0, "a spinning container: {rows:?}");
    assert!(number(&mem[3], "Mi") >= 20, "20 MiB held: {rows:?}");
    // Per pod: the containers summed.
    let rows = cells(&root.ok(&["top", "pods"]));
    assert_eq!(rows[0], ["NAME", "CPU(cores)", "MEMORY(bytes)"]);
    assert_eq!(rows[1][0], "usage", "{rows:?}");
    assert!(number(&rows[1][1], "m") > 0, "{rows:?}");
    assert!(number(&rows[1][2], "Mi") >= 20, "{rows:?}");
    drop(pod);
}

#[test]
fn top_of_a_missing_pod_or_another_kind_is_an_error() {
    let Some((_g, root)) = start("top_errors", "top-errors", shared) else {
        return;
    };
    let out = root.run(&["top", "pod", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\"nosuch\" not found"),
        "{out:?}"
    );
    let out = root.run(&["top", "svc"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = root.run(&["top", "pod"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "No resources found in default namespace.\n"
    );
}

/// A pod with one long-running container, `c`.
const SLEEPER: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: ["sleep", "1000"]
"#;

/// A pty the test holds the master of; its output is collected by a
/// thread until every slave fd is closed.
struct Terminal {
    master: Arc<OwnedFd>,
    output: Arc<(Mutex<Vec<u8>>, Condvar)>,
}

impl Terminal {
    /// A new pty of the host's devpts, `rows` × `cols`; returns the
    /// slave too, for the process under test.
    fn open(rows: u16, cols: u16) -> (Self, OwnedFd) {
        use rustix::pty::{OpenptFlags, grantpt, ioctl_tiocgptpeer, openpt, unlockpt};
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = openpt(flags).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let slave = ioctl_tiocgptpeer(&master, flags).unwrap();
        let master = Arc::new(master);
        let terminal = Self {
            master: Arc::clone(&master),
            output: Arc::default(),
        };
        terminal.resize(rows, cols);
        let output = Arc::clone(&terminal.output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                // EIO once no slave fd is left.
                let n = rustix::io::read(&*master, &mut buf).unwrap_or(0);
                let (lock, changed) = &*output;
                if n > 0 {
                    lock.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                changed.notify_all();
                if n == 0 {
                    return;
                }
            }
        });
        (terminal, slave)
    }

    fn resize(&self, rows: u16, cols: u16) {
        let size = rustix::termios::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&*self.master, size).unwrap();
    }

    fn type_in(&self, keys: &str) {
        rustix::io::write(&*self.master, keys.as_bytes()).unwrap();
    }

    /// Waits until the output holds `want` (the typed keys echoed aside:
    /// callers wait for what only the command prints).
    fn wait_for(&self, want: &str) -> String {
        let (lock, changed) = &*self.output;
        let deadline = Instant::now() + common::WAIT;
        let mut out = lock.lock().unwrap();
        loop {
            let text = String::from_utf8_lossy(&out).into_owned();
            if text.contains(want) {
                return text;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {want:?} in {text:?}");
            out = changed.wait_timeout(out, left).unwrap().0;
        }
    }

    /// The pty's settings (echo, canonical mode, ...).
    fn modes(&self) -> (LocalModes, InputModes) {
        let t = rustix::termios::tcgetattr(&*self.master).unwrap();
        (t.local_modes, t.input_modes)
    }
}

/// `peapod ARGS` in a session of its own whose controlling terminal is
/// `slave`, as from a shell on a real terminal (`setsid --ctty`).
fn on_terminal(root: &Root, slave: &OwnedFd, args: &[&str]) -> std::process::Child {
    Command::new("setsid")
        .args(["--ctty", "--wait", env!("CARGO_BIN_EXE_peapod"), "--root"])
        .arg(root.path())
        .args(args)
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap())
        .spawn()
        .unwrap()
}

/// The pid of the `peapod` that `setsid --wait` (`child`) started.
fn peapod_under(child: &std::process::Child) -> i32 {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
            .unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "setsid started nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The checks of a process's own terminal, typed into its shell: the
/// first pty of the container's devpts as `tty` and as its stdin, owned
/// as runc leaves it (the process's uid, group 5 `tty`, 0620), the
/// caller's size `rows` × `cols`.
fn own_terminal_shows(terminal: &Terminal, rows: u16, cols: u16) {
    terminal.type_in("tty; ls -l /proc/self/fd/0; stat -c %u:%g:%a /dev/pts/0; stty size\n");
    terminal.wait_for("\r\n/dev/pts/0\r\n");
    terminal.wait_for("/proc/self/fd/0 -> /dev/pts/0\r\n");
    terminal.wait_for("\r\n0:5:620\r\n");
    terminal.wait_for(&format!("\r\n{rows} {cols}\r\n"));
}

/// Resizes `terminal` to `rows` × `cols` and checks the process on the
/// other side sees it: the `peapod` under `child` gets its `SIGWINCH`
/// (sent here too, should the kernel's reach it late) and resizes the
/// container's pty.
fn resize_reaches_the_container(
    terminal: &Terminal,
    child: &std::process::Child,
    rows: u16,
    cols: u16,
) {
    terminal.resize(rows, cols);
    let peapod = rustix::process::Pid::from_raw(peapod_under(child)).unwrap();
    rustix::process::kill_process(peapod, rustix::process::Signal::WINCH).unwrap();
    terminal.type_in("stty size\n");
    terminal.wait_for(&format!("\r\n{rows} {cols}\r\n"));
}

/// The exit status of `child` (from [`on_terminal`]), which is to end by
/// itself: a hang fails the test after a deadline rather than holding it
/// forever, and the `peapod` under it is ended first (two `SIGHUP`s: the
/// second kills its container), so it leaves nothing running.
fn exit_of(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let peapod = rustix::process::Pid::from_raw(peapod_under(child)).unwrap();
            for _ in 0..2 {
                let _ = rustix::process::kill_process(peapod, rustix::process::Signal::HUP);
            }
            let _ = child.wait();
            panic!("peapod did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn exec_it_from_a_real_terminal_failed_with_operation_not_permitted() {
    let Some((_g, root)) = start("exec_it_terminal", "exec-it", shared) else {
        return;
    };
    let pod = root.apply("shell", &SLEEPER.replace("NAME", "shell"));
    let (terminal, slave) = Terminal::open(40, 100);
    let before = terminal.modes();
    let mut child = on_terminal(&root, &slave, &["exec", "-it", "shell", "--", "sh"]);
    drop(slave);
    terminal.type_in("echo h''i\n");
    // `hi` once printed (the echoed keys hold `h''i`), the container's
    // own pty as the terminal, the caller's size.
    terminal.wait_for("\r\nhi\r\n");
    own_terminal_shows(&terminal, 40, 100);
    // Raw mode: no echo by the caller's terminal, the keys go as typed.
    assert_ne!(terminal.modes(), before, "the caller's terminal is not raw");
    // A resize reaches the process with the next SIGWINCH.
    resize_reaches_the_container(&terminal, &child, 50, 120);
    terminal.type_in("exit 3\n");
    let status = exit_of(&mut child);
    assert_eq!(status.code(), Some(3), "{}", terminal.wait_for(""));
    assert_eq!(terminal.modes(), before, "the terminal was not restored");
    drop(pod);
}

#[test]
fn exec_it_in_a_host_users_false_pod_gets_its_own_terminal() {
    let Some((_g, root)) = start("exec_it_userns", "exec-it-userns", shared) else {
        return;
    };
    let yaml = SLEEPER
        .replace("NAME", "nsshell")
        .replace("spec:\n", "spec:\n  hostUsers: false\n");
    let pod = root.apply("nsshell", &yaml);
    let (terminal, slave) = Terminal::open(28, 84);
    let mut child = on_terminal(&root, &slave, &["exec", "-it", "nsshell", "--", "sh"]);
    drop(slave);
    // Opened from inside the pod's user namespace: its first pty, in the
    // pod's group `tty` (it was the host's 5, unmapped there: 65534).
    own_terminal_shows(&terminal, 28, 84);
    resize_reaches_the_container(&terminal, &child, 29, 85);
    terminal.type_in("exit 6\n");
    let status = exit_of(&mut child);
    assert_eq!(status.code(), Some(6), "{}", terminal.wait_for(""));
    drop(pod);
}

#[test]
fn debug_it_gives_a_shell_on_its_own_terminal_seeing_the_targets_processes() {
    let Some((_g, root)) = start("debug_it", "debug-it", shared) else {
        return;
    };
    let pod = root.apply("dbgit", &SLEEPER.replace("NAME", "dbgit"));
    let (terminal, slave) = Terminal::open(30, 90);
    let before = terminal.modes();
    let args = [
        "debug",
        "dbgit",
        "-it",
        "--image=busybox:1.31.1",
        "--target=c",
        "-c",
        "dbg",
    ];
    let mut child = on_terminal(&root, &slave, &args);
    drop(slave);
    // kubectl's notice of the target (not of the name, which was given).
    terminal.wait_for("Targeting container \"c\". If you don't see processes");
    terminal.type_in("echo h''i; tr '\\0' _ </proc/1/cmdline; echo\n");
    terminal.wait_for("\r\nhi\r\n");
    terminal.wait_for("\r\nsleep_1000_\r\n");
    // Its own devpts, not the target's: `tty` was `not a tty`.
    own_terminal_shows(&terminal, 30, 90);
    assert_ne!(terminal.modes(), before, "the caller's terminal is not raw");
    resize_reaches_the_container(&terminal, &child, 35, 95);
    terminal.type_in("exit 5\n");
    let status = exit_of(&mut child);
    assert_eq!(status.code(), Some(5), "{}", terminal.wait_for(""));
    assert_eq!(terminal.modes(), before, "the terminal was not restored");
    let v = pod.json();
    let shown = &v["status"]["ephemeralContainerStatuses"][0];
    assert_eq!(shown["name"], "dbg", "{v:#}");
    assert_eq!(shown["state"]["terminated"]["exitCode"], 5, "{v:#}");
    assert_eq!(v["spec"]["ephemeralContainers"][0]["tty"], true, "{v:#}");
    drop(pod);
}

#[test]
fn exec_t_alone_failed_with_inappropriate_ioctl() {
    let Some((_g, root)) = start("exec_t_alone", "exec-t", shared) else {
        return;
    };
    let pod = root.apply("tonly", &SLEEPER.replace("NAME", "tonly"));
    let (terminal, slave) = Terminal::open(24, 80);
    // As kubectl: no stdin, so no tty either (`tty` says so, exit 1).
    let mut child = on_terminal(&root, &slave, &["exec", "-t", "tonly", "--", "tty"]);
    drop(slave);
    let status = exit_of(&mut child);
    let out = terminal.wait_for("not a tty");
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(!out.contains("error"), "{out}");
    drop(pod);
}

#[test]
fn exec_i_pipes_stdin_and_it_without_a_terminal_warns() {
    let Some((_g, root)) = start("exec_i_pipe", "exec-i", shared) else {
        return;
    };
    let pod = root.apply("pipe", &SLEEPER.replace("NAME", "pipe"));
    let feed = |args: &[&str]| root.feed(args, b"one\ntwo\n");
    let out = feed(&["exec", "-i", "pipe", "--", "cat"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "one\ntwo\n",
        "{out:?}"
    );
    assert_eq!(out.status.code(), Some(0));
    let out = feed(&["exec", "-it", "pipe", "--", "sh", "-c", "tty; cat"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Unable to use a TTY - input is not a terminal or the right kind of file\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "not a tty\none\ntwo\n"
    );
    drop(pod);
}

/// What a TCP connection to `addr` reads to its end, once something
/// accepts there and says anything (the server may still be starting).
fn read_from(addr: &str) -> String {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let mut got = String::new();
        if let Ok(mut conn) = std::net::TcpStream::connect(addr) {
            let _ = std::io::Read::read_to_string(&mut conn, &mut got);
            if !got.is_empty() {
                return got;
            }
        }
        assert!(Instant::now() < deadline, "nothing read from {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn run_name_image_treated_the_name_as_the_image() {
    let Some((_g, root)) = start("run_name_image", "run-kubectl", shared) else {
        return;
    };
    let port = free_port();
    let publish = format!("{port}:8080");
    let out = root.run(&[
        "run",
        "kube",
        "--image=busybox:1.31.1",
        "-p",
        &publish,
        "--",
        "sh",
        "-c",
        "echo from-$HOSTNAME; while true; do echo hello | nc -l -p 8080; done",
    ]);
    let pod = Pod {
        root: &root,
        name: "kube".into(),
    };
    assert_eq!(
        (
            String::from_utf8_lossy(&out.stdout).as_ref(),
            out.status.code()
        ),
        ("pod/kube created\n", Some(0)),
        "{out:?}"
    );
    // A pod like any: kubectl's label, restartPolicy Always, its logs.
    let v = pod.json();
    assert_eq!(v["metadata"]["labels"]["run"], "kube");
    assert_eq!(v["spec"]["restartPolicy"], "Always");
    assert_eq!(v["spec"]["containers"][0]["image"], "busybox:1.31.1");
    assert_eq!(read_from(&format!("127.0.0.1:{port}")), "hello\n");
    assert_eq!(root.ok(&["logs", "kube"]), "from-kube\n");
    assert_eq!(
        root.ok(&["delete", "pod", "kube", "--grace-period", "0"]),
        "pod \"kube\" deleted\n"
    );
    drop(pod);
}

#[test]
fn run_it_rm_gives_a_terminal_of_its_own_devpts_and_leaves_nothing() {
    let Some((_g, root)) = start("run_it_rm", "run-it", shared) else {
        return;
    };
    let (terminal, slave) = Terminal::open(40, 100);
    let before = terminal.modes();
    let args = [
        "run",
        "tmp",
        "--image=busybox:1.31.1",
        "-it",
        "--rm",
        "--",
        "sh",
    ];
    let mut child = on_terminal(&root, &slave, &args);
    drop(slave);
    terminal.type_in("echo h''i; [ -t 0 ] && echo on-a-tty\n");
    terminal.wait_for("\r\nhi\r\n");
    terminal.wait_for("\r\non-a-tty\r\n");
    // The container's own pty (it was one of the host's, which `tty`
    // inside could not name).
    own_terminal_shows(&terminal, 40, 100);
    resize_reaches_the_container(&terminal, &child, 45, 110);
    // Ctrl-D ends the shell with its last command's status; typed once
    // the shell reads a line again (its new prompt shows it), not while
    // a command runs, where the terminal's line discipline would eat it.
    terminal.type_in("PS1='eof-''ready> '; (exit 4)\n");
    terminal.wait_for("eof-ready> ");
    terminal.type_in("\x04");
    let status = exit_of(&mut child);
    assert_eq!(status.code(), Some(4), "{}", terminal.wait_for(""));
    assert_eq!(terminal.modes(), before, "the terminal was not restored");
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());
}

#[test]
fn run_refuses_what_kubectl_refuses() {
    let Some((_g, root)) = start("run_refuses", "run-refuses", shared) else {
        return;
    };
    for (args, want) in [
        (
            &["run", "x", "--image=busybox:1.31.1", "-t", "--", "true"][..],
            "error: -i/--stdin is required for containers with -t/--tty=true\n",
        ),
        (
            &["run", "x", "--image=busybox:1.31.1", "-d", "--rm"],
            "error: --rm should only be used for attached containers (drop -d)\n",
        ),
        (
            &["run", "--rm", "-p", "80", "busybox:1.31.1", "true"],
            "error: -p \"80\": expected HOST:CONTAINER, two ports (1-65535)\n",
        ),
    ] {
        let out = root.run(args);
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{args:?}");
        assert_eq!(out.status.code(), Some(125), "{args:?}");
    }
    // podman's form still runs in the foreground, -i passing stdin.
    let out = root.feed(&["run", "--rm", "-i", "busybox:1.31.1", "cat"], b"piped\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "piped\n");
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());
}

#[test]
fn cp_round_trips_a_folder_with_a_symlink_and_modes() {
    use std::os::unix::fs::PermissionsExt;
    let Some((_g, root)) = start("cp_round_trip", "cp", shared) else {
        return;
    };
    let pod = root.apply("files", &SLEEPER.replace("NAME", "files"));
    let src = root.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/data"), "hello\n").unwrap();
    std::fs::write(src.join("run.sh"), "#!/bin/sh\necho ran\n").unwrap();
    std::fs::set_permissions(src.join("run.sh"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::symlink("sub/data", src.join("link")).unwrap();
    let out = root.run(&["cp", src.to_str().unwrap(), "files:/tmp/copy"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    // What the container sees: the mode, the symlink as a symlink.
    assert_eq!(
        pod.sh("c", "stat -c %a /tmp/copy/run.sh; readlink /tmp/copy/link; cat /tmp/copy/link; /tmp/copy/run.sh"),
        "750\nsub/data\nhello\nran\n"
    );
    // And back: the same tree, kubectl's notice for the absolute path.
    let back = root.path().join("back");
    let out = root.run(&["cp", "files:/tmp/copy", back.to_str().unwrap(), "-c", "c"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "tar: removing leading '/' from member names\n"
    );
    let mode = std::fs::metadata(back.join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o750);
    assert_eq!(
        std::fs::read_link(back.join("link")).unwrap(),
        std::path::Path::new("sub/data")
    );
    assert_eq!(
        std::fs::read_to_string(back.join("sub/data")).unwrap(),
        "hello\n"
    );
    // A file into an existing folder lands in it by its name.
    let out = root.run(&["cp", "files:/tmp/copy/sub/data", back.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(back.join("data")).unwrap(),
        "hello\n"
    );
    // A missing path: tar's own words and kubectl's error.
    let out = root.run(&["cp", "files:/nosuch", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .ends_with("error: command terminated with exit code 1\n"),
        "{out:?}"
    );
    drop(pod);
}

/// A child process killed and reaped when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn port_forward_carries_a_tcp_round_trip_into_the_pod() {
    let Some((_g, root)) = start("port_forward", "port-forward", shared) else {
        return;
    };
    let yaml = SLEEPER.replace("NAME", "fwd").replace(
        r#"command: ["sleep", "1000"]"#,
        r#"command: ["sh", "-c", "while true; do nc -l -p 8080 -e sed s/ping/pong/; done"]"#,
    );
    let pod = root.apply("fwd", &yaml);
    let mut child = Killed(
        root.command(&["port-forward", "pod/fwd", ":8080"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(child.0.stdout.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    let port = first
        .strip_prefix("Forwarding from 127.0.0.1:")
        .and_then(|rest| rest.strip_suffix(" -> 8080"))
        .unwrap_or_else(|| panic!("{first:?}"));
    // The pod's server listens again between connections: retried until
    // one gets its answer.
    let deadline = Instant::now() + common::WAIT;
    let answer = loop {
        let mut conn = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        conn.write_all(b"ping from the host\n").unwrap();
        conn.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = String::new();
        let _ = std::io::Read::read_to_string(&mut conn, &mut got);
        if !got.is_empty() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(answer, "pong from the host\n");
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("Handling connection for {port}")
    );
    drop(child);
    drop(pod);
}

#[test]
fn attach_it_types_into_the_containers_shell_and_ctrl_p_ctrl_q_detaches() {
    let Some((_g, root)) = start("attach_it", "attach-it", shared) else {
        return;
    };
    let yaml = SLEEPER.replace("NAME", "att").replace(
        r#"command: ["sleep", "1000"]"#,
        "command: [\"sh\"]\n    stdin: true\n    tty: true",
    );
    let pod = root.apply("att", &yaml);
    let (terminal, slave) = Terminal::open(30, 90);
    let before = terminal.modes();
    let mut child = on_terminal(&root, &slave, &["attach", "att", "-it"]);
    drop(slave);
    terminal.wait_for("If you don't see a command prompt, try pressing enter.");
    // The output is the container's log from the attach on: typed until
    // an answer comes back, so a line the follower started after is not
    // waited for.
    let deadline = Instant::now() + common::WAIT;
    let mut n = 0;
    loop {
        n += 1;
        terminal.type_in(&format!("echo ma''rk{n}\n"));
        let (lock, changed) = &*terminal.output;
        let out = lock.lock().unwrap();
        let (out, _) = changed
            .wait_timeout(out, Duration::from_millis(500))
            .unwrap();
        if String::from_utf8_lossy(&out).contains("\nmark") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
    // A `tty: true` container's terminal is a pty of its own devpts.
    terminal.type_in("tty\n");
    terminal.wait_for("/dev/pts/0");
    terminal.type_in("\x10\x11");
    let status = exit_of(&mut child);
    assert_eq!(status.code(), Some(0));
    terminal.wait_for("read escape sequence");
    assert_eq!(terminal.modes(), before, "the terminal was not restored");
    // Detached, not stopped.
    let v = pod.json();
    assert!(
        v["status"]["containerStatuses"][0]["state"]["running"].is_object(),
        "{v:#}"
    );
    drop(pod);
}

#[test]
fn attach_i_feeds_stdin_and_ends_with_the_container() {
    let Some((_g, root)) = start("attach_i", "attach-i", shared) else {
        return;
    };
    let yaml = SLEEPER.replace("NAME", "feed").replace(
        r#"command: ["sleep", "1000"]"#,
        "command: [\"sh\", \"-c\", \"until read -t 1 x; do echo waiting; done; echo got-$x\"]\n    stdin: true\n  restartPolicy: Never",
    );
    let pod = root.apply("feed", &yaml);
    let mut child = Killed(
        root.command(&["attach", "feed", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(child.0.stdout.take().unwrap()));
    // The container's output reaches us: its input will be read.
    assert_eq!(lines.next().unwrap().unwrap(), "waiting");
    child.0.stdin.take().unwrap().write_all(b"one\n").unwrap();
    let rest: Vec<String> = lines
        .map(Result::unwrap)
        .filter(|l| l != "waiting")
        .collect();
    assert_eq!(rest, ["got-one"]);
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
    drop(pod);
}
