//! --map-users / --map-groups values: never a panic; a range that parses
//! stays inside the id space and is not empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::idmap::{RangeSpec, parse_range_spec};

fuzz_target!(|text: &str| {
    if let Ok(RangeSpec::Range(r)) = parse_range_spec(text) {
        assert!(r.count > 0);
        assert!(u64::from(r.inner) + u64::from(r.count) - 1 <= u64::from(u32::MAX));
        assert!(u64::from(r.outer) + u64::from(r.count) - 1 <= u64::from(u32::MAX));
    }
});
