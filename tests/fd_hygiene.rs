//! Descriptor hygiene: in every mode of every tool that runs a program, the
//! program sees exactly the descriptors its caller gave it, no pidfd, socket,
//! namespace or directory of ours. The caller here hands over 0, 1, 2 and an
//! extra 7; the program lists /proc/self/fd, and the list must equal the one
//! the same lister prints when the caller runs it directly.

mod common;

use common::*;

/// `line` run by a shell that first opens descriptor 7, as root or as the
/// test user; its standard output.
fn listed(as_test_user: bool, line: &str) -> String {
    let script = format!("exec 7</dev/null; exec {line}");
    let run = match (as_test_user, test_user()) {
        (true, Some((uid, gid))) => run(as_user(uid, gid, "sh", &["-c", &script])),
        _ => cmd("sh", &["-c", &script]),
    };
    assert!(run.output.status.success(), "{line}: {}", run.stderr());
    run.stdout()
}

fn same_as_direct(as_test_user: bool, modes: &[String], lister: &str) {
    let direct = listed(as_test_user, lister);
    assert!(direct.split_whitespace().any(|fd| fd == "7"), "{direct}");
    for mode in modes {
        assert_eq!(
            listed(as_test_user, &format!("{mode} {lister}")),
            direct,
            "{mode} (user={as_test_user})"
        );
    }
}

const LS: &str = "ls /proc/self/fd";

#[test]
fn rs_unshare_passes_exactly_our_descriptors() {
    require!(can_map_subids(), "needs the test user with subordinate ids");
    let dir = Scratch::new("fds");
    let (uts1, uts2) = (dir.empty_file("uts1"), dir.empty_file("uts2"));
    let pid_file = dir.join("pid");
    same_as_direct(
        false,
        &[
            format!("{UNSHARE} -u"),
            format!("{UNSHARE} -u -f"),
            format!("{UNSHARE} -pf --mount-proc"),
            format!("{UNSHARE} -p --init --mount-proc"),
            format!("{UNSHARE} -u --new-session"),
            format!("{UNSHARE} -Urf --kill-child"),
            format!(
                "{UNSHARE} --uts={} --pid-file={}",
                uts1.display(),
                pid_file.display()
            ),
            format!(
                "{UNSHARE} -f --uts={} --pid-file={}",
                uts2.display(),
                pid_file.display()
            ),
        ],
        LS,
    );
    for file in [&uts1, &uts2] {
        assert!(cmd("umount", &[file]).output.status.success());
    }
    same_as_direct(
        true,
        &[
            format!("{UNSHARE} -Ur"),
            format!("{UNSHARE} -Ur --map-auto"),
            format!("{UNSHARE} -Urf --map-auto"),
            format!("{UNSHARE} -Urp --init --mount-proc"),
        ],
        LS,
    );
}

#[test]
fn rs_nsenter_passes_exactly_our_descriptors() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    for as_test_user in [false, true] {
        let b = Boxed::start(Maker::RsUnshare, as_test_user, &["-Urpfu"], "true");
        let t = b.pid_arg();
        same_as_direct(
            as_test_user,
            &[
                format!("{NSENTER} -t {t} -U -u"),
                format!("{NSENTER} -t {t} -a"),
                format!("{NSENTER} -t {t} -a -r -w -e"),
                format!("{NSENTER} -t {t} -U -u -w -e"),
                format!("{NSENTER} -t {t} -U --new-session"),
                format!("{NSENTER} --user=/proc/{t}/ns/user --uts=/proc/{t}/ns/uts"),
            ],
            LS,
        );
    }
}

#[test]
fn rs_pivot_passes_exactly_our_descriptors() {
    require!(is_root(), "needs root");
    let Some(r) = rootfs_or_skip() else { return };
    // The busybox ls of the new root, run directly, is the reference; /proc
    // is mounted in the new root first, inside a private mount namespace.
    let direct = format!("{r}/bin/busybox ls /proc/self/fd");
    let pivoted = format!(
        "{UNSHARE} -m sh -c 'mount -t proc proc {r}/proc && exec {PIVOT} --root {r} -- /bin/busybox ls /proc/self/fd'"
    );
    let want = listed(false, &direct);
    assert!(want.split_whitespace().any(|fd| fd == "7"), "{want}");
    assert_eq!(listed(false, &pivoted), want);
}
