//! criterion benches of peapod's pod start and its parts live in
//! `benches/`; `compare.sh` times peapod against other runtimes side by side.
//! The library holds what a bench and a side-by-side tool share:
//! [`cri_pod`], the seed pod's start over the CRI.
#![forbid(unsafe_code)]

pub mod cri_pod;
