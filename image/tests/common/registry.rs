//! A real registry for pull tests: Debian's `docker-registry` (distribution)
//! on 127.0.0.1 at a free port, its data and config in a temporary folder,
//! killed on drop; images pushed into it with `skopeo copy` from OCI layouts
//! the tests build.
#![allow(dead_code, clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use peapod_testkit::TempDir;

pub struct Registry {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

/// A user and password, when the registry requires a login.
pub struct Login<'a> {
    pub user: &'a str,
    pub password: &'a str,
}

impl Registry {
    pub fn start(login: Option<&Login<'_>>) -> Self {
        let dir = TempDir::new("registry");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some(l) = login {
            let out = Command::new("htpasswd")
                .args(["-Bbn", l.user, l.password])
                .output()
                .expect("htpasswd (apt-get install apache2-utils)");
            assert!(out.status.success());
            let htpasswd = dir.path().join("htpasswd");
            fs::write(&htpasswd, out.stdout).unwrap();
            write!(
                config,
                "auth:\n  htpasswd:\n    realm: peapod-test\n    path: {}\n",
                htpasswd.display()
            )
            .unwrap();
        }
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (apt-get install docker-registry)");
        let registry = Self { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `skopeo copy` of the image named `name` in the layout at `layout`
    /// (with `--all`: every platform of an index) to `repo_tag` here.
    pub fn push(&self, layout: &Path, name: &str, repo_tag: &str, login: Option<&Login<'_>>) {
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "--insecure-policy",
            "copy",
            "--all",
            "--dest-tls-verify=false",
        ]);
        if let Some(l) = login {
            cmd.arg(format!("--dest-creds={}:{}", l.user, l.password));
        }
        let out = cmd
            .arg(format!("oci:{}:{name}", layout.display()))
            .arg(format!("docker://{}/{repo_tag}", self.host()))
            .output()
            .expect("skopeo (apt-get install skopeo)");
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An auth file with `login` for this registry.
    pub fn auth_file(&self, login: &Login<'_>) -> std::path::PathBuf {
        let path = self.dir.path().join("auth.json");
        let auth = layout_base64(format!("{}:{}", login.user, login.password).as_bytes());
        fs::write(
            &path,
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, self.host()),
        )
        .unwrap();
        path
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn layout_base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(A[(n >> (18 - 6 * i)) as usize & 63])
            } else {
                '='
            });
        }
    }
    out
}
