//! rs-nsenter as a process: job-control stops, non-dumpability, and a
//! recycled PID refused (descriptors: fd_hygiene.rs).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn state(pid: u32) -> char {
    proc_stat(pid).map_or('?', |(state, _)| state)
}

fn wait_state(pid: u32, want: char) {
    let deadline = Instant::now() + patience(5);
    while state(pid) != want {
        assert!(
            Instant::now() < deadline,
            "PID {pid} is {} not {want}",
            state(pid)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn stops_pass_through_both_ways() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-pf"], "true");
    let marker = marker_sleep();
    let mut us = Command::new(NSENTER)
        .args(["-t", &b.pid_arg(), "-p", "sleep", &marker])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // The program once it runs: our forked child has the marker in its
    // command line too until it execs, and stopping that one proves nothing.
    let program = the_sleep(&marker);
    // The program stops: we stop too, so a shell sees the job stopped.
    kill_pid(program, nix::sys::signal::Signal::SIGSTOP);
    wait_state(us.id(), 'T');
    // We are continued: the program goes on too.
    kill_pid(us.id(), nix::sys::signal::Signal::SIGCONT);
    wait_state(program, 'S');
    kill_pid(program, nix::sys::signal::Signal::SIGTERM);
    assert_eq!(shell_status(us.wait().unwrap()), 128 + 15);
}

#[test]
fn we_are_not_dumpable_once_inside() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    // The user joins its own box: processes inside run as the same user, so
    // only non-dumpability keeps them from reading our memory or ptracing us.
    let b = Boxed::start(Maker::RsUnshare, true, &["-Urpf"], "true");
    let marker = marker_sleep();
    let (uid, gid) = test_user().unwrap();
    let mut us = as_user(
        uid,
        gid,
        NSENTER,
        &["-t", &b.pid_arg(), "-a", "sleep", &marker],
    )
    .stdin(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + patience(5);
    let parent = loop {
        let found = processes_with(&marker).into_iter().find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.trim() == "rs-nsenter")
        });
        if let Some(pid) = found {
            break pid;
        }
        assert!(Instant::now() < deadline, "rs-nsenter never showed up");
        std::thread::sleep(Duration::from_millis(5));
    };
    while processes_with(&marker).len() < 2 {
        assert!(Instant::now() < deadline, "the program never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let read_as_user = |pid: u32| {
        run(as_user(uid, gid, "cat", &[&format!("/proc/{pid}/environ")]))
            .output
            .status
            .success()
    };
    assert!(
        read_as_user(b.pid),
        "the box's own process is readable by its user"
    );
    assert!(!read_as_user(parent), "rs-nsenter must not be dumpable");
    let _ = us.kill();
    let _ = us.wait();
    for pid in processes_with(&marker) {
        kill_pid(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

#[test]
fn a_recycled_pid_is_refused_with_pid_inode() {
    require!(
        is_root() && has_command("python3"),
        "needs root and python3"
    );
    // In a PID namespace of our own, ns_last_pid makes the kernel hand out
    // the PID of a dead process again.
    let script = format!(
        r#"
sleep 600 & A=$!
INODE=$(python3 -c "import os; print(os.fstat(os.pidfd_open($A)).st_ino)")
{NSENTER} -t $A:$INODE -u true && echo matching-ok
kill -KILL $A; wait $A 2>/dev/null
echo $((A - 1)) > /proc/sys/kernel/ns_last_pid
sleep 600 & B=$!
[ "$A" = "$B" ] && echo reused
{NSENTER} -t $A:$INODE -u true; echo status=$?
kill -KILL $B
"#
    );
    let run = unshare(&["-pf", "--mount-proc", "sh", "-c", &script]);
    let out = run.stdout();
    assert!(out.contains("reused\n"), "the PID was not reused: {out}");
    assert!(out.contains("status=1\n"), "{out}");
    if pidfs() {
        assert!(out.contains("matching-ok\n"), "{out}");
        assert!(
            run.stderr().contains("is another process now"),
            "{}",
            run.stderr()
        );
    } else {
        // Every pidfd shares one inode: INODE is refused, never trusted.
        assert!(!out.contains("matching-ok"), "{out}");
        assert!(
            run.stderr().contains("needs Linux 6.9 or later (pidfs)"),
            "{}",
            run.stderr()
        );
    }
}
