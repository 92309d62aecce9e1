//! A streaming port-forward, as kubelet's WebSocket port-forward: for
//! the i-th port, channel 2i carries the data and 2i+1 the errors, and
//! each starts with the port (two bytes, little-endian). Each port gets
//! one TCP connection to `127.0.0.1:port` in the sandbox's network
//! namespace ([`PodNetwork`]); the session ends when the client closes
//! the WebSocket or every connection was closed by the pod.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use futures_util::Stream;
use peapod_runtime::Paths;
use peapod_runtime::pod::pod_connect::PodNetwork;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

use super::channel;
use super::fd_io::{self, Fd};

/// Runs the forwarding of `ports` into sandbox `sandbox` on `ws`.
pub(super) async fn run(
    ws: WebSocketStream<tokio::net::TcpStream>,
    paths: Paths,
    sandbox: String,
    ports: Vec<u16>,
) {
    let (mut incoming, out, writer) = fd_io::session(ws);
    let mut connections: Vec<Option<Arc<Fd>>> = Vec::new();
    let mut pumps = Vec::new();
    let dialed = dial(paths, sandbox.clone(), ports.clone()).await;
    for (i, port) in ports.iter().enumerate() {
        let Ok(data) = u8::try_from(2 * i) else {
            break;
        };
        let prefix = channel::port_prefix(*port);
        let _ = out.send(channel::frame(data, &prefix)).await;
        let _ = out.send(channel::frame(data + 1, &prefix)).await;
        let connection = match &dialed {
            Ok(all) => all
                .get(i)
                .cloned()
                .unwrap_or_else(|| Err("not dialed".into())),
            Err(e) => Err(e.clone()),
        };
        match connection {
            Ok(fd) => {
                pumps.push(tokio::spawn(fd_io::pump(fd.clone(), data, out.clone())));
                connections.push(Some(fd));
            }
            Err(e) => {
                let message = format!("error forwarding port {port} to pod {sandbox}: {e}");
                let _ = out.send(channel::frame(data + 1, message.as_bytes())).await;
                connections.push(None);
            }
        }
    }
    {
        let pod_closed = async {
            for pump in &mut pumps {
                let _ = pump.await;
            }
        };
        tokio::select! {
            () = to_pod(&mut incoming, &mut connections) => {}
            () = pod_closed => {}
        }
    }
    // The client gone: the connections close (the pumps hold them too).
    for pump in &pumps {
        pump.abort();
    }
    drop(connections);
    drop(out);
    let _ = writer.await;
}

/// A connection to each port in the sandbox (the namespace's joins: on
/// the blocking pool).
async fn dial(
    paths: Paths,
    sandbox: String,
    ports: Vec<u16>,
) -> Result<Vec<Result<Arc<Fd>, String>>, String> {
    let dialed = tokio::task::spawn_blocking(move || {
        let network = PodNetwork::of_sandbox(&paths, &sandbox).map_err(|e| e.to_string())?;
        Ok::<_, String>(
            ports
                .iter()
                .map(|port| network.connect(*port).map_err(|e| e.to_string()))
                .collect::<Vec<_>>(),
        )
    })
    .await
    .map_err(|e| e.to_string())??;
    // Registered with the runtime on its own thread.
    Ok(dialed
        .into_iter()
        .map(|c| {
            c.and_then(|stream| {
                Fd::new(OwnedFd::from(stream))
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
        })
        .collect())
}

/// Writes what the client sends on each data channel to its port's
/// connection, until the client closes the WebSocket.
async fn to_pod<S>(incoming: &mut S, connections: &mut [Option<Arc<Fd>>])
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    while let Some((channel, data)) = channel::next(incoming).await {
        let rest = data.as_slice();
        let port = usize::from(channel / 2);
        if channel % 2 != 0 || rest.is_empty() {
            continue;
        }
        if let Some(slot) = connections.get_mut(port)
            && let Some(fd) = slot
            && fd.write_all(rest).await.is_err()
        {
            *slot = None;
        }
    }
}
