//! The one-time URLs' tokens, as kubelet's request cache keeps them: a
//! random token for each request an RPC validated, taken once by the
//! first connection that names it, forgotten after a minute.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::time::{Duration, Instant};

use tonic::Status;

use super::Session;

/// How long a URL stays valid (kubelet's cache keeps requests a minute).
pub(super) const TTL: Duration = Duration::from_secs(60);

/// At most this many URLs not yet used (kubelet's in-flight limit).
const MAX_PENDING: usize = 1000;

/// The sessions waiting for their connection, by token.
#[derive(Debug)]
pub(super) struct Tokens {
    ttl: Duration,
    pending: HashMap<String, (Instant, Session)>,
}

impl Tokens {
    /// No token yet; each one valid for `ttl`.
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pending: HashMap::new(),
        }
    }

    /// Keeps `session` under a new random token, which it returns.
    pub(super) fn insert(&mut self, session: Session) -> Result<String, Status> {
        let now = Instant::now();
        let ttl = self.ttl;
        self.pending
            .retain(|_, (since, _)| now.duration_since(*since) < ttl);
        if self.pending.len() >= MAX_PENDING {
            return Err(Status::resource_exhausted(format!(
                "{MAX_PENDING} streaming requests are waiting for their connection already"
            )));
        }
        let token = random_token()
            .map_err(|e| Status::internal(format!("a streaming token: /dev/urandom: {e}")))?;
        self.pending.insert(token.clone(), (now, session));
        Ok(token)
    }

    /// The session of `token`, once: a token taken, expired or never
    /// given is `None`.
    pub(super) fn take(&mut self, token: &str) -> Option<Session> {
        let (since, session) = self.pending.remove(token)?;
        (since.elapsed() < self.ttl).then_some(session)
    }
}

/// 16 random bytes, hex: 128 bits no client can guess.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PortForwardRequest;

    fn session() -> Session {
        Session::PortForward(PortForwardRequest {
            pod_sandbox_id: "ns_pod".into(),
            port: vec![80],
        })
    }

    #[test]
    fn a_token_is_taken_once() {
        let mut tokens = Tokens::new(TTL);
        let token = tokens.insert(session()).expect("insert");
        assert_eq!(token.len(), 32);
        assert!(matches!(tokens.take(&token), Some(Session::PortForward(_))));
        assert!(tokens.take(&token).is_none());
        assert!(tokens.take("not-a-token").is_none());
    }

    #[test]
    fn tokens_differ_and_expire() {
        let mut tokens = Tokens::new(Duration::ZERO);
        let a = tokens.insert(session()).expect("insert");
        let b = tokens.insert(session()).expect("insert");
        assert_ne!(a, b);
        assert!(tokens.take(&b).is_none(), "expired");
    }
}
