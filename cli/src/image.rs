//! `peapod image …`: the podman/docker image verbs over `peapod-image`'s
//! store. Formatting only; the store does the work.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use peapod_image::{Digest, ImageConfig, Progress, PullOptions, Reference, Store};
use peapod_runtime::pod::image_use;

use crate::tabwriter;

/// Manage images: import, load, pull, ls, rm, inspect, tag, save, prune.
#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// Import a root filesystem (a directory, or a tar: plain, gzip or zstd)
    /// as a one-layer image.
    Import {
        /// The directory or tar.
        rootfs: PathBuf,
        /// The image's name (`busybox:1.30.1`).
        name: String,
        /// A Dockerfile instruction for the config (`CMD ["/bin/sh"]`,
        /// `ENV A=b`, `WORKDIR /w`...); may be repeated.
        #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
        changes: Vec<String>,
    },
    /// Load the images of an OCI layout (folder or tar) or `docker save`
    /// archive.
    Load {
        /// The archive or layout folder.
        #[arg(short = 'i', long = "input", value_name = "ARCHIVE")]
        input: PathBuf,
    },
    /// Pull an image from a registry (linux/amd64), through the mirrors of
    /// `/etc/peapod/registries.conf` (`<root>/etc/` with `--root`).
    Pull {
        /// The reference (`busybox:1.36`, `localhost:5000/x/y@sha256:…`).
        reference: String,
        /// Talk plain HTTP to the registry (and its mirrors).
        #[arg(long)]
        insecure: bool,
        /// Credentials file (`auths` as in `~/.docker/config.json`);
        /// `$REGISTRY_AUTH_FILE` by default.
        #[arg(long, value_name = "FILE")]
        authfile: Option<PathBuf>,
        /// No progress output.
        #[arg(short, long)]
        quiet: bool,
    },
    /// List images.
    #[command(visible_alias = "list")]
    Ls {
        /// Only image IDs.
        #[arg(short, long)]
        quiet: bool,
        /// Full image IDs.
        #[arg(long)]
        no_trunc: bool,
    },
    /// Remove images (by name or ID); layers no image uses are deleted.
    /// An image a pod uses is refused.
    #[command(visible_alias = "remove")]
    Rm {
        /// Names or IDs.
        #[arg(required = true)]
        images: Vec<String>,
        /// Remove the names of an image a pod uses anyway; the image
        /// itself stays, unnamed, until no pod uses it (`image prune`).
        #[arg(short, long)]
        force: bool,
    },
    /// Name an image (by name or ID) also TARGET.
    Tag {
        /// The image's name or ID.
        source: String,
        /// The new name (`registry/repository:tag`).
        target: String,
    },
    /// Write an image to an OCI archive (a tar of an OCI layout, named
    /// inside), which `image load` reads back.
    Save {
        /// The image's name (kept in the archive) or ID.
        image: String,
        /// The archive to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Remove the images no pod uses: unnamed ones, or with `-a` all.
    Prune {
        /// Every image no pod uses, named or not.
        #[arg(short, long)]
        all: bool,
    },
    /// Show an image's config and layers as JSON.
    Inspect {
        /// Names or IDs.
        #[arg(required = true)]
        images: Vec<String>,
    },
}

/// Runs one image verb on the store of `paths`.
pub fn run(cmd: ImageCommand, paths: &peapod_runtime::Paths) -> anyhow::Result<ExitCode> {
    let dir = paths.images();
    let store = Store::open(&dir).with_context(|| format!("image store {}", dir.display()))?;
    let mut out = crate::stdout::stdout();
    match cmd {
        ImageCommand::Import {
            rootfs,
            name,
            changes,
        } => {
            let mut config = ImageConfig::default();
            for c in &changes {
                config.apply_change(c)?;
            }
            let image = store.import(&rootfs, &name, config)?;
            writeln!(out, "{}", image.id)?;
        }
        ImageCommand::Load { input } => {
            for line in store.load(&input)? {
                writeln!(out, "{line}")?;
            }
        }
        ImageCommand::Pull {
            reference,
            insecure,
            authfile,
            quiet,
        } => {
            let parsed = Reference::parse(&reference)?;
            let options = PullOptions {
                insecure,
                auth_file: authfile,
                registries_conf: Some(paths.registries_conf()),
            };
            let mut report = ProgressReport::new(quiet);
            let image = store.pull(&parsed, &options, &mut |p| report.show(&p))?;
            writeln!(out, "{}", image.id)?;
        }
        ImageCommand::Ls { quiet, no_trunc } => {
            let images = store.list()?;
            let id = |d: &Digest| {
                if no_trunc {
                    d.to_string()
                } else {
                    d.short().to_string()
                }
            };
            if quiet {
                for i in &images {
                    writeln!(out, "{}", id(&i.id))?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut rows =
                vec![["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"].map(String::from)];
            for i in &images {
                let created = i
                    .created
                    .as_deref()
                    .map_or_else(String::new, |c| c.get(..16).unwrap_or(c).replace('T', " "));
                let names = if i.references.is_empty() {
                    vec![("<none>".to_string(), "<none>".to_string())]
                } else {
                    i.references.iter().map(|r| split_reference(r)).collect()
                };
                for (repo, tag) in names {
                    rows.push([repo, tag, id(&i.id), created.clone(), human_size(i.size)]);
                }
            }
            write!(out, "{}", tabwriter::table(&rows))?;
        }
        ImageCommand::Rm { images, force } => {
            let users = image_use::in_use(paths, &store)?;
            let user_of = |id: &Digest| image_use::user_of(&users, id);
            let mut failed = false;
            for name in &images {
                match store.remove_unless_used(name, &user_of, force) {
                    Ok(lines) => {
                        for l in lines {
                            writeln!(out, "{l}")?;
                        }
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
        ImageCommand::Tag { source, target } => store.tag(&source, &target)?,
        ImageCommand::Save { image, output } => store.save(&image, &output)?,
        ImageCommand::Prune { all } => {
            let users = image_use::in_use(paths, &store)?;
            for id in store.prune(all, &|id| image_use::user_of(&users, id))? {
                writeln!(out, "{}", id.hex())?;
            }
        }
        ImageCommand::Inspect { images } => {
            let details = images
                .iter()
                .map(|n| store.inspect(n))
                .collect::<Result<Vec<_>, _>>()?;
            serde_json::to_writer_pretty(&mut out, &details)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `docker.io/library/busybox:1.36` → (`docker.io/library/busybox`, `1.36`);
/// a digest reference shows `<none>` as its tag, as docker does.
fn split_reference(r: &str) -> (String, String) {
    if let Some((name, _)) = r.split_once('@') {
        return (name.to_string(), "<none>".to_string());
    }
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => (r[..i].to_string(), r[i + 1..].to_string()),
        _ => (r.to_string(), "<none>".to_string()),
    }
}

/// Sizes as docker prints them: SI units, three significant digits.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    #[allow(clippy::cast_precision_loss)]
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + UNITS[unit]
    }
}

/// Pull progress: one line per layer redrawn in place on a terminal, plain
/// lines otherwise (logs, CI).
struct ProgressReport {
    quiet: bool,
    tty: bool,
    layers: BTreeMap<Digest, (u64, u64)>,
    order: Vec<Digest>,
    drawn: usize,
}

impl ProgressReport {
    fn new(quiet: bool) -> Self {
        Self {
            quiet,
            tty: std::io::stderr().is_terminal(),
            layers: BTreeMap::new(),
            order: Vec::new(),
            drawn: 0,
        }
    }

    fn show(&mut self, p: &Progress) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        match p {
            Progress::Resolved { manifest } => {
                let _ = writeln!(err, "manifest {manifest}");
            }
            Progress::LayerExists { digest } => {
                let _ = writeln!(err, "{}: already exists", digest.short());
            }
            Progress::Layer {
                digest,
                done,
                total,
            } => {
                if !self.layers.contains_key(digest) {
                    self.order.push(digest.clone());
                    if !self.tty {
                        let _ = writeln!(
                            err,
                            "{}: downloading {}",
                            digest.short(),
                            human_size(*total)
                        );
                    }
                }
                self.layers.insert(digest.clone(), (*done, *total));
                if self.tty {
                    self.redraw(&mut err);
                }
            }
            Progress::LayerDone { digest } => {
                if self.tty {
                    self.redraw(&mut err);
                } else {
                    let _ = writeln!(err, "{}: done", digest.short());
                }
            }
        }
    }

    fn redraw(&mut self, err: &mut impl Write) {
        if self.drawn > 0 {
            let _ = write!(err, "\x1b[{}A", self.drawn);
        }
        for d in &self.order {
            let (done, total) = self.layers[d];
            let width = 30u64;
            let filled = (done.min(total) * width)
                .checked_div(total)
                .unwrap_or(width);
            let bar: String = (0..width)
                .map(|i| if i < filled { '=' } else { ' ' })
                .collect();
            let _ = writeln!(
                err,
                "\x1b[2K{}: [{bar}] {}/{}",
                d.short(),
                human_size(done),
                human_size(total)
            );
        }
        self.drawn = self.order.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_234_567), "1.235MB");
        assert_eq!(human_size(2_000_000), "2MB");
    }

    #[test]
    fn references_split_into_repository_and_tag() {
        assert_eq!(
            split_reference("localhost:5000/a/b:1"),
            ("localhost:5000/a/b".to_string(), "1".to_string())
        );
        assert_eq!(split_reference("x/y@sha256:ab").1, "<none>");
    }

    fn table(rows: &[[&str; 5]]) -> String {
        let mut rows: Vec<[String; 5]> = rows.iter().map(|r| r.map(String::from)).collect();
        rows.insert(
            0,
            ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"].map(String::from),
        );
        tabwriter::table(&rows)
    }

    #[test]
    fn image_ls_pads_columns_to_their_widest_cell_plus_three() {
        let got = table(&[
            [
                "docker.io/library/busybox",
                "1.36",
                "0123456789ab",
                "2026-11-24 18:54",
                "4.27MB",
            ],
            [
                "localhost:5000/a/much/longer/repository/name",
                "latest",
                "ba9876543210",
                "",
                "999B",
            ],
            [
                "<none>",
                "<none>",
                "ffffffffffff",
                "2020-01-01 00:00",
                "12.3kB",
            ],
        ]);
        assert_eq!(
            got,
            "REPOSITORY                                     TAG      IMAGE ID       CREATED            SIZE\n\
             docker.io/library/busybox                      1.36     0123456789ab   2026-11-24 18:54   4.27MB\n\
             localhost:5000/a/much/longer/repository/name   latest   ba9876543210                      999B\n\
             <none>                                         <none>   ffffffffffff   2020-01-01 00:00   12.3kB\n"
        );
    }

    #[test]
    fn image_ls_counts_characters_not_bytes() {
        // References are ASCII (the parser refuses others); the table
        // still pads by characters, as docker's tabwriter does.
        assert_eq!(
            table(&[["dépôt", "été", "0123456789ab", "", "1B"]]),
            "REPOSITORY   TAG   IMAGE ID       CREATED   SIZE\n\
             dépôt        été   0123456789ab             1B\n"
        );
    }
}
