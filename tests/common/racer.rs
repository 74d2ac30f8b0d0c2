//! A hostile image's racer: tests/support/swap.py exchanging two paths
//! (renameat2 RENAME_EXCHANGE) in a tight loop while a tool looks them up.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Runs per racing case: RSNS_RACE_RUNS, or 300 (the kernel matrix's
/// emulated VMs ask for fewer).
pub fn runs() -> usize {
    std::env::var("RSNS_RACE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

/// The racer, exchanging `a` and `b` until dropped.
pub struct Racer(Child);

impl Racer {
    pub fn start(a: &str, b: &str) -> Racer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/swap.py");
        let mut child = Command::new(script)
            .args([a, b])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "swapping", "the racer did not start");
        Racer(child)
    }
}

impl Drop for Racer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
