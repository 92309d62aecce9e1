//! A streaming attach: the container's own input (its stdin pipe or its
//! terminal's master, taken from its supervisor) fed from the stdin
//! channel, its output followed in its log (the supervisor owns its
//! stdout and stderr) and sent on the stdout and stderr channels, until
//! the container's run ends (then a success on the error channel) or the
//! client closes the WebSocket.

use std::sync::Arc;
use std::time::Duration;

use peapod_runtime::engine::{ContainerState, Engine, OutputFollower, OutputStream as Stream};
use tokio_tungstenite::WebSocketStream;

use super::channel::{self, ERROR, STDERR, STDOUT};
use super::fd_io::{self, Fd, Outgoing};
use super::input::{self, Input};
use crate::api::AttachRequest;

/// How often the log is read for new output while the container runs.
const FOLLOW_EVERY: Duration = Duration::from_millis(50);

/// Runs `request` on `ws` to its end.
pub(super) async fn run(
    ws: WebSocketStream<tokio::net::TcpStream>,
    v5: bool,
    engine: Engine,
    request: AttachRequest,
) {
    let (incoming, out, writer) = fd_io::session(ws);
    let status = match start(engine.clone(), &request).await {
        Ok((fd, follower)) => {
            let client = tokio::spawn(input::relay(
                incoming,
                Input {
                    stdin: fd.clone().filter(|_| request.stdin),
                    terminal: fd.filter(|_| request.tty),
                    v5,
                },
            ));
            follow(&engine, &request, follower, &out, client).await;
            channel::exit_status(&[], 0)
        }
        Err(message) => channel::failure(&message),
    };
    let _ = out.send(channel::frame(ERROR, &status)).await;
    drop(out);
    let _ = writer.await;
}

/// The container's input (when it has one) and its output from now on.
async fn start(
    engine: Engine,
    request: &AttachRequest,
) -> Result<(Option<Arc<Fd>>, OutputFollower), String> {
    let id = request.container_id.clone();
    let (input, follower) = tokio::task::spawn_blocking(move || {
        let attached = engine.attach(&id).map_err(|e| e.to_string())?;
        let follower = OutputFollower::from_now(attached.log_path).map_err(|e| e.to_string())?;
        Ok::<_, String>((attached.input, follower))
    })
    .await
    .map_err(|e| e.to_string())??;
    let input = input
        .map(Fd::new)
        .transpose()
        .map_err(|e| format!("the container's input: {e}"))?;
    Ok((input.map(Arc::new), follower))
}

/// Sends the output the log gets until the container's run ends or the
/// client (`client`, its input's relay) goes.
async fn follow(
    engine: &Engine,
    request: &AttachRequest,
    mut follower: OutputFollower,
    out: &Outgoing,
    mut client: tokio::task::JoinHandle<()>,
) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    loop {
        tokio::select! {
            _ = &mut client => return,
            _ = tick.tick() => {}
        }
        let (engine, id) = (engine.clone(), request.container_id.clone());
        // The state first, then the log: once the run is seen ended, the
        // read after it has all it wrote.
        let read = tokio::task::spawn_blocking(move || {
            let runs = engine.container_status(&id).is_ok_and(|s| {
                matches!(s.state, ContainerState::Created | ContainerState::Running)
            });
            let output = follower.read();
            (follower, runs, output)
        })
        .await;
        let Ok((back, runs, output)) = read else {
            return;
        };
        follower = back;
        for (stream, bytes) in output.unwrap_or_default() {
            let (wanted, channel) = match stream {
                Stream::Stdout => (request.stdout, STDOUT),
                Stream::Stderr => (request.stderr, STDERR),
            };
            if wanted && out.send(channel::frame(channel, &bytes)).await.is_err() {
                return;
            }
        }
        if !runs {
            client.abort();
            return;
        }
    }
}
