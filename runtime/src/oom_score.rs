//! A container's OOM score adjustment (`/proc/<pid>/oom_score_adj`), as
//! the kubelet asks for each QoS class over the CRI: written to the
//! container's process while it is held before `execve`, so what it runs
//! and forks inherits it. Never below the supervisor's own score: a host
//! may forbid lowering it (containerd's `restrict_oom_score_adj` does the
//! same), and a container should not outlive its supervisor in an OOM.

use crate::error::{Error, Result};

/// The range the kernel takes.
const RANGE: std::ops::RangeInclusive<i32> = -1000..=1000;

/// Gives process `pid` the score `wanted`, raised to this process's own
/// when below it; returns the score written.
pub(crate) fn set(pid: i32, wanted: i32) -> Result<i32> {
    if !RANGE.contains(&wanted) {
        return Err(Error::Config(format!(
            "oom_score_adj {wanted}: out of {}..={}",
            RANGE.start(),
            RANGE.end()
        )));
    }
    let own = read("/proc/self/oom_score_adj")?;
    let score = wanted.max(own);
    let path = format!("/proc/{pid}/oom_score_adj");
    std::fs::write(&path, score.to_string()).map_err(|e| Error::io(&path, e))?;
    Ok(score)
}

fn read(path: &str) -> Result<i32> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.trim().parse().map_err(|_| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, "not a number"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_out_of_the_kernels_range_is_refused_before_any_write() {
        // pid 0 names no process: only the range check can answer.
        let e = set(0, 1001).expect_err("out of range");
        assert!(e.to_string().contains("oom_score_adj 1001"), "{e}");
        assert!(set(0, -1001).is_err());
    }
}
