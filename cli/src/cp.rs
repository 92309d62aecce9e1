//! `peapod cp POD:PATH LOCAL` and `peapod cp LOCAL POD:PATH`: files and
//! folders in and out of a container, as kubectl copies them: a tar
//! stream through exec, the container's own `tar` on its side (busybox's
//! does), the archive made or unpacked here. Modes and symlinks are kept;
//! an entry that would land outside the destination, or be written
//! through a symlink, is refused.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use peapod_runtime::Paths;
use peapod_runtime::PodKey;
use peapod_runtime::pod::exec::{self, ExecRequest, Streams};

/// Copy files and folders to and from a container.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # A folder of the container to here\n  peapod cp mypod:/var/log ./logs\n\n  \
    # A file of here into container c, into its /tmp folder\n  peapod cp ./app.conf mypod:/tmp -c c\n\n  \
    # Another namespace\n  peapod cp web/mypod:/etc/hosts ./hosts")]
pub struct CpArgs {
    /// `[NAMESPACE/]POD:PATH` or a local path.
    #[arg(value_name = "SRC")]
    src: String,
    /// `[NAMESPACE/]POD:PATH` or a local path.
    #[arg(value_name = "DEST")]
    dest: String,
    /// The container; the pod's default one when not given.
    #[arg(short = 'c', long, value_name = "CONTAINER")]
    container: Option<String>,
    /// The namespace (when the pod argument names none).
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
}

/// A path in a pod's container.
struct Remote {
    key: PodKey,
    path: String,
}

/// Runs `cp`.
pub fn run(args: &CpArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    match (
        remote(&args.src, &args.namespace),
        remote(&args.dest, &args.namespace),
    ) {
        (Some(from), None) => {
            let container =
                crate::default_container::container(paths, &from.key, args.container.as_deref())?;
            from_pod(paths, &from, &container, Path::new(&args.dest))?;
        }
        (None, Some(to)) => {
            let container =
                crate::default_container::container(paths, &to.key, args.container.as_deref())?;
            to_pod(paths, Path::new(&args.src), &to, &container)?;
        }
        (Some(_), Some(_)) => bail!("one of src or dest must be a local file specification"),
        (None, None) => bail!("one of src or dest must be a remote file specification (POD:PATH)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `[NAMESPACE/]POD:PATH`, as kubectl reads it: a colon, and before it a
/// name (a local path with a colon starts with `.` or `/`).
fn remote(arg: &str, namespace: &str) -> Option<Remote> {
    if arg.starts_with(['.', '/']) {
        return None;
    }
    let (pod, path) = arg.split_once(':')?;
    let (ns, name) = pod.split_once('/').unwrap_or((namespace, pod));
    (!name.is_empty() && !ns.is_empty()).then(|| Remote {
        key: PodKey::new(ns, name),
        path: path.to_owned(),
    })
}

/// Runs `argv` in the container with `streams`; an exit code other than 0
/// is kubectl's error.
fn exec_in(
    paths: &Paths,
    at: &Remote,
    container: &str,
    argv: &[&str],
    streams: Streams,
) -> anyhow::Result<i32> {
    let request = ExecRequest {
        container: Some(container.to_owned()),
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        stdin: false,
        tty: false,
    };
    Ok(exec::exec_with(paths, &at.key, &request, streams)?)
}

/// The folder and the last name of a container's path (`/` is `/` and
/// `.`).
fn split_remote(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        _ if trimmed.is_empty() => ("/".into(), ".".into()),
        Some(("", base)) => ("/".into(), base.into()),
        Some((dir, base)) => (dir.into(), base.into()),
        None => (".".into(), trimmed.into()),
    }
}

/// The container's `tar cf - -C DIR BASE`, unpacked here: `BASE` becomes
/// `dest` (or goes into it, when `dest` is a folder and `BASE` a file).
fn from_pod(paths: &Paths, from: &Remote, container: &str, dest: &Path) -> anyhow::Result<()> {
    if from.path.starts_with('/') {
        eprintln!("tar: removing leading '/' from member names");
    }
    let (dir, base) = split_remote(&from.path);
    let (reader, writer) = std::io::pipe().context("pipe")?;
    let dest_owned = dest.to_path_buf();
    let unpacker = std::thread::spawn(move || unpack(reader, &base, &dest_owned));
    let code = exec_in(
        paths,
        from,
        container,
        &["tar", "cf", "-", "-C", &dir, &split_remote(&from.path).1],
        Streams {
            stdin: None,
            stdout: Some(writer.into()),
        },
    );
    let unpacked = unpacker
        .join()
        .map_err(|_| anyhow::anyhow!("cp: the unpacking thread panicked"))?;
    match (code?, unpacked) {
        (0, unpacked) => unpacked,
        // The container's tar died of SIGPIPE because the unpacking here
        // stopped reading at a refused entry: that refusal is the error.
        (141, Err(refused)) => Err(refused),
        (n, _) => bail!("command terminated with exit code {n}"),
    }
}

/// Unpacks the archive of `input`, its `base/...` entries to `dest/...`.
fn unpack(input: impl Read, base: &str, dest: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(input);
    let mut root = dest.to_path_buf();
    let mut first = true;
    for entry in archive.entries().context("reading the container's tar")? {
        let mut entry = entry.context("reading the container's tar")?;
        let name = entry.path().context("an entry's name")?.into_owned();
        let rel = relative(&name, base)?;
        if first {
            first = false;
            // A file into an existing folder goes in it, by its name.
            if rel.as_os_str().is_empty() && !entry.header().entry_type().is_dir() && dest.is_dir()
            {
                root = dest.join(base);
            }
        }
        let target = if rel.as_os_str().is_empty() {
            root.clone()
        } else {
            root.join(&rel)
        };
        refuse_symlinked_parents(&root, &rel)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
        }
        if entry.header().entry_type().is_hard_link() {
            hard_link(&entry, &name, base, &root, &target)?;
            continue;
        }
        entry.set_preserve_permissions(true);
        entry.set_preserve_mtime(true);
        entry
            .unpack(&target)
            .with_context(|| format!("{}", target.display()))?;
    }
    if first {
        bail!("{}: nothing was copied", dest.display());
    }
    Ok(())
}

/// A hard link entry `name` made as `target`, to an entry copied before
/// it. The tar crate would link to its link name as a path of this host
/// (`/etc/shadow` from a container's tar), so the name is taken below
/// `root` as the entries are, and refused when it is not of the copied
/// path.
fn hard_link<R: Read>(
    entry: &tar::Entry<'_, R>,
    name: &Path,
    base: &str,
    root: &Path,
    target: &Path,
) -> anyhow::Result<()> {
    let link = entry
        .link_name()
        .context("a hard link's target")?
        .with_context(|| format!("{}: a hard link without a target", name.display()))?;
    let Ok(rel) = relative(&link, base) else {
        bail!(
            "{}: a hard link to {} outside the copied path, refused",
            name.display(),
            link.display()
        );
    };
    refuse_symlinked_parents(root, &rel)?;
    let source = root.join(&rel);
    std::fs::hard_link(&source, target)
        .with_context(|| format!("{}: hard link to {}", target.display(), source.display()))
}

/// `name` without its first component `base`; an entry that climbs out
/// (`..`, absolute) is refused.
fn relative(name: &Path, base: &str) -> anyhow::Result<PathBuf> {
    let mut parts = name
        .components()
        .filter(|c| !matches!(c, Component::CurDir));
    let first = parts.next();
    let rest: PathBuf = parts.clone().collect();
    let climbs = name.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    });
    let from_base = base == "." || first.is_some_and(|c| c.as_os_str() == base);
    if climbs || !from_base {
        bail!(
            "{}: an entry outside the copied path, refused",
            name.display()
        );
    }
    Ok(if base == "." {
        first
            .map(|c| Path::new(c.as_os_str()).join(&rest))
            .unwrap_or_default()
    } else {
        rest
    })
}

/// Refuses to write `root/rel` when a folder on its way below `root` is a
/// symlink (an entry written through it could land anywhere).
fn refuse_symlinked_parents(root: &Path, rel: &Path) -> anyhow::Result<()> {
    let mut at = root.to_path_buf();
    let parents: Vec<_> = rel.components().collect();
    for part in parents.iter().take(parents.len().saturating_sub(1)) {
        at.push(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!(
                "{}: a symlink on the way of a copied entry, refused",
                at.display()
            );
        }
    }
    Ok(())
}

/// Archives `src` here as the entry named for the destination, and runs
/// `tar -xmf - -C DIR` in the container (kubectl's command). A folder
/// destination that exists receives `src` by its name.
fn to_pod(paths: &Paths, src: &Path, to: &Remote, container: &str) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(src).with_context(|| format!("{}", src.display()))?;
    let src_name = src
        .file_name()
        .map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned());
    let null = || Streams {
        stdin: None,
        stdout: std::fs::File::create("/dev/null").ok().map(Into::into),
    };
    let into_dir = exec_in(paths, to, container, &["test", "-d", &to.path], null())? == 0;
    let path = if into_dir {
        format!("{}/{src_name}", to.path.trim_end_matches('/'))
    } else {
        to.path.clone()
    };
    let (dir, name) = split_remote(&path);
    let (reader, writer) = std::io::pipe().context("pipe")?;
    let src_owned = src.to_path_buf();
    let packer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut builder = tar::Builder::new(writer);
        builder.follow_symlinks(false);
        if meta.is_dir() {
            builder.append_dir_all(&name, &src_owned)?;
        } else {
            builder.append_path_with_name(&src_owned, &name)?;
        }
        builder.finish()
    });
    let code = exec_in(
        paths,
        to,
        container,
        &["tar", "-xmf", "-", "-C", &dir],
        Streams {
            stdin: Some(reader.into()),
            stdout: None,
        },
    )?;
    let packed = packer
        .join()
        .map_err(|_| anyhow::anyhow!("cp: the packing thread panicked"))?;
    if code != 0 {
        bail!("command terminated with exit code {code}");
    }
    packed.with_context(|| format!("archiving {}", src.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_specs_are_told_from_local_paths() {
        let r = remote("web:/tmp/x", "default").expect("remote");
        assert_eq!(
            (
                r.key.namespace.as_str(),
                r.key.name.as_str(),
                r.path.as_str()
            ),
            ("default", "web", "/tmp/x")
        );
        let r = remote("ns1/web:x", "default").expect("remote");
        assert_eq!(
            (r.key.namespace.as_str(), r.key.name.as_str()),
            ("ns1", "web")
        );
        assert!(remote("./a:b", "default").is_none());
        assert!(remote("/tmp/a:b", "default").is_none());
        assert!(remote("plain", "default").is_none());
    }

    #[test]
    fn container_paths_split_into_folder_and_name() {
        assert_eq!(split_remote("/tmp/x"), ("/tmp".into(), "x".into()));
        assert_eq!(split_remote("/tmp/x/"), ("/tmp".into(), "x".into()));
        assert_eq!(split_remote("/x"), ("/".into(), "x".into()));
        assert_eq!(split_remote("/"), ("/".into(), ".".into()));
        assert_eq!(split_remote("x"), (".".into(), "x".into()));
    }

    #[test]
    fn entries_outside_the_copied_path_are_refused() {
        assert_eq!(
            relative(Path::new("x/a/b"), "x").expect("in"),
            Path::new("a/b")
        );
        assert_eq!(relative(Path::new("x"), "x").expect("in"), Path::new(""));
        assert!(relative(Path::new("x/../../etc"), "x").is_err());
        assert!(relative(Path::new("y/a"), "x").is_err());
        assert!(relative(Path::new("/etc/passwd"), "x").is_err());
    }

    #[test]
    fn a_hard_link_is_made_below_the_destination_or_refused() {
        let tmp = std::env::temp_dir().join(format!("peapod-cp-link-{}", std::process::id()));
        let outside = tmp.join("host-file");
        std::fs::create_dir_all(&tmp).expect("dir");
        std::fs::write(&outside, "host\n").expect("file");
        let archive = |link_to: &Path| {
            let mut builder = tar::Builder::new(Vec::new());
            let mut file = tar::Header::new_gnu();
            file.set_size(2);
            file.set_mode(0o644);
            builder
                .append_data(&mut file, "x/a", &b"a\n"[..])
                .expect("file");
            let mut link = tar::Header::new_gnu();
            link.set_entry_type(tar::EntryType::Link);
            link.set_size(0);
            builder
                .append_link(&mut link, "x/b", link_to)
                .expect("link");
            builder.into_inner().expect("archive")
        };
        // A container's tar linking to a file of the host.
        let err = unpack(&archive(&outside)[..], "x", &tmp.join("bad")).expect_err("refused");
        assert!(
            format!("{err:#}").contains("a hard link to")
                && format!("{err:#}").contains("outside the copied path"),
            "{err:#}"
        );
        assert!(!tmp.join("bad/b").exists());
        // A link between two copied entries is made between their copies.
        unpack(&archive(Path::new("x/a"))[..], "x", &tmp.join("good")).expect("copied");
        let ino = |p: &str| {
            std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(tmp.join(p)).expect(p))
        };
        assert_eq!(ino("good/a"), ino("good/b"));
        assert_ne!(ino("good/b"), ino("host-file"));
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn an_entry_written_through_a_copied_symlink_is_refused() {
        let tmp = std::env::temp_dir().join(format!("peapod-cp-unit-{}", std::process::id()));
        let outside = tmp.join("outside");
        std::fs::create_dir_all(&outside).expect("dir");
        let mut builder = tar::Builder::new(Vec::new());
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        builder
            .append_link(&mut link, "x/link", &outside)
            .expect("link");
        let mut file = tar::Header::new_gnu();
        file.set_size(4);
        file.set_mode(0o644);
        builder
            .append_data(&mut file, "x/link/evil", &b"evil"[..])
            .expect("file");
        let archive = builder.into_inner().expect("archive");
        let err = unpack(&archive[..], "x", &tmp.join("dest")).expect_err("refused");
        assert!(
            format!("{err:#}").contains("a symlink on the way"),
            "{err:#}"
        );
        assert!(!outside.join("evil").exists());
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
