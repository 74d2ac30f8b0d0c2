//! rs-nsenter's own output: -v logs on stderr only, --help and --version.

mod common;

use common::*;

#[test]
fn verbose_logs_go_to_stderr_and_stdout_stays_data() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    let t = b.pid_arg();
    let run = nsenter(&["-v", "-t", &t, "-u", "echo", "data"]);
    assert_eq!(run.ok(), "data\n");
    assert!(run.stderr().contains("plan"), "{}", run.stderr());
    let quiet = nsenter(&["-t", &t, "-u", "echo", "data"]);
    assert_eq!(quiet.stderr(), "");
}

/// `-v` reads like the rest of our messages: no Rust debug syntax
/// (`Some(TargetSpec { pid: 1515, inode: None })`, `["..."]`, `MapPlan {`).
#[test]
fn verbose_logs_read_as_text_not_rust_debug_syntax() {
    let t = std::process::id().to_string();
    let runs = [
        nsenter(&["-v", "-t", &t, "-u", "true"]),
        unshare(&["-v", "-Ur", "true"]),
    ];
    for run in runs {
        let log = run.stderr();
        assert!(log.contains("plan"), "{log}");
        for debug in ["Some(", "None", " { ", "[\"", "MapPlan", "TargetSpec"] {
            assert!(!log.contains(debug), "{debug:?} in: {log}");
        }
    }
}

/// `-t PID -r -w` alone: the target's root and working directory, our own
/// namespaces (as nsenter does); it was refused as "no namespace to enter".
#[test]
fn root_and_directory_of_the_target_without_namespaces() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("nsenter-rw");
    let mut target = std::process::Command::new("sleep")
        .arg("60")
        .current_dir(&scratch.path)
        .spawn()
        .unwrap();
    let t = target.id().to_string();
    let out = nsenter(&[
        "-t",
        &t,
        "-r",
        "-w",
        "sh",
        "-c",
        "pwd; readlink /proc/self/ns/uts",
    ])
    .ok();
    let _ = target.kill();
    let _ = target.wait();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(scratch.path.to_str().unwrap()));
    assert_eq!(
        lines.next().map(str::to_string),
        Some(ns_link("self", "uts"))
    );
}

/// A thread's ID as the target: its own network namespace, as nsenter(1)
/// enters it (/proc/TID/ns/net), by a thread pidfd where the kernel has
/// PIDFD_THREAD (6.9+) and by the thread's /proc files before; it failed
/// with "cannot open a pidfd of PID TID: ENOENT".
#[test]
fn a_thread_id_enters_the_threads_own_namespaces() {
    require!(is_root(), "needs root to give a thread a network namespace");
    let thread = LoneThread::start();
    let tid = thread.tid.to_string();
    let net = format!("net:[{}]\n", thread.net);
    assert_eq!(
        nsenter(&["-t", &tid, "-n", "readlink", "/proc/self/ns/net"]).ok(),
        net
    );
    let mut via_proc = std::process::Command::new(NSENTER);
    via_proc
        .args(["-t", &tid, "-n", "readlink", "/proc/self/ns/net"])
        .env("RSNS_JOIN_VIA_PROC", "1");
    assert_eq!(run(via_proc).ok(), net);
    // What it shares with its process comes along with -a.
    let pid = std::process::id().to_string();
    let all = nsenter(&[
        "-t",
        &tid,
        "-a",
        "sh",
        "-c",
        "readlink /proc/self/ns/net /proc/self/ns/uts",
    ])
    .ok();
    assert_eq!(all, format!("{net}{}\n", ns_link(&pid, "uts")));
}

/// `-e` against one's own rootless container: its processes run as
/// subordinate ids, so /proc/PID/environ opens only from inside its user
/// namespace; it is read there (it failed with EACCES, read before -U).
#[test]
fn the_environment_of_a_rootless_container_is_read_from_inside_it() {
    require!(
        can_map_subids(),
        "needs the test user with /etc/subuid ranges and newuidmap"
    );
    let (uid, gid) = test_user().unwrap();
    let marker = marker_sleep();
    let mut boxed = as_user(
        uid,
        gid,
        UNSHARE,
        &[
            "--map-auto",
            "-r",
            "-S",
            "1",
            "-G",
            "1",
            "env",
            "-i",
            "RSNS_SECRET=in-the-box",
            "sleep",
            &marker,
        ],
    )
    .spawn()
    .unwrap();
    let pid = the_sleep(&marker).to_string();
    // It runs as a subordinate id, not as the user.
    let owner = std::fs::metadata(format!("/proc/{pid}")).unwrap();
    assert_ne!(std::os::unix::fs::MetadataExt::uid(&owner), uid);
    let run = nsenter_as_user(&["-t", &pid, "-U", "-e", "env"]);
    let out = run.ok();
    assert_eq!(out, "RSNS_SECRET=in-the-box\n");
    // Without -U there is no way in: the refusal is named.
    nsenter_as_user(&["-t", &pid, "-u", "-e", "env"]).fails_as("rs-nsenter", 1, "environ");
    let _ = boxed.kill();
    let _ = boxed.wait();
}

/// The 64-bit ID of the namespace at `path` (NS_GET_ID, Linux 6.18+).
fn ns_id(path: &str) -> Option<u64> {
    let file = std::fs::File::open(path).unwrap();
    rsns_core::sys::ns_get_id(std::os::fd::AsFd::as_fd(&file)).ok()
}

/// `--net=:NSID` (util-linux 2.42): the namespace with that ID, through an
/// nsfs file handle; before, `:ID` was taken for a file name. Kernels
/// without namespace IDs get a one-line error naming the feature.
#[test]
fn a_namespace_is_entered_by_its_id() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-n"], "true");
    let pid = b.pid_arg();
    let Some(id) = ns_id(&format!("/proc/{pid}/ns/net")) else {
        nsenter(&["--net=:1", "true"]).fails_as("rs-nsenter", 1, "needs Linux 6.18 or later");
        return;
    };
    let by_id = format!("--net=:{id}");
    let out = nsenter(&[&by_id, "readlink", "/proc/self/ns/net"]).ok();
    assert_eq!(out.trim(), ns_link(&pid, "net"));
    nsenter(&["--net=:x1", "true"]).fails_as("rs-nsenter", 1, "--net=:x1: not a namespace ID");
    nsenter(&["--net=:18446744073709551615", "true"]).fails_as(
        "rs-nsenter",
        1,
        "no net namespace with ID 18446744073709551615",
    );
    // Another kind's ID is not taken for this kind.
    let wrong = format!("--uts=:{id}");
    nsenter(&[&wrong, "true"]).fails_as("rs-nsenter", 1, &format!("{wrong}: "));
}

/// A program the target's root lacks (a distroless image has no shell and
/// no tools), or one whose ELF interpreter it lacks: one line that says
/// which, status 127, and how to run the host's instead, which works.
#[test]
fn a_program_missing_in_the_targets_root_says_what_and_how() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("nsenter-missing");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    // The host's true, dynamically linked: the image has no loader for it.
    std::fs::copy("/bin/true", std::path::Path::new(&r).join("bin/hosttrue")).unwrap();
    // Once it says so, the box runs in the new root (the PID is known
    // earlier, while rs-pivot still sees the host's).
    let bg = Background::start(&[
        "-m",
        PIVOT,
        "--root",
        &r,
        "--",
        "sh",
        "-c",
        "echo ready; exec sleep 600",
    ]);
    bg.wait_output("ready");
    let pid = bg.program_pid().to_string();
    let how =
        "; to run the host's, add --host-tools (the target's root is then at /run/rsns/target)\n";
    for (program, why) in [
        ("ss", "no ss on PATH in this root file system".to_string()),
        (
            "/usr/sbin/ss",
            "/usr/sbin/ss is not in this root file system".into(),
        ),
        (
            "hosttrue",
            "/bin/hosttrue is there, but its ELF interpreter /lib".into(),
        ),
    ] {
        let run = cmd(NSENTER, &["-t", &pid, "-m", program]);
        assert_eq!(run.code(), 127, "{program}: {}", run.stderr());
        let err = run.stderr();
        assert!(
            err.starts_with(&format!(
                "rs-nsenter: failed to execute {program} in the target's root: {why}"
            )) && err.ends_with(how)
                && err.lines().count() == 1,
            "{err}"
        );
    }
    // No program, and no shell of ours in the image: said so.
    let run = run({
        let mut c = std::process::Command::new(NSENTER);
        c.args(["-t", &pid, "-m"]).env("SHELL", "/bin/bash");
        c
    });
    run.fails_as(
        "rs-nsenter",
        127,
        "no shell in the target's root (/bin/bash: /bin/bash is not in this root file system); name a program; to run the host's, add --host-tools",
    );
    // The host's programs, in the target's other namespaces.
    cmd(NSENTER, &["-t", &pid, "-u", "-i", "true"]).ok();
    cmd(NSENTER, &["-t", &pid, "--host-tools", "hosttrue"]).fails_as("rs-nsenter", 127, "");
    cmd(NSENTER, &["-t", &pid, "--host-tools", "/bin/true"]).ok();
}
