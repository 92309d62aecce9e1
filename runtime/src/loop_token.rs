//! The tokens of the supervisor's event loop: what a ready event is about.

/// What woke the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// A client on the control socket.
    Control,
    /// The process of slot `i` exited.
    Exit(usize),
    /// Log stream `id` is readable.
    Output(u64),
    /// An event of hook or probe run `id`.
    Run(u64),
    /// A termination signal (SIGTERM, SIGINT, ...) to the supervisor.
    Signal,
    /// Control client `id` sent something.
    Client(u64),
    /// Killed hook command `id` exited: reap it.
    Reap(u64),
}

impl Token {
    const EXIT: u64 = 1 << 40;
    const OUTPUT: u64 = 2 << 40;
    const RUN: u64 = 3 << 40;
    const SIGNAL: u64 = 4 << 40;
    const CLIENT: u64 = 5 << 40;
    const REAP: u64 = 6 << 40;

    pub(crate) fn encode(self) -> u64 {
        match self {
            Self::Control => 0,
            Self::Exit(i) => Self::EXIT | i as u64,
            Self::Output(id) => Self::OUTPUT | id,
            Self::Run(id) => Self::RUN | id,
            Self::Signal => Self::SIGNAL,
            Self::Client(id) => Self::CLIENT | id,
            Self::Reap(id) => Self::REAP | id,
        }
    }

    pub(crate) fn decode(token: u64) -> Self {
        let low = token & (Self::EXIT - 1);
        match token & !(Self::EXIT - 1) {
            Self::EXIT => Self::Exit(usize::try_from(low).unwrap_or(usize::MAX)),
            Self::OUTPUT => Self::Output(low),
            Self::RUN => Self::Run(low),
            Self::SIGNAL => Self::Signal,
            Self::CLIENT => Self::Client(low),
            Self::REAP => Self::Reap(low),
            _ => Self::Control,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for t in [
            Token::Control,
            Token::Exit(3),
            Token::Output(41),
            Token::Run(7),
            Token::Signal,
            Token::Client(9),
            Token::Reap(4),
        ] {
            assert_eq!(Token::decode(t.encode()), t);
        }
    }
}
