//! The pause process alone, for tests and for measuring its footprint;
//! the `peapod` binary runs the same [`peapod_core::pause_main`] when
//! started as `/pause`.

fn main() {
    peapod_core::pause_main()
}
