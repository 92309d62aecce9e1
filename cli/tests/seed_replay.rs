//! The seed sessions (`spec/tests/fixtures/seeds`, from the documents of
//! `/work/shared/seeds`) replayed with `peapod` where they typed `kubectl`:
//! every command line they show is run as written but for that word, and
//! what it printed there is asserted here in shape (the columns, the
//! processes seen, the hosts lines, the files shared).
//!
//! What differs from the sessions, and why:
//! - image names: the seeds' images (`nginx`, `alpine`, `luksa/kubia`,
//!   `debian`...) are stand-ins imported from the busybox fixture, each
//!   with a command that does what the seed relies on (`nginx:seed`
//!   serves HTTP on port 80); `:latest` names would be pulled, and this
//!   host is offline;
//! - seed 000's screenshots show `ipcmk --queue`, which busybox lacks: the
//!   probe's `msgget(2)` makes the same System V queue;
//! - seed 002's `hostPath: /data` is a folder of the test's root, not the
//!   host's `/data`;
//! - seed 003's `xxx` placeholders are its pod's name and file;
//! - seed 004 runs `docker` by hand; its pod is the one those commands
//!   build (a pause holding the port, containers joining its network, PID
//!   and IPC namespaces).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Pod, Root, free_port, shared, start};
use peapod_testkit::busybox_rootfs;

/// Runs a line of a seed session with `peapod` for its `kubectl`, from the
/// root's folder (where the seed's files are written): exit code, stdout,
/// stderr. The seeds' lines hold no quotes, so words split at spaces.
fn replay(root: &Root, line: &str) -> (i32, String, String) {
    let args: Vec<&str> = line
        .strip_prefix("kubectl ")
        .expect("a kubectl line")
        .split_whitespace()
        .collect();
    common::outcome(root.command(&args).current_dir(root.path()))
}

/// [`replay`] of a line that must succeed and print nothing on stderr
/// (kubectl prints nothing there for these lines): its stdout.
fn replay_ok(root: &Root, line: &str) -> String {
    let (code, out, err) = replay(root, line);
    assert_eq!((code, err.as_str()), (0, ""), "{line}: {out}");
    out
}

/// The line replayed until `check` holds on what it printed (a server
/// that is not listening yet, a log not written yet): that stdout.
fn replay_until(root: &Root, line: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + common::WAIT;
    loop {
        let (code, out, err) = replay(root, line);
        if code == 0 && check(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "{line}: never printed what the seed shows: {code} {out}{err}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Imports the busybox fixture as `tag`, its command `cmd` (a JSON list).
fn stand_in(root: &Root, tag: &str, cmd: &str) {
    let rootfs = busybox_rootfs().to_str().unwrap();
    root.ok(&["image", "import", "-c", &format!("CMD {cmd}"), rootfs, tag]);
}

/// The stand-ins of the seeds' images (beside `Root`'s busybox tags).
fn stand_ins(root: &Root) {
    stand_in(
        root,
        "nginx:seed",
        r#"["sh", "-c", "mkdir -p /www && echo 'Welcome to nginx!' > /www/index.html && exec httpd -f -p 80 -h /www"]"#,
    );
    stand_in(root, "idle:seed", r#"["sleep", "100000"]"#);
}

/// `yaml` with each `image:` value found in `names` replaced by its
/// stand-in; the rest of the seed's text as written.
fn with_images(yaml: &str, names: &[(&str, &str)]) -> String {
    yaml.lines()
        .map(|line| {
            let Some((head, value)) = line.split_once("image:") else {
                return line.to_owned();
            };
            match names.iter().find(|(from, _)| *from == value.trim()) {
                Some((_, to)) => format!("{head}image: {to}"),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes `yaml` as the seed's file `name` in the root's folder and
/// applies it with the seed's `kubectl apply -f`: the guard of pod `pod`.
fn apply_seed<'r>(root: &'r Root, file: &str, pod: &str, yaml: &str) -> Pod<'r> {
    std::fs::write(root.path().join(file), yaml).unwrap();
    let guard = Pod {
        root,
        name: pod.to_owned(),
    };
    let (code, out, err) = replay(root, &format!("kubectl apply -f {file}"));
    assert_eq!(
        (code, out.as_str()),
        (0, format!("pod/{pod} created\n").as_str()),
        "{err}"
    );
    guard
}

/// The COMMAND column of busybox `ps` (PID first, COMMAND last), after
/// its header: (pid, command) per process.
fn processes(ps: &str) -> Vec<(u32, String)> {
    let mut lines = ps.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        (header.first(), header.last()),
        (Some(&"PID"), Some(&"COMMAND")),
        "{ps}"
    );
    let skip = header.len() - 1;
    lines
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].parse().unwrap(), words[skip..].join(" "))
        })
        .collect()
}

fn commands(ps: &str) -> Vec<String> {
    processes(ps).into_iter().map(|(_, c)| c).collect()
}

#[test]
fn seed_000_each_namespace_the_pod_shares_is_seen_from_both_containers() {
    let Some((_host, root)) = start("seed_000", "seed-000", shared) else {
        return;
    };
    stand_ins(&root);
    let seed = |yaml: &str| {
        with_images(
            yaml,
            &[
                ("alpine:latest", "busybox:1.31.1"),
                ("nginx:latest", "nginx:seed"),
                ("mangydog/alpine:utils", "busybox:1.30.1"),
            ],
        )
    };
    let fixture = |n: usize| {
        std::fs::read_to_string(format!(
            "{}/../spec/tests/fixtures/seeds/000-{n}-myapp.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };

    // PID: each container sees the other's `sleep 1000`, under /pause.
    {
        let _pod = apply_seed(&root, "myapp.yaml", "myapp", &seed(&fixture(1)));
        for c in ["myapp1", "myapp2"] {
            let ps = replay_ok(&root, &format!("kubectl exec myapp -c {c} -- ps"));
            let seen = processes(&ps);
            assert_eq!(seen[0], (1, "/pause".to_owned()), "{ps}");
            let sleeps = seen.iter().filter(|(_, c)| c == "sleep 1000").count();
            assert_eq!(sleeps, 2, "{ps}");
        }
    }
    // Network: the second container reaches the first's server on localhost.
    {
        let _pod = apply_seed(&root, "myapp.yaml", "myapp", &seed(&fixture(2)));
        let page = replay_until(
            &root,
            "kubectl exec myapp -c myapp2 -- wget -qO- http://localhost/",
            |out| !out.is_empty(),
        );
        assert_eq!(page, "Welcome to nginx!\n");
    }
    // IPC: a System V queue made in one container is listed in the other.
    {
        let _pod = apply_seed(&root, "myapp.yaml", "myapp", &seed(&fixture(3)));
        // msgget(2) is 68 on x86_64: key 4660, IPC_CREAT | 0666 (950).
        replay_ok(
            &root,
            "kubectl exec myapp -c myapp1 -- probe raw 68 4660 950",
        );
        let queues = replay_ok(
            &root,
            "kubectl exec myapp -c myapp2 -- cat /proc/sysvipc/msg",
        );
        let keys: Vec<&str> = queues
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(keys, ["4660"], "{queues}");
    }
    // UTS: one hostname, the pod's name.
    {
        let _pod = apply_seed(&root, "myapp.yaml", "myapp", &seed(&fixture(4)));
        for c in ["myapp1", "myapp2"] {
            let line = format!("kubectl exec myapp -c {c} -- hostname");
            assert_eq!(replay_ok(&root, &line), "myapp\n");
        }
    }
    // Volumes: a file written in the emptyDir by one is read by the other.
    {
        let _pod = apply_seed(&root, "myapp.yaml", "myapp", &seed(&fixture(5)));
        replay_ok(
            &root,
            "kubectl exec myapp -c myapp1 -- touch /usr/logs/from-myapp1",
        );
        let ls = replay_ok(&root, "kubectl exec myapp -c myapp2 -- ls /usr/logs");
        assert_eq!(ls, "from-myapp1\n");
    }
}

#[test]
fn seed_001_exec_lines_print_the_hosts_processes_interfaces_and_message_of_the_session() {
    let Some((_host, root)) = start("seed_001", "seed-001", shared) else {
        return;
    };
    stand_ins(&root);
    let seed = |file: &str, nginx: &str| {
        let yaml = std::fs::read_to_string(format!(
            "{}/../spec/tests/fixtures/seeds/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        with_images(&yaml, &[("nginx:latest", nginx), ("nginx", nginx)])
    };
    let hosts = apply_seed(
        &root,
        "hosts.yaml",
        "my-first-test",
        &seed("001-1-my-first-test.yaml", "nginx:seed"),
    );
    let _no_share = apply_seed(
        &root,
        "no-share.yaml",
        "no-share-process-ns-test",
        &seed("001-2-no-share-process-ns-test.yaml", "nginx:seed"),
    );
    let _share = apply_seed(
        &root,
        "share.yaml",
        "share-process-ns-test",
        &seed("001-3-share-process-ns-test.yaml", "nginx:seed"),
    );
    // On the host's network the web stand-in must not take the host's
    // port 80: it only sleeps.
    let _host_net = apply_seed(
        &root,
        "host-net.yaml",
        "host-net-test",
        &seed("001-4-host-net-test.yaml", "idle:seed"),
    );
    let _lifecycle = apply_seed(
        &root,
        "lifecycle.yaml",
        "lifecycle-demo",
        &seed("001-5-lifecycle-demo.yaml", "nginx:seed"),
    );

    let ip = hosts.json()["status"]["podIP"].as_str().unwrap().to_owned();
    let expected = common::seed_001_hosts_file(&ip);
    for line in [
        "kubectl exec my-first-test -c my-test-container1 -- cat /etc/hosts",
        "kubectl exec my-first-test -c my-test-container2 -- cat /etc/hosts",
    ] {
        assert_eq!(replay_ok(&root, line), expected, "{line}");
    }

    // Without shareProcessNamespace the shell sees itself and its ps.
    let ps = replay_ok(
        &root,
        "kubectl exec no-share-process-ns-test -c shell -- ps",
    );
    let seen = processes(&ps);
    assert_eq!(seen[0], (1, "sh".to_owned()), "{ps}");
    assert_eq!(commands(&ps), ["sh", "ps"], "{ps}");

    // With it: /pause as PID 1, the shell, the web server, ps (once the
    // server's `sh -c` has become httpd).
    let mut want = ["/pause", "sh", "httpd -f -p 80 -h /www", "ps"];
    want.sort_unstable();
    let ps = replay_until(
        &root,
        "kubectl exec share-process-ns-test -c shell -- ps",
        |ps| {
            let mut seen = commands(ps);
            seen.sort();
            seen == want
        },
    );
    assert_eq!(processes(&ps)[0], (1, "/pause".to_owned()), "{ps}");

    // hostNetwork: the host's interfaces (its bridge peapod0, its default
    // route's device), which a pod of its own network does not see.
    let route = std::fs::read_to_string("/proc/net/route").unwrap();
    let default_dev = route
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.get(1) == Some(&"00000000"))
        .map(|w| w[0].to_owned())
        .expect("the host has a default route");
    let names = |ifconfig: &str| -> Vec<String> {
        ifconfig
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(' '))
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    };
    let on_host = names(&replay_ok(
        &root,
        "kubectl exec host-net-test -c shell -- ifconfig",
    ));
    assert!(on_host.contains(&"peapod0".to_owned()), "{on_host:?}");
    assert!(on_host.contains(&default_dev), "{on_host:?}");
    let in_pod = names(&replay_ok(
        &root,
        "kubectl exec my-first-test -c my-test-container1 -- ifconfig",
    ));
    assert!(!in_pod.contains(&"peapod0".to_owned()), "{in_pod:?}");

    // postStart wrote its message before the container was reported up.
    assert_eq!(
        replay_ok(
            &root,
            "kubectl exec lifecycle-demo -- cat /usr/share/message"
        ),
        "Hello from the postStart handler\n"
    );
}

#[test]
fn seed_002_the_debian_container_writes_the_page_the_nginx_container_serves() {
    let Some((_host, root)) = start("seed_002", "seed-002", shared) else {
        return;
    };
    stand_ins(&root);
    let data = root.shared_dir();
    let yaml = with_images(
        include_str!("../../spec/tests/fixtures/seeds/002-1-two-containers.yaml"),
        &[("nginx", "nginx:seed"), ("debian", "busybox:1.31.1")],
    )
    .replace("path: /data", &format!("path: {}", data.display()));
    let pod = apply_seed(&root, "two-containers.yaml", "two-containers", &yaml);
    pod.wait_for("the debian container completed", |v| {
        v["status"]["containerStatuses"][1]["state"]["terminated"]["reason"] == "Completed"
    });
    assert_eq!(
        std::fs::read_to_string(data.join("index.html")).unwrap(),
        "Hello from the debian container\n"
    );
    assert_eq!(
        replay_ok(
            &root,
            "kubectl exec two-containers -c nginx-container -- cat /usr/sharr/nginx/html/index.html"
        ),
        "Hello from the debian container\n"
    );
}

#[test]
fn seed_003_explain_create_get_and_logs_print_kubectls_shapes() {
    let Some((_host, root)) = start("seed_003", "seed-003", shared) else {
        return;
    };
    stand_in(
        &root,
        "kubia:seed",
        r#"["sh", "-c", "echo Kubia server starting...; exec httpd -f -p 8080"]"#,
    );

    let pod = replay_ok(&root, "kubectl explain pod");
    assert!(
        pod.starts_with("KIND:       Pod\nVERSION:    v1\n"),
        "{pod}"
    );
    for field in ["apiVersion", "kind", "metadata", "spec", "status"] {
        assert!(pod.contains(&format!("\n  {field}\t<")), "{field}: {pod}");
    }
    let spec = replay_ok(&root, "kubectl explain pod.spec");
    assert!(spec.contains("\nFIELD: spec <PodSpec>"), "{spec}");
    for field in [
        "containers",
        "hostAliases",
        "volumes",
        "shareProcessNamespace",
    ] {
        assert!(spec.contains(&format!("\n  {field}\t<")), "{field}: {spec}");
    }

    // `kubectl create -f xxx.yaml`: the seed's pod (and the Secret its
    // volume names, which a cluster makes by itself).
    std::fs::write(
        root.path().join("xxx.yaml"),
        with_images(
            include_str!("../../spec/tests/fixtures/seeds/003-1-kubia-zxzij.yaml"),
            &[("luksa/kubia", "kubia:seed")],
        ),
    )
    .unwrap();
    let _pod = Pod {
        root: &root,
        name: "kubia-zxzij".into(),
    };
    let (code, out, err) = replay(&root, "kubectl create -f xxx.yaml");
    assert_eq!(
        (code, out.as_str()),
        (0, "pod/kubia-zxzij created\n"),
        "{err}"
    );

    let yaml = replay_ok(&root, "kubectl get po kubia-zxzij -o yaml");
    assert!(
        yaml.starts_with(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    created-by: tiandeng\n"
        ),
        "{yaml}"
    );
    for line in [
        "\n  generateName: kubia-\n",
        "\n  labels:\n    run: kubia\n",
        "\n  name: kubia-zxzij\n",
        "\n  namespace: default\n",
        "\nspec:\n  containers:\n",
        "\n  nodeName: app-cluster-control-plane\n",
        "\nstatus:\n",
    ] {
        assert!(yaml.contains(line), "{line:?}: {yaml}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&replay_ok(&root, "kubectl get po kubia-zxzij -o json")).unwrap();
    assert_eq!(json["metadata"]["labels"]["run"], "kubia");
    assert_eq!(
        json["spec"]["containers"][0]["ports"][0]["containerPort"],
        8080
    );
    assert_eq!(json["status"]["phase"], "Running", "{json:#}");

    let table = replay_ok(&root, "kubectl get pods");
    let rows = common::cells(&table);
    assert_eq!(rows[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!(rows[1][..4], ["kubia-zxzij", "1/1", "Running", "0"]);

    let logs = replay_until(&root, "kubectl logs kubia-zxzij", |out| !out.is_empty());
    assert_eq!(logs, "Kubia server starting...\n");
}

/// What `GET /` on `address` answered, its body; `None` while nothing
/// listens there.
fn curl(address: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
}

#[test]
fn seed_004_the_pod_docker_builds_by_hand_shares_the_port_hostname_and_processes() {
    let Some((_host, root)) = start("seed_004", "seed-004", shared) else {
        return;
    };
    stand_ins(&root);
    stand_in(
        &root,
        "kube-tiven:seed",
        r#"["sh", "-c", "mkdir -p /www && echo \"You've hit $(hostname)\" > /www/index.html && exec httpd -f -p 80 -h /www"]"#,
    );
    // `docker run --name=pause -p 80:80 pause`, then node-server and
    // nginx-web with `--network=container:pause --pid=container:pause
    // --ipc=container:pause`: a pod sharing its process namespace.
    let port = free_port();
    let yaml = format!(
        r"
apiVersion: v1
kind: Pod
metadata:
  name: kube-tiven
spec:
  shareProcessNamespace: true
  containers:
  - name: node-server
    image: kube-tiven:seed
    ports:
    - containerPort: 80
      hostPort: {port}
  - name: nginx-web
    image: idle:seed
"
    );
    let _pod = apply_seed(&root, "kube-tiven.yaml", "kube-tiven", &yaml);

    // `curl <host-ip>:80`: the page of the pod's hostname (the pause's).
    let deadline = Instant::now() + common::WAIT;
    let page = loop {
        if let Some(page) = curl(&format!("127.0.0.1:{port}")) {
            break page;
        }
        assert!(Instant::now() < deadline, "nothing answers on {port}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(page, "You've hit kube-tiven\n");

    // `docker exec node-server ps aux`: the pause, both containers' processes.
    let ps = replay_ok(&root, "kubectl exec kube-tiven -c node-server -- ps aux");
    let seen = processes(&ps);
    assert_eq!(seen[0], (1, "/pause".to_owned()), "{ps}");
    let cmds = commands(&ps);
    assert!(cmds.contains(&"httpd -f -p 80 -h /www".to_owned()), "{ps}");
    assert!(cmds.contains(&"sleep 100000".to_owned()), "{ps}");
    assert_eq!(
        replay_ok(&root, "kubectl exec kube-tiven -c nginx-web -- hostname"),
        "kube-tiven\n"
    );
}
