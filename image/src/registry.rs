//! Pulling from registries with the OCI distribution API: manifests (OCI and
//! Docker schema 2), indexes and manifest lists resolved to linux/amd64,
//! anonymous bearer tokens (Docker Hub's flow) or basic auth from the auth
//! file, every blob checked against its digest, downloads retried and
//! resumed with `Range`.
//!
//! A layer blob is downloaded to the store's `tmp/` and verified before a
//! byte of it is unpacked: unverified content never reaches the unpacker.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::auth::{self, Challenge, Credentials};
use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};
use crate::oci::{self, ConfigFile, Descriptor, Manifest, ManifestOrIndex};
use crate::reference::Reference;
use crate::registries::{Registries, Source};
use crate::store::{Image, Provenance, Store};

/// Tries of one download before giving up.
const TRIES: u32 = 4;
/// The largest manifest or config accepted.
const MAX_DOCUMENT: u64 = 4 << 20;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
    /// Credentials (`auths` as in `~/.docker/config.json`); by default
    /// `$REGISTRY_AUTH_FILE`, then `~/.docker/config.json`.
    pub auth_file: Option<PathBuf>,
    /// The registries configuration (mirrors, insecure and blocked
    /// registries: [`crate::Registries`]), read when a pull happens; a
    /// missing file configures nothing.
    pub registries_conf: Option<PathBuf>,
}

/// What a pull reports as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The manifest for linux/amd64 was found.
    Resolved {
        /// Its digest.
        manifest: Digest,
    },
    /// A layer is already in the store.
    LayerExists {
        /// The layer blob's digest.
        digest: Digest,
    },
    /// Bytes of a layer blob downloaded so far.
    Layer {
        /// The layer blob's digest.
        digest: Digest,
        /// Bytes received.
        done: u64,
        /// The blob's size.
        total: u64,
    },
    /// A layer is downloaded, verified and unpacked.
    LayerDone {
        /// The layer blob's digest.
        digest: Digest,
    },
}

impl Store {
    /// Pulls `reference` (linux/amd64) into the store and names it so:
    /// from the mirrors the registries configuration gives it, in order,
    /// then from its registry; the first that serves it wins, and when
    /// none does the error is the registry's (or the last mirror's when
    /// the registry could not be reached).
    pub fn pull(
        &self,
        reference: &Reference,
        options: &PullOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Image> {
        let _span = tracing::info_span!("pull", %reference).entered();
        let registries = match &options.registries_conf {
            Some(path) => Registries::read(path)?,
            None => Registries::default(),
        };
        let mut failure = None;
        for source in registries.sources(reference)? {
            let pulled = self.pull_from(&source, reference, options, progress);
            match pulled {
                Ok(image) => return Ok(image),
                Err(e) if source.mirror => {
                    tracing::warn!(mirror = %source.reference, "mirror failed: {e}");
                    failure = Some(e);
                }
                Err(e) => {
                    let unreachable = matches!(e, Error::Http { .. });
                    return Err(match failure {
                        Some(mirror) if unreachable => mirror,
                        _ => e,
                    });
                }
            }
        }
        Err(failure.unwrap_or_else(|| Error::Registry {
            registry: reference.registry().to_string(),
            code: "NO_SOURCE".to_string(),
            message: "the registries configuration gives no source".to_string(),
        }))
    }

    /// Pulls `reference` from `source` (the reference as a mirror or the
    /// registry names it).
    fn pull_from(
        &self,
        source: &Source,
        reference: &Reference,
        options: &PullOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Image> {
        let from = &source.reference;
        let insecure = options.insecure || source.insecure;
        let mut client = Client::new(from, insecure, options.auth_file.clone());
        let (bytes, content_type) = client.manifest(&from.manifest_key())?;
        let digest = Digest::of(&bytes);
        if let Some(want) = reference.digest() {
            digest.verify(want, format!("manifest of {reference}"))?;
        }
        let (manifest_digest, manifest_bytes, manifest) = match ManifestOrIndex::parse(
            &bytes,
            content_type.as_deref(),
            &format!("manifest of {reference}"),
        )? {
            ManifestOrIndex::Manifest(m) => (digest, bytes, m),
            ManifestOrIndex::Index(index) => {
                let desc = index.linux_amd64().ok_or_else(|| {
                    client.error("NO_MATCHING_PLATFORM", "no linux/amd64 image in the index")
                })?;
                client.platform_manifest(desc)?
            }
        };
        progress(Progress::Resolved {
            manifest: manifest_digest.clone(),
        });
        let config = client.document(&manifest.config)?;
        let diff_ids = ConfigFile::parse(&config, "image config")?.rootfs.diff_ids;
        if diff_ids.len() != manifest.layers.len() {
            return Err(client.error(
                "MANIFEST_INVALID",
                "the config's diff_ids and the manifest's layers differ in number",
            ));
        }
        for (desc, diff_id) in manifest.layers.iter().zip(&diff_ids) {
            if self.has_layer(diff_id) {
                progress(Progress::LayerExists {
                    digest: desc.digest.clone(),
                });
            }
        }
        self.add_image(
            &config,
            &mut |i, diff_id| {
                let desc = &manifest.layers[i];
                let scratch = self.temp_dir("blob")?;
                let blob = scratch.path().join("blob");
                client.download(desc, &blob, progress)?;
                let file = File::open(&blob).ctx("open", &blob)?;
                let staged = self.stage_layer(
                    BufReader::with_capacity(256 * 1024, file),
                    Some(diff_id),
                    &format!("layer {}", desc.digest),
                )?;
                progress(Progress::LayerDone {
                    digest: desc.digest.clone(),
                });
                Ok(staged)
            },
            std::slice::from_ref(reference),
            &Provenance {
                manifest: Some((manifest_digest, manifest_bytes)),
            },
        )?;
        self.image(&reference.to_string())
    }
}

/// One registry and repository, with the authorization it has earned.
struct Client {
    agent: ureq::Agent,
    registry: String,
    repository: String,
    base: String,
    auth_file: Option<PathBuf>,
    authorization: Option<String>,
}

impl Client {
    fn new(reference: &Reference, insecure: bool, auth_file: Option<PathBuf>) -> Self {
        let host = match reference.registry() {
            crate::reference::DEFAULT_REGISTRY => "registry-1.docker.io",
            other => other,
        };
        let scheme = if insecure { "http" } else { "https" };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("peapod/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self {
            agent,
            registry: reference.registry().to_string(),
            repository: reference.repository().to_string(),
            base: format!("{scheme}://{host}"),
            auth_file,
            authorization: None,
        }
    }

    fn error(&self, code: &str, message: &str) -> Error {
        Error::Registry {
            registry: self.registry.clone(),
            code: code.to_string(),
            message: message.to_string(),
        }
    }

    /// GET `path` of the registry, authenticating once on a 401. Non-2xx
    /// answers become [`Error::Registry`] with the registry's own code.
    fn get(
        &mut self,
        path: &str,
        accept: Option<&str>,
        from: u64,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}{path}", self.base);
        for attempt in 0..2 {
            let mut req = self.agent.get(&url);
            if let Some(a) = accept {
                req = req.header("Accept", a);
            }
            if let Some(auth) = &self.authorization {
                req = req.header("Authorization", auth);
            }
            if from > 0 {
                req = req.header("Range", format!("bytes={from}-"));
            }
            let resp = req.call().map_err(|e| Error::Http {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            if resp.status() == 401 && attempt == 0 {
                let challenge = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .and_then(auth::parse_challenge);
                if let Some(c) = challenge {
                    self.authenticate(c)?;
                    continue;
                }
            }
            if !resp.status().is_success() {
                return Err(self.answer_error(resp));
            }
            return Ok(resp);
        }
        Err(self.error("UNAUTHORIZED", "authentication failed"))
    }

    fn credentials(&self) -> Result<Option<Credentials>> {
        auth::credentials_for(&self.registry, self.auth_file.as_deref())
    }

    fn authenticate(&mut self, challenge: Challenge) -> Result<()> {
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let credentials = self.credentials()?;
        match challenge {
            Challenge::Basic => {
                let c = credentials.ok_or_else(|| {
                    self.error(
                        "UNAUTHORIZED",
                        "the registry asks for a login and the auth file has none for it",
                    )
                })?;
                self.authorization = Some(c.basic_header());
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let scope = scope.unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                let mut url = format!("{realm}?scope={}", auth::url_encode(&scope));
                if let Some(s) = service {
                    url = format!("{url}&service={}", auth::url_encode(&s));
                }
                let mut req = self.agent.get(&url);
                if let Some(c) = &credentials {
                    req = req.header("Authorization", c.basic_header());
                }
                let resp = req.call().map_err(|e| Error::Http {
                    url: realm.clone(),
                    reason: e.to_string(),
                })?;
                if !resp.status().is_success() {
                    return Err(self.answer_error(resp));
                }
                let body = read_limited(resp, &realm)?;
                let t: Token = serde_json::from_slice(&body).map_err(|source| Error::Json {
                    document: format!("token from {realm}"),
                    source,
                })?;
                let token = t
                    .token
                    .or(t.access_token)
                    .ok_or_else(|| self.error("UNAUTHORIZED", "the token server gave no token"))?;
                self.authorization = Some(format!("Bearer {token}"));
            }
        }
        Ok(())
    }

    /// The registry's error (`{"errors":[{"code":…,"message":…}]}`), or the
    /// HTTP status when it sent none.
    fn answer_error(&self, resp: ureq::http::Response<ureq::Body>) -> Error {
        #[derive(Deserialize)]
        struct Errors {
            errors: Vec<RegistryError>,
        }
        #[derive(Deserialize)]
        struct RegistryError {
            code: String,
            #[serde(default)]
            message: String,
        }
        let status = resp.status();
        let body = read_limited(resp, "error").unwrap_or_default();
        match serde_json::from_slice::<Errors>(&body) {
            Ok(e) if !e.errors.is_empty() => self.error(
                &e.errors[0].code,
                &e.errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => self.error(
                &status.as_u16().to_string(),
                status.canonical_reason().unwrap_or("HTTP error"),
            ),
        }
    }

    /// The manifest or index `key` (tag or digest), with its content type.
    fn manifest(&mut self, key: &str) -> Result<(Vec<u8>, Option<String>)> {
        let accept = [
            oci::OCI_INDEX,
            oci::OCI_MANIFEST,
            oci::DOCKER_LIST,
            oci::DOCKER_MANIFEST,
        ]
        .join(", ");
        let path = format!("/v2/{}/manifests/{key}", self.repository);
        let resp = self.get(&path, Some(&accept), 0)?;
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_string());
        Ok((read_limited(resp, &path)?, content_type))
    }

    /// The image manifest an index entry points to, checked.
    fn platform_manifest(&mut self, desc: &Descriptor) -> Result<(Digest, Vec<u8>, Manifest)> {
        let (bytes, content_type) = self.manifest(&desc.digest.to_string())?;
        Digest::of(&bytes).verify(&desc.digest, "platform manifest")?;
        match ManifestOrIndex::parse(&bytes, content_type.as_deref(), "platform manifest")? {
            ManifestOrIndex::Manifest(m) => Ok((desc.digest.clone(), bytes, m)),
            ManifestOrIndex::Index(_) => {
                Err(self.error("MANIFEST_INVALID", "an index inside an index"))
            }
        }
    }

    /// A small blob (the config), checked.
    fn document(&mut self, desc: &Descriptor) -> Result<Vec<u8>> {
        let path = format!("/v2/{}/blobs/{}", self.repository, desc.digest);
        let bytes = read_limited(self.get(&path, None, 0)?, &path)?;
        Digest::of(&bytes).verify(&desc.digest, format!("blob {}", desc.digest))?;
        Ok(bytes)
    }

    /// Downloads a blob to `dest`, retrying (resuming with `Range` where the
    /// registry allows) and checking its digest.
    fn download(
        &mut self,
        desc: &Descriptor,
        dest: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let path = format!("/v2/{}/blobs/{}", self.repository, desc.digest);
        let mut file = File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(dest)
            .ctx("create", dest)?;
        let mut done = 0u64;
        let mut last = None;
        for attempt in 0..TRIES {
            if attempt > 0 {
                tracing::warn!(blob = %desc.digest, attempt, "retrying download");
                std::thread::sleep(Duration::from_millis(250 << attempt));
            }
            let resp = match self.get(&path, None, done) {
                Ok(r) => r,
                Err(e @ Error::Http { .. }) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if done > 0 && resp.status() != 206 {
                // The registry sent it all again: start over.
                done = 0;
                file.set_len(0).ctx("truncate", dest)?;
            }
            file.seek(SeekFrom::Start(done)).ctx("seek", dest)?;
            let mut body = resp
                .into_body()
                .into_reader()
                .take(desc.size.saturating_sub(done) + 1);
            let mut buf = vec![0u8; 256 * 1024];
            let outcome = loop {
                match body.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        file.write_all(&buf[..n]).ctx("write", dest)?;
                        done += n as u64;
                        progress(Progress::Layer {
                            digest: desc.digest.clone(),
                            done,
                            total: desc.size,
                        });
                    }
                    Err(e) => break Err(e),
                }
            };
            match outcome {
                Ok(()) if done == desc.size => {
                    file.seek(SeekFrom::Start(0)).ctx("seek", dest)?;
                    let (actual, _) = HashingReader::new(&mut file, u64::MAX)
                        .finish()
                        .ctx("read", dest)?;
                    return actual.verify(&desc.digest, format!("blob {}", desc.digest));
                }
                Ok(()) if done > desc.size => {
                    return Err(self.error(
                        "SIZE_INVALID",
                        &format!(
                            "blob {} is larger than its {} bytes",
                            desc.digest, desc.size
                        ),
                    ));
                }
                Ok(()) => {
                    last = Some(Error::Http {
                        url: path.clone(),
                        reason: format!("connection closed after {done} of {} bytes", desc.size),
                    });
                }
                Err(e) => {
                    last = Some(Error::Http {
                        url: path.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Err(last.unwrap_or_else(|| self.error("BLOB_UNKNOWN", "download failed")))
    }
}

fn read_limited(resp: ureq::http::Response<ureq::Body>, what: &str) -> Result<Vec<u8>> {
    resp.into_body()
        .with_config()
        .limit(MAX_DOCUMENT)
        .read_to_vec()
        .map_err(|e| Error::Http {
            url: what.to_string(),
            reason: e.to_string(),
        })
}
