//! Signal names (--kill-child), column lists (rs-lsns -o) and id values
//! (-S, --owner): never a panic; what parses names a real thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::ids::{parse_numeric_id, parse_owner};
use rsns_core::lsns::columns::{Column, parse_output_list};
use rsns_core::signal::parse_signal;

fuzz_target!(|text: &str| {
    if let Ok(sig) = parse_signal(text) {
        assert!((1..=31).contains(&(sig as i32)));
    }
    let _ = parse_output_list(text, &[Column::Ns]);
    let _ = parse_numeric_id(text);
    let _ = parse_owner(text);
});
