//! `rs-unshare --init`: we stay PID 1 of the new PID namespace. Orphans are
//! reaped, signals sent to the outer rs-unshare reach the program, Ctrl-C
//! works, and we end as the program ended. Each check also runs without
//! --init where that shows the difference, so it can fail.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// PID 1 of the box becomes a sleep that never reaps (with --init: its
/// parent, our init). An orphaned shell leaves 1,000 orphans (each `true`
/// outlives its subshell), says so and exits: 1,001 orphans in all, each
/// handed to the box's PID 1 when it ends.
fn orphans_then_sleep(marker: &str) -> String {
    format!(
        "(sh -c 'i=0; while [ $i -lt 1000 ]; do (true &); i=$((i+1)); done; echo spawned' &); \
         exec sleep {marker}"
    )
}

/// (pid, state, ppid) of every process.
fn states() -> Vec<(u32, char, u32)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| proc_stat(pid).map(|(state, ppid)| (pid, state, ppid)))
        .collect()
}

/// (zombies, live children other than `program`) of `parent`.
fn children_of(parent: u32, program: u32) -> (usize, usize) {
    let all = states();
    let zombies = all
        .iter()
        .filter(|(_, s, pp)| *pp == parent && *s == 'Z')
        .count();
    let live = all
        .iter()
        .filter(|(pid, s, pp)| *pp == parent && *s != 'Z' && *pid != program)
        .count();
    (zombies, live)
}

/// Polls until `done` holds for the (zombies, live) of `parent`; returns the last.
fn settle(parent: u32, program: u32, done: impl Fn((usize, usize)) -> bool) -> (usize, usize) {
    let deadline = Instant::now() + patience(30);
    loop {
        let now = children_of(parent, program);
        if done(now) || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_thousand_orphans_leave_no_zombie_with_init_and_pile_up_without() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    for as_test_user in [false, true] {
        for init in [true, false] {
            let marker = marker_sleep();
            let script = orphans_then_sleep(&marker);
            let mut args = vec!["-Urpf"];
            if init {
                args.push("--init");
            }
            args.extend(["sh", "-c", &script]);
            let bg = Background::start_as(as_test_user, &args);
            bg.wait_output("spawned");
            // PID 1 of the box is our only child: the init, or the program.
            let pid1 = bg.program_pid();
            let program = the_sleep(&marker);
            let who = format!("user={as_test_user} init={init}");
            if init {
                let (zombies, live) = settle(pid1, program, |(z, l)| z == 0 && l == 0);
                assert_eq!((zombies, live), (0, 0), "{who}: zombies and orphans left");
                assert_ne!(pid1, program, "{who}: the program runs as the init's child");
            } else {
                let (zombies, _) = settle(pid1, program, |(z, _)| z == 1001);
                assert_eq!(zombies, 1001, "{who}: a sleep as PID 1 reaps nothing");
                assert_eq!(pid1, program);
            }
            bg.signal("TERM");
            let (status, _) = bg.wait(30);
            assert_eq!(shell_status(status), 128 + 15, "{who}");
            assert!(wait_gone(program, 10), "{who}: the program outlived us");
            assert_eq!(children_of(pid1, program), (0, 0), "{who}");
        }
    }
}

/// Traps every signal the init passes on, says `ready`, then waits.
const TRAPS: &str = "for s in INT TERM HUP QUIT USR1 USR2 WINCH; do trap \"echo got-$s; exit 9\" $s; done; \
                     echo ready; while :; do sleep 0.05; done";

#[test]
fn every_forwarded_signal_sent_to_us_reaches_the_program() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    for as_test_user in [false, true] {
        for sig in ["INT", "TERM", "HUP", "QUIT", "USR1", "USR2", "WINCH"] {
            let bg = Background::start_as(as_test_user, &["-Urp", "--init", "sh", "-c", TRAPS]);
            bg.wait_output("ready");
            bg.signal(sig);
            let (status, out) = bg.wait(10);
            let who = format!("{sig} user={as_test_user}");
            assert_eq!(out, format!("ready\ngot-{sig}\n"), "{who}");
            assert_eq!(status.code(), Some(9), "{who}");
        }
    }
}

#[test]
fn a_program_without_handlers_dies_by_the_signal_and_so_do_we() {
    require!(is_root(), "needs root");
    for sig in [("TERM", 15), ("USR1", 10), ("HUP", 1)] {
        let marker = marker_sleep();
        let bg = Background::start(&["-p", "--init", "sleep", &marker]);
        let program = the_sleep(&marker);
        bg.signal(sig.0);
        let (status, _) = bg.wait(10);
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(sig.1),
            "{}: we die by the program's signal, not exit 128+N",
            sig.0
        );
        assert!(wait_gone(program, 5));
    }
}

#[test]
fn the_program_is_pid_2_under_our_init_and_a_signal_to_pid_1_reaches_it() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let script = "echo \"me=$$ parent=$PPID init=$(cat /proc/1/comm)\"; \
                  trap 'echo got-TERM; exit 0' TERM; kill -TERM 1; \
                  while :; do sleep 0.05; done";
    for as_test_user in [false, true] {
        let args = ["-Urp", "--init", "--mount-proc", "sh", "-c", script];
        let bg = Background::start_as(as_test_user, &args);
        let (status, out) = bg.wait(10);
        assert_eq!(out, "me=2 parent=1 init=rs-unshare\ngot-TERM\n");
        assert_eq!(status.code(), Some(0));
    }
}

#[test]
fn ctrl_c_in_a_terminal_reaches_the_program_once_and_ends_it() {
    require!(
        is_root() && has_command("script") && has_command("perl"),
        "needs root, script and perl"
    );
    for session in ["", " --new-session"] {
        let mut term = Terminal::start(&format!("{UNSHARE} -p --init{session} {COUNT_SIGINT}"));
        term.wait_for("ready");
        std::thread::sleep(Duration::from_millis(100));
        term.ctrl_c();
        let (code, out) = term.finish();
        assert!(out.contains("count=1"), "{session}: {out:?}");
        assert_eq!(code, 0, "{session}: {out:?}");

        let program = format!("{UNSHARE} -p --init{session} sh -c 'echo ready; exec sleep 100'");
        let mut term = Terminal::start(&program);
        term.wait_for("ready");
        std::thread::sleep(Duration::from_millis(100));
        term.ctrl_c();
        let (code, out) = term.finish();
        assert_eq!(code, 128 + 2, "{session}: {out:?}");
    }
}

/// The init outlives the pivot the program makes: it must hold nothing of
/// the old root, or the box reads the host through /proc/1/cwd (the
/// red team's escape: a secret file next to where rs-unshare was started).
#[test]
fn the_init_keeps_nothing_of_the_old_root_after_the_program_pivots() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let scratch = Scratch::new("init-cwd");
        let secret = scratch.join("secret-dir");
        std::fs::create_dir(&secret).unwrap();
        std::fs::write(secret.join("secret"), "host secret\n").unwrap();
        let flags = if as_user { "-Urpm" } else { "-pm" };
        let run = sh(
            as_user,
            &format!(
                "cd {} && {UNSHARE} {flags} --init {PIVOT} --root {r} --proc -- /bin/sh -c \
                 'cat /proc/1/cwd/secret; readlink /proc/1/cwd; readlink /proc/1/root; \
                 ls /proc/1/cwd/../../.. | grep -c rsns-init-cwd; \
                 ls -l /proc/1/fd | awk \"\\$9 > 2 && \\$11 ~ /^\\//\" | wc -l'; pwd",
                secret.display()
            ),
        );
        let out = run.stdout();
        assert!(!out.contains("host secret"), "{out}{}", run.stderr());
        // Its working directory and root are the box's own /, it holds no
        // descriptor of a file, and the host's tree is out of sight.
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            ["/", "/", "0", "0", secret.to_str().unwrap()],
            "{}",
            run.stderr()
        );
    }
}
