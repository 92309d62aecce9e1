//! criterion benches of peapod's pod start and its parts live in
//! `benches/`; `compare.sh` times peapod against other runtimes side by side.
#![forbid(unsafe_code)]
