//! Host id blocks for pod user namespaces (`hostUsers: false`): 65,536
//! uids and gids per pod, 64K-aligned, from host id 65,536 up (block `n`
//! is ids `65536 * n ..`), as kubelet's user namespace manager hands them
//! out.
//!
//! One file per block under `<lib>/userns/` (named by the block number),
//! holding the pod's uid and its owner (the supervisor's pid and start
//! time, so a recycled pid is not taken for it); every change is made
//! under an exclusive `flock` on `<lib>/userns/lock`. A pod's block is
//! released by its teardown (the supervisor's last act, or `delete` after
//! the supervisor was killed). A block whose owner is gone is taken back
//! only when every block is taken: until `delete` kills what is left in
//! its cgroup, processes may still run with its ids.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use peapod_core::IdMap;
use rustix::fs::{FlockOperation, flock};

use crate::error::{Error, Result};
use crate::state::ProcessRecord;

/// Ids per pod, and the alignment of a block.
pub(crate) const BLOCK_SIZE: u32 = 65_536;

/// The first block handed out (ids 0..65535 are the host's).
const FIRST_BLOCK: u32 = 1;

/// The last block: host ids stay below 2^31, as kubelet's default range.
const LAST_BLOCK: u32 = (1 << 15) - 1;

/// One block's holder.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    /// The pod's `metadata.uid`.
    pod: String,
    owner: ProcessRecord,
}

impl Holder {
    fn render(&self) -> String {
        format!(
            "pod {}\nowner {} {}\n",
            self.pod, self.owner.pid, self.owner.start_time
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut pod = None;
        let mut owner = None;
        for line in text.lines() {
            match line.split(' ').collect::<Vec<_>>().as_slice() {
                ["pod", uid] => pod = Some((*uid).to_owned()),
                ["owner", pid, start] => {
                    owner = Some(ProcessRecord {
                        pid: pid.parse().ok()?,
                        start_time: start.parse().ok()?,
                    });
                }
                _ => {}
            }
        }
        Some(Self {
            pod: pod?,
            owner: owner?,
        })
    }
}

/// The block store.
#[derive(Debug, Clone)]
pub(crate) struct IdBlocks {
    dir: PathBuf,
    first: u32,
    last: u32,
}

impl IdBlocks {
    /// The store of the host: `<lib>/userns`.
    pub(crate) fn new(lib: &Path) -> Self {
        Self::with_range(lib.join("userns"), FIRST_BLOCK, LAST_BLOCK)
    }

    fn with_range(dir: PathBuf, first: u32, last: u32) -> Self {
        Self { dir, first, last }
    }

    /// The exclusive lock, held until the file is dropped.
    fn lock(&self) -> Result<File> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        flock(&file, FlockOperation::LockExclusive).map_err(|e| Error::io(&path, e.into()))?;
        Ok(file)
    }

    /// Every block taken, with its holder (a file that does not parse,
    /// torn by a crash, holds its block for nobody and is reused).
    fn taken(&self) -> Result<Vec<(u32, Option<Holder>)>> {
        let entries = fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let mut taken = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let Some(block) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let text = fs::read_to_string(entry.path()).unwrap_or_default();
            taken.push((block, Holder::parse(&text)));
        }
        taken.sort_unstable_by_key(|(block, _)| *block);
        Ok(taken)
    }

    fn path(&self, block: u32) -> PathBuf {
        self.dir.join(block.to_string())
    }

    fn map_of(block: u32) -> IdMap {
        IdMap {
            host_base: block * BLOCK_SIZE,
            count: BLOCK_SIZE,
        }
    }

    /// The block of `pod` (the one it holds already, or the lowest free
    /// one), recorded for `owner`.
    pub(crate) fn allocate(&self, pod: &str, owner: ProcessRecord) -> Result<IdMap> {
        if pod.is_empty() || pod.contains(['\n', ' ', '/']) {
            return Err(Error::Config(format!(
                "pod uid {pod:?}: must be non-empty, without spaces, slashes or newlines"
            )));
        }
        let _lock = self.lock()?;
        let taken = self.taken()?;
        let held = |b: &(u32, Option<Holder>)| b.1.as_ref().is_some_and(|h| h.pod == pod);
        let block = match taken.iter().find(|b| held(b)) {
            Some((block, _)) => Some(*block),
            None => self.lowest_free(&taken, |_| false).or_else(|| {
                // Full: take back the blocks of supervisors that are gone.
                self.lowest_free(&taken, |h| !h.owner.is_alive())
            }),
        };
        let block = block.ok_or_else(|| {
            Error::Config(format!(
                "pod uid {pod}: no user namespace id block left ({} blocks of {BLOCK_SIZE} ids in use under {})",
                self.last - self.first + 1,
                self.dir.display()
            ))
        })?;
        let path = self.path(block);
        let holder = Holder {
            pod: pod.to_owned(),
            owner,
        };
        fs::write(&path, holder.render()).map_err(|e| Error::io(&path, e))?;
        Ok(Self::map_of(block))
    }

    /// The lowest block that is free, or whose holder `reusable` says
    /// may go.
    fn lowest_free(
        &self,
        taken: &[(u32, Option<Holder>)],
        reusable: impl Fn(&Holder) -> bool,
    ) -> Option<u32> {
        (self.first..=self.last).find(|block| {
            match taken.binary_search_by_key(block, |(b, _)| *b) {
                Err(_) => true,
                Ok(i) => taken[i].1.as_ref().is_none_or(&reusable),
            }
        })
    }

    /// Frees the block of `pod`; nothing happens when it holds none.
    pub(crate) fn release(&self, pod: &str) -> Result<()> {
        if !self.dir.exists() {
            return Ok(());
        }
        let _lock = self.lock()?;
        for (block, holder) in self.taken()? {
            if holder.is_some_and(|h| h.pod == pod) {
                let path = self.path(block);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&path, e)),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(first: u32, last: u32) -> (IdBlocks, peapod_testkit::TempDir) {
        let tmp = peapod_testkit::TempDir::new("userns-ids");
        (
            IdBlocks::with_range(tmp.path().join("userns"), first, last),
            tmp,
        )
    }

    fn me() -> ProcessRecord {
        ProcessRecord::of(i32::try_from(std::process::id()).expect("pid")).expect("alive")
    }

    /// A process that has exited: pid 1's start time plus one can never
    /// match a live process with that pid.
    fn dead() -> ProcessRecord {
        let init = ProcessRecord::of(1).expect("pid 1");
        ProcessRecord {
            pid: 1,
            start_time: init.start_time + 1,
        }
    }

    #[test]
    fn blocks_are_64k_aligned_above_the_host_ids_and_disjoint() {
        let (ids, _tmp) = store(FIRST_BLOCK, LAST_BLOCK);
        let a = ids.allocate("pod-a", me()).expect("a");
        let b = ids.allocate("pod-b", me()).expect("b");
        assert_eq!(
            a,
            IdMap {
                host_base: 65_536,
                count: 65_536
            }
        );
        assert_eq!(
            b,
            IdMap {
                host_base: 131_072,
                count: 65_536
            }
        );
        assert_eq!(ids.allocate("pod-a", me()).expect("again"), a);
    }

    #[test]
    fn released_block_is_handed_out_again() {
        let (ids, _tmp) = store(FIRST_BLOCK, LAST_BLOCK);
        let a = ids.allocate("pod-a", me()).expect("a");
        ids.allocate("pod-b", me()).expect("b");
        ids.release("pod-a").expect("release");
        ids.release("pod-a").expect("idempotent");
        assert_eq!(ids.allocate("pod-c", me()).expect("c"), a);
    }

    #[test]
    fn full_range_takes_back_only_blocks_of_dead_owners() {
        let (ids, _tmp) = store(1, 2);
        ids.allocate("live", me()).expect("live");
        let gone = ids.allocate("gone", dead()).expect("gone");
        assert_eq!(ids.allocate("new", me()).expect("reclaimed"), gone);
        let err = ids.allocate("more", me()).expect_err("full").to_string();
        assert!(
            err.contains("pod uid more: no user namespace id block left"),
            "{err}"
        );
    }

    #[test]
    fn holder_round_trips_and_torn_file_frees_its_block() {
        let h = Holder {
            pod: "u-1".into(),
            owner: me(),
        };
        assert_eq!(Holder::parse(&h.render()), Some(h));
        let (ids, _tmp) = store(1, 1);
        fs::create_dir_all(&ids.dir).expect("dir");
        fs::write(ids.path(1), "pod x\nowner").expect("torn");
        assert_eq!(ids.allocate("p", me()).expect("reused").host_base, 65_536);
    }

    #[test]
    fn concurrent_allocations_never_share_a_block() {
        let (ids, _tmp) = store(FIRST_BLOCK, LAST_BLOCK);
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let ids = ids.clone();
                std::thread::spawn(move || ids.allocate(&format!("pod-{i}"), me()).expect("alloc"))
            })
            .collect();
        let mut bases: Vec<u32> = handles
            .into_iter()
            .map(|h| h.join().expect("thread").host_base)
            .collect();
        bases.sort_unstable();
        bases.dedup();
        assert_eq!(bases.len(), 16);
    }
}
