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

/// The refusal is the ptrace access check on /proc/PID/ns (as nsenter(1)
/// words it), not setns: the hint says whose process it is. With -a, the
/// namespaces we share with it (user, cgroup, time) are not listed as
/// refused: they cannot be told apart, and the message says that instead.
#[test]
fn an_unprivileged_caller_against_someone_elses_process() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let (uid, _) = test_user().unwrap();
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    let pid = b.pid_arg();
    let one = format!("cannot open /proc/{pid}/ns/uts: Permission denied");
    fails(true, &["-t", &pid, "-u"], &one);
    let whose = format!("runs as uid 0 and you are uid {uid}");
    fails(true, &["-t", &pid, "-u"], &whose);
    fails(
        true,
        &["-t", &pid, "-a"],
        "-a cannot tell which of its namespaces you already share",
    );
    let run = nsenter_as_user(&["-t", &pid, "-a", "true"]);
    assert!(!run.stderr().contains("cgroup, time"), "{}", run.stderr());
}

/// Root in a user namespace of its own (a sandbox) against the host's PID
/// 1: the same uid, and not a matter of CAP_SYS_ADMIN (it blamed both).
#[test]
fn root_in_a_sandbox_is_told_it_is_in_a_user_namespace() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    let run = cmd(
        "unshare",
        &[
            "-U",
            "--map-user=0",
            "--map-group=0",
            NSENTER,
            "-t",
            "1",
            "-u",
            "true",
        ],
    );
    // Refused at the open of /proc/1/ns/uts where PID 1 is not dumpable to
    // us (this host), else by setns (the VMs): the same cause either way.
    run.fails_as("rs-nsenter", 1, "you are in a user namespace of your own");
    assert!(!run.stderr().contains("runs as uid"), "{}", run.stderr());
}

/// One's own rootless container: its network namespace belongs to the user
/// namespace one created, so the way in is -U (never mentioned before).
#[test]
fn the_owner_of_a_rootless_container_is_told_to_add_u() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let (uid, gid) = test_user().unwrap();
    let marker = marker_sleep();
    let mut boxed = as_user(uid, gid, UNSHARE, &["-Ur", "-n", "sleep", &marker])
        .spawn()
        .unwrap();
    let pid = the_sleep(&marker).to_string();
    fails(
        true,
        &["-t", &pid, "-n"],
        "which you created: enter that one too (add -U)",
    );
    nsenter_as_user(&["-t", &pid, "-n", "-U", "true"]).ok();
    let _ = boxed.kill();
    let _ = boxed.wait();
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
