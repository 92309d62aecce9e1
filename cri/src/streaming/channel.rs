//! Kubernetes' channel protocols over WebSocket, as kubelet's streaming
//! server speaks them: each binary message starts with its channel's
//! number. Exec and attach (`v4.channel.k8s.io`, `v5.channel.k8s.io`):
//! 0 stdin, 1 stdout, 2 stderr, 3 error (one JSON `metav1.Status` at the
//! end), 4 resize (JSON `{"Width":…,"Height":…}`), and with v5, 255 to
//! close a stream (its number follows). Port-forward: a data and an
//! error channel per port.

use futures_util::{Stream, StreamExt};
use tokio_tungstenite::tungstenite::{self, Message};

/// The client's input.
pub(super) const STDIN: u8 = 0;
/// The process's output.
pub(super) const STDOUT: u8 = 1;
/// The process's error output.
pub(super) const STDERR: u8 = 2;
/// The outcome, a `metav1.Status`.
pub(super) const ERROR: u8 = 3;
/// The terminal's new size.
pub(super) const RESIZE: u8 = 4;
/// v5: the client closes the stream whose number follows.
pub(super) const CLOSE: u8 = 255;

/// The exec and attach subprotocols, in the order peapod prefers them.
pub(super) const STREAM_PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// The port-forward subprotocols (kubelet's WebSocket port-forward; also
/// the name its SPDY one goes by), and none at all.
pub(super) const PORT_FORWARD_PROTOCOLS: [&str; 3] =
    ["v4.channel.k8s.io", "portforward.k8s.io", ""];

/// A message on `channel`.
pub(super) fn frame(channel: u8, data: &[u8]) -> Message {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.push(channel);
    bytes.extend_from_slice(data);
    Message::Binary(bytes.into())
}

/// The client's next channel message, `(channel, data)`, skipping the
/// other messages; `None` once the WebSocket closed (tungstenite answers
/// a close as the stream is read on, and ends it once the closing
/// handshake is done).
pub(super) async fn next<S>(incoming: &mut S) -> Option<(u8, Vec<u8>)>
where
    S: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    while let Some(Ok(message)) = incoming.next().await {
        if let Message::Binary(data) = message
            && let Some((&channel, rest)) = data.split_first()
        {
            return Some((channel, rest.to_vec()));
        }
    }
    None
}

/// The first of the client's subprotocols (`Sec-WebSocket-Protocol`,
/// comma-separated, in its order of preference) that `supported` has;
/// no header at all offers "".
pub(super) fn negotiate<'a>(offered: &[&str], supported: &[&'a str]) -> Option<&'a str> {
    let offered: Vec<&str> = if offered.is_empty() {
        vec![""]
    } else {
        offered.to_vec()
    };
    offered
        .iter()
        .flat_map(|o| o.split(','))
        .map(str::trim)
        .find_map(|o| supported.iter().find(|s| **s == o).copied())
}

/// The status of a process that ended with `exit_code`, as kubelet
/// reports it: `Success`, or a `NonZeroExitCode` failure whose
/// `ExitCode` cause is the code (what `kubectl exec` exits with).
pub(super) fn exit_status(cmd: &[String], exit_code: i32) -> Vec<u8> {
    let status = if exit_code == 0 {
        serde_json::json!({"metadata": {}, "status": "Success"})
    } else {
        serde_json::json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command {cmd:?}, exit code {exit_code}"
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
        })
    };
    status.to_string().into_bytes()
}

/// The status of a session that could not run: `message` as an internal
/// error.
pub(super) fn failure(message: &str) -> Vec<u8> {
    serde_json::json!({
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "code": 500,
    })
    .to_string()
    .into_bytes()
}

/// A resize message's `(columns, rows)`.
pub(super) fn window_size(data: &[u8]) -> Option<(u16, u16)> {
    let size: serde_json::Value = serde_json::from_slice(data).ok()?;
    let get = |key: &str| {
        size.get(key)
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    Some((get("Width")?, get("Height")?))
}

/// Port-forward's first message on each of a port's channels: the port,
/// little-endian.
pub(super) fn port_prefix(port: u16) -> [u8; 2] {
    port.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_zero_exit_is_a_failure_with_its_code_as_cause() {
        let status: serde_json::Value =
            serde_json::from_slice(&exit_status(&["sh".into()], 3)).expect("json");
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["reason"], "NonZeroExitCode");
        assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
        assert_eq!(status["details"]["causes"][0]["message"], "3");
        let ok: serde_json::Value = serde_json::from_slice(&exit_status(&[], 0)).expect("json");
        assert_eq!(ok["status"], "Success");
    }

    #[test]
    fn resize_and_negotiation() {
        assert_eq!(
            window_size(br#"{"Width":100,"Height":40}"#),
            Some((100, 40))
        );
        assert_eq!(window_size(br#"{"Width":100}"#), None);
        assert_eq!(
            negotiate(&["v4.channel.k8s.io, v5.channel.k8s.io"], &STREAM_PROTOCOLS),
            Some("v4.channel.k8s.io")
        );
        assert_eq!(negotiate(&["channel.k8s.io"], &STREAM_PROTOCOLS), None);
        assert_eq!(negotiate(&[], &PORT_FORWARD_PROTOCOLS), Some(""));
        assert_eq!(frame(STDOUT, b"hi").into_data().as_ref(), b"\x01hi");
    }
}
