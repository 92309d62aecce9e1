//! hostPath volumes: the `type` checks and creations kubelet makes
//! (`pkg/volume/hostpath/host_path.go`, `checkType`).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::Path;

use peapod_spec::HostPathType;

use crate::error::{Error, Result};

/// What a path is, in the words of kubelet's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Directory,
    File,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl Found {
    fn of(meta: &fs::Metadata) -> Self {
        let t = meta.file_type();
        if t.is_dir() {
            Self::Directory
        } else if t.is_file() {
            Self::File
        } else if t.is_socket() {
            Self::Socket
        } else if t.is_char_device() {
            Self::CharDevice
        } else if t.is_block_device() {
            Self::BlockDevice
        } else {
            Self::Other
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::File => "file",
            Self::Socket => "socket",
            Self::CharDevice => "character device",
            Self::BlockDevice => "block device",
            Self::Other => "fifo or other special file",
        }
    }
}

/// Checks (and for the `...OrCreate` types, makes) the host path of a
/// hostPath volume. Symlinks are followed, as kubelet's `stat` does.
///
/// - `""`: no check; like containerd and docker, a missing path is made a
///   directory (0755) so the bind mount has a source.
/// - `DirectoryOrCreate`: made with its parents, mode 0755.
/// - `FileOrCreate`: an empty file, mode 0644; its parent must exist (kubelet's
///   `makeFile` does not make parents).
/// - the others: must exist and be of that type.
pub(crate) fn prepare(volume: &str, path: &Path, kind: HostPathType) -> Result<()> {
    let io_err = |source: io::Error| Error::HostPathIo {
        volume: volume.to_owned(),
        path: path.to_owned(),
        source,
    };
    if !path.is_absolute() {
        return Err(Error::HostPathType {
            volume: volume.to_owned(),
            path: path.to_owned(),
            problem: "is not an absolute path".to_owned(),
        });
    }
    let expected = match kind {
        HostPathType::Unset => {
            if !exists(path).map_err(io_err)? {
                make_dir(path).map_err(io_err)?;
            }
            return Ok(());
        }
        HostPathType::DirectoryOrCreate => {
            if !exists(path).map_err(io_err)? {
                make_dir(path).map_err(io_err)?;
            }
            Found::Directory
        }
        HostPathType::Directory => Found::Directory,
        HostPathType::FileOrCreate => {
            if !exists(path).map_err(io_err)? {
                make_file(path).map_err(io_err)?;
            }
            Found::File
        }
        HostPathType::File => Found::File,
        HostPathType::Socket => Found::Socket,
        HostPathType::CharDevice => Found::CharDevice,
        HostPathType::BlockDevice => Found::BlockDevice,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::HostPathType {
                volume: volume.to_owned(),
                path: path.to_owned(),
                problem: "does not exist".to_owned(),
            });
        }
        Err(e) => return Err(io_err(e)),
    };
    let found = Found::of(&meta);
    if found == expected {
        return Ok(());
    }
    Err(Error::HostPathType {
        volume: volume.to_owned(),
        path: path.to_owned(),
        problem: format!(
            "is not a {}, it is a {}",
            expected.describe(),
            found.describe()
        ),
    })
}

/// Whether something is at `path`, following symlinks (a dangling link
/// counts as nothing, as in kubelet).
fn exists(path: &Path) -> io::Result<bool> {
    match fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn make_dir(path: &Path) -> io::Result<()> {
    match DirBuilder::new().recursive(true).mode(0o755).create(path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Creates an empty file; not its parent folders (kubelet's `makeFile`).
fn make_file(path: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
    {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_testkit::TempDir;
    use std::os::unix::fs::PermissionsExt;

    fn problem(r: Result<()>) -> String {
        r.expect_err("should fail").to_string()
    }

    #[test]
    fn directory_or_create_makes_parents_with_mode_0755() {
        let t = TempDir::new("hp-doc");
        let p = t.path().join("a/b");
        prepare("data", &p, HostPathType::DirectoryOrCreate).expect("create");
        assert!(p.is_dir());
        let mode = fs::metadata(&p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode & !0o022, 0o755 & !0o022);
    }

    #[test]
    fn file_or_create_makes_the_file_but_not_its_parent() {
        let t = TempDir::new("hp-foc");
        let f = t.path().join("f");
        prepare("data", &f, HostPathType::FileOrCreate).expect("create");
        assert!(f.is_file());
        let deep = t.path().join("missing/f");
        let msg = problem(prepare("data", &deep, HostPathType::FileOrCreate));
        assert!(msg.starts_with("volume \"data\": hostPath \""), "{msg}");
        assert!(!deep.parent().expect("parent").exists());
    }

    #[test]
    fn directory_on_a_file_names_volume_path_and_both_types() {
        let t = TempDir::new("hp-dir");
        let f = t.path().join("x");
        fs::write(&f, "").expect("write");
        let msg = problem(prepare("data", &f, HostPathType::Directory));
        assert_eq!(
            msg,
            format!("volume \"data\": hostPath {f:?} is not a directory, it is a file")
        );
    }

    #[test]
    fn missing_path_for_a_checking_type_does_not_exist() {
        let t = TempDir::new("hp-missing");
        let p = t.path().join("nope");
        for kind in [
            HostPathType::Directory,
            HostPathType::File,
            HostPathType::Socket,
            HostPathType::CharDevice,
            HostPathType::BlockDevice,
        ] {
            let msg = problem(prepare("v", &p, kind));
            assert!(msg.ends_with("does not exist"), "{kind:?}: {msg}");
        }
        assert!(!p.exists(), "checking types never create");
    }

    #[test]
    fn char_device_accepts_dev_null_and_block_device_refuses_it() {
        prepare("v", Path::new("/dev/null"), HostPathType::CharDevice).expect("char");
        let msg = problem(prepare(
            "v",
            Path::new("/dev/null"),
            HostPathType::BlockDevice,
        ));
        assert!(msg.ends_with("is not a block device, it is a character device"));
    }

    #[test]
    fn unset_type_checks_nothing_and_makes_a_missing_folder() {
        let t = TempDir::new("hp-unset");
        prepare("v", Path::new("/dev/null"), HostPathType::Unset).expect("no check");
        let p = t.path().join("new");
        prepare("v", &p, HostPathType::Unset).expect("made");
        assert!(p.is_dir());
    }

    #[test]
    fn relative_host_path_is_refused() {
        let msg = problem(prepare("v", Path::new("rel"), HostPathType::Unset));
        assert_eq!(
            msg,
            "volume \"v\": hostPath \"rel\" is not an absolute path"
        );
    }
}
