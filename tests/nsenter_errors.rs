//! Bad input to rs-nsenter: one line on stderr naming the value, exit status
//! 1, and nothing left running (the program, a marked sleep, never starts).

mod common;

use common::*;

/// Runs rs-nsenter with `args` then a marked program, checks the failure.
fn fails(as_test_user: bool, args: &[&str], needle: &str) {
    let marker = marker_sleep();
    let mut all = args.to_vec();
    all.extend(["sleep", &marker]);
    let run = if as_test_user {
        nsenter_as_user(&all)
    } else {
        nsenter(&all)
    };
    run.fails_as("rs-nsenter", 1, needle);
    assert!(
        processes_with(&marker).is_empty(),
        "left running after {all:?}"
    );
}

#[test]
fn bad_targets() {
    require!(is_root(), "needs root");
    fails(false, &["-t", "999999", "-a"], "no process with PID 999999");
    fails(false, &["-t", "abc", "-a"], "'abc'");
    fails(false, &["-t", "12:x", "-a"], "'12:x'");
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    let wrong = format!("{}:1", b.pid);
    if pidfs() {
        fails(false, &["-t", &wrong, "-u"], "is another process now");
    } else {
        // Every pidfd has the same inode: the check would pass for anyone.
        fails(
            false,
            &["-t", &wrong, "-u"],
            "needs Linux 6.9 or later (pidfs)",
        );
    }
    // A process that has exited (a zombie not yet reaped) cannot be joined.
    let mut parent = std::process::Command::new("sh")
        .args(["-c", "sleep 0.1 & echo $!; exec sleep 5"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut out)
        .unwrap();
    let z = out.trim().to_string();
    let deadline = std::time::Instant::now() + patience(5);
    while !std::fs::read_to_string(format!("/proc/{z}/stat")).is_ok_and(|s| s.contains(") Z ")) {
        assert!(std::time::Instant::now() < deadline, "no zombie");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    fails(
        false,
        &["-t", &z, "-n"],
        &format!("PID {z} exited while we were joining it"),
    );
    let _ = parent.kill();
    let _ = parent.wait();
}

#[test]
fn bad_namespace_files() {
    fails(
        false,
        &["--uts=/etc/passwd"],
        "--uts=/etc/passwd: not a namespace file",
    );
    fails(
        false,
        &["--net=/proc/self/ns/uts"],
        "a uts namespace, not a net namespace",
    );
    fails(
        false,
        &["--ipc=/nonexistent-rsns"],
        "--ipc=/nonexistent-rsns: No such file or directory",
    );
    fails(false, &["-u/etc/passwd"], "not a namespace file");
}

#[test]
fn missing_or_contradicting_options() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    let t = b.pid_arg();
    fails(false, &["-t", &t], "no namespace to enter");
    fails(
        false,
        &["-n"],
        "--net needs a target (-t PID) or a file (--net=FILE)",
    );
    fails(false, &["-a"], "--all needs a target");
    fails(false, &["-N", "3"], "--net-socket needs a target");
    fails(
        false,
        &["--uts=/proc/self/ns/uts", "-e"],
        "-e needs a target",
    );
    fails(
        false,
        &["-t", &t, "-u", "-w", "-W", "/"],
        "--wd and --wdns cannot be used together",
    );
    fails(
        false,
        &["-t", &t, "-n", "--keep-caps"],
        "--keep-caps needs a user namespace",
    );
    fails(
        false,
        &["-t", &t, "-u", "--root=/nonexistent-rsns"],
        "cannot open --root /nonexistent-rsns",
    );
    fails(
        false,
        &["-t", &t, "-u", "-W", "/nonexistent-rsns"],
        "/nonexistent-rsns (--wdns)",
    );
    fails(
        false,
        &["-t", &t, "-u", "-F", "--new-session"],
        "--new-session needs a fork",
    );
    fails(false, &["--bogus"], "'--bogus'");
}

#[test]
fn an_unprivileged_caller_against_someone_elses_process() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    fails(
        true,
        &["-t", &b.pid_arg(), "-u"],
        "needs CAP_SYS_ADMIN in the user namespace that owns them",
    );
}

#[test]
fn without_proc_the_message_says_so() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    let script = format!(
        "mount -t tmpfs none /proc && exec {NSENTER} -t {} -u true",
        b.pid
    );
    let run = unshare(&["-m", "--propagation=private", "sh", "-c", &script]);
    run.fails_as("rs-nsenter", 1, "/proc is not mounted here");
}
