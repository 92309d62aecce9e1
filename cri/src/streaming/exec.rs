//! A streaming exec: the command started in the container (on a new
//! terminal of the container with `tty`, else with a pipe for each stream
//! the request asked for), its output on the stdout and stderr channels,
//! the client's input and resizes passed on, and once it ended and its
//! output is drained, its exit status on the error channel.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use peapod_runtime::engine::{Engine, ExecIo};
use tokio_tungstenite::WebSocketStream;

use super::channel::{self, ERROR, STDERR, STDOUT};
use super::fd_io::{self, Exiting, Fd};
use super::input::{self, Input};
use crate::api::ExecRequest;

/// Runs `request` on `ws` to its end.
pub(super) async fn run(
    ws: WebSocketStream<tokio::net::TcpStream>,
    v5: bool,
    engine: Engine,
    request: ExecRequest,
) {
    let (incoming, out, writer) = fd_io::session(ws);
    let status = match start(engine, &request).await {
        Ok(started) => {
            let code = started.relay(incoming, v5, &out).await;
            match code {
                Ok(code) => channel::exit_status(&request.cmd, code),
                Err(e) => channel::failure(&format!("waiting for the command: {e}")),
            }
        }
        Err(message) => channel::failure(&message),
    };
    let _ = out.send(channel::frame(ERROR, &status)).await;
    drop(out);
    let _ = writer.await;
}

/// A started exec: its process and our ends of its stdio.
struct Started {
    process: Exiting,
    stdin: Option<Arc<Fd>>,
    /// The output channels and what feeds them (the terminal's master
    /// feeds stdout).
    outputs: Vec<(u8, Arc<Fd>)>,
    terminal: Option<Arc<Fd>>,
}

/// Starts the command (a fork and the namespaces' joins: on the blocking
/// pool).
async fn start(engine: Engine, request: &ExecRequest) -> Result<Started, String> {
    let request = request.clone();
    let started = tokio::task::spawn_blocking(move || spawn(&engine, &request))
        .await
        .map_err(|e| e.to_string())??;
    let (process, stdin, stdout, stderr, master) = started;
    let fd = |fd: OwnedFd| Fd::new(fd).map_err(|e| e.to_string());
    let terminal = master.map(fd).transpose()?.map(Arc::new);
    let mut outputs: Vec<(u8, Arc<Fd>)> = terminal.iter().map(|t| (STDOUT, t.clone())).collect();
    for (channel, end) in [(STDOUT, stdout), (STDERR, stderr)] {
        if let Some(end) = end {
            outputs.push((channel, Arc::new(fd(end)?)));
        }
    }
    Ok(Started {
        process: Exiting::new(process).map_err(|e| e.to_string())?,
        stdin: match stdin {
            Some(end) => Some(Arc::new(fd(end)?)),
            None => terminal.clone(),
        },
        outputs,
        terminal,
    })
}

/// The process and our ends: its stdin's writer, its stdout's and
/// stderr's readers, its terminal's master.
type Spawned = (
    peapod_runtime::engine::ExecProcess,
    Option<OwnedFd>,
    Option<OwnedFd>,
    Option<OwnedFd>,
    Option<OwnedFd>,
);

fn spawn(engine: &Engine, request: &ExecRequest) -> Result<Spawned, String> {
    let pipe = |wanted: bool| -> Result<Option<(OwnedFd, OwnedFd)>, String> {
        if !wanted || request.tty {
            return Ok(None);
        }
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map(Some)
            .map_err(|e| format!("pipe: {e}"))
    };
    let stdin = pipe(request.stdin)?;
    let stdout = pipe(request.stdout)?;
    let stderr = pipe(request.stderr)?;
    let (stdin_r, stdin_w) = stdin.unzip();
    let (stdout_r, stdout_w) = stdout.unzip();
    let (stderr_r, stderr_w) = stderr.unzip();
    let io = ExecIo {
        stdin: stdin_r,
        stdout: stdout_w,
        stderr: stderr_w,
    };
    let mut process = engine
        .exec(&request.container_id, &request.cmd, io, request.tty)
        .map_err(|e| e.to_string())?;
    let master = process.take_terminal();
    Ok((process, stdin_w, stdout_r, stderr_r, master))
}

impl Started {
    /// Relays until the process ended and its output is drained; its exit
    /// code. A client gone closes the input (the process sees its end);
    /// on a terminal, the master is closed too: the terminal hangs up and
    /// the process gets SIGHUP, as when an ssh session drops.
    async fn relay<S>(self, incoming: S, v5: bool, out: &fd_io::Outgoing) -> std::io::Result<i32>
    where
        S: futures_util::Stream<
                Item = Result<
                    tokio_tungstenite::tungstenite::Message,
                    tokio_tungstenite::tungstenite::Error,
                >,
            > + Unpin
            + Send
            + 'static,
    {
        let tty = self.terminal.is_some();
        let mut input = tokio::spawn(input::relay(
            incoming,
            Input {
                stdin: self.stdin,
                terminal: self.terminal,
                v5,
            },
        ));
        let pumps: Vec<_> = self
            .outputs
            .into_iter()
            .map(|(channel, fd)| tokio::spawn(fd_io::pump(fd, channel, out.clone())))
            .collect();
        let exited = self.process.code();
        tokio::pin!(exited);
        let code = tokio::select! {
            code = &mut exited => code,
            _ = &mut input => {
                if tty {
                    // The master's last holder is the pump.
                    for pump in &pumps {
                        pump.abort();
                    }
                }
                exited.await
            }
        };
        for pump in pumps {
            let _ = pump.await;
        }
        input.abort();
        code
    }
}
