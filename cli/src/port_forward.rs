//! `peapod port-forward POD [LOCAL:]REMOTE...`: the host's loopback into
//! a pod, as kubectl forwards: it accepts on `127.0.0.1:LOCAL` and for each
//! connection opens one to `127.0.0.1:REMOTE` in the pod's network
//! namespace ([`peapod_runtime::pod::pod_connect`]), copying both ways until
//! each side ends. Runs until interrupted, or until the pod is deleted:
//! then `error: lost connection to pod` (exit 1), as kubectl's stream
//! breaks with the pod.

use std::io::Write;
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use peapod_runtime::Paths;
use peapod_runtime::PodKey;
use peapod_runtime::pod::pod_connect::PodNetwork;
use peapod_runtime::pod::pod_watch::PodWatch;

/// Forward local ports to a pod.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # Port 8080 of the host's loopback to port 80 of the pod\n  peapod port-forward mypod 8080:80\n\n  \
    # The same port on both sides, and a free local port for 5432\n  peapod port-forward pod/mypod 8000 :5432")]
pub struct PortForwardArgs {
    /// The pod: `NAME` or `pod/NAME`.
    #[arg(value_name = "POD")]
    pod: String,
    /// `[LOCAL:]REMOTE`: LOCAL on 127.0.0.1 (a free one when empty, the
    /// same as REMOTE when absent) to REMOTE in the pod.
    #[arg(required = true, value_name = "[LOCAL:]REMOTE")]
    ports: Vec<String>,
    /// The namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// Runs `port-forward`: returns only on an error.
pub fn run(args: &PortForwardArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let name = crate::workloads::pod_name(paths, &args.namespace, &args.pod)?;
    let key = PodKey::new(&args.namespace, name);
    let ports = args
        .ports
        .iter()
        .map(|p| ports(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let network = Arc::new(PodNetwork::of(paths, &key)?);
    // Each accepting thread runs for ever, the watch until the pod is
    // gone: the first to end ends the command with its error.
    let (ended_tx, ended) = std::sync::mpsc::channel::<anyhow::Result<()>>();
    for (local, remote) in ports {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, local))
            .with_context(|| format!("unable to listen on port {local}"))?;
        let local = listener
            .local_addr()
            .context("the listening address")?
            .port();
        let mut out = std::io::stdout().lock();
        writeln!(out, "Forwarding from 127.0.0.1:{local} -> {remote}")?;
        out.flush()?;
        let (network, ended_tx) = (Arc::clone(&network), ended_tx.clone());
        std::thread::spawn(move || {
            let _ = ended_tx.send(accept(&listener, &network, local, remote));
        });
    }
    let (paths, key) = (paths.clone(), key.clone());
    std::thread::spawn(move || {
        let gone =
            wait_gone(&paths, &key).and_then(|()| Err(anyhow::anyhow!("lost connection to pod")));
        let _ = ended_tx.send(gone);
    });
    match ended.recv() {
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) | Err(_) => Ok(ExitCode::SUCCESS),
    }
}

/// Returns once pod `key` is deleted (its folder gone).
fn wait_gone(paths: &Paths, key: &PodKey) -> anyhow::Result<()> {
    let mut watch = PodWatch::new(paths)?;
    while peapod_runtime::pod::inspect::get(paths, key).is_ok() {
        watch.wait(paths, None)?;
    }
    Ok(())
}

/// `[LOCAL:]REMOTE` as `(local, remote)`; an empty LOCAL is 0 (any free
/// port).
fn ports(spec: &str) -> anyhow::Result<(u16, u16)> {
    let parse = |s: &str| s.parse::<u16>().ok().filter(|p| *p > 0);
    let parsed = match spec.split_once(':') {
        Some(("", remote)) => parse(remote).map(|r| (0, r)),
        Some((local, remote)) => parse(local).zip(parse(remote)),
        None => parse(spec).map(|p| (p, p)),
    };
    match parsed {
        Some(p) => Ok(p),
        None => bail!("{spec:?}: expected [LOCAL:]REMOTE, ports 1-65535"),
    }
}

/// Accepts connections on `listener` for ever, each forwarded on a thread
/// of its own.
fn accept(
    listener: &TcpListener,
    network: &Arc<PodNetwork>,
    local: u16,
    remote: u16,
) -> anyhow::Result<()> {
    loop {
        let (client, _) = listener.accept().context("accept")?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "Handling connection for {local}");
            let _ = out.flush();
        }
        let network = Arc::clone(network);
        std::thread::spawn(move || {
            if let Err(e) = forward(client, &network, remote) {
                eprintln!("error: an error occurred forwarding {local} -> {remote}: {e:#}");
            }
        });
    }
}

/// Copies `client` to `127.0.0.1:remote` in the pod and back; each
/// direction's end is passed on as a half close.
fn forward(client: TcpStream, network: &PodNetwork, remote: u16) -> anyhow::Result<()> {
    let pod = network
        .connect(remote)
        .with_context(|| format!("dial tcp4 127.0.0.1:{remote}"))?;
    let (mut client_in, mut pod_out) = (client.try_clone()?, pod.try_clone()?);
    let upstream = std::thread::spawn(move || {
        let copied = std::io::copy(&mut client_in, &mut pod_out);
        let _ = pod_out.shutdown(Shutdown::Write);
        copied
    });
    let (mut pod_in, mut client_out) = (pod, client);
    let copied = std::io::copy(&mut pod_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    copied?;
    upstream
        .join()
        .map_err(|_| anyhow::anyhow!("the copying thread panicked"))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_are_kubectls() {
        assert_eq!(ports("8080:80").expect("ok"), (8080, 80));
        assert_eq!(ports("5432").expect("ok"), (5432, 5432));
        assert_eq!(ports(":5432").expect("ok"), (0, 5432));
        assert!(ports("0").is_err());
        assert!(ports("a:80").is_err());
        assert!(ports("70000").is_err());
    }
}
