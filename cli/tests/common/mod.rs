//! What the root acceptance tests share: the host lock, a `--root` with
//! the busybox images, and pods deleted by a drop guard even when a test
//! fails.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use peapod_testkit::{TempDir, busybox_rootfs, require_root};

/// How long a test waits for an event before it fails: generous, since
/// the deadline only ends a hang, and CI runs each binary's tests in
/// parallel on two cores.
pub const WAIT: Duration = Duration::from_secs(60);

/// Tests that compare host snapshots run alone (write); the others share
/// (read), so a snapshot never sees another test's pod.
pub static HOST: RwLock<()> = RwLock::new(());

pub fn shared() -> RwLockReadGuard<'static, ()> {
    HOST.read().unwrap_or_else(PoisonError::into_inner)
}

pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    HOST.write().unwrap_or_else(PoisonError::into_inner)
}

/// The start of every test: the root gate (`None`: skip), the host lock
/// (`shared` or `exclusive`), and a fresh `--root` with the images.
pub fn start<G>(test: &str, tag: &str, lock: fn() -> G) -> Option<(G, Root)> {
    if !require_root(test) {
        return None;
    }
    let guard = lock();
    Some((guard, Root::new(tag)))
}

/// A `--root` with `busybox:1.30.1` and `busybox:1.31.1` imported.
pub struct Root {
    tmp: TempDir,
}

impl Root {
    pub fn new(tag: &str) -> Self {
        let tmp = TempDir::new(tag);
        let rootfs = busybox_rootfs().to_str().unwrap().to_owned();
        let root = Self { tmp };
        for tag in ["busybox:1.30.1", "busybox:1.31.1", "busybox:latest"] {
            root.ok(&["image", "import", "-c", r#"CMD ["sh"]"#, &rootfs, tag]);
        }
        root
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_peapod"));
        c.arg("--root").arg(self.path()).args(args);
        c
    }

    /// `peapod args`: exit code, stdout, stderr.
    pub fn outcome(&self, args: &[&str]) -> (i32, String, String) {
        outcome(&mut self.command(args))
    }

    /// `peapod args` with `input` on its stdin (closed after it): what it
    /// printed and how it ended.
    pub fn feed(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// A folder of the root for a hostPath volume ([`pod_with_shared`]).
    pub fn shared_dir(&self) -> PathBuf {
        let dir = self.path().join("shared");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "peapod {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Applies `yaml`; the returned guard deletes the pod when dropped.
    pub fn apply(&self, name: &str, yaml: &str) -> Pod<'_> {
        self.apply_with_env(name, yaml, &[])
    }

    /// [`Root::apply`] with `env` set for `apply` (and so for the pod's
    /// supervisor).
    pub fn apply_with_env(&self, name: &str, yaml: &str, env: &[(&str, &str)]) -> Pod<'_> {
        let guard = Pod {
            root: self,
            name: name.to_owned(),
        };
        let file = self.path().join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        let out = self
            .command(&["apply", "-f", file.to_str().unwrap()])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "apply of {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        guard
    }

    /// Applies `yaml` expecting a failure; returns stderr.
    pub fn apply_fails(&self, name: &str, yaml: &str) -> String {
        self.apply_fails_with_env(name, yaml, &[])
    }

    /// [`Root::apply_fails`] with `env` set for `apply` (and so for the
    /// pod's supervisor).
    pub fn apply_fails_with_env(&self, name: &str, yaml: &str, env: &[(&str, &str)]) -> String {
        let file = self.path().join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        let out = self
            .command(&["apply", "-f", file.to_str().unwrap()])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!out.status.success(), "apply of {name} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    /// Folders of the root that hold pods' things.
    pub fn pod_leftovers(&self) -> Vec<PathBuf> {
        ["run/pods", "run/mounts", "lib/pods", "log"]
            .iter()
            .flat_map(|d| std::fs::read_dir(self.path().join(d)).into_iter().flatten())
            .map(|e| e.unwrap().path())
            .collect()
    }
}

/// What `command` ended with: exit code, stdout, stderr.
pub fn outcome(command: &mut Command) -> (i32, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `peapod args` without `--root` (verbs that need no state).
pub fn peapod(args: &[&str]) -> (i32, String, String) {
    outcome(Command::new(env!("CARGO_BIN_EXE_peapod")).args(args))
}

/// A pod `name` whose container `c` (busybox) runs `sh -c script` with
/// the folder `shared` at `/s`; `metadata` holds more lines of its
/// metadata (two spaces in, each ending with a newline).
pub fn pod_with_shared(
    name: &str,
    metadata: &str,
    grace_seconds: u32,
    script: &str,
    shared: &Path,
) -> String {
    format!(
        "
apiVersion: v1
kind: Pod
metadata:
  name: {name}
{metadata}spec:
  terminationGracePeriodSeconds: {grace_seconds}
  containers:
  - name: c
    image: busybox:1.31.1
    command:
    - sh
    - -c
    - {script}
    volumeMounts:
    - {{name: s, mountPath: /s}}
  volumes:
  - name: s
    hostPath: {{path: {}, type: Directory}}
",
        shared.display()
    )
}

/// The cgroups of pod `uid` on the host (`peapod-<uid>` in any v1
/// hierarchy or in the unified one).
pub fn cgroups_of(uid: &str) -> Vec<PathBuf> {
    let name = format!("peapod-{uid}");
    std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .map(|h| h.unwrap().path().join(&name))
        .chain([Path::new("/sys/fs/cgroup").join(&name)])
        .filter(|cg| cg.exists())
        .collect()
}

/// A pod that is deleted (grace period 0) when the guard goes.
pub struct Pod<'a> {
    pub root: &'a Root,
    pub name: String,
}

impl Pod<'_> {
    /// `exec POD -c CONTAINER -- argv`: exit code and stdout.
    pub fn exec(&self, container: &str, argv: &[&str]) -> (i32, String) {
        let mut args = vec!["exec", &self.name, "-c", container, "--"];
        args.extend(argv);
        let out = self.root.run(&args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    pub fn sh(&self, container: &str, script: &str) -> String {
        let (code, out) = self.exec(container, &["sh", "-c", script]);
        assert_eq!(code, 0, "{script} in {container}: {out}");
        out
    }

    pub fn json(&self) -> serde_json::Value {
        let out = self.root.ok(&["get", "pod", &self.name, "-o", "json"]);
        serde_json::from_str(&out).unwrap()
    }

    /// The supervisor's record (`supervisor.json`).
    pub fn supervisor_record(&self) -> serde_json::Value {
        let rec = std::fs::read_to_string(
            self.root
                .path()
                .join(format!("run/pods/default_{}/supervisor.json", self.name)),
        )
        .unwrap();
        serde_json::from_str(&rec).unwrap()
    }

    pub fn supervisor_pid(&self) -> i32 {
        i32::try_from(self.supervisor_record()["pid"].as_i64().unwrap()).unwrap()
    }

    /// The host pid of `container`'s process.
    pub fn container_pid(&self, container: &str) -> i32 {
        let v = self.supervisor_record();
        i32::try_from(v["containers"][container]["pid"].as_i64().unwrap()).unwrap()
    }

    /// Waits until `check` holds on `get -o json` (one snapshot: assert
    /// what else matters on the one returned). The deadline only ends a
    /// hang: a loaded 2-core CI machine may take seconds per pod start.
    pub fn wait_for(
        &self,
        what: &str,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.json();
            if check(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "{what}: {v:#}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pod<'_> {
    fn drop(&mut self) {
        let _ = self.root.run(&[
            "delete",
            "pod",
            &self.name,
            "--grace-period",
            "0",
            "--ignore-not-found",
        ]);
    }
}

/// A TCP port of the host's loopback nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `/etc/hosts` both containers of seed 001's `my-first-test`
/// print, for the pod's address `ip`.
pub fn seed_001_hosts_file(ip: &str) -> String {
    format!(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n\
         {ip}\tmy-first-test\n\
         \n\
         # Entries added by HostAliases.\n\
         10.9.8.7\thost.test.site\thost.aliases.test.site\n"
    )
}

/// The test process's (the host's) namespaces `names` (`net`, `pid`,
/// ...), as `readlink /proc/self/ns/<name>` prints them (`net:[4026...]`).
pub fn host_namespaces(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            std::fs::read_link(format!("/proc/self/ns/{n}"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

/// The cells of a table kubectl's way (`get`, `top`, `api-resources`):
/// a row a line, cells split at blanks.
pub fn cells(table: &str) -> Vec<Vec<&str>> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

/// A pod `name` whose one container `c` (busybox) sleeps, deleted at once
/// (grace period 0).
pub fn sleeper_pod(name: &str) -> String {
    format!(
        "
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.31.1
    command: [sleep, '1000']
"
    )
}

/// A cgroup of the test's own (a CRI caller's cgroup parent), emptied
/// and removed when the test ends, with what a failed delete left in it.
pub struct ParentCgroup(pub peapod_core::Cgroup);

impl ParentCgroup {
    /// Makes cgroup `name` at the root of each hierarchy.
    pub fn new(name: &str) -> Self {
        Self(
            peapod_core::CgroupHierarchy::detect()
                .and_then(|h| h.create(name))
                .unwrap(),
        )
    }

    /// The cgroups below it, in every hierarchy.
    pub fn children(&self) -> Vec<PathBuf> {
        self.0
            .dirs()
            .iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten())
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect()
    }
}

impl Drop for ParentCgroup {
    fn drop(&mut self) {
        let _ = self.0.kill_all(Duration::from_secs(5));
        let _ = self.0.remove(Duration::from_secs(5));
    }
}

/// An engine sandbox, removed when the test ends, even when it fails.
pub struct Sandbox {
    pub engine: peapod_runtime::engine::Engine,
    pub id: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.engine.remove_sandbox(&self.id);
    }
}

/// Asserts that `line`, the `/` line of a container's
/// `/proc/self/mountinfo`, is an overlay mounted `volatile` (newer
/// kernels spell it `fsync=volatile`).
pub fn assert_volatile_overlay_root(line: &str) {
    let options = line.trim_end().rsplit(' ').next().unwrap_or_default();
    assert!(line.contains(" - overlay "), "{line}");
    assert!(
        options
            .split(',')
            .any(|o| o == "volatile" || o == "fsync=volatile"),
        "{line}"
    );
}

/// A pidfd of process `pid`, to tell its end by ([`ended`]).
pub fn pidfd(pid: i32) -> std::os::fd::OwnedFd {
    rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::PidfdFlags::empty(),
    )
    .unwrap()
}

/// Whether the process of `pidfd` has ended, waiting `within` at most for
/// it (zero: is it over now?).
pub fn ended(pidfd: &std::os::fd::OwnedFd, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [rustix::event::PollFd::new(
            pidfd,
            rustix::event::PollFlags::IN,
        )];
        let timeout = rustix::event::Timespec::try_from(left).unwrap();
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(n) if n > 0 => return true,
            Ok(_) if left.is_zero() => return false,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("poll on a pidfd: {e}"),
        }
    }
}

/// Waits ([`WAIT`] at most: a loaded host) until process `pid` ends;
/// whether it did (its end, not its reaping: that is its parent's).
pub fn ends(pid: i32) -> bool {
    ended(&pidfd(pid), WAIT)
}

/// The children of process `pid` on the host.
pub fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // Fields after the command's closing parenthesis: state, ppid.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok())
                == Some(pid)
        })
        .collect()
}
