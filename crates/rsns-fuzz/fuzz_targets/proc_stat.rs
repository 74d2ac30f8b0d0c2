//! /proc/PID/stat: any bytes (a command name may hold anything but NUL);
//! never a panic, and the name is what lies between the parentheses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsns_core::scan::procfs::parse_stat;

fuzz_target!(|bytes: &[u8]| {
    if let Some((comm, _ppid)) = parse_stat(bytes) {
        assert!(comm.len() <= bytes.len() * 3);
    }
});
