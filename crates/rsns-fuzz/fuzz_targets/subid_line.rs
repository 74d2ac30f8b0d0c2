//! /etc/subuid and /etc/subgid lines: never a panic; a range has a count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::idmap::parse_subid_line;

fuzz_target!(|text: &str| {
    for line in text.lines() {
        if let Some((owner, Ok(range))) = parse_subid_line(line) {
            assert!(range.count > 0);
            assert!(!owner.contains(':'));
        }
    }
});
