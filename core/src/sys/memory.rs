//! Giving back the resident pages of the executable that start-up touched
//! and an idle process will not need again: the pause fallback (the large
//! peapod binary re-exec'd as `/pause`) and a supervisor once its pod runs.
//!
//! Only clean pages: a private, read-only file mapping whose `smaps` entry
//! counts no `Anonymous` memory holds nothing but unmodified file pages,
//! which `MADV_DONTNEED` drops and the next access faults in again from
//! the file, identical; being read-only, no thread can modify one in
//! between. Mappings with written (copy-on-write) pages — RELRO after
//! relocation — and writable ones (`.data`, `.bss`) are never touched.

use std::ffi::c_void;

/// A mapping of `/proc/self/smaps` (or `maps`): its range, permissions,
/// backing file and how much of it is anonymous (copy-on-write) memory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    start: usize,
    end: usize,
    perms: String,
    /// `dev inode` of the file, `None` for anonymous mappings.
    file: Option<(String, u64)>,
    /// `Anonymous:` in KiB (`None` in `maps`, which does not say).
    anonymous_kib: Option<u64>,
}

impl Mapping {
    /// Parses a mapping's header line: `start-end perms offset dev inode [path]`.
    fn header(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let perms = fields.next()?.to_owned();
        let _offset = fields.next()?;
        let dev = fields.next()?;
        let inode: u64 = fields.next()?.parse().ok()?;
        Some(Self {
            start: usize::from_str_radix(start, 16).ok()?,
            end: usize::from_str_radix(end, 16).ok()?,
            perms,
            file: (inode != 0).then(|| (dev.to_owned(), inode)),
            anonymous_kib: None,
        })
    }

    fn contains(&self, addr: usize) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// A private, read-only mapping of the file `file` with no
    /// copy-on-write page.
    fn is_clean_private_view_of(&self, file: &(String, u64)) -> bool {
        self.perms.ends_with('p')
            && self.perms.get(1..2) == Some("-")
            && self.file.as_ref() == Some(file)
            && self.anonymous_kib == Some(0)
    }
}

/// Every mapping of an `smaps` text, with its `Anonymous:` figure.
fn parse_smaps(text: &str) -> Vec<Mapping> {
    let mut mappings: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        if let Some(kib) = line.strip_prefix("Anonymous:") {
            if let Some(last) = mappings.last_mut() {
                last.anonymous_kib = kib.trim().trim_end_matches("kB").trim().parse().ok();
            }
        } else if let Some(m) = line
            .split_whitespace()
            .next()
            .filter(|f| f.contains('-') && !f.ends_with(':'))
            .and_then(|_| Mapping::header(line))
        {
            mappings.push(m);
        }
    }
    mappings
}

/// Drops `[start, end)` and marks it random-access, so that later faults
/// read no more ahead from the file. (The kernel still maps the pages
/// already in the page cache up to 64 KiB around a fault, "fault-around":
/// a supervisor's idle loop gets ~300 KiB of code back that way.)
///
/// # Safety
/// The range must be a private file mapping of this process holding no
/// modified page.
unsafe fn drop_clean_pages(m: &Mapping) {
    let (ptr, len) = (m.start as *mut c_void, m.end - m.start);
    // SAFETY: per the contract, unmodified private file pages: the next
    // access faults them in again from the file, identical. MADV_RANDOM
    // only changes read-ahead.
    unsafe {
        let _ = rustix::mm::madvise(ptr, len, rustix::mm::Advice::Random);
        let _ = rustix::mm::madvise(ptr, len, rustix::mm::Advice::LinuxDontNeed);
    }
}

/// Drops the resident pages of the executable's code mapping (the `r-xp`
/// mapping holding `addr`): never written, always clean. For the pause
/// fallback, right after start-up. Best effort.
pub(crate) fn trim_code_pages(addr: usize) {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let code = maps
        .lines()
        .filter_map(Mapping::header)
        .find(|m| m.perms == "r-xp" && m.file.is_some() && m.contains(addr));
    if let Some(code) = code {
        // SAFETY: an r-xp private file mapping is never written.
        unsafe { drop_clean_pages(&code) };
    }
}

/// Gives back the clean resident pages of the running executable: every
/// private, read-only mapping of its file whose `smaps` entry has
/// `Anonymous: 0` (code, read-only data). Call it when
/// the process goes idle (a supervisor once its pod runs): the pages are
/// page cache shared with other processes of the same binary, so this
/// lowers `Rss` and `Pss`, not the private dirty memory. Returns how many
/// bytes were advised away; best effort, any failure leaves the process as
/// it was.
pub fn trim_executable_pages() -> usize {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mappings = parse_smaps(&smaps);
    let here = trim_executable_pages as fn() -> usize as usize;
    let Some(exe) = mappings
        .iter()
        .find(|m| m.contains(here))
        .and_then(|m| m.file.clone())
    else {
        return 0;
    };
    let mut bytes = 0;
    for m in mappings.iter().filter(|m| m.is_clean_private_view_of(&exe)) {
        // SAFETY: a private, read-only mapping of the executable with no
        // anonymous (copy-on-write) page: only unmodified file pages, and
        // no thread can write one (it is read-only) since smaps said so.
        unsafe { drop_clean_pages(m) };
        bytes += m.end - m.start;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
7fa8d22db000-7fa8d2326000 r-xp 00003000 fe:00 5620209 /bin/peapod
Size:                300 kB
Rss:                 120 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me sd
7fa8d2326000-7fa8d2335000 r--p 0004e000 fe:00 5620209 /bin/peapod
Size:                 60 kB
Anonymous:            60 kB
7fa8d2335000-7fa8d2336000 rw-p 0005d000 fe:00 5620209 /bin/peapod
Anonymous:             0 kB
7fa8d2336000-7fa8d2337000 r--p 00000000 fe:00 77 /etc/other
Anonymous:             0 kB
7fa8d22d6000-7fa8d22d8000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
";

    #[test]
    fn only_clean_private_mappings_of_the_executable_are_trimmed() {
        let maps = parse_smaps(SMAPS);
        assert_eq!(maps.len(), 5);
        let exe = maps[0].file.clone().expect("file");
        assert_eq!(exe, ("fe:00".to_owned(), 5_620_209));
        let trimmed: Vec<_> = maps
            .iter()
            .filter(|m| m.is_clean_private_view_of(&exe))
            .map(|m| m.start)
            .collect();
        // The code only: not the written RELRO, not the writable data
        // (even unwritten), not another file, not the vdso.
        assert_eq!(trimmed, [0x7fa8_d22d_b000]);
        assert!(maps[4].file.is_none());
    }
}
