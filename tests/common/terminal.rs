//! A command under a pseudo-terminal, to press Ctrl-C for real.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts SIGINTs for a second; two deliveries even 1 ms apart count as two.
pub const COUNT_SIGINT: &str = "perl -e '$|=1; $n=0; $SIG{INT}=sub{$n++}; print \"ready\\n\"; \
                                for (1..20) { select(undef,undef,undef,0.05) } print \"count=$n\\n\"'";

/// A command under a pseudo-terminal (script(1)), to press Ctrl-C for real.
pub struct Terminal {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Terminal {
    /// script(1) runs `command` with $SHELL; dash does not exec the last
    /// command and dies by Ctrl-C itself, so its status would be reported
    /// instead of ours. `exec` makes our tool script's own child whatever the
    /// caller's shell; SHELL is pinned so every run sees the same shell.
    pub fn start(command: &str) -> Terminal {
        let mut child = Command::new("script")
            .args(["-qec", &format!("exec {command}"), "/dev/null"])
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal { child, output }
    }

    pub fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + super::patience(10);
        while !self.output.lock().unwrap().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in {:?}",
                self.output.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn ctrl_c(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"\x03").unwrap();
        stdin.flush().unwrap();
    }

    pub fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + super::patience(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                return (
                    status.code().unwrap_or(-1),
                    self.output.lock().unwrap().clone(),
                );
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "still running after Ctrl-C: {:?}",
                    self.output.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
