//! `--block-fd`, `--info-fd` and `--json-status-fd`: the box says its PID
//! and namespaces before the program starts (what the kernel shows of that
//! PID must match), waits for whoever sets it up from outside, says how the
//! program ended; the program inherits none of those descriptors; bad
//! descriptors are refused before anything starts.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The first line of `path` once it is whole.
fn wait_for_line(path: &Path) -> serde_json::Value {
    let start = Instant::now();
    while !std::fs::read_to_string(path).is_ok_and(|t| t.ends_with('\n')) {
        assert!(start.elapsed() < patience(10), "no line in {path:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    json_lines(path).remove(0)
}

#[test]
fn the_box_says_its_pid_and_namespaces_then_waits_for_block_fd() {
    for (as_user, flags) in [
        (false, "-pfmun --init"),
        (true, "-Urpfmun"),
        (false, "-mun"),
    ] {
        if !can(as_user) {
            continue;
        }
        let dir = Scratch::new("handoff-block");
        let d = dir.path.to_str().unwrap();
        cmd("mkfifo", &[&format!("{d}/block")]).ok();
        std::fs::set_permissions(
            dir.join("block"),
            std::os::unix::fs::PermissionsExt::from_mode(0o666),
        )
        .unwrap();
        let script = format!(
            "exec {UNSHARE} {flags} --info-fd=7 --block-fd=8 -- \
             sh -c 'ls /proc/self/fd >{d}/fds; echo ran >{d}/ran' 7>{d}/info 8<{d}/block"
        );
        let mut shell = match (as_user, test_user()) {
            (true, Some((uid, gid))) => as_user_cmd(uid, gid, &script),
            _ => {
                let mut c = Command::new("sh");
                c.args(["-c", &script]);
                c
            }
        };
        let mut child = shell.stdin(Stdio::null()).spawn().unwrap();
        // Opening the FIFO's other end lets the shell's redirection go on.
        let mut block = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("block"))
            .unwrap();
        let info = wait_for_line(&dir.join("info"));
        let pid = info["child-pid"].as_u64().unwrap().to_string();
        for kind in ["mnt", "uts", "net", "user", "pid"] {
            let key = format!("{kind}-namespace");
            assert_eq!(
                info[&key].as_u64(),
                Some(ns_inode(&pid, kind)),
                "{flags}: {key} of {info}"
            );
        }
        for kind in ["mnt", "uts", "net"] {
            assert_ne!(
                ns_inode(&pid, kind),
                ns_inode("self", kind),
                "{flags}: {kind}"
            );
        }
        // Said, and waiting: the program has not started.
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(!dir.join("ran").exists(), "{flags}: ran before the byte");
        block.write_all(b"x").unwrap();
        assert!(child.wait().unwrap().success(), "{flags}");
        assert_eq!(std::fs::read_to_string(dir.join("ran")).unwrap(), "ran\n");
        let fds = std::fs::read_to_string(dir.join("fds")).unwrap();
        assert!(
            !fds.lines().any(|fd| fd == "7" || fd == "8"),
            "{flags}: the program inherited a hand-off descriptor: {fds}"
        );
    }
}

fn as_user_cmd(uid: u32, gid: u32, script: &str) -> Command {
    as_user(uid, gid, "sh", &["-c", script])
}

#[test]
fn json_status_fd_says_how_the_program_ended() {
    if !can(false) {
        return;
    }
    let dir = Scratch::new("handoff-status");
    let d = dir.path.to_str().unwrap();
    for (program, code) in [("exit 7", 7), ("kill -TERM $$", 143)] {
        // No -f: --json-status-fd implies it (someone stays to see the end).
        let out = sh(
            false,
            &format!(
                "{UNSHARE} -n --json-status-fd=5 -- sh -c '{program}' 5>{d}/status; echo rc=$?"
            ),
        )
        .ok();
        assert_eq!(out, format!("rc={code}\n"));
        let lines = json_lines(&dir.join("status"));
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0]["child-pid"].as_u64().unwrap() > 0);
        assert_ne!(
            lines[0]["net-namespace"].as_u64(),
            Some(ns_inode("self", "net"))
        );
        assert_eq!(lines[1], serde_json::json!({ "exit-code": code }));
    }
}

#[test]
fn in_exec_mode_the_pid_is_the_programs_own() {
    if !can(true) {
        return;
    }
    let dir = Scratch::new("handoff-exec");
    let d = dir.path.to_str().unwrap();
    let out = sh(
        true,
        &format!(
            "{UNSHARE} -U --info-fd=3 -- sh -c 'echo $$; readlink /proc/self/ns/user' 3>{d}/info"
        ),
    )
    .ok();
    let (pid, user) = out.trim().split_once('\n').unwrap();
    let info = wait_for_line(&dir.join("info"));
    assert_eq!(info["child-pid"].to_string(), pid);
    assert_eq!(
        format!("user:[{}]", info["user-namespace"].as_u64().unwrap()),
        user
    );
}

#[test]
fn bad_descriptors_are_refused_before_anything_starts() {
    let dir = Scratch::new("handoff-bad");
    let d = dir.path.to_str().unwrap();
    std::fs::write(dir.join("file"), "").unwrap();
    for (args, redirect, says) in [
        (
            "--info-fd=9",
            "",
            "--info-fd=9: not an open file descriptor",
        ),
        (
            "--block-fd=0",
            "",
            "--block-fd=0: descriptors 0, 1 and 2 are the program's",
        ),
        (
            "--json-status-fd=2",
            "",
            "--json-status-fd=2: descriptors 0, 1 and 2 are the program's",
        ),
        (
            "--info-fd=3 --json-status-fd=3",
            "3>>FILE",
            "--json-status-fd=3: --info-fd is 3 already",
        ),
        ("--info-fd=3", "3<FILE", "--info-fd=3: not open for writing"),
        (
            "--block-fd=3",
            "3>>FILE",
            "--block-fd=3: not open for reading",
        ),
    ] {
        let redirect = redirect.replace("FILE", &format!("{d}/file"));
        let run = sh(
            false,
            &format!("exec {UNSHARE} -n {args} -- touch {d}/ran {redirect}"),
        );
        run.fails_with(1, says);
        assert!(!dir.join("ran").exists(), "{args}: the program ran");
    }
}
