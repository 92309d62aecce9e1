//! `peapod debug` as kubectl's: an ephemeral container attached (`-i`)
//! or detached (then `attach`, `logs -c` and `delete` reach it), its
//! `--profile`, a copy of the pod (`--copy-to`, `--set-image`,
//! `--share-processes`, `--replace`), the node (`debug node/NAME`), a
//! pod with `hostUsers: false`, and kubectl's checks of the flags. Root
//! only but for the flag checks; each root test has its own `--root` and
//! deletes its pods in a drop guard.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Root, peapod, shared, start};

/// A pod of two containers: `web` marks `/tmp/mark` in its own root and
/// sleeps 1000 s, `other` sleeps 1001 s.
const TWO_SLEEPERS: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: dbg
  labels: {app: dbg}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox:1.31.1
    command: ["sh", "-c", "echo marked > /tmp/mark; exec sleep 1000"]
  - name: other
    image: busybox:1.31.1
    command: ["sleep", "1001"]
"#;

/// What a shell prints of its namespaces (`/proc/self/ns/*`), one line
/// each.
const NAMESPACES: &str =
    "for n in pid net ipc uts mnt user; do echo $n=$(readlink /proc/self/ns/$n); done";

/// The line of namespace `n` in what [`NAMESPACES`] printed.
fn ns(text: &str, n: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(&format!("{n}=")))
        .unwrap_or_else(|| panic!("no {n}= in {text}"))
        .to_owned()
}

/// kubectl's notice for `--target=CTR`, on stdout.
fn targeting(container: &str) -> String {
    format!(
        "Targeting container \"{container}\". If you don't see processes from this container it may be because the container runtime doesn't support this feature.\n"
    )
}

/// Waits until web has marked and exec'd its `sleep` (the file appears
/// before the shell execs: its `ps` line would still be `sh -c ...`), so
/// a debug container sees a settled pod.
fn marked(pod: &common::Pod<'_>) {
    pod.sh(
        "web",
        "until [ -s /tmp/mark ] && [ \"$(cat /proc/1/comm)\" = sleep ]; do sleep 0.05; done",
    );
}

#[test]
fn debug_was_missing() {
    let Some((_g, root)) = start("debug", "debug", shared) else {
        return;
    };
    let pod = root.apply("dbg", TWO_SLEEPERS);
    marked(&pod);
    let web = pod.sh("web", NAMESPACES);
    let script = format!(
        "ps -o args | grep -v -e ps -e grep -e sh -e COMMAND; hostname; ls /tmp; cat /proc/1/root/tmp/mark; {NAMESPACES}; exit 3\n"
    );
    let out = root.feed(
        &[
            "debug",
            "dbg",
            "-i",
            "--image=busybox:1.31.1",
            "--target=web",
            "-c",
            "dbg1",
            "--",
            "sh",
        ],
        script.as_bytes(),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stdout}{:?}", out.stderr);
    // web's processes (not other's), the pod's hostname, a root of its
    // own (no mark) from which web's is reached through /proc.
    let (seen, namespaces) = stdout.split_at(stdout.find("pid=").unwrap());
    assert_eq!(
        seen,
        format!("{}sleep 1000\ndbg\nmarked\n", targeting("web"))
    );
    for shared_ns in ["pid", "net", "ipc", "uts"] {
        assert_eq!(
            ns(namespaces, shared_ns),
            ns(&web, shared_ns),
            "{shared_ns}"
        );
    }
    assert_ne!(ns(namespaces, "mnt"), ns(&web, "mnt"));
    // Shown as kubectl shows an ephemeral container, terminated.
    let shown = root.ok(&[
        "get",
        "pod",
        "dbg",
        "-o",
        "jsonpath={.spec.ephemeralContainers[0].name} {.spec.ephemeralContainers[0].targetContainerName} {.status.ephemeralContainerStatuses[0].state.terminated.exitCode}",
    ]);
    assert_eq!(shown, "dbg1 web 3");
    let yaml = root.ok(&["get", "pod", "dbg", "-o", "yaml"]);
    assert!(yaml.contains("  ephemeralContainers:\n  - command:\n    - sh\n    image: busybox:1.31.1\n    name: dbg1\n"), "{yaml}");
    let describe = root.ok(&["describe", "pod", "dbg"]);
    assert!(
        describe.contains("Ephemeral Containers:\n  dbg1:\n    Container ID:"),
        "{describe}"
    );
    // An attached one's input is debug's own: attach -i cannot take it.
    // Asked as soon as its shell answered: it is recorded before it runs
    // (it was after, and attach once found no container "busy").
    let mut held = root
        .command(&[
            "debug",
            "dbg",
            "-i",
            "-q",
            "--image=busybox:1.31.1",
            "-c",
            "busy",
            "--",
            "sh",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = held.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, b"echo up\n").unwrap();
    let mut up = String::new();
    BufReader::new(held.stdout.take().unwrap())
        .read_line(&mut up)
        .unwrap();
    assert_eq!(up, "up\n");
    let (code, _, err) = root.outcome(&["attach", "dbg", "-c", "busy", "-i"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("its input is the terminal of the debug command"),
        "{err}"
    );
    drop(input);
    assert!(held.wait().unwrap().success());
    // Without a target: the pod's network, a PID namespace of its own,
    // and kubectl's notice of the name it made up (on stdout).
    let out = root.feed(
        &[
            "debug",
            "pod/dbg",
            "-i",
            "--image=busybox:1.31.1",
            "--",
            "sh",
        ],
        format!("{NAMESPACES}\n").as_bytes(),
    );
    let alone = String::from_utf8(out.stdout).unwrap();
    assert!(
        alone.starts_with("Defaulting debug container name to debugger-"),
        "{alone}"
    );
    assert_eq!(ns(&alone, "net"), ns(&web, "net"));
    assert_ne!(ns(&alone, "pid"), ns(&web, "pid"));
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{:?}",
        out.stderr
    );
    // What kubectl would refuse, or peapod cannot do, said.
    for (args, want) in [
        (
            &[
                "debug",
                "dbg",
                "-i",
                "--image=busybox:1.31.1",
                "--target=nosuch",
            ][..],
            "error: container nosuch is not valid for pod dbg; ",
        ),
        (
            &["debug", "dbg", "-i", "--image=busybox:1.31.1", "-c", "dbg1"],
            "error: container \"dbg1\": the pod has one of that name already\n",
        ),
        (
            &["debug", "dbg", "--image=busybox:1.31.1", "-c", "web"],
            "error: container \"web\": the pod has one of that name already\n",
        ),
    ] {
        let (code, _, err) = root.outcome(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
    drop(pod);
}

/// The pids of processes whose command line holds `text` (the test's
/// root folder): what a test leaves running on the host.
fn processes_naming(text: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(text))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|pid| *pid != std::process::id().to_string())
        .collect()
}

/// The state of ephemeral container `name` in `get -o json` (`running`,
/// `terminated`), with its exit code when it ended.
fn ephemeral_state(root: &Root, name: &str) -> (String, Option<i64>) {
    let out = root.ok(&["get", "pod", "dbg", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let status = doc["status"]["ephemeralContainerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
        .clone();
    let state = status["state"].as_object().unwrap();
    let (kind, detail) = state.iter().next().unwrap();
    (kind.clone(), detail["exitCode"].as_i64())
}

#[test]
fn detached_debug_runs_on_and_attach_logs_and_delete_reach_it() {
    let Some((_g, root)) = start("debug_detached", "debug-detached", shared) else {
        return;
    };
    let pod = root.apply("dbg", TWO_SLEEPERS);
    marked(&pod);
    // It returns once the container runs; it waits for web's /tmp/go
    // (seen through web's root: it shares web's PID namespace).
    let script = "echo hello; echo oops >&2; until [ -f /proc/1/root/tmp/go ]; do sleep 0.05; done; echo bye; exit 4";
    assert_eq!(
        root.outcome(&[
            "debug",
            "dbg",
            "--image=busybox:1.31.1",
            "--target=web",
            "-c",
            "bg",
            "--",
            "sh",
            "-c",
            script,
        ]),
        (0, targeting("web"), String::new())
    );
    assert_eq!(ephemeral_state(&root, "bg").0, "running");
    let describe = root.ok(&["describe", "pod", "dbg"]);
    let section = &describe[describe.find("Ephemeral Containers:\n  bg:\n").unwrap()..];
    assert!(
        section.contains("    State:          Running\n"),
        "{describe}"
    );
    // `logs -f` reads it from its start and ends with it.
    let mut follow = root
        .command(&["logs", "-f", "dbg", "-c", "bg"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // stdout and stderr are two pipes: their lines' order is not fixed.
    let mut reader = BufReader::new(follow.stdout.take().unwrap());
    let mut first = [String::new(), String::new()];
    for line in &mut first {
        reader.read_line(line).unwrap();
    }
    first.sort();
    assert_eq!(first, ["hello\n", "oops\n"]);
    pod.sh("web", "touch /tmp/go");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    assert!(follow.wait().unwrap().success());
    assert_eq!(rest, "bye\n");
    // Its end recorded, as kubelet records an ephemeral container's.
    let (state, code) = ephemeral_state(&root, "bg");
    assert_eq!((state.as_str(), code), ("terminated", Some(4)));
    let (code, _, err) = root.outcome(&["attach", "dbg", "-c", "bg"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: container \"bg\": container is not running\n")
    );
    // `attach` follows a running one's output until it ends.
    let ticker = "i=0; until [ -f /proc/1/root/tmp/go2 ]; do i=$((i+1)); echo tick $i; sleep 0.05; done; echo done";
    let (code, out, _) = root.outcome(&[
        "debug",
        "dbg",
        "--image=busybox:1.31.1",
        "--target=web",
        "-q",
        "-c",
        "bg2",
        "--",
        "sh",
        "-c",
        ticker,
    ]);
    assert_eq!((code, out.as_str()), (0, ""), "-q: no notice");
    let mut attach = root
        .command(&["attach", "dbg", "-c", "bg2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(attach.stdout.take().unwrap());
    let mut tick = String::new();
    reader.read_line(&mut tick).unwrap();
    assert!(tick.starts_with("tick "), "{tick}");
    pod.sh("web", "touch /tmp/go2");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    assert!(attach.wait().unwrap().success());
    assert!(rest.ends_with("done\n"), "{rest}");
    assert_eq!(
        ephemeral_state(&root, "bg2"),
        ("terminated".to_owned(), Some(0))
    );
    // --attach: its output from its start (or its log, once it ended).
    let (code, out, err) = root.outcome(&[
        "debug",
        "dbg",
        "--image=busybox:1.31.1",
        "-q",
        "-c",
        "bg4",
        "--attach",
        "--",
        "sh",
        "-c",
        "echo attached-out; echo to-stderr >&2",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["attached-out", "to-stderr"]);
    // -f: the pods of a manifest file.
    let file = root.path().join("dbg.yaml");
    let out = root.ok(&[
        "debug",
        "-f",
        file.to_str().unwrap(),
        "--image=busybox:1.31.1",
        "-q",
        "-c",
        "fromfile",
        "--attach",
        "--",
        "echo",
        "from-file",
    ]);
    assert_eq!(out, "from-file\n");
    // -i --attach=false: detached, its stdin held for a later attach -i;
    // with -t its own terminal too.
    for (name, tty) in [("held", "-i"), ("term", "-it")] {
        let (code, out, err) = root.outcome(&[
            "debug",
            "dbg",
            "--image=busybox:1.31.1",
            "-q",
            tty,
            "--attach=false",
            "-c",
            name,
            "--",
            "sh",
        ]);
        assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""), "{name}");
        assert_eq!(ephemeral_state(&root, name).0, "running");
        let out = root.feed(
            &["attach", "dbg", "-c", name, "-i"],
            b"echo via-attach; tty; exit 7\n",
        );
        assert!(out.status.success(), "{out:?}");
        let seen = String::from_utf8(out.stdout).unwrap().replace('\r', "");
        if name == "held" {
            assert_eq!(seen, "via-attach\nnot a tty\n");
        } else {
            assert!(seen.contains("\nvia-attach\n/dev/pts/0\n"), "{seen:?}");
        }
        assert_eq!(
            ephemeral_state(&root, name),
            ("terminated".to_owned(), Some(7))
        );
    }
    // Its holder killed, nothing waits for it: shown as kubelet shows a
    // container it lost.
    root.ok(&[
        "debug",
        "dbg",
        "--image=busybox:1.31.1",
        "-c",
        "lost",
        "--",
        "sleep",
        "1001",
    ]);
    let record = root.path().join("run/pods/default_dbg/ephemeral-lost.json");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    let holder = record["holder"]["pid"].as_i64().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &holder.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + common::WAIT;
    while ephemeral_state(&root, "lost").0 == "running" && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let doc = pod_json(&root, "dbg");
    let lost = doc["status"]["ephemeralContainerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "lost")
        .unwrap()
        .clone();
    assert_eq!(
        lost["state"]["terminated"]["reason"], "ContainerStatusUnknown",
        "{lost}"
    );
    assert_eq!(lost["state"]["terminated"]["exitCode"], 137, "{lost}");
    // One still running when the pod is deleted ends with it, and its
    // holder too: nothing of the test's root runs any more.
    root.ok(&[
        "debug",
        "dbg",
        "--image=busybox:1.31.1",
        "-c",
        "bg3",
        "--",
        "sleep",
        "1000",
    ]);
    assert_eq!(ephemeral_state(&root, "bg3").0, "running");
    let holders = processes_naming(root.path().to_str().unwrap());
    assert!(!holders.is_empty(), "the holder of bg3 runs");
    root.ok(&["delete", "pod", "dbg"]);
    // The holder saw its container end with the pod and exits on its
    // own: no event to wait on from here but its going.
    let deadline = std::time::Instant::now() + common::WAIT;
    while !processes_naming(root.path().to_str().unwrap()).is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        processes_naming(root.path().to_str().unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(root.pod_leftovers(), Vec::<std::path::PathBuf>::new());
    drop(pod);
}

/// The effective capabilities (`CapEff`, a hex mask) of a shell in an
/// ephemeral container of pod `dbg` made with `flags`, what `debug` said
/// on stderr, and the shell's `$FROM_CUSTOM`.
fn capabilities_with(root: &Root, flags: &[&str]) -> (u64, String, String) {
    let mut args = vec!["debug", "dbg", "-i", "--image=busybox:1.31.1", "-q"];
    args.extend(flags);
    args.extend(["--", "sh"]);
    let out = root.feed(
        &args,
        b"grep CapEff /proc/self/status; echo \"$FROM_CUSTOM\"\n",
    );
    assert!(out.status.success(), "{flags:?}: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (cap_eff, custom) = stdout.split_once('\n').unwrap();
    let hex = cap_eff.trim().strip_prefix("CapEff:").unwrap().trim();
    (
        u64::from_str_radix(hex, 16).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        custom.trim_end().to_owned(),
    )
}

const CAP_NET_ADMIN: u64 = 1 << 12;
const CAP_NET_RAW: u64 = 1 << 13;
const CAP_SYS_PTRACE: u64 = 1 << 19;
const CAP_SYS_ADMIN: u64 = 1 << 21;

#[test]
fn debug_profiles_set_what_the_ephemeral_container_may_do() {
    let Some((_g, root)) = start("debug_profiles", "debug-profiles", shared) else {
        return;
    };
    let pod = root.apply("dbg", TWO_SLEEPERS);
    // general (the default): SYS_PTRACE on top of the runtime's set.
    let (general, err, _) = capabilities_with(&root, &[]);
    assert_eq!(err, "");
    assert_ne!(general & CAP_SYS_PTRACE, 0, "{general:x}");
    assert_eq!(general & CAP_SYS_ADMIN, 0, "{general:x}");
    // legacy: the runtime's set alone, and kubectl's deprecation notice.
    let (legacy, err, _) = capabilities_with(&root, &["--profile=legacy"]);
    assert_eq!(legacy, general & !CAP_SYS_PTRACE);
    assert!(err.starts_with("--profile=legacy is deprecated"), "{err}");
    assert_eq!(capabilities_with(&root, &["--profile=baseline"]).0, legacy);
    let (netadmin, _, _) = capabilities_with(&root, &["--profile=netadmin"]);
    assert_eq!(netadmin, legacy | CAP_NET_ADMIN | CAP_NET_RAW);
    // sysadmin: privileged, every capability.
    let (sysadmin, _, _) = capabilities_with(&root, &["--profile=sysadmin"]);
    assert_ne!(sysadmin & CAP_SYS_ADMIN, 0, "{sysadmin:x}");
    // restricted: runAsNonRoot, which busybox (root) cannot satisfy.
    let (code, _, err) = root.outcome(&[
        "debug",
        "dbg",
        "-i",
        "--image=busybox:1.31.1",
        "--profile=restricted",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("runAsNonRoot"), "{err}");
    assert_eq!(
        root.outcome(&[
            "debug",
            "dbg",
            "-i",
            "--image=busybox:1.31.1",
            "--profile=admin"
        ]),
        (
            1,
            String::new(),
            "error: unknown profile: admin\n".to_owned()
        )
    );
    // --custom: a partial container spec laid over the profile's, JSON or
    // YAML; a list without merge key (capabilities.add) is replaced.
    let custom = |name: &str, text: &str| {
        let file = root.path().join(name);
        std::fs::write(&file, text).unwrap();
        format!("--custom={}", file.display())
    };
    let json = custom(
        "custom.json",
        r#"{"env": [{"name": "FROM_CUSTOM", "value": "json"}], "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}"#,
    );
    let yaml = custom("custom.yaml", "env:\n- name: FROM_CUSTOM\n  value: yaml\n");
    for (flag, want, caps) in [
        (&json, "json", legacy | CAP_NET_ADMIN),
        (&yaml, "yaml", general),
    ] {
        let (seen_caps, _, seen) = capabilities_with(&root, &[flag]);
        assert_eq!((seen.as_str(), seen_caps), (want, caps));
    }
    let image = custom("image.json", r#"{"image": "alpine"}"#);
    assert_eq!(
        root.outcome(&["debug", "dbg", "--image=busybox:1.31.1", &image])
            .2,
        "error: name, command, image, lifecycle and volume devices are not modifiable via custom profile\n"
    );
    drop(pod);
}

/// `get pod NAME -o json` of `root`.
fn pod_json(root: &Root, name: &str) -> serde_json::Value {
    serde_json::from_str(&root.ok(&["get", "pod", name, "-o", "json"])).unwrap()
}

#[test]
fn copy_to_runs_a_changed_copy_of_the_pod() {
    let Some((_g, root)) = start("debug_copy", "debug-copy", shared) else {
        return;
    };
    let pod = root.apply("dbg", TWO_SLEEPERS);
    let _copies = ["dbg-copy", "dbg-in", "dbg-same"].map(|name| common::Pod {
        root: &root,
        name: name.to_owned(),
    });
    // A debug container added, other's image changed; the copy shares its
    // processes and loses its labels (the general profile).
    let (code, out, err) = root.outcome(&[
        "debug",
        "dbg",
        "--copy-to=dbg-copy",
        "--image=busybox:1.31.1",
        "--set-image=other=busybox:1.30.1",
        "--",
        "sleep",
        "1002",
    ]);
    assert_eq!(code, 0, "{err}");
    let debugger = out
        .strip_prefix("Defaulting debug container name to ")
        .and_then(|s| s.strip_suffix(".\n"))
        .unwrap_or_else(|| panic!("{out}"));
    let copy = pod_json(&root, "dbg-copy");
    let containers: Vec<(String, String)> = copy["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["image"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        containers,
        [
            ("web".to_owned(), "busybox:1.31.1".to_owned()),
            ("other".to_owned(), "busybox:1.30.1".to_owned()),
            (debugger.to_owned(), "busybox:1.31.1".to_owned()),
        ]
    );
    assert_eq!(copy["spec"]["shareProcessNamespace"], true);
    assert!(copy["metadata"].get("labels").is_none(), "{copy}");
    assert_eq!(copy["status"]["phase"], "Running");
    let ps = root.ok(&["exec", "dbg-copy", "-c", debugger, "--", "ps", "-o", "args"]);
    for sleeper in ["sleep 1000", "sleep 1001", "sleep 1002"] {
        assert!(ps.contains(sleeper), "{ps}");
    }
    // The original runs on, untouched.
    assert_eq!(pod_json(&root, "dbg")["metadata"]["labels"]["app"], "dbg");
    // -i: attached to the copy's container, which gets stdin; a changed
    // container (-c web) keeps its image; --share-processes=false.
    let out = root.feed(
        &[
            "debug",
            "dbg",
            "--copy-to=dbg-in",
            "-i",
            "-c",
            "web",
            "--share-processes=false",
            "--keep-labels",
            "--",
            "sh",
        ],
        b"echo in-copy $(cat /proc/1/cmdline); exit 3\n",
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "in-copy sh\n",
        "{:?}",
        out.stderr
    );
    let copy = pod_json(&root, "dbg-in");
    assert_eq!(copy["spec"]["shareProcessNamespace"], false);
    assert_eq!(copy["metadata"]["labels"]["app"], "dbg");
    assert_eq!(copy["spec"]["containers"][0]["command"][0], "sh");
    // --replace: the copy runs, the original is gone.
    root.ok(&[
        "debug",
        "dbg",
        "--copy-to=dbg-same",
        "--set-image=*=busybox:1.30.1",
        "--replace",
    ]);
    let copy = pod_json(&root, "dbg-same");
    let got: Vec<&str> = copy["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["busybox:1.30.1"; 2]);
    let (code, _, err) = root.outcome(&["get", "pod", "dbg"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error from server (NotFound): pods \"dbg\" not found"),
        "{err}"
    );
    assert_eq!(
        root.outcome(&[
            "debug",
            "dbg-same",
            "--copy-to=dbg-same",
            "--image=busybox:1.31.1"
        ])
        .2,
        "Error from server (AlreadyExists): pods \"dbg-same\" already exists\n"
    );
    drop(pod);
}

#[test]
fn debug_node_runs_a_pod_in_the_host_namespaces_with_its_root_at_host() {
    let Some((_g, root)) = start("debug_node", "debug-node", shared) else {
        return;
    };
    let _all = AllPods(&root);
    let node = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let marker = root.path().join("marker");
    std::fs::write(&marker, "on the host\n").unwrap();
    let script = format!(
        "cat /host{}; for n in pid net ipc; do readlink /proc/self/ns/$n; done; exit 0\n",
        marker.display()
    );
    let out = root.feed(
        &[
            "debug",
            &format!("node/{node}"),
            "-i",
            "--image=busybox:1.31.1",
            "--",
            "sh",
        ],
        script.as_bytes(),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (notice, seen) = stdout.split_once('\n').unwrap();
    assert!(
        notice.starts_with(&format!("Creating debugging pod node-debugger-{node}-"))
            && notice.ends_with(&format!(" with container debugger on node {node}.")),
        "{notice}"
    );
    let host = common::host_namespaces(&["pid", "net", "ipc"]);
    assert_eq!(seen, format!("on the host\n{}\n", host.join("\n")));
    let name = notice
        .strip_prefix("Creating debugging pod ")
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let made = pod_json(&root, name);
    assert_eq!(
        made["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-debug"
    );
    assert_eq!(made["spec"]["restartPolicy"], "Never");
    assert_eq!(
        root.outcome(&["debug", "node/elsewhere", "--image=busybox:1.31.1"])
            .2,
        format!(
            "error: nodes \"elsewhere\" not found (peapod's one node is this host, \"{node}\")\n"
        )
    );
}

/// Every pod of the root deleted at once (grace 0) when dropped.
struct AllPods<'a>(&'a Root);

impl Drop for AllPods<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .run(&["delete", "pods", "--all", "-A", "--grace-period", "0"]);
    }
}

#[test]
fn debug_joins_the_user_namespace_of_a_host_users_false_pod() {
    let Some((_g, root)) = start("debug_userns", "debug-userns", shared) else {
        return;
    };
    let yaml = TWO_SLEEPERS.replace("spec:\n", "spec:\n  hostUsers: false\n");
    let pod = root.apply("dbg", &yaml);
    marked(&pod);
    let web = pod.sh("web", &format!("{NAMESPACES}; cat /proc/self/uid_map"));
    let out = root.feed(
        &[
            "debug",
            "dbg",
            "-i",
            "-q",
            "--image=busybox:1.31.1",
            "--target=web",
            "--",
            "sh",
        ],
        format!("{NAMESPACES}; cat /proc/self/uid_map; id -u; cat /proc/1/root/tmp/mark\n")
            .as_bytes(),
    );
    let seen = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{seen}{:?}", out.stderr);
    assert_eq!(ns(&seen, "user"), ns(&web, "user"));
    assert_ne!(
        ns(&seen, "user"),
        format!(
            "user={}",
            std::fs::read_link("/proc/self/ns/user").unwrap().display()
        )
    );
    let map = |text: &str| {
        text.lines()
            .find(|l| l.trim().starts_with('0'))
            .unwrap()
            .to_owned()
    };
    assert_eq!(map(&seen), map(&web));
    assert!(seen.ends_with("0\nmarked\n"), "{seen}");
    drop(pod);
}

#[test]
fn debug_flags_are_checked_as_kubectl_checks_them() {
    for (args, want) in [
        (
            &["debug", "--image=i"][..],
            "NAME or filename is required for debug",
        ),
        (
            &["debug", "p"][..],
            "you must specify --image when not using --copy-to.",
        ),
        (
            &["debug", "p", "--copy-to=q"],
            "you must specify --image, --set-image or command arguments.",
        ),
        (
            &["debug", "p", "--copy-to=q", "--", "sh"],
            "you must specify an existing container or a new image when specifying args.",
        ),
        (
            &["debug", "p", "--image=i", "--replace"],
            "--replace may only be used with --copy-to.",
        ),
        (
            &["debug", "p", "--image=i", "--same-node"],
            "--same-node may only be used with --copy-to.",
        ),
        (
            &["debug", "p", "--image=i", "--set-image=a=b"],
            "--set-image may only be used with --copy-to.",
        ),
        (
            &["debug", "p", "--image=i", "--copy-to=q", "--target=a"],
            "--target is incompatible with --copy-to. Use --share-processes instead.",
        ),
        (
            &["debug", "p", "--image=i", "-t"],
            "-i/--stdin is required for containers with -t/--tty=true",
        ),
        (
            &["debug", "p", "--image=i", "--image-pull-policy=Sometimes"],
            "invalid image pull policy: Sometimes",
        ),
        (
            &["debug", "p", "--image=i", "--profile=root"],
            "unknown profile: root",
        ),
        (
            &["debug", "deploy/p", "--image=i"],
            "the server doesn't have a resource type \"deploy\"",
        ),
        (
            &["debug", "p", "--copy-to=q", "--set-image=*=i", "--attach"],
            "you must specify --container or create a new container using --image in order to attach.",
        ),
    ] {
        assert_eq!(
            peapod(args),
            (1, String::new(), format!("error: {want}\n")),
            "{args:?}"
        );
    }
}

/// An ephemeral container's writable layer is fresh and removed with the
/// pod, as a container's: its overlay is mounted `volatile` too.
#[test]
fn an_ephemeral_containers_root_overlay_is_volatile() {
    let Some((_g, root)) = start("debug volatile", "debug-volatile", shared) else {
        return;
    };
    let _pod = root.apply("dbgv", &common::sleeper_pod("dbgv"));
    let out = root.feed(
        &[
            "debug",
            "dbgv",
            "-i",
            "--image=busybox:1.31.1",
            "-c",
            "eph",
            "--",
            "sh",
        ],
        b"grep ' / / ' /proc/self/mountinfo\n",
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}{:?}", out.stderr);
    common::assert_volatile_overlay_root(&stdout);
}

/// An ephemeral container lives in a cgroup of its own in the pod's, not
/// in the cgroup of the container whose namespaces it joins: a restart of
/// that container (whose leftovers the supervisor kills by its cgroup)
/// leaves it running, as kubelet does; it still ends with the pod.
#[test]
fn an_ephemeral_container_outlives_a_restart_of_the_container_it_joined() {
    let Some((_g, root)) = start("debug restart", "debug-restart", shared) else {
        return;
    };
    let pod = root.apply("dbgr", &common::sleeper_pod("dbgr"));
    root.ok(&[
        "debug",
        "dbgr",
        "--image=busybox:1.31.1",
        "-c",
        "eph",
        "--",
        "sleep",
        "1000",
    ]);
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join("run/pods/default_dbgr/ephemeral-eph.json"))
            .unwrap(),
    )
    .unwrap();
    let holder = i32::try_from(record["holder"]["pid"].as_i64().unwrap()).unwrap();
    let children = common::children_of(holder);
    assert_eq!(children.len(), 1, "the holder's children: {children:?}");
    let ephemeral = common::pidfd(children[0]);

    let target = pod.container_pid("c");
    let killed = std::process::Command::new("kill")
        .args(["-9", &target.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    pod.wait_for("c restarted", |v| {
        v["status"]["containerStatuses"][0]["restartCount"].as_i64() >= Some(1)
    });
    assert!(
        !common::ended(&ephemeral, std::time::Duration::ZERO),
        "the ephemeral container ended with c's restart"
    );
    root.ok(&["delete", "pod", "dbgr", "--grace-period", "0"]);
    assert!(
        common::ended(&ephemeral, common::WAIT),
        "the ephemeral container outlived its pod"
    );
}
