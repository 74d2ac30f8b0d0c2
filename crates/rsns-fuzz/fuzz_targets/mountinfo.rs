//! /proc/PID/mountinfo text (paths are user-chosen): never a panic, and the
//! general parser and rs-lsns's nsfs scan agree on what they both read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::mountinfo::{parse, unescape};

fuzz_target!(|text: &[u8]| {
    for mount in parse(text) {
        // Unescaping never grows a field.
        assert!(mount.mount_point.as_os_str().len() <= text.len());
    }
    let _ = unescape(text);
    let _ = rsns_core::scan::mountinfo::nsfs_mounts(text);
    if let Ok(text) = std::str::from_utf8(text) {
        let _ = rsns_core::scan::mountinfo::parse_ns_name(text);
    }
});
