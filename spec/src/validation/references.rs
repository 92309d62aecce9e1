//! References to ConfigMaps and Secrets: the object must be in the file
//! (or the context), and so must the key, unless the reference is optional.

use super::{Doc, Validator};

/// Which kind of object a reference names.
#[derive(Clone, Copy)]
pub(super) enum ObjectKind {
    ConfigMap,
    Secret,
}

impl ObjectKind {
    fn name(self) -> &'static str {
        match self {
            ObjectKind::ConfigMap => "ConfigMap",
            ObjectKind::Secret => "Secret",
        }
    }
}

impl Validator<'_, '_> {
    /// Checks that `kind` `name` exists (and has `key`), unless `optional`.
    /// `path` is the field naming the object; with a key, its parent.
    pub(super) fn reference(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        kind: ObjectKind,
        name: &str,
        key: Option<&str>,
        optional: Option<bool>,
    ) {
        if optional == Some(true) || name.is_empty() || self.references_checked {
            return;
        }
        let objects = match kind {
            ObjectKind::ConfigMap => &self.config_maps,
            ObjectKind::Secret => &self.secrets,
        };
        let name_path = if key.is_some() {
            format!("{path}.name")
        } else {
            path.to_owned()
        };
        let message = match (objects.get(name), key) {
            (None, _) => format!(
                "no {} named {name:?} in this file or --config-dir; add it, or set optional: true",
                kind.name()
            ),
            (Some(keys), Some(key)) if !keys.contains(key) => {
                let hint = crate::diagnostics::did_you_mean(key, keys.iter().copied());
                let message = format!("{} {name:?} has no key {key:?}{hint}", kind.name());
                self.error(doc, format_args!("{path}.key"), message);
                return;
            }
            _ => return,
        };
        self.error(doc, &name_path, message);
    }

    /// Checks the keys a volume projects from `kind` `name`.
    pub(super) fn projected_keys<'k>(
        &mut self,
        doc: Doc<'_>,
        path: &str,
        kind: ObjectKind,
        name: &str,
        keys: impl Iterator<Item = (usize, &'k str)>,
        optional: Option<bool>,
    ) {
        for (i, key) in keys {
            self.reference(
                doc,
                &format!("{path}.items[{i}]"),
                kind,
                name,
                Some(key),
                optional,
            );
        }
    }
}
