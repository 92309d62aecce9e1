//! Volumes: names, sources, paths and modes, references.

use std::collections::BTreeSet;
use std::fmt;

use super::container::{field_path_ok, resource_field_ok};
use super::references::ObjectKind;
use super::{Doc, Validator, names};
use crate::pod::PodSpec;
use crate::volume::{DownwardAPIVolumeFile, KeyToPath, VolumeSource};

/// Field paths the downward API gives to volume files.
const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels",
    "metadata.annotations",
];

/// What a configMap or secret volume (or projection) says.
#[derive(Clone, Copy)]
struct ObjectSource<'s> {
    kind: ObjectKind,
    /// `name`, or `secretName` in a secret volume.
    name_field: &'static str,
    name: &'s str,
    items: &'s [KeyToPath],
    default_mode: Option<i32>,
    optional: Option<bool>,
}

impl Validator<'_, '_> {
    pub(super) fn volumes(&mut self, doc: Doc<'_>, spec: &PodSpec) {
        let containers: BTreeSet<&str> = spec
            .init_containers
            .iter()
            .chain(&spec.containers)
            .map(|c| c.name.as_str())
            .collect();
        let mut seen = BTreeSet::new();
        for (i, volume) in spec.volumes.iter().enumerate() {
            let path = format!("spec.volumes[{i}]");
            self.syntax(
                doc,
                format_args!("{path}.name"),
                &volume.name,
                names::dns1123_label,
            );
            if !seen.insert(volume.name.as_str()) {
                self.error(
                    doc,
                    format_args!("{path}.name"),
                    format!("duplicate volume name {:?}", volume.name),
                );
            }
            match &volume.source {
                VolumeSource::EmptyDir(source) => {
                    if source
                        .size_limit
                        .as_ref()
                        .is_some_and(crate::Quantity::is_negative)
                    {
                        self.error(
                            doc,
                            format_args!("{path}.emptyDir.sizeLimit"),
                            "must be 0 or more",
                        );
                    }
                    // Enforced: a Memory emptyDir's tmpfs gets the size, a
                    // disk one is measured and evicts (runtime `eviction`).
                }
                VolumeSource::HostPath(source) => {
                    let field = format!("{path}.hostPath.path");
                    if !source.path.starts_with('/') {
                        self.error(
                            doc,
                            &field,
                            format!("invalid value {:?}: expected an absolute path", source.path),
                        );
                    } else if source.path.split('/').any(|part| part == "..") {
                        self.error(
                            doc,
                            &field,
                            format!(
                                "invalid value {:?}: expected a path without '..'",
                                source.path
                            ),
                        );
                    }
                }
                VolumeSource::ConfigMap(source) => {
                    let path = format!("{path}.configMap");
                    self.object_volume(
                        doc,
                        &path,
                        ObjectSource {
                            kind: ObjectKind::ConfigMap,

                            name_field: "name",

                            name: &source.name,

                            items: &source.items,

                            default_mode: source.default_mode,

                            optional: source.optional,
                        },
                    );
                }
                VolumeSource::Secret(source) => {
                    let path = format!("{path}.secret");
                    self.object_volume(
                        doc,
                        &path,
                        ObjectSource {
                            kind: ObjectKind::Secret,

                            name_field: "secretName",

                            name: &source.secret_name,

                            items: &source.items,

                            default_mode: source.default_mode,

                            optional: source.optional,
                        },
                    );
                }
                VolumeSource::DownwardAPI(source) => {
                    let path = format!("{path}.downwardAPI");
                    self.mode(doc, format_args!("{path}.defaultMode"), source.default_mode);
                    self.downward_files(doc, &path, &source.items, &containers);
                }
                VolumeSource::Projected(source) => {
                    let path = format!("{path}.projected");
                    self.mode(doc, format_args!("{path}.defaultMode"), source.default_mode);
                    for (j, projection) in source.sources.iter().enumerate() {
                        let path = format!("{path}.sources[{j}]");
                        if let Some(c) = &projection.config_map {
                            let path = format!("{path}.configMap");
                            self.object_volume(
                                doc,
                                &path,
                                ObjectSource {
                                    kind: ObjectKind::ConfigMap,

                                    name_field: "name",

                                    name: &c.name,

                                    items: &c.items,

                                    default_mode: None,

                                    optional: c.optional,
                                },
                            );
                        }
                        if let Some(s) = &projection.secret {
                            let path = format!("{path}.secret");
                            self.object_volume(
                                doc,
                                &path,
                                ObjectSource {
                                    kind: ObjectKind::Secret,

                                    name_field: "name",

                                    name: &s.name,

                                    items: &s.items,

                                    default_mode: None,

                                    optional: s.optional,
                                },
                            );
                        }
                        if let Some(token) = &projection.service_account_token {
                            let path = format!("{path}.serviceAccountToken");
                            self.syntax(
                                doc,
                                format_args!("{path}.path"),
                                &token.path,
                                names::relative_path,
                            );
                            self.warn(
                                doc,
                                &path,
                                "no API server issues service account tokens on a single host: the file holds a placeholder token",
                            );
                        }
                        if let Some(d) = &projection.downward_api {
                            self.downward_files(
                                doc,
                                &format!("{path}.downwardAPI"),
                                &d.items,
                                &containers,
                            );
                        }
                    }
                }
            }
        }
    }

    /// A configMap or secret volume or projection: its items, and the
    /// object (and keys) it names.
    fn object_volume(&mut self, doc: Doc<'_>, path: &str, source: ObjectSource<'_>) {
        self.key_items(doc, path, source.items, source.default_mode);
        let objects = match source.kind {
            ObjectKind::ConfigMap => &self.config_maps,
            ObjectKind::Secret => &self.secrets,
        };
        if objects.contains_key(source.name) {
            let keys = source
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| (i, item.key.as_str()));
            self.projected_keys(doc, path, source.kind, source.name, keys, source.optional);
        } else {
            let field = format!("{path}.{}", source.name_field);
            self.reference(doc, &field, source.kind, source.name, None, source.optional);
        }
    }

    fn key_items(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        items: &[KeyToPath],
        default_mode: Option<i32>,
    ) {
        self.mode(doc, format_args!("{path}.defaultMode"), default_mode);
        for (i, item) in items.iter().enumerate() {
            let path = format!("{path}.items[{i}]");
            if !item.key.is_empty() {
                self.syntax(
                    doc,
                    format_args!("{path}.key"),
                    &item.key,
                    names::config_key,
                );
            }
            self.syntax(
                doc,
                format_args!("{path}.path"),
                &item.path,
                names::relative_path,
            );
            self.mode(doc, format_args!("{path}.mode"), item.mode);
        }
    }

    fn downward_files(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        items: &[DownwardAPIVolumeFile],
        containers: &BTreeSet<&str>,
    ) {
        for (i, item) in items.iter().enumerate() {
            let path = format!("{path}.items[{i}]");
            self.syntax(
                doc,
                format_args!("{path}.path"),
                &item.path,
                names::relative_path,
            );
            self.mode(doc, format_args!("{path}.mode"), item.mode);
            match (&item.field_ref, &item.resource_field_ref) {
                (Some(field_ref), None) => {
                    if !field_path_ok(&field_ref.field_path, VOLUME_FIELD_PATHS) {
                        let message = format!(
                            "unsupported value {:?}: expected one of {}, metadata.labels['<key>'], metadata.annotations['<key>']",
                            field_ref.field_path,
                            VOLUME_FIELD_PATHS.join(", ")
                        );
                        self.error(doc, format_args!("{path}.fieldRef.fieldPath"), message);
                    }
                }
                (None, Some(resource_ref)) => {
                    if !resource_field_ok(&resource_ref.resource) {
                        let message = format!(
                            "unsupported value {:?}: expected limits.cpu, requests.memory, ...",
                            resource_ref.resource
                        );
                        self.error(
                            doc,
                            format_args!("{path}.resourceFieldRef.resource"),
                            message,
                        );
                    }
                    match resource_ref.container_name.as_deref() {
                        None | Some("") => self.error(
                            doc,
                            format_args!("{path}.resourceFieldRef.containerName"),
                            "required value in a volume",
                        ),
                        Some(name) if !containers.contains(name) => {
                            self.error(
                                doc,
                                format_args!("{path}.resourceFieldRef.containerName"),
                                format!("no container named {name:?}"),
                            );
                        }
                        Some(_) => {}
                    }
                }
                _ => self.error(
                    doc,
                    &path,
                    "must specify exactly one of fieldRef, resourceFieldRef",
                ),
            }
        }
    }

    fn mode(&mut self, doc: Doc<'_>, path: impl fmt::Display, mode: Option<i32>) {
        if let Some(mode) = mode
            && !(0..=0o777).contains(&mode)
        {
            self.error(
                doc,
                path,
                format!("{mode}: must be a file mode from 0000 to 0777 (0 to 511)"),
            );
        }
    }
}
