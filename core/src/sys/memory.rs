//! Giving back the pages of the executable's code that start-up touched,
//! so the pause process stays under a few hundred KiB of RSS even as part
//! of the large peapod binary.

use std::ffi::c_void;

/// Drops the resident pages of the executable mapping that holds `addr`
/// (the code segment, `r-xp`) and marks it random-access, so that later
/// faults map single pages instead of the kernel's 64 KiB "fault-around".
/// Only the code segment: it is never written, so its pages come back
/// unchanged from the file. Best effort: any failure leaves the process as
/// it was.
pub(crate) fn trim_code_pages(addr: usize) {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let Some((start, end)) = maps.lines().find_map(|line| code_mapping(line, addr)) else {
        return;
    };
    let (ptr, len) = (start as *mut c_void, end - start);
    // SAFETY: [start, end) is a private, read-only, executable file mapping
    // of this process (checked on its maps line). MADV_RANDOM only changes
    // read-ahead; MADV_DONTNEED on unmodified private file pages makes the
    // next access fault them in again from the file, identical.
    unsafe {
        let _ = rustix::mm::madvise(ptr, len, rustix::mm::Advice::Random);
        let _ = rustix::mm::madvise(ptr, len, rustix::mm::Advice::LinuxDontNeed);
    }
}

/// `(start, end)` of a `/proc/self/maps` line when it is a private
/// `r-xp` file mapping containing `addr`.
fn code_mapping(line: &str, addr: usize) -> Option<(usize, usize)> {
    let mut fields = line.split_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?;
    let inode = fields.nth(2)?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    (perms == "r-xp" && inode != "0" && (start..end).contains(&addr)).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_private_executable_file_mappings_are_trimmed() {
        let text = "7fa8d22db000-7fa8d2326000 r-xp 00003000 fe:00 5620209 /bin/peapod";
        assert_eq!(
            code_mapping(text, 0x7fa8_d22d_c000),
            Some((0x7fa8_d22d_b000, 0x7fa8_d232_6000))
        );
        assert_eq!(code_mapping(text, 0x7fa8_d232_6000), None);
        let relro = "7fa8d2326000-7fa8d2335000 r--p 0004e000 fe:00 5620209 /bin/peapod";
        assert_eq!(code_mapping(relro, 0x7fa8_d232_7000), None);
        let vdso = "7fa8d22d6000-7fa8d22d8000 r-xp 00000000 00:00 0 [vdso]";
        assert_eq!(code_mapping(vdso, 0x7fa8_d22d_6000), None);
    }
}
