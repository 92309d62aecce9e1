//! `debug --custom=FILE`: a partial container spec laid over the debug
//! container once its profile applied, as kubectl lays it with a
//! strategic merge: objects merge field by field, the lists Kubernetes
//! gives a merge key (`env` by `name`, `ports` by `containerPort`,
//! `volumeMounts` by `mountPath`, `volumeDevices` by `devicePath`,
//! `resizePolicy` by `resourceName`) merge item by item, any other value
//! replaces. Its name, command, image, lifecycle and volume devices stay
//! as `debug` made them.

use peapod_spec::Container;
use serde_json::Value;

use crate::error::{Error, Result};

/// The merge key of each list of a container that has one.
const MERGE_KEYS: &[(&str, &str)] = &[
    ("env", "name"),
    ("ports", "containerPort"),
    ("volumeMounts", "mountPath"),
    ("volumeDevices", "devicePath"),
    ("resizePolicy", "resourceName"),
];

/// Lays `custom` (a partial container spec) over `container`.
///
/// # Errors
/// kubectl's, when `custom` sets what it may not; a result that is no
/// container.
pub fn apply(container: &mut Container, custom: &Value) -> Result<()> {
    let Some(fields) = custom.as_object() else {
        return Err(Error::Config(
            "the custom profile is not a container spec (a JSON or YAML object)".to_owned(),
        ));
    };
    let set = |key: &str| {
        fields
            .get(key)
            .is_some_and(|v| !(v.is_null() || v == "" || v.as_array().is_some_and(Vec::is_empty)))
    };
    if ["name", "command", "image", "lifecycle", "volumeDevices"]
        .iter()
        .any(|k| set(k))
    {
        return Err(Error::Config(
            "name, command, image, lifecycle and volume devices are not modifiable via custom profile"
                .to_owned(),
        ));
    }
    let mut merged = serde_json::to_value(&*container).map_err(|e| Error::json("container", e))?;
    merge(&mut merged, custom, None);
    *container = serde_json::from_value(merged)
        .map_err(|e| Error::Config(format!("the custom profile: {e}")))?;
    Ok(())
}

/// Merges `patch` into `base`; `key` is the merge key of the list `base`
/// is an item of, when it is one.
fn merge(base: &mut Value, patch: &Value, key: Option<&str>) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (field, value) in patch {
                if value.is_null() {
                    base.remove(field);
                    continue;
                }
                let list_key = MERGE_KEYS
                    .iter()
                    .find(|(list, _)| list == field)
                    .map(|(_, k)| *k);
                match base.get_mut(field) {
                    Some(existing) => merge(existing, value, list_key),
                    None => {
                        base.insert(field.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(items), Value::Array(patch)) if key.is_some() => {
            let key = key.unwrap_or_default();
            for item in patch {
                let same = items
                    .iter_mut()
                    .find(|i| i.get(key).is_some() && i.get(key) == item.get(key));
                match same {
                    Some(existing) => merge(existing, item, None),
                    None => items.push(item.clone()),
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peapod_spec::EnvVar;
    use serde_json::json;

    fn debugger() -> Container {
        Container {
            name: "debugger".into(),
            image: "busybox".into(),
            env: vec![
                EnvVar {
                    name: "A".into(),
                    value: Some("1".into()),
                    ..EnvVar::default()
                },
                EnvVar {
                    name: "B".into(),
                    value: Some("2".into()),
                    ..EnvVar::default()
                },
            ],
            args: vec!["old".into()],
            ..Container::default()
        }
    }

    #[test]
    fn lists_with_a_merge_key_merge_by_it_objects_by_field_the_rest_is_replaced() {
        let mut c = debugger();
        let custom = json!({
            "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
            "args": ["new"],
            "workingDir": "/tmp",
            "securityContext": {"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}},
        });
        apply(&mut c, &custom).expect("applied");
        let env: Vec<(String, Option<String>)> = c
            .env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        assert_eq!(
            env,
            [
                ("A".to_owned(), Some("1".to_owned())),
                ("B".to_owned(), Some("two".to_owned())),
                ("C".to_owned(), Some("3".to_owned())),
            ]
        );
        assert_eq!(c.args, ["new"]);
        assert_eq!(c.working_dir.as_deref(), Some("/tmp"));
        let sc = c.security_context.expect("set");
        assert_eq!(sc.run_as_user, Some(0));
        assert_eq!(sc.capabilities.expect("set").add, ["NET_ADMIN"]);
        assert_eq!((c.name.as_str(), c.image.as_str()), ("debugger", "busybox"));
    }

    #[test]
    fn name_command_image_lifecycle_and_devices_are_refused_in_kubectl_words() {
        for custom in [
            json!({"name": "x"}),
            json!({"command": ["sh"]}),
            json!({"image": "alpine"}),
            json!({"lifecycle": {}}),
            json!({"volumeDevices": [{"name": "d", "devicePath": "/dev/x"}]}),
        ] {
            let err = apply(&mut debugger(), &custom).expect_err("refused");
            assert_eq!(
                err.to_string(),
                "name, command, image, lifecycle and volume devices are not modifiable via custom profile"
            );
        }
        assert!(apply(&mut debugger(), &json!(["env"])).is_err());
        assert!(apply(&mut debugger(), &json!({"command": []})).is_ok());
    }
}
