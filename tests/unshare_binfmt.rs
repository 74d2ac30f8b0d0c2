//! rs-unshare --mount-binfmt and --load-interp: a binfmt_misc of the new
//! user namespace's own (Linux 6.7+), and a definition registered in it that
//! the kernel then uses to run a file; the refusals before anything starts.

mod common;

use common::*;

/// Whether this kernel gives a user namespace its own binfmt_misc.
fn binfmt_in_userns() -> bool {
    cmd(UNSHARE, &["-Urm", "--mount-binfmt", "true"]).code() == 0
}

fn unshare_as_user(args: &[&str]) -> Run {
    match test_user() {
        Some((uid, gid)) if is_root() => run(as_user(uid, gid, UNSHARE, args)),
        _ => cmd(UNSHARE, args),
    }
}

#[test]
fn a_definition_registered_in_the_box_runs_files_there_only() {
    require!(
        binfmt_in_userns(),
        "binfmt_misc in a user namespace needs Linux 6.7"
    );
    let dir = Scratch::new("binfmt");
    let file = dir.join("hello.rsnsx");
    std::fs::write(&file, "run by cat\n").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let f = file.display().to_string();
    // Files ending in .rsnsx run with /bin/cat as their interpreter.
    let script = format!(
        "cat /proc/sys/fs/binfmt_misc/status; {f}; sed -n 1,2p /proc/sys/fs/binfmt_misc/rsns-cat"
    );
    let out = unshare_as_user(&[
        "-Urm",
        "--load-interp=:rsns-cat:E::rsnsx::/bin/cat:",
        "sh",
        "-c",
        &script,
    ])
    .ok();
    assert_eq!(out, "enabled\nrun by cat\nenabled\ninterpreter /bin/cat\n");
    // Outside the box, the kernel knows no such format.
    let outside = cmd("sh", &["-c", &f]);
    assert_ne!(outside.stdout(), "run by cat\n");
}

#[test]
fn mount_binfmt_elsewhere_shows_an_empty_instance() {
    require!(
        binfmt_in_userns(),
        "binfmt_misc in a user namespace needs Linux 6.7"
    );
    let dir = Scratch::new("binfmt-dir");
    std::fs::create_dir(dir.join("b")).unwrap();
    let mount = format!("--mount-binfmt={}", dir.join("b").display());
    let script = format!("ls {}", dir.join("b").display());
    let out = unshare_as_user(&["-Urm", &mount, "sh", "-c", &script]).ok();
    assert_eq!(out, "register\nstatus\n");
    assert!(dir.mounts().is_empty(), "the mount reached the host");
}

#[test]
fn bad_definitions_and_no_user_namespace_are_refused_before_anything_runs() {
    let marker = Scratch::new("binfmt-bad");
    let ran = marker.join("ran");
    let touch = format!("touch {}", ran.display());
    for (args, needle) in [
        (
            &["-m", "--mount-binfmt"][..],
            "--mount-binfmt and --load-interp need a new user namespace",
        ),
        (
            &["-Ur", "--load-interp=:x:Q:::abc:/bin/sh:"][..],
            "type 'Q' is neither M (magic) nor E (extension)",
        ),
        (&["-Ur", "--load-interp=:x:M:::abc"][..], "5 fields, not 7"),
        (
            &["-Ur", "--load-interp=:a/b:E::x::/bin/sh:"][..],
            "without '/'",
        ),
        (&["-Ur", "--load-interp=:x:E::x:::"][..], "no interpreter"),
    ] {
        let mut all = args.to_vec();
        all.extend(["sh", "-c", &touch]);
        cmd(UNSHARE, &all).fails_as("rs-unshare", 1, needle);
        assert!(!ran.exists(), "{args:?}: the program ran");
    }
}

/// Where the kernel has no binfmt_misc per user namespace, the error says
/// which kernel is needed (the kernel matrix's 5.10 and 6.1 run this).
#[test]
fn an_older_kernel_is_told_what_it_lacks() {
    if binfmt_in_userns() {
        return;
    }
    cmd(UNSHARE, &["-Urm", "--mount-binfmt", "true"]).fails_as("rs-unshare", 1, "needs Linux 6.7");
}
