//! One table for every tool and mode that runs a program: the caller sees
//! the program's exit status, and a death by signal is a death by the same
//! signal (not an exit with 128+N). docs/signals.md shows the same table.
//! And in every mode where we stay the program's parent, SIGTERM sent to us
//! ends the program too.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use common::*;

/// How the program ends, and what the caller must see: `Ok(code)` for an
/// exit, `Err(signal)` for a death by that signal.
const CASES: [(&str, Result<i32, i32>); 7] = [
    ("true", Ok(0)),
    ("sh -c 'exit 7'", Ok(7)),
    ("sh -c 'kill -TERM $$'", Err(libc::SIGTERM)),
    ("sh -c 'kill -KILL $$'", Err(libc::SIGKILL)),
    ("sh -c 'ulimit -c 0; kill -SEGV $$'", Err(libc::SIGSEGV)),
    ("no-such-program-rsns", Ok(127)),
    ("/etc/passwd", Ok(126)),
];

/// Runs `tool_and_options PROGRAM` through sh, which execs it.
fn outcome(line: &str) -> (Result<i32, i32>, String) {
    let out = Command::new("sh")
        .args(["-c", &format!("exec {line}")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let got = match (out.status.code(), out.status.signal()) {
        (Some(code), _) => Ok(code),
        (None, Some(sig)) => Err(sig),
        _ => unreachable!(),
    };
    (got, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every case in every mode. With `pid_1` the program is PID 1 of its PID
/// namespace (`-pf` without --init): the kernel drops every signal it sends
/// itself that it has no handler for, so `kill -TERM $$` returns and the
/// shell exits 0. --init is the cure.
fn table(modes: &[String], pid_1: bool) {
    for mode in modes {
        for (program, want) in CASES {
            let want = if pid_1 && program.contains("kill -") {
                Ok(0)
            } else {
                want
            };
            let (got, stderr) = outcome(&format!("{mode} {program}"));
            assert_eq!(got, want, "{mode} {program}: {stderr}");
        }
    }
}

#[test]
fn rs_unshare_statuses_in_every_mode() {
    require!(is_root(), "needs root");
    table(
        &[
            format!("{UNSHARE} -u"),
            format!("{UNSHARE} -u -f"),
            format!("{UNSHARE} -p --init"),
            format!("{UNSHARE} -p --init --mount-proc"),
            format!("{UNSHARE} -u --new-session"),
            format!("{UNSHARE} -Ur --kill-child"),
        ],
        false,
    );
    table(
        &[
            format!("{UNSHARE} -pf"),
            format!("{UNSHARE} -pf --mount-proc"),
        ],
        true,
    );
}

#[test]
fn rs_nsenter_statuses_with_and_without_a_fork() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-pfu", "--mount-proc"], "true");
    let t = b.pid_arg();
    table(
        &[
            format!("{NSENTER} -t {t} -u"),
            format!("{NSENTER} -t {t} -p"),
            format!("{NSENTER} -t {t} -u --new-session"),
            format!("{NSENTER} -t {t} -a"),
        ],
        false,
    );
}

#[test]
fn rs_pivot_statuses_as_the_command_it_becomes() {
    require!(is_root(), "needs root");
    let Some(r) = rootfs_or_skip() else { return };
    // The same programs, found in the busybox root.
    table(&[format!("{UNSHARE} -m {PIVOT} --root {r} --")], false);
}

/// Starts `line` (which runs `sleep MARKER`) and sends SIGTERM to it once
/// the sleep runs; the sleep must end and we with SIGTERM.
fn term_ends_the_program(line: &str) {
    let marker = marker_sleep();
    let mut us = Command::new("sh")
        .args(["-c", &format!("exec {line} sleep {marker}")])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let program = the_sleep(&marker);
    assert_ne!(program, us.id(), "{line}: we must be the program's parent");
    kill_pid(us.id(), nix::sys::signal::Signal::SIGTERM);
    let status = us.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{line}");
    assert!(wait_gone(program, 5), "{line}: the program outlived us");
}

#[test]
fn sigterm_to_us_ends_the_program_in_every_mode_that_forks() {
    require!(is_root(), "needs root");
    for mode in [
        "-f",
        "-pf",
        "-p --init",
        "--new-session",
        "-Ur --kill-child",
    ] {
        term_ends_the_program(&format!("{UNSHARE} {mode}"));
    }
    let b = Boxed::start(Maker::RsUnshare, false, &["-pfu"], "true");
    let t = b.pid_arg();
    for mode in ["-p", "-u --new-session", "-a"] {
        term_ends_the_program(&format!("{NSENTER} -t {t} {mode}"));
    }
}
