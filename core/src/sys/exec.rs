//! `execve(2)` and `execveat(2)` with argument vectors prepared by the
//! parent, so the child only passes pointers.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

/// A NULL-terminated array of C strings for `argv` or `envp`, built in the
/// parent; the pointers stay valid as long as the vector lives.
pub(crate) struct CStrVec {
    strings: Vec<CString>,
    pointers: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into `strings`, owned by the same value and
// never mutated, so sending the whole value keeps them valid.
unsafe impl Send for CStrVec {}

impl CStrVec {
    /// Builds the array; `None` when a string holds a NUL byte.
    pub(crate) fn new<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Option<Self> {
        let strings = items
            .into_iter()
            .map(|s| CString::new(s.as_ref()).ok())
            .collect::<Option<Vec<_>>>()?;
        let pointers = strings
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect();
        Some(Self { strings, pointers })
    }

    /// The first string, if any.
    pub(crate) fn first(&self) -> Option<&CStr> {
        self.strings.first().map(CString::as_c_str)
    }

    fn as_ptr(&self) -> *const *const libc::c_char {
        self.pointers.as_ptr()
    }
}

/// `execve(path, argv, envp)`; returns only on failure, with the errno.
/// Allocation-free.
pub(crate) fn execve(path: &CStr, argv: &CStrVec, envp: &CStrVec) -> i32 {
    // SAFETY: all three pointers are NUL-terminated C strings / NULL-ended
    // arrays of them that outlive the call (owned by the caller).
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    errno()
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: runs the file `fd` was
/// opened on (`/proc/self/exe` for the pause). Returns the errno.
pub(crate) fn execveat_fd(fd: BorrowedFd<'_>, argv: &CStrVec, envp: &CStrVec) -> i32 {
    // SAFETY: as in `execve`; the empty path is a static C string and `fd`
    // is open for the duration of the call.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    errno()
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstr_vec_is_null_terminated() {
        let v = CStrVec::new(["a", "bc"]).expect("no NUL");
        assert_eq!(v.pointers.len(), 3);
        assert!(v.pointers[2].is_null());
        assert_eq!(v.first(), Some(c"a"));
        assert!(CStrVec::new(["a\0b"]).is_none());
    }
}
