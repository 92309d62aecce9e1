//! The pod's QoS class, computed as the kubelet does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::container::Container;
use crate::pod::PodSpec;
use crate::quantity::Quantity;

/// Quality of service class of a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QOSClass {
    /// Every container has equal cpu and memory requests and limits.
    Guaranteed,
    /// Some requests or limits, not Guaranteed.
    Burstable,
    /// No requests or limits at all.
    BestEffort,
}

/// The resources QoS looks at.
const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

impl PodSpec {
    /// The pod's QoS class (Kubernetes' `GetPodQOS`): init and app
    /// containers, cpu and memory, zero quantities not counted. A request
    /// not given counts as equal to its limit, as the API server defaults it.
    pub fn qos_class(&self) -> QOSClass {
        let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
        let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
        let mut guaranteed = true;
        for container in self.init_containers.iter().chain(&self.containers) {
            let (container_requests, container_limits) = qos_lists(container);
            for (name, milli) in &container_requests {
                *requests.entry(name).or_default() += milli;
            }
            for (name, milli) in &container_limits {
                *limits.entry(name).or_default() += milli;
            }
            if QOS_RESOURCES
                .iter()
                .any(|r| !container_limits.contains_key(r))
            {
                guaranteed = false;
            }
        }
        if requests.is_empty() && limits.is_empty() {
            QOSClass::BestEffort
        } else if guaranteed && requests == limits {
            QOSClass::Guaranteed
        } else {
            QOSClass::Burstable
        }
    }
}

/// A container's non-zero cpu/memory requests (defaulted from limits) and limits.
fn qos_lists(
    container: &Container,
) -> (BTreeMap<&'static str, i128>, BTreeMap<&'static str, i128>) {
    let empty = BTreeMap::new();
    let (given_requests, given_limits) = container
        .resources
        .as_ref()
        .map_or((&empty, &empty), |r| (&r.requests, &r.limits));
    let pick = |list: &BTreeMap<String, Quantity>, name: &str| {
        list.get(name)
            .map(Quantity::milli_value)
            .filter(|&m| m != 0)
    };
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    for name in QOS_RESOURCES {
        let limit = pick(given_limits, name);
        if let Some(milli) = limit {
            limits.insert(name, milli);
        }
        let request = if given_requests.contains_key(name) {
            pick(given_requests, name)
        } else {
            limit
        };
        if let Some(milli) = request {
            requests.insert(name, milli);
        }
    }
    (requests, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ResourceRequirements;

    fn container(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
        let list = |items: &[(&str, &str)]| {
            items
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Quantity::parse(v).unwrap()))
                .collect()
        };
        Container {
            resources: Some(ResourceRequirements {
                requests: list(requests),
                limits: list(limits),
            }),
            ..Container::default()
        }
    }

    fn spec(containers: Vec<Container>) -> PodSpec {
        PodSpec {
            containers,
            ..PodSpec::default()
        }
    }

    #[test]
    fn qos_is_best_effort_without_resources() {
        assert_eq!(
            spec(vec![Container::default()]).qos_class(),
            QOSClass::BestEffort
        );
    }

    #[test]
    fn qos_is_guaranteed_when_limits_only_cover_cpu_and_memory() {
        let c = container(&[], &[("cpu", "500m"), ("memory", "128Mi")]);
        assert_eq!(spec(vec![c.clone(), c]).qos_class(), QOSClass::Guaranteed);
    }

    #[test]
    fn qos_is_burstable_when_requests_differ_or_limits_miss() {
        let c = container(&[("cpu", "100m")], &[("cpu", "500m"), ("memory", "128Mi")]);
        assert_eq!(spec(vec![c]).qos_class(), QOSClass::Burstable);
        let c = container(&[], &[("memory", "128Mi")]);
        assert_eq!(spec(vec![c]).qos_class(), QOSClass::Burstable);
        let c = container(&[("cpu", "100m")], &[]);
        assert_eq!(spec(vec![c]).qos_class(), QOSClass::Burstable);
    }
}
