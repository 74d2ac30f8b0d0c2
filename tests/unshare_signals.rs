//! Exit statuses and signals: the caller sees what the program did, signals
//! sent to rs-unshare reach the program (never swallowed, never doubled), and
//! --kill-child really kills.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

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

/// The same when PID 1 calls itself by a name that is not UTF-8: its
/// /proc/PID/status is still read (as bytes).
#[test]
fn term_ends_an_init_whose_name_is_not_utf8() {
    require!(is_root(), "needs root");
    let script = "printf 'x\\377y' > /proc/self/comm; echo ready; while :; do sleep 0.05; done";
    let bg = Background::start(&["-pf", "--kill-child", "sh", "-c", script]);
    bg.wait_output("ready");
    let program = bg.program_pid();
    let comm = std::fs::read(format!("/proc/{program}/comm")).unwrap();
    assert_eq!(comm, b"x\xffy\n");
    bg.signal("TERM");
    let (status, _) = bg.wait(10);
    assert_eq!(shell_status(status), 128 + 15);
    assert!(wait_gone(program, 5));
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
    let _ = kill_pid(program, nix::sys::signal::Signal::SIGKILL);
    assert!(wait_gone(program, 5));
}

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
    let marker = marker_sleep();
    let mut term = Terminal::start(&format!(
        "{UNSHARE} -pf sh -c 'echo ready; exec sleep {marker}'"
    ));
    term.wait_for("ready");
    // PID 1 is the sleep itself by now, not the shell on its way to it.
    the_sleep(&marker);
    term.ctrl_c();
    let (code, out) = term.finish();
    assert_eq!(code, 128 + 2, "{out:?}");
}
