//! Paths of the test components built from `guests/` (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
