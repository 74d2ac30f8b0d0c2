//! The same invocation through util-linux unshare(1) and through rs-unshare:
//! what the kernel shows inside and the exit status must be the same. Where we
//! differ on purpose (docs/rs-unshare.md, "Differences"), the test says so.

mod common;

use common::*;

/// Runs `args` through util-linux unshare and through ours (as the test user
/// if `unprivileged`); returns (theirs, ours).
fn both(unprivileged: bool, args: &[&str]) -> (Run, Run) {
    let run_with = |program: &str| match (unprivileged, test_user()) {
        (true, Some((uid, gid))) => run(as_user(uid, gid, program, args)),
        _ => cmd(program, args),
    };
    (run_with("unshare"), run_with(UNSHARE))
}

fn same(unprivileged: bool, args: &[&str]) {
    let (theirs, ours) = both(unprivileged, args);
    assert_eq!(ours.stdout(), theirs.stdout(), "stdout of {args:?}");
    assert_eq!(
        ours.output.status.code(),
        theirs.output.status.code(),
        "status of {args:?}"
    );
}

fn util_linux() -> bool {
    has_command("unshare") && has_command("nsenter")
}

#[test]
fn maps_and_setgroups_match_unprivileged() {
    require!(
        util_linux() && can_run_unprivileged(),
        "needs util-linux and the test user"
    );
    let show = "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -g";
    for flags in [
        &["-r"][..],
        &["-c"][..],
        &["-r", "-f"][..],
        &["--map-user=0"][..],
    ] {
        let mut args = flags.to_vec();
        args.extend(["sh", "-c", show]);
        same(true, &args);
    }
}

#[test]
fn subordinate_ranges_match_unprivileged() {
    require!(
        util_linux() && can_map_subids(),
        "needs util-linux, newuidmap and subordinate ids"
    );
    let show = "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups";
    for flags in [
        &["--map-auto", "-r"][..],
        &["--map-users=auto", "--map-groups=auto"][..],
    ] {
        let mut args = flags.to_vec();
        args.extend(["sh", "-c", show]);
        same(true, &args);
    }
}

#[test]
fn pid_namespace_and_proc_match() {
    require!(util_linux() && is_root(), "needs util-linux and root");
    same(
        false,
        &[
            "-pf",
            "--mount-proc",
            "sh",
            "-c",
            // The shell counts /proc's PIDs itself: a pipeline's second
            // process may or may not have started when the first reads /proc.
            "echo $$; set -- /proc/[0-9]*; echo $#",
        ],
    );
    same(false, &["-p", "sh", "-c", "sh -c 'echo $$'"]);
}

#[test]
fn hostname_time_and_propagation_match() {
    require!(util_linux() && is_root(), "needs util-linux and root");
    same(false, &["-u", "sh", "-c", "hostname conform; hostname"]);
    same(
        false,
        &[
            "-T",
            "--boottime=12345",
            "--monotonic=-1",
            "cat",
            "/proc/self/timens_offsets",
        ],
    );
    let opts = "awk '$5 == \"/\" {for (i = 7; $i != \"-\"; i++) printf \"%s \", substr($i, 1, index($i, \":\")); print \"\"}' /proc/self/mountinfo";
    for mode in ["private", "slave", "shared", "unchanged"] {
        let prop = format!("--propagation={mode}");
        let script = format!(
            "mount --make-rshared / && PROG -m {prop} sh -c '{}'",
            opts.replace('\'', "'\\''")
        );
        let theirs = cmd(
            "unshare",
            &["-m", "sh", "-c", &script.replace("PROG", "unshare")],
        )
        .ok();
        let ours = cmd(
            "unshare",
            &["-m", "sh", "-c", &script.replace("PROG", UNSHARE)],
        )
        .ok();
        assert_eq!(ours, theirs, "{mode}");
    }
}

#[test]
fn exit_statuses_match() {
    require!(util_linux() && is_root(), "needs util-linux and root");
    for program in [
        &["true"][..],
        &["sh", "-c", "exit 7"][..],
        &["sh", "-c", "kill -TERM $$"][..],
        &["no-such-program-rsns"][..],
        &["/etc/passwd"][..],
    ] {
        for fork in [false, true] {
            let mut args = vec!["-u"];
            if fork {
                args.push("-f");
            }
            args.extend_from_slice(program);
            let (theirs, ours) = both(false, &args);
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                ours.output.status.code(),
                theirs.output.status.code(),
                "{args:?}"
            );
            assert_eq!(
                ours.output.status.signal(),
                theirs.output.status.signal(),
                "{args:?}"
            );
        }
    }
}

#[test]
fn nsenter_joins_match() {
    require!(util_linux() && is_root(), "needs util-linux and root");
    let b = Boxed::start(
        Maker::UtilLinux,
        false,
        &["-pmuin", "--mount-proc"],
        "hostname conformed",
    );
    let t = b.pid_arg();
    // Not $$: PIDs in the box count up from one join to the next.
    // The shell counts /proc's PIDs itself (no pipeline race).
    let show = "hostname; readlink /proc/self/ns/uts /proc/self/ns/pid /proc/self/ns/net; set -- /proc/[0-9]*; echo $#";
    for args in [
        &["-t", &t, "-a", "sh", "-c", show][..],
        &[
            "-t",
            &t,
            "-u",
            "-n",
            "sh",
            "-c",
            "hostname; readlink /proc/self/ns/net",
        ][..],
        &[
            "-t",
            &t,
            "-m",
            "-p",
            "sh",
            "-c",
            "readlink /proc/1/ns/pid; set -- /proc/[0-9]*; echo $#",
        ][..],
        &["-t", &t, "-u", "-F", "sh", "-c", "exit 9"][..],
    ] {
        let theirs = cmd("nsenter", args);
        let ours = nsenter(args);
        assert_eq!(ours.stdout(), theirs.stdout(), "stdout of {args:?}");
        assert_eq!(
            ours.output.status.code(),
            theirs.output.status.code(),
            "status of {args:?}"
        );
    }
}

#[test]
fn differences_on_purpose() {
    require!(util_linux() && is_root(), "needs util-linux and root");
    // unshare(1) 2.38 exits 1 when the program is killed by SIGKILL; we die by
    // SIGKILL too, so the shell sees 137.
    let (theirs, ours) = both(false, &["-f", "sh", "-c", "kill -KILL $$"]);
    assert_eq!(theirs.output.status.code(), Some(1));
    assert_eq!(ours.signal(), Some(9));
    // Ranges as root: 2.38 insists on newuidmap (and root's /etc/subuid
    // entries); we write them directly, as root may.
    let (_, ours) = both(
        false,
        &["--map-users=100000,0,65536", "cat", "/proc/self/uid_map"],
    );
    let line: Vec<String> = ours.ok().split_whitespace().map(str::to_string).collect();
    assert_eq!(line, ["0", "100000", "65536"]);
}
