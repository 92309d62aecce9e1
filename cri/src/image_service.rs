//! `runtime.v1.ImageService` on peapod's image store.
//!
//! The store's calls block (file locks, registry downloads), so each runs
//! on tokio's blocking pool: a pull in progress never holds the other RPCs
//! of the current-thread runtime.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use peapod_image::{PullOptions, Reference, Store};
use peapod_runtime::Paths;
use tonic::{Request, Response, Status};

use crate::api::image_service_server::ImageService;
use crate::api::{
    FilesystemIdentifier, FilesystemUsage, Image, ImageFsInfoRequest, ImageFsInfoResponse,
    ImageSpec, ImageStatusRequest, ImageStatusResponse, Int64Value, ListImagesRequest,
    ListImagesResponse, PullImageRequest, PullImageResponse, RemoveImageRequest,
    RemoveImageResponse, UInt64Value,
};
use crate::blocking::blocking;
use crate::error::Result;
use crate::registry_auth::AuthFile;
use crate::server::Options;
use crate::status_code;

/// The image service: the store under `<lib>/images`.
#[derive(Debug, Clone)]
pub(crate) struct Images {
    store: Store,
    paths: Paths,
}

impl Images {
    pub(crate) fn new(options: &Options) -> Result<Self> {
        Ok(Self {
            store: Store::open(options.paths.images())?,
            paths: options.paths.clone(),
        })
    }

    /// Runs `call` on a clone of the service, on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(Images) -> Result<T, Status> + Send + 'static,
    ) -> Result<T, Status> {
        let images = self.clone();
        blocking(move || call(images)).await
    }

    /// Where a pull's auth files live: `<run>/cri`.
    fn auth_dir(&self) -> PathBuf {
        self.paths.run.join("cri")
    }

    /// The CRI record of the image `name_or_id`, `None` when the store has
    /// no such image.
    fn record(&self, name_or_id: &str) -> Result<Option<Image>, Status> {
        match self.store.inspect(name_or_id) {
            Ok(details) => Ok(Some(cri_image(&details))),
            Err(peapod_image::Error::UnknownImage { .. }) => Ok(None),
            Err(e) => Err(status_code::of_image(&e)),
        }
    }

    fn pull(&self, request: &PullImageRequest) -> Result<String, Status> {
        let name = spec_image(request.image.as_ref())?;
        let reference = Reference::parse(name).map_err(|e| status_code::of_image(&e))?;
        let auth = AuthFile::write(
            &self.auth_dir(),
            reference.registry(),
            request.auth.as_ref(),
        )?;
        let options = PullOptions {
            insecure: false,
            auth_file: auth.as_ref().map(|a| a.path().to_path_buf()),
            registries_conf: Some(self.paths.registries_conf()),
        };
        let image = self
            .store
            .pull(&reference, &options, &mut |_| {})
            .map_err(|e| status_code::of_image(&e))?;
        Ok(image.id.to_string())
    }

    fn remove(&self, name: &str) -> Result<(), Status> {
        let image = match self.store.image(name) {
            Ok(image) => image,
            // RemoveImage is idempotent: an image already gone is removed.
            Err(peapod_image::Error::UnknownImage { .. }) => return Ok(()),
            Err(e) => return Err(status_code::of_image(&e)),
        };
        let users = peapod_runtime::pod::image_use::in_use(&self.paths, &self.store)
            .map_err(|e| status_code::of_runtime(&e))?;
        if let Some(user) = peapod_runtime::pod::image_use::user_of(&users, &image.id) {
            return Err(Status::failed_precondition(format!(
                "image {name} ({}) is in use by {user}",
                image.id
            )));
        }
        let id = image.id.to_string();
        // By ID: the image goes with every name it has, as the CRI asks.
        match self.store.remove(&id) {
            Ok(_) | Err(peapod_image::Error::UnknownImage { .. }) => Ok(()),
            Err(e) => Err(status_code::of_image(&e)),
        }
    }

    fn fs_info(&self) -> Result<FilesystemUsage, Status> {
        let dir = self.store.dir();
        let usage = peapod_volumes::usage(dir)
            .map_err(|e| Status::internal(format!("{}: {e}", dir.display())))?;
        Ok(FilesystemUsage {
            timestamp: now_nanos(),
            fs_id: Some(FilesystemIdentifier {
                mountpoint: dir.display().to_string(),
            }),
            used_bytes: Some(UInt64Value { value: usage.bytes }),
            inodes_used: Some(UInt64Value {
                value: usage.inodes,
            }),
        })
    }
}

/// The image an `ImageSpec` names; an empty one is refused.
fn spec_image(spec: Option<&ImageSpec>) -> Result<&str, Status> {
    spec.map(|s| s.image.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Status::invalid_argument("image: no image given"))
}

fn cri_image(details: &peapod_image::ImageDetails) -> Image {
    let id = details.id.to_string();
    let repo_digests = details
        .manifest_digest
        .iter()
        .flat_map(|digest| {
            details
                .repo_tags
                .iter()
                .filter_map(|tag| Reference::parse(tag).ok())
                .map(move |r| format!("{}@{digest}", r.name()))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let user = details.config.config.user.as_deref().unwrap_or_default();
    // As the CRI asks: a numeric user is the uid, anything else a name.
    let user = user.split(':').next().unwrap_or_default();
    let (uid, username) = match user.parse::<i64>() {
        Ok(uid) => (Some(Int64Value { value: uid }), String::new()),
        Err(_) => (None, user.to_string()),
    };
    Image {
        spec: Some(ImageSpec {
            image: id.clone(),
            ..ImageSpec::default()
        }),
        id,
        repo_tags: details.repo_tags.clone(),
        repo_digests,
        size: details.size,
        uid,
        username,
        pinned: false,
    }
}

/// Nanoseconds since the epoch, now (the CRI's timestamps).
pub(crate) fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[tonic::async_trait]
impl ImageService for Images {
    async fn list_images(
        &self,
        request: Request<ListImagesRequest>,
    ) -> Result<Response<ListImagesResponse>, Status> {
        let filter = request
            .into_inner()
            .filter
            .and_then(|f| f.image)
            .map(|s| s.image)
            .filter(|s| !s.is_empty());
        let images = self
            .run(move |images| {
                if let Some(name) = filter {
                    return Ok(images.record(&name)?.into_iter().collect());
                }
                let mut out = Vec::new();
                for summary in images.store.list().map_err(|e| status_code::of_image(&e))? {
                    out.extend(images.record(&summary.id.to_string())?);
                }
                Ok(out)
            })
            .await?;
        Ok(Response::new(ListImagesResponse { images }))
    }

    async fn image_status(
        &self,
        request: Request<ImageStatusRequest>,
    ) -> Result<Response<ImageStatusResponse>, Status> {
        let request = request.into_inner();
        let name = spec_image(request.image.as_ref())?.to_string();
        let verbose = request.verbose;
        let (image, info) = self
            .run(move |images| {
                let image = images.record(&name)?;
                let mut info = std::collections::HashMap::new();
                if verbose
                    && image.is_some()
                    && let Ok(details) = images.store.inspect(&name)
                {
                    info.insert(
                        "info".to_string(),
                        serde_json::to_string(&details).unwrap_or_default(),
                    );
                }
                Ok((image, info))
            })
            .await?;
        // An image the store lacks is no error: `image` is unset.
        Ok(Response::new(ImageStatusResponse { image, info }))
    }

    async fn pull_image(
        &self,
        request: Request<PullImageRequest>,
    ) -> Result<Response<PullImageResponse>, Status> {
        let request = request.into_inner();
        let image_ref = self.run(move |images| images.pull(&request)).await?;
        Ok(Response::new(PullImageResponse { image_ref }))
    }

    async fn remove_image(
        &self,
        request: Request<RemoveImageRequest>,
    ) -> Result<Response<RemoveImageResponse>, Status> {
        let name = spec_image(request.get_ref().image.as_ref())?.to_string();
        self.run(move |images| images.remove(&name)).await?;
        Ok(Response::new(RemoveImageResponse {}))
    }

    async fn image_fs_info(
        &self,
        _request: Request<ImageFsInfoRequest>,
    ) -> Result<Response<ImageFsInfoResponse>, Status> {
        let usage = self.run(move |images| images.fs_info()).await?;
        Ok(Response::new(ImageFsInfoResponse {
            image_filesystems: vec![usage],
            container_filesystems: Vec::new(),
        }))
    }
}
