//! `rs-nsenter --same-privs`: the program holds what the target holds, as
//! the kernel shows both in /proc/PID/status (ids, groups, the five
//! capability sets, no_new_privs, the seccomp mode and filter count): a
//! box of ours locked down as podman's are, as root and rootless. The
//! podman side is in tests/containers.rs.

mod common;

use common::*;

const PRIVS: &str = "grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status";

/// A box running `sleep` as PID 1 under rs-pivot's `drop` options.
fn locked_box(as_user: bool, r: &str, drop: &[&str]) -> Background {
    let ns = if as_user { "-Urpfmiun" } else { "-pfmiun" };
    let mut args = vec![ns, PIVOT, "--root", r, "--proc"];
    args.extend_from_slice(drop);
    args.extend(["--", "sh", "-c", "echo ready; exec sleep 600"]);
    let bg = Background::start_as(as_user, &args);
    bg.wait_output("ready");
    bg
}

#[test]
fn same_privs_gives_the_program_what_the_kernel_shows_for_the_target() {
    if !can(false) {
        return;
    }
    // The installed (static) rs-nsenter.
    let Some(nsenter) = release_binary("rs-nsenter") else {
        return;
    };
    let scratch = Scratch::new("same-privs");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    let bg = locked_box(
        false,
        &r,
        &[
            "--caps=container",
            "--seccomp=container",
            "--user=1000:1000",
        ],
    );
    let pid = bg.program_pid().to_string();
    let target = cmd("sh", &["-c", &PRIVS.replace("self", &pid)]).ok();
    assert!(target.contains("Seccomp:\t2"), "{target}");
    let ours = cmd(
        &nsenter,
        &["-t", &pid, "-a", "--same-privs", "sh", "-c", PRIVS],
    )
    .ok();
    assert_eq!(ours, target);
    // Without it, root enters with everything.
    let open = cmd(NSENTER, &["-t", &pid, "-a", "sh", "-c", PRIVS]).ok();
    assert_ne!(open, target);
}

#[test]
fn same_privs_in_a_rootless_box_takes_its_ids_and_capabilities_and_says_what_it_cannot_read() {
    if !can(true) {
        return;
    }
    let scratch = Scratch::new("same-privs-user");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    give_to_test_user(&scratch, &["rootfs"]);
    let bg = locked_box(true, &r, &["--caps=container", "--nnp"]);
    let pid = bg.program_pid().to_string();
    // Both read in the box's user namespace: the program's own, and the
    // box's PID 1's (the target).
    let probe = format!("{PRIVS}; echo ---; {}", PRIVS.replace("self", "1"));
    let out = sh(
        true,
        &format!("{NSENTER} -t {pid} -a --same-privs sh -c \"{probe}\""),
    )
    .ok();
    let (ours, target) = out.split_once("---\n").unwrap();
    assert_eq!(ours, target);
    assert!(target.contains("CapBnd:\t00000000800405fb"), "{target}");
    assert!(target.contains("NoNewPrivs:\t1"), "{target}");
    drop(bg);
    // A filter only root on the host may read.
    let bg = locked_box(true, &r, &["--seccomp=container"]);
    let pid = bg.program_pid().to_string();
    let run = sh(true, &format!("{NSENTER} -t {pid} -a --same-privs true"));
    run.fails_as(
        "rs-nsenter",
        1,
        &format!("--same-privs: cannot read the seccomp filter of PID {pid}"),
    );
}

#[test]
fn same_privs_refuses_what_contradicts_it_in_one_line() {
    for (args, needle) in [
        (
            &["--same-privs", "-a", "true"][..],
            "--same-privs needs a target",
        ),
        (
            &["-t", "1", "--same-privs", "-a", "-S", "0", "true"],
            "drop -S, -G",
        ),
        (
            &["-t", "1", "--same-privs", "-a", "--keep-caps", "true"],
            "drop -S, -G",
        ),
    ] {
        nsenter(args).fails_as("rs-nsenter", 1, needle);
    }
}
