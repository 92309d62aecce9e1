//! peapod's errors as gRPC statuses: the code a CRI client acts on, and
//! peapod's message.

use tonic::{Code, Status};

/// The status for an error of the image store.
pub(crate) fn of_image(e: &peapod_image::Error) -> Status {
    use peapod_image::Error as E;
    let code = match e {
        E::InvalidReference { .. } | E::InvalidChange { .. } => Code::InvalidArgument,
        E::UnknownImage { .. } | E::NotPresentNever { .. } => Code::NotFound,
        E::Registry { .. } | E::Http { .. } => Code::Unavailable,
        _ => Code::Internal,
    };
    Status::new(code, e.to_string())
}

/// The status for an error of the runtime.
pub(crate) fn of_runtime(e: &peapod_runtime::Error) -> Status {
    use peapod_runtime::Error as E;
    let code = match e {
        E::NotFound { .. } | E::NoSuchContainer { .. } => Code::NotFound,
        E::AlreadyExists { .. } => Code::AlreadyExists,
        _ => Code::Internal,
    };
    Status::new(code, e.to_string())
}
