//! How a run of a handler ended, in kubelet's terms.

/// Output and bodies are kept up to this size (kubelet's 10 KiB for exec
/// output and HTTP bodies in probe messages).
pub const MAX_OUTPUT: usize = 10 * 1024;

/// The verdict of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Passed.
    Success,
    /// Passed, with something worth an event (kubelet's `ProbeWarning`: an
    /// HTTP redirect to another host was not followed).
    Warning,
    /// Failed: a non-zero exit, an HTTP status outside 200–399 (probes), a
    /// refused connection, a command that could not start.
    Failure,
    /// The timeout ran out first. A failure for probes and hooks alike.
    TimedOut,
}

/// The end of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Passed or not.
    pub verdict: Verdict,
    /// What kubelet puts in the event: the command's output (stdout and
    /// stderr together), the HTTP body, or the error, at most
    /// [`MAX_OUTPUT`] bytes.
    pub message: String,
    /// exec: the exit code (128 + n for a signal).
    pub exit_code: Option<i32>,
    /// httpGet: the status of the last response.
    pub http_status: Option<u16>,
}

impl Outcome {
    /// A run that passed with `message`.
    pub fn success(message: impl Into<String>) -> Self {
        Self::with(Verdict::Success, message)
    }

    /// A run that failed with `message`.
    pub fn failure(message: impl Into<String>) -> Self {
        Self::with(Verdict::Failure, message)
    }

    /// A run stopped by its timeout.
    pub(crate) fn timed_out(message: impl Into<String>) -> Self {
        Self::with(Verdict::TimedOut, message)
    }

    pub(crate) fn with(verdict: Verdict, message: impl Into<String>) -> Self {
        let mut message = message.into();
        truncate(&mut message, MAX_OUTPUT);
        Self {
            verdict,
            message,
            exit_code: None,
            http_status: None,
        }
    }

    /// Success or warning.
    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Success | Verdict::Warning)
    }
}

/// Cuts `s` to at most `max` bytes, on a character boundary.
pub(crate) fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_cut_at_ten_kib_on_a_char_boundary() {
        let long = "é".repeat(MAX_OUTPUT);
        let o = Outcome::failure(long);
        assert!(o.message.len() <= MAX_OUTPUT);
        assert!(o.message.len() >= MAX_OUTPUT - 1);
        assert!(!o.passed());
        assert!(Outcome::with(Verdict::Warning, "").passed());
    }
}
