//! /proc/PID/status: the SigIgn/SigCgt masks; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::supervise::signal_masks;

fuzz_target!(|text: &[u8]| {
    let _ = signal_masks(text);
});
