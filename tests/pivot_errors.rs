//! rs-pivot's bad input: one line on stderr saying which rule was broken,
//! exit status 1 (126 or 127 for the command), and the mount table exactly
//! as it was, compared line for line in the same mount namespace.

mod common;

use common::*;

/// Runs `SETUP; rs-pivot ARGS` in a new mount namespace (a user namespace
/// too for `as_user`) and reports its status and whether /proc/self/mountinfo
/// changed; rs-pivot's stderr is the run's stderr.
fn in_mount_ns(as_user: bool, setup: &str, args: &str) -> Run {
    let script = format!(
        "{setup}\n\
         before=$(cat /proc/self/mountinfo)\n\
         {PIVOT} {args}\n\
         echo status=$?\n\
         after=$(cat /proc/self/mountinfo)\n\
         if [ \"$before\" = \"$after\" ]; then echo unchanged; else echo changed; fi\n"
    );
    let flags = if as_user { "-Urm" } else { "-m" };
    let argv = [flags, "sh", "-c", &script];
    match (as_user, test_user()) {
        (true, Some((uid, gid))) => run(common::as_user(uid, gid, UNSHARE, &argv)),
        _ => cmd(UNSHARE, &argv),
    }
}

/// The failure contract, with nothing changed.
fn refused(run: &Run, code: i32, needle: &str) {
    let stderr = run.stderr();
    assert_eq!(
        run.stdout(),
        format!("status={code}\nunchanged\n"),
        "stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr:?}");
    assert!(lines[0].starts_with("rs-pivot: "), "{stderr}");
    assert!(
        lines[0].contains(needle),
        "expected {needle:?} in {stderr:?}"
    );
}

fn setup() -> Option<String> {
    if !require(can_run_unprivileged(), "needs root and the test user") {
        return None;
    }
    rootfs_or_skip()
}

#[test]
fn missing_or_extra_operands_are_usage_errors() {
    for (args, needle) in [
        (&[][..], "missing NEW_ROOT and PUT_OLD"),
        (&["/tmp"][..], "missing PUT_OLD"),
        (&["/a", "/b", "/c"][..], "unexpected argument '/c'"),
        (
            &["--keep-old=/x", "/a", "/b"][..],
            "not provided: <--root <NEW_ROOT>|--overlay <UPPER:WORK:DST>|--tmp-overlay <DST>|--ro-overlay <DST>>",
        ),
    ] {
        cmd(PIVOT, args).fails_as("rs-pivot", 1, needle);
    }
}

/// An unknown option before the command is an error, not the program
/// (`--typo` ran as the command: "not found in R"); after the command's
/// first word, or after `--`, every word is the command's.
#[test]
fn an_unknown_option_is_an_error_not_the_command() {
    let Some(r) = setup() else { return };
    let run = in_mount_ns(false, "", &format!("--root {r} --typo ls"));
    refused(&run, 1, "unexpected argument '--typo'");
    let out = unshare(&["-m", PIVOT, "--root", &r, "ls", "-d", "/bin"]).ok();
    assert_eq!(out, "/bin\n");
    let dashed = unshare(&["-m", PIVOT, "--root", &r, "--", "--weird"]);
    dashed.fails_as("rs-pivot", 127, "--weird: not found in");
}

#[test]
fn the_hosts_initial_mount_namespace_is_refused() {
    let Some(r) = setup() else { return };
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let put_old = format!("{r}/tmp");
    cmd(PIVOT, &[&r, &put_old]).fails_as("rs-pivot", 1, "host's initial mount namespace");
    cmd(PIVOT, &["--root", &r, "/bin/true"]).fails_as("rs-pivot", 1, "--force");
    assert_eq!(
        std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
        before
    );
}

#[test]
fn without_proc_it_cannot_tell_and_force_goes_ahead() {
    let Some(r) = setup() else { return };
    let script = format!(
        "mount -t tmpfs none /proc || exit 9\n\
         {PIVOT} --root {r} -- /bin/echo refused-run\n\
         echo status=$?\n\
         exec {PIVOT} --force --root {r} -- /bin/echo forced-run"
    );
    let run = cmd(UNSHARE, &["-m", "sh", "-c", &script]);
    assert_eq!(run.stdout(), "status=1\nforced-run\n", "{}", run.stderr());
    assert!(
        run.stderr().contains("cannot tell whether"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_new_root_that_is_missing_or_not_a_directory() {
    let Some(_) = setup() else { return };
    for as_user in [false, true] {
        let run = in_mount_ns(as_user, "", "--root /nonexistent -- /bin/true");
        refused(
            &run,
            1,
            "new root '/nonexistent': No such file or directory (ENOENT)",
        );
        let run = in_mount_ns(as_user, "", "--root /etc/passwd");
        refused(&run, 1, "new root '/etc/passwd': not a directory");
        let run = in_mount_ns(as_user, "", "/nonexistent /tmp");
        refused(
            &run,
            1,
            "NEW_ROOT '/nonexistent': No such file or directory",
        );
        let run = in_mount_ns(as_user, "", "/etc/passwd /tmp");
        refused(&run, 1, "NEW_ROOT '/etc/passwd' is not a directory");
    }
}

#[test]
fn put_old_must_exist_and_be_under_new_root() {
    let Some(r) = setup() else { return };
    for as_user in [false, true] {
        let bind = format!("mount --bind {r} {r} || exit 9");
        let run = in_mount_ns(as_user, &bind, &format!("{r} /tmp"));
        refused(
            &run,
            1,
            &format!("PUT_OLD '/tmp' is not at or under NEW_ROOT '{r}'"),
        );
        // On another mount than the root's, the kernel says EINVAL instead.
        let run = in_mount_ns(as_user, &bind, &format!("{r} /proc"));
        refused(&run, 1, "PUT_OLD '/proc' is not at or under NEW_ROOT");
        let run = in_mount_ns(as_user, &bind, &format!("{r} {r}/nonexistent"));
        refused(&run, 1, "nonexistent': No such file or directory");
    }
}

#[test]
fn a_new_root_that_is_not_a_mount_point() {
    let Some(r) = setup() else { return };
    for as_user in [false, true] {
        let run = in_mount_ns(as_user, "", &format!("{r} {r}/tmp"));
        // Root hears EBUSY (on the root's mount), the user EINVAL (the
        // root's mount is locked); the advice is the same.
        refused(&run, 1, "bind it onto itself first (mount --bind DIR DIR)");
    }
}

#[test]
fn a_new_root_on_a_shared_mount() {
    let Some(r) = setup() else { return };
    for as_user in [false, true] {
        let setup = format!("mount --bind {r} {r} && mount --make-shared {r} || exit 9");
        let run = in_mount_ns(as_user, &setup, &format!("{r} {r}/tmp"));
        refused(
            &run,
            1,
            &format!("NEW_ROOT '{r}' is on a shared mount ({r}, shared:"),
        );
    }
}

/// A mount point that is not UTF-8 does not hide the rule that was broken.
#[test]
fn a_new_root_on_a_shared_mount_whose_name_is_not_utf8() {
    require!(can_run_unprivileged(), "needs root and the test user");
    let dir = Scratch::new("pivot-bytes");
    let d = format!("{}/caf\\351", dir.path.display());
    let shown = format!("{}/caf\\xe9", dir.path.display());
    for as_user in [false, true] {
        let setup = format!(
            "d=$(printf '{d}'); mkdir -p \"$d/old\" && mount -t tmpfs t \"$d\" && mkdir \"$d/old\" \
             && mount --make-shared \"$d\" || exit 9"
        );
        let run = in_mount_ns(as_user, &setup, "\"$d\" \"$d/old\"");
        refused(&run, 1, &format!("is on a shared mount ({shown}, shared:"));
    }
}

#[test]
fn a_command_not_in_the_new_root() {
    let Some(r) = setup() else { return };
    for as_user in [false, true] {
        let run = in_mount_ns(as_user, "", &format!("--root {r} -- no-such-program"));
        refused(
            &run,
            127,
            &format!("no-such-program: not found in '{r}' (searched PATH)"),
        );
        // The host has it, the new root does not.
        let run = in_mount_ns(as_user, "", &format!("--root {r} -- /usr/bin/apt-get"));
        refused(&run, 127, "/usr/bin/apt-get: not found in");
        let run = in_mount_ns(as_user, "", &format!("--root {r} -- /etc/passwd"));
        refused(&run, 126, "/etc/passwd: cannot run it in");
        let run = in_mount_ns(as_user, "", &format!("--root {r} -- /bin"));
        refused(&run, 126, "Permission denied (EACCES)");
        let run = in_mount_ns(as_user, "export SHELL=/bin/bash", &format!("--root {r}"));
        refused(&run, 127, "/bin/bash: not found in");
    }
}

#[test]
fn keep_old_must_be_a_directory_inside_the_new_root() {
    let Some(r) = setup() else { return };
    for as_user in [false, true] {
        for (dir, needle) in [
            ("/nonexistent", "No such file or directory"),
            ("/", "that is the new root itself"),
            // Spelled as a directory inside, it is the root all the same.
            ("proc/..", "that is the new root itself"),
            ("/etc/../bin/..", "that is the new root itself"),
            ("../..", "it leaves the new root"),
            ("/etc/passwd", "Not a directory"),
            ("/bin/sh", "goes through a symlink"),
        ] {
            let run = in_mount_ns(
                as_user,
                "",
                &format!("--root {r} --keep-old={dir} -- /bin/true"),
            );
            refused(&run, 1, needle);
        }
    }
}

#[test]
fn the_current_root_is_named_as_such() {
    require!(can_run_unprivileged(), "needs root and the test user");
    for as_user in [false, true] {
        let run = in_mount_ns(as_user, "", "--root / -- /bin/true");
        refused(&run, 1, "new root '/': that is the current root already");
        let run = in_mount_ns(as_user, "", "/ /tmp");
        refused(&run, 1, "NEW_ROOT '/' is the current root itself");
    }
}

#[test]
fn too_few_descriptors_is_reported_as_such() {
    let Some(r) = setup() else { return };
    // Descriptors 0 to 3 only, with 3 free whatever the caller passed down:
    // room for the new root, none for the command's lookup.
    let script = format!("exec 3>&-; ulimit -n 4; exec {PIVOT} --root {r} -- /bin/true");
    let run = unshare(&["-m", "sh", "-c", &script]);
    run.fails_as("rs-pivot", 126, "Too many open files (EMFILE)");
}
