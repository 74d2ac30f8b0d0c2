//! Exit statuses and signals: the caller sees what the program did, signals
//! sent to rs-unshare reach the program (never swallowed, never doubled), and
//! --kill-child really kills.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn exit_status_is_the_programs_in_both_modes() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("status");
    let plain = dir.join("plain");
    std::fs::write(&plain, "echo not executable\n").unwrap();
    let plain = plain.to_str().unwrap();
    let cases: [(&[&str], i32); 7] = [
        (&["true"], 0),
        (&["sh", "-c", "exit 7"], 7),
        (&["sh", "-c", "kill -KILL $$"], 128 + 9),
        (&["sh", "-c", "kill -TERM $$"], 128 + 15),
        (&["sh", "-c", "kill -SEGV $$"], 128 + 11),
        (&["no-such-program-rsns"], 127),
        (&[plain], 126),
    ];
    for fork in [false, true] {
        for (program, want) in cases {
            let mut args = vec!["-u"];
            if fork {
                args.push("-f");
            }
            args.extend_from_slice(program);
            let run = unshare(&args);
            assert_eq!(
                shell_status(run.output.status),
                want,
                "{args:?}: {}",
                run.stderr()
            );
        }
    }
}

#[test]
fn a_signal_death_is_reraised_without_a_core_of_our_own() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("core");
    let mut cmd = Command::new("sh");
    cmd.current_dir(&dir.path).args([
        "-c",
        &format!("ulimit -c unlimited; exec {UNSHARE} -f sh -c 'ulimit -c 0; kill -QUIT $$'"),
    ]);
    let run = run(cmd);
    assert_eq!(run.signal(), Some(3));
    assert!(
        !run.output.status.to_string().contains("core dumped"),
        "{:?}",
        run.output.status
    );
}

/// rs-unshare started in the background with a pid file; stdout collected.
struct Background {
    child: Child,
    pid_file: std::path::PathBuf,
    out_file: std::path::PathBuf,
    _dir: Scratch,
}

impl Background {
    fn start(args: &[&str]) -> Background {
        let dir = Scratch::new("bg");
        let pid_file = dir.join("program.pid");
        // A file, not a pipe: a program that outlives us must not block a reader.
        let out_file = dir.join("stdout");
        let child = Command::new(UNSHARE)
            .arg(format!("--pid-file={}", pid_file.display()))
            .args(args)
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

    /// The program's PID, once the pid file shows it runs.
    fn program_pid(&self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.pid_file) {
                return text.trim().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "no pid file");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the program printed `needle` (its traps are set, say).
    fn wait_output(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&self.out_file).is_ok_and(|o| o.contains(needle)) {
            assert!(
                Instant::now() < deadline,
                "the program never printed {needle:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn signal(&self, sig: &str) {
        assert!(
            cmd("kill", &[&format!("-{sig}"), &self.child.id().to_string()])
                .output
                .status
                .success()
        );
    }

    /// Waits up to `secs` for rs-unshare; returns its status and stdout.
    fn wait(mut self, secs: u64) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, std::fs::read_to_string(&self.out_file).unwrap());
            }
            if Instant::now() > deadline {
                let pid = self.program_pid();
                let _ = self.child.kill();
                let _ = cmd("kill", &["-KILL", &pid.to_string()]);
                panic!("rs-unshare did not end within {secs}s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

fn wait_gone(pid: u32, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Traps the signals, says `ready`, then waits.
const TRAPS: &str = "trap 'echo got-TERM; exit 3' TERM; trap 'echo got-HUP; exit 4' HUP; \
                     trap 'echo got-INT; exit 5' INT; trap 'echo got-QUIT; exit 6' QUIT; \
                     echo ready; while :; do sleep 0.05; done";

/// Starts TRAPS under rs-unshare with `flags` and waits until the traps are set.
fn start_traps(flags: &[&str]) -> Background {
    let mut args = flags.to_vec();
    args.extend(["sh", "-c", TRAPS]);
    let bg = Background::start(&args);
    bg.wait_output("ready");
    bg
}

#[test]
fn term_hup_and_quit_sent_to_us_reach_the_program() {
    require!(is_root(), "needs root");
    for (sig, want) in [("TERM", 3), ("HUP", 4), ("QUIT", 6)] {
        for pidns in [false, true] {
            let bg = start_traps(if pidns { &["-pf"] } else { &["-f"] });
            bg.signal(sig);
            let (status, out) = bg.wait(10);
            assert_eq!(out, format!("ready\ngot-{sig}\n"), "{sig} pidns={pidns}");
            assert_eq!(status.code(), Some(want), "{sig} pidns={pidns}");
        }
    }
}

#[test]
fn sigint_from_kill_is_ignored_unless_forward_signals() {
    require!(is_root(), "needs root");
    let bg = start_traps(&["-f"]);
    bg.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    bg.signal("TERM");
    let (status, out) = bg.wait(10);
    assert_eq!(
        (status.code(), out.as_str()),
        (Some(3), "ready\ngot-TERM\n")
    );

    let bg = start_traps(&["--forward-signals"]);
    bg.signal("INT");
    let (status, out) = bg.wait(10);
    assert_eq!((status.code(), out.as_str()), (Some(5), "ready\ngot-INT\n"));
}

#[test]
fn term_ends_a_pid_namespace_init_that_has_no_handler() {
    require!(is_root(), "needs root");
    let marker = marker_sleep();
    let bg = Background::start(&["-pf", "sleep", &marker]);
    let program = bg.program_pid();
    bg.signal("TERM");
    let (status, _) = bg.wait(10);
    assert_eq!(
        shell_status(status),
        128 + 15,
        "reported as the TERM we sent"
    );
    assert!(wait_gone(program, 5));
    assert!(processes_with(&marker).is_empty());
}

#[test]
fn kill_child_kills_the_program_when_we_die() {
    require!(is_root(), "needs root");
    let marker = marker_sleep();
    let bg = Background::start(&["--kill-child", "sleep", &marker]);
    let program = bg.program_pid();
    bg.signal("KILL");
    let (status, _) = bg.wait(10);
    assert_eq!(shell_status(status), 128 + 9);
    assert!(wait_gone(program, 5), "the program outlived rs-unshare");
    assert!(processes_with(&marker).is_empty());
}

#[test]
fn kill_child_sends_the_chosen_signal() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("killchild");
    let out_file = dir.join("out");
    let script = format!(
        "trap 'echo got-USR1 > {}; exit 0' USR1; echo ready; while :; do sleep 0.05; done",
        out_file.display()
    );
    let bg = Background::start(&["--kill-child=SIGUSR1", "sh", "-c", &script]);
    bg.wait_output("ready");
    let program = bg.program_pid();
    bg.signal("KILL");
    bg.wait(10);
    assert!(wait_gone(program, 5));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "got-USR1\n");
}

#[test]
fn without_kill_child_the_program_outlives_us() {
    require!(is_root(), "needs root");
    let marker = marker_sleep();
    let bg = Background::start(&["-f", "sleep", &marker]);
    let program = bg.program_pid();
    bg.signal("KILL");
    bg.wait(10);
    assert!(
        alive(program),
        "unshare(1) semantics: only --kill-child kills"
    );
    let _ = cmd("kill", &["-KILL", &program.to_string()]);
    assert!(wait_gone(program, 5));
}

/// A command under a pseudo-terminal (script(1)), to press Ctrl-C for real.
struct Terminal {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Terminal {
    /// script(1) runs `command` with $SHELL; dash does not exec the last
    /// command and dies by Ctrl-C itself, so its status would be reported
    /// instead of ours. `exec` makes our tool script's own child whatever the
    /// caller's shell; SHELL is pinned so every run sees the same shell.
    fn start(command: &str) -> Terminal {
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

    fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.output.lock().unwrap().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in {:?}",
                self.output.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn ctrl_c(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"\x03").unwrap();
        stdin.flush().unwrap();
    }

    fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
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

/// Counts SIGINTs for a second; two deliveries even 1 ms apart count as two.
const COUNT_SIGINT: &str = "perl -e '$|=1; $n=0; $SIG{INT}=sub{$n++}; print \"ready\\n\"; \
                            for (1..20) { select(undef,undef,undef,0.05) } print \"count=$n\\n\"'";

#[test]
fn ctrl_c_in_a_terminal_reaches_the_program_once() {
    require!(
        is_root() && has_command("script") && has_command("perl"),
        "needs root, script and perl"
    );
    for flags in ["-f", "--forward-signals", "--kill-child"] {
        let mut term = Terminal::start(&format!("{UNSHARE} {flags} {COUNT_SIGINT}"));
        term.wait_for("ready");
        std::thread::sleep(Duration::from_millis(100));
        term.ctrl_c();
        let (code, out) = term.finish();
        assert!(out.contains("count=1"), "{flags}: {out:?}");
        assert_eq!(code, 0, "{flags}: {out:?}");
    }
}

#[test]
fn ctrl_c_ends_a_pid_namespace_init() {
    require!(is_root() && has_command("script"), "needs root and script");
    let mut term = Terminal::start(&format!("{UNSHARE} -pf sh -c 'echo ready; exec sleep 100'"));
    term.wait_for("ready");
    std::thread::sleep(Duration::from_millis(100));
    term.ctrl_c();
    let (code, out) = term.finish();
    assert_eq!(code, 128 + 2, "{out:?}");
}
