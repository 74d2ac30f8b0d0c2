//! rs-unshare running in the background, to signal it and watch the program.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Scratch, UNSHARE, as_user, test_user};

/// rs-unshare started in the background with a pid file; stdout collected.
pub struct Background {
    child: Child,
    pid_file: std::path::PathBuf,
    out_file: std::path::PathBuf,
    _dir: Scratch,
}

impl Background {
    pub fn start(args: &[&str]) -> Background {
        Background::start_as(false, args)
    }

    /// As the unprivileged test user when `as_test_user` (and there is one).
    pub fn start_as(as_test_user: bool, args: &[&str]) -> Background {
        let dir = Scratch::new("bg");
        let pid_file = dir.join("program.pid");
        // A file, not a pipe: a program that outlives us must not block a reader.
        let out_file = dir.join("stdout");
        let pid_arg = format!("--pid-file={}", pid_file.display());
        let mut all = vec![pid_arg.as_str()];
        all.extend_from_slice(args);
        let mut command = match (as_test_user, test_user()) {
            (true, Some((uid, gid))) => as_user(uid, gid, UNSHARE, &all),
            _ => {
                let mut c = Command::new(UNSHARE);
                c.args(&all);
                c
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_file).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let bg = Background {
            child,
            pid_file,
            out_file,
            _dir: dir,
        };
        bg.program_pid();
        bg
    }

    /// A box in new namespaces (a user namespace too when `as_test_user`),
    /// rs-pivot into `root` with `mounts` (`--proc`, ...), whose program
    /// sleeps once it runs there.
    pub fn sleeping_box(as_test_user: bool, root: &str, mounts: &[&str]) -> Background {
        let ns = if as_test_user { "-Urpfmiun" } else { "-pfmiun" };
        let mut args = vec![ns, super::PIVOT, "--root", root];
        args.extend_from_slice(mounts);
        args.extend(["--", "sh", "-c", "echo ready; exec sleep 600"]);
        let bg = Background::start_as(as_test_user, &args);
        bg.wait_output("ready");
        bg
    }

    /// The program's PID, once the pid file shows it runs.
    pub fn program_pid(&self) -> u32 {
        let deadline = Instant::now() + super::patience(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.pid_file) {
                return text.trim().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "no pid file");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the program printed `needle` (its traps are set, say).
    pub fn wait_output(&self, needle: &str) {
        let deadline = Instant::now() + super::patience(10);
        while !std::fs::read_to_string(&self.out_file).is_ok_and(|o| o.contains(needle)) {
            assert!(
                Instant::now() < deadline,
                "the program never printed {needle:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// rs-unshare's own PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the program printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out_file).unwrap_or_default()
    }

    /// Sends `sig` (a name such as `TERM`) to rs-unshare.
    pub fn signal(&self, sig: &str) {
        let signal: nix::sys::signal::Signal = format!("SIG{sig}").parse().unwrap();
        assert!(super::kill_pid(self.child.id(), signal));
    }

    /// Waits up to `secs` for rs-unshare; returns its status and stdout.
    pub fn wait(mut self, secs: u64) -> (ExitStatus, String) {
        let deadline = Instant::now() + super::patience(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, std::fs::read_to_string(&self.out_file).unwrap());
            }
            if Instant::now() > deadline {
                let pid = self.program_pid();
                let _ = self.child.kill();
                super::kill_pid(pid, nix::sys::signal::Signal::SIGKILL);
                panic!("rs-unshare did not end within {secs}s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A test that is done with its box, or fails, leaves nothing running: a
/// box left would hold the test's output open (a reader of it would wait
/// out its `sleep 600`) and load the next tests.
impl Drop for Background {
    fn drop(&mut self) {
        // While rs-unshare runs it has not reaped its program, whose PID
        // therefore names no other process.
        if matches!(self.child.try_wait(), Ok(None)) {
            if let Some(pid) = std::fs::read_to_string(&self.pid_file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                super::kill_pid(pid, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub fn alive(pid: u32) -> bool {
    super::proc_stat(pid).is_some_and(|(state, _)| state != 'Z')
}

pub fn wait_gone(pid: u32, secs: u64) -> bool {
    let deadline = Instant::now() + super::patience(secs);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
