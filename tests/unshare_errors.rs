//! Bad input: one line on stderr that names the value, exit status 1 (126 or
//! 127 for the program), and nothing left behind: no mount, no file, no
//! process. Every case runs with a namespace file and a pid file set up, so
//! a failure after the bind or the pid file shows whether they were undone.

mod common;

use common::*;

/// Runs rs-unshare with `args` plus a namespace file, a pid file and a
/// marked program (`{marker}` in args is replaced), then checks the failure
/// and that nothing is left.
fn check(as_user: bool, fork: bool, args: &[&str], code: i32, needle: &str) {
    let dir = Scratch::new("err");
    let uts = dir.empty_file("uts");
    let marker = marker_sleep();
    let persist = format!("--uts={}", uts.display());
    let pid_file = format!("--pid-file={}", dir.join("prog.pid").display());
    let mut all: Vec<String> = Vec::new();
    if !args.contains(&"NO-EXTRAS") {
        all.push(persist);
        all.push(pid_file);
        if fork {
            all.push("-f".into());
        }
    }
    let mut program_given = false;
    for a in args.iter().filter(|a| **a != "NO-EXTRAS") {
        if *a == "--" {
            program_given = true;
        }
        all.push(a.replace("{dir}", dir.path.to_str().unwrap()));
    }
    if !program_given {
        all.extend(["--".into(), "sleep".into(), marker.clone()]);
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let run = if as_user {
        unshare_as_user(&all)
    } else {
        unshare(&all)
    };
    run.fails_with(code, needle);
    let context = format!("{all:?}");
    assert!(
        dir.mounts().is_empty(),
        "stray mount after {context}: {:?}",
        dir.mounts()
    );
    assert_eq!(dir.entries(), ["uts"], "stray file after {context}");
    assert_eq!(std::fs::metadata(&uts).unwrap().len(), 0);
    assert!(
        processes_with(&marker).is_empty(),
        "stray process after {context}"
    );
    let helpers = processes_with(&format!("--uts={}", uts.display()));
    assert!(
        helpers.is_empty(),
        "stray rs-unshare helper {helpers:?} after {context}"
    );
}

fn both_modes(args: &[&str], code: i32, needle: &str) {
    check(false, false, args, code, needle);
    check(false, true, args, code, needle);
}

#[test]
fn malformed_values_name_the_value() {
    require!(is_root(), "needs root");
    for (args, needle) in [
        (&["--map-users=1:2"][..], "'1:2'"),
        (&["--map-users=0:1:0"][..], "count of 0"),
        (&["--map-groups=0:4294967295:1"][..], "largest id"),
        (&["--kill-child=FOO"][..], "'FOO'"),
        (&["-m", "--propagation=bogus"][..], "'bogus'"),
        (&["-U", "--setgroups=maybe"][..], "'maybe'"),
        (&["-S", "abc"][..], "'abc'"),
        (&["-G", "-1"][..], "'-1'"),
        (&["--owner=1000"][..], "'1000'"),
        (&["--owner=no-such-user-rsns:0"][..], "no-such-user-rsns"),
        (&["--map-user=no-such-user-rsns"][..], "no-such-user-rsns"),
        (
            &["--map-group=no-such-group-rsns"][..],
            "no-such-group-rsns",
        ),
        (&["-T", "--monotonic=abc"][..], "'abc'"),
        (&["--bogus"][..], "'--bogus'"),
    ] {
        both_modes(args, 1, needle);
    }
}

#[test]
fn contradicting_options_are_refused() {
    require!(is_root(), "needs root");
    for (args, needle) in [
        (&["--monotonic=5"][..], "-T"),
        (&["--boottime=5"][..], "-T"),
        (
            &["-u", "--propagation=shared"][..],
            "--propagation needs a new mount namespace",
        ),
        (
            &["-m", "--setgroups=deny"][..],
            "--setgroups needs a new user namespace",
        ),
        (
            &["-n", "--keep-caps"][..],
            "--keep-caps needs a new user namespace",
        ),
        (
            &["--map-users=0:100000:10", "--map-users=5:200000:10"][..],
            "uid ranges 0:100000:10 and 5:200000:10 overlap",
        ),
    ] {
        both_modes(args, 1, needle);
    }
    check(
        false,
        false,
        &["--pid={dir}/pid"],
        1,
        "--pid=FILE needs --fork",
    );
}

#[test]
fn bad_namespace_files_are_refused_before_anything_happens() {
    require!(is_root(), "needs root");
    both_modes(
        &["--ipc=/nonexistent-rsns"],
        1,
        "--ipc=/nonexistent-rsns: no such file",
    );
    both_modes(&["--net={dir}"], 1, "not a regular file");
    both_modes(&["--mount={dir}/uts"], 1, "the same file is given for");
    // A file with contents would be hidden by the bind.
    let dir = Scratch::new("full");
    let full = dir.join("full");
    std::fs::write(&full, "precious").unwrap();
    let arg = format!("--ipc={}", full.display());
    both_modes(&[&arg], 1, "not empty (8 bytes)");
    assert_eq!(std::fs::read_to_string(&full).unwrap(), "precious");
    // A file that already holds a namespace.
    let held = dir.empty_file("held");
    let arg = format!("--ipc={}", held.display());
    unshare(&[&arg, "true"]).ok();
    both_modes(&[&arg], 1, "already holds a namespace");
}

#[test]
fn a_failed_bind_undoes_the_binds_before_it() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    // A mount namespace cannot be bound onto a mount that propagates into
    // it: the UTS bind made just before must be undone. Run inside a scratch
    // mount namespace.
    let dir = Scratch::new("shared");
    let d = dir.path.display();
    for fork in ["", "-f"] {
        let script = format!(
            "mount -t tmpfs s {d} && mount --make-shared {d} && touch {d}/uts {d}/mnt && \
             {UNSHARE} {fork} --propagation=unchanged --uts={d}/uts --mount={d}/mnt true; echo status=$?; \
             awk '$5 ~ \"^{d}/\"' /proc/self/mountinfo"
        );
        let run = cmd("unshare", &["-m", "sh", "-c", &script]);
        let out = run.stdout();
        assert!(out.starts_with("status=1\n"), "{out}");
        assert_eq!(out.lines().count(), 1, "stray mounts: {out}");
        // Refused for the propagation, or, from this scratch namespace, for the
        // namespace ids (see a_mount_namespace_can_be_kept_on_a_shared_mount).
        let stderr = run.stderr();
        assert!(
            stderr.contains("shares propagation with the new mount namespace")
                || stderr.contains("got a lower id"),
            "{stderr}"
        );
    }
}

#[test]
fn failures_after_the_bind_undo_it() {
    require!(is_root(), "needs root");
    both_modes(
        &["-R", "/nonexistent-rsns"],
        1,
        "cannot change root to /nonexistent-rsns",
    );
    both_modes(
        &["-w", "/nonexistent-rsns"],
        1,
        "cannot change directory to /nonexistent-rsns",
    );
    both_modes(
        &["--mount-proc=/nonexistent-rsns"],
        1,
        "cannot mount proc on /nonexistent-rsns",
    );
    both_modes(&["-U", "-S", "1000"], 1, "not mapped");
    both_modes(
        &["-T", "--monotonic=-99999999999"],
        1,
        "cannot go below zero",
    );
    both_modes(
        &["-T", "--monotonic=9223372036854775807"],
        1,
        "may run at most 4611686018 seconds",
    );
    // execvp(3) finds no program with an empty name: 127, as unshare(1).
    both_modes(
        &["--", ""],
        127,
        "failed to execute : No such file or directory",
    );
    both_modes(
        &["--", "no-such-program-rsns"],
        127,
        "failed to execute no-such-program-rsns",
    );
    both_modes(
        &["--", "/etc/passwd"],
        126,
        "failed to execute /etc/passwd: Permission denied",
    );
}

#[test]
fn failures_under_init_or_in_a_new_session_leave_nothing() {
    require!(is_root(), "needs root");
    // The init does the last steps itself; the program's exec fails in its child.
    for extra in [&["-p", "--init"][..], &["--new-session"][..]] {
        let with = |more: &[&'static str]| [extra, more].concat();
        check(
            false,
            true,
            &with(&["-R", "/nonexistent-rsns"]),
            1,
            "cannot change root to /nonexistent-rsns",
        );
        check(
            false,
            true,
            &with(&["--mount-proc=/nonexistent-rsns"]),
            1,
            "cannot mount proc on /nonexistent-rsns",
        );
        check(
            false,
            true,
            &with(&["--", "no-such-program-rsns"]),
            127,
            "failed to execute no-such-program-rsns",
        );
    }
    check(
        false,
        false,
        &["-u", "--init"],
        1,
        "--init needs a new PID namespace (-p)",
    );
}

#[test]
fn a_map_the_helper_refuses_leaves_nothing() {
    require!(
        can_run_unprivileged() && has_command("newuidmap"),
        "needs the unprivileged test user and newuidmap"
    );
    for fork in [false, true] {
        check(
            true,
            fork,
            &["--map-users=0:4000000:10", "--map-groups=0:4000000:10"],
            1,
            "newuidmap allows only your own id and the ranges /etc/subuid gives your user",
        );
    }
}

#[test]
fn a_bad_pid_file_path_is_refused_first() {
    require!(is_root(), "needs root");
    both_modes(
        &["--pid-file=/nonexistent-rsns/x.pid"],
        1,
        "--pid-file=/nonexistent-rsns/x.pid",
    );
}

#[test]
fn unprivileged_mistakes_say_what_to_do() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    for fork in [false, true] {
        // Namespaces other than user need a user namespace first.
        check(true, fork, &["NO-EXTRAS", "-n"], 1, "add -r");
        // Binding onto the host's file systems needs privilege there.
        check(
            true,
            fork,
            &["-r"],
            1,
            "CAP_SYS_ADMIN in the mount namespace",
        );
        check(
            true,
            fork,
            &["NO-EXTRAS", "-r", "--setgroups=allow"],
            1,
            "--setgroups=allow",
        );
        check(
            true,
            fork,
            &["NO-EXTRAS", "--owner=0:0"],
            1,
            "--owner=0:0 needs CAP_SETUID",
        );
    }
}

#[test]
fn unprivileged_without_subordinate_ids_names_the_file_and_user() {
    require!(can_run_unprivileged() && is_root(), "needs root");
    // nobody has no lines in /etc/subuid on a normal system.
    let has_nobody = std::fs::read_to_string("/etc/subuid")
        .is_ok_and(|c| c.lines().any(|l| l.starts_with("nobody:")));
    require!(!has_nobody, "nobody has subordinate ids here");
    let run = run(as_user(65534, 65534, UNSHARE, &["--map-auto", "true"]));
    run.fails_with(1, "no line for user 'nobody' (uid 65534) in /etc/subuid");
}

#[test]
fn a_value_with_a_newline_stays_on_one_line() {
    let run = unshare(&["--uts=a\nb", "true"]);
    run.fails_with(1, "--uts=a\\x0ab: no such file");
    let run = unshare(&["--map-users=0:1\n:2", "true"]);
    run.fails_with(1, "\\x0a");
}

#[test]
fn a_pid_file_that_is_a_directory_is_refused_before_the_program_runs() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("pid-dir");
    let ran = dir.join("ran");
    let script = format!("touch {}", ran.display());
    for fork in [&[][..], &["-f"][..]] {
        let pid_file = format!("--pid-file={}", dir.path.display());
        let mut args = fork.to_vec();
        args.extend([pid_file.as_str(), "sh", "-c", &script]);
        unshare(&args).fails_with(1, "is a directory; refusing to replace it");
        assert!(!ran.exists(), "{fork:?}: the program ran");
    }
}
