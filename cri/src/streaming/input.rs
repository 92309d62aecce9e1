//! The client's side of an exec or an attach: what it sends on the stdin
//! channel goes to the process's input, a resize message sets the
//! terminal's size, and (v5) closing the stdin stream closes the input.

use std::sync::Arc;

use futures_util::Stream;
use rustix::termios::Winsize;
use tokio_tungstenite::tungstenite::{self, Message};

use super::channel::{self, CLOSE, RESIZE, STDIN};
use super::fd_io::Fd;

/// Where the client's messages go.
#[derive(Debug, Default)]
pub(super) struct Input {
    /// The process's input: a pipe, or its terminal's master.
    pub(super) stdin: Option<Arc<Fd>>,
    /// Its terminal's master, to resize.
    pub(super) terminal: Option<Arc<Fd>>,
    /// `v5.channel.k8s.io`: the close channel exists.
    pub(super) v5: bool,
}

/// Passes the client's messages on until it closes the WebSocket.
pub(super) async fn relay<S>(mut incoming: S, mut input: Input)
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    while let Some((channel, data)) = channel::next(&mut incoming).await {
        let rest = data.as_slice();
        match channel {
            STDIN => {
                if let Some(fd) = &input.stdin
                    && fd.write_all(rest).await.is_err()
                {
                    input.stdin = None;
                }
            }
            RESIZE => {
                if let (Some(terminal), Some((columns, rows))) =
                    (&input.terminal, channel::window_size(rest))
                {
                    let size = Winsize {
                        ws_row: rows,
                        ws_col: columns,
                        ws_xpixel: 0,
                        ws_ypixel: 0,
                    };
                    let _ = rustix::termios::tcsetwinsize(terminal.raw(), size);
                }
            }
            CLOSE if input.v5 && rest.first() == Some(&STDIN) => input.stdin = None,
            _ => {}
        }
    }
}
