//! Writing documents back out as YAML or JSON-compatible YAML, for
//! `get -o yaml` and state files.

use serde::Serialize;

use crate::Error;

/// The YAML of a pod, ConfigMap, Secret or status; it parses back into the
/// same value.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_saphyr::to_string(value).map_err(|err| Error::Serialize(err.to_string()))
}
