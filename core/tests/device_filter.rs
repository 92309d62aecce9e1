//! The cgroup v2 device filter on the real kernel: a process in a v2
//! cgroup with peapod's BPF program reads `/dev/null` and `/dev/urandom`
//! but cannot open the kernel log (`c 1:11`), which a process in a cgroup
//! without the program reads. On a hybrid host the program goes on the
//! controller-less `unified` hierarchy, which takes device programs too.
//! Root only.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;

use common::{Cleanup, output, serial};
use peapod_core::{
    CgroupHierarchy, CgroupVersion, ContainerSpawn, DEFAULT_ALLOWED_DEVICES, ProcessSpec,
};
use peapod_testkit::require_root;

const SCRIPT: &str = "cat /dev/null && echo NULL; \
    head -c 4 /dev/urandom > /dev/null && echo URANDOM; \
    dd if=/dev/kmsg of=/dev/null bs=8192 count=1 2>/dev/null && echo KMSG; \
    echo done";

fn v2_hierarchy() -> CgroupHierarchy {
    let detected = CgroupHierarchy::detect().unwrap();
    if detected.version() == CgroupVersion::V2 {
        return detected;
    }
    let unified = Path::new("/sys/fs/cgroup/unified");
    assert!(
        unified.join("cgroup.procs").exists(),
        "no cgroup2 mount on this host to attach a device program to"
    );
    CgroupHierarchy::v2(unified)
}

#[test]
fn v2_device_filter_allows_the_default_devices_and_refuses_the_kernel_log() {
    if !require_root("v2_device_filter") {
        return;
    }
    let _serial = serial();
    let hierarchy = v2_hierarchy();
    let mut cleanup = Cleanup::default();
    let name = format!("peapod-core-devfilter-{}", std::process::id());
    let pod = hierarchy.create(&name).unwrap();
    cleanup.cgroups.push(pod.clone());
    let open = pod.child("open").unwrap();
    let filtered = pod.child("filtered").unwrap();
    filtered.restrict_devices(DEFAULT_ALLOWED_DEVICES).unwrap();
    let run = |cgroup| {
        let mut spawn = ContainerSpawn::new(ProcessSpec::new(["sh", "-c", SCRIPT]));
        spawn.cgroup = Some(cgroup);
        output(spawn).1
    };
    assert_eq!(
        run(&open),
        "NULL\nURANDOM\nKMSG\ndone\n",
        "the test cannot tell"
    );
    assert_eq!(run(&filtered), "NULL\nURANDOM\ndone\n");
    drop(cleanup);
    assert!(!hierarchy.open(&name).dirs()[0].exists());
}
