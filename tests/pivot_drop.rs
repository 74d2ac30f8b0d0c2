//! rs-pivot --caps, --nnp and --user: the drop after the root is set up,
//! right before exec, as the kernel shows it in the box's /proc/self/status;
//! names from the image's own /etc/passwd and /etc/group; bad values refused
//! before anything is mounted.

mod common;

use common::*;

/// The fields of the box's /proc/self/status that say what it may do.
const STATUS: &str =
    "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status";

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
        .trim()
}

/// An image with a user and a group of its own (not the host's).
fn image(scratch: &Scratch) -> Option<String> {
    let r = rootfs_copy(scratch, &[])?;
    let add = |file: &str, line: &str| {
        let path = format!("{r}/etc/{file}");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(line);
        std::fs::write(path, text).unwrap();
    };
    add("passwd", "rsns-app:x:4321:4322::/:/bin/sh\n");
    add("group", "rsns-staff:x:4350:\n");
    Some(r)
}

#[test]
fn root_in_the_box_keeps_podmans_capabilities_and_no_new_privileges() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let scratch = Scratch::new("pivot-drop");
        let Some(r) = image(&scratch) else { return };
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --proc --caps=container --nnp -- sh -c \"{STATUS}\""
            ),
        )
        .ok();
        for set in ["CapPrm", "CapEff", "CapBnd", "CapInh"] {
            assert_eq!(field(&out, set), "00000000800405fb", "{set}: {out}");
        }
        assert_eq!(field(&out, "CapAmb"), "0000000000000000", "{out}");
        assert_eq!(field(&out, "NoNewPrivs"), "1", "{out}");
        assert!(field(&out, "Uid").starts_with("0\t"), "{out}");
    }
}

#[test]
fn user_takes_the_images_names_and_clears_the_groups() {
    require!(is_root(), "needs root");
    let scratch = Scratch::new("pivot-user");
    let Some(r) = image(&scratch) else { return };
    let run = |user: &str, caps: &str| {
        unshare(&[
            "-pfm", PIVOT, "--root", &r, "--proc", caps, user, "--", "sh", "-c", STATUS,
        ])
        .ok()
    };
    let out = run("--user=rsns-app", "--caps=container");
    assert_eq!(field(&out, "Uid"), "4321\t4321\t4321\t4321", "{out}");
    assert_eq!(field(&out, "Gid"), "4322\t4322\t4322\t4322", "{out}");
    assert_eq!(field(&out, "Groups"), "", "{out}");
    // Not root: nothing effective after exec; the bounding set stays narrow.
    assert_eq!(field(&out, "CapEff"), "0000000000000000", "{out}");
    assert_eq!(field(&out, "CapBnd"), "00000000800405fb", "{out}");
    let out = run("--user=4321:rsns-staff", "--caps=none");
    assert_eq!(field(&out, "Gid"), "4350\t4350\t4350\t4350", "{out}");
    assert_eq!(field(&out, "CapBnd"), "0000000000000000", "{out}");
    // A number the image does not know: its own number as the gid.
    let out = run("--user=5000", "--caps=none");
    assert_eq!(field(&out, "Gid"), "5000\t5000\t5000\t5000", "{out}");
}

/// Bad values: one line naming the value, status 1, no mount left, the
/// program never run.
#[test]
fn bad_drop_values_are_refused_before_any_mount() {
    require!(is_root(), "needs root");
    let scratch = Scratch::new("pivot-drop-bad");
    let Some(r) = image(&scratch) else { return };
    let marker = marker_sleep();
    for (option, needle) in [
        (
            "--user=nosuch-rsns",
            "--user=nosuch-rsns: no user 'nosuch-rsns' in",
        ),
        ("--user=rsns-app:nogroup-rsns", "no group 'nogroup-rsns' in"),
        ("--user=:5", "--user=:5: give USER or USER:GROUP"),
        ("--caps=chown,bogus", "unknown capability \"bogus\""),
    ] {
        let script = format!(
            "{PIVOT} --root {r} --proc --tmpfs=/tmp {option} -- sleep {marker}; s=$?; \
             grep -c {r} /proc/self/mountinfo; exit $s"
        );
        let run = unshare(&["-pfm", "sh", "-c", &script]);
        run.fails_as("rs-pivot", 1, needle);
        assert_eq!(run.stdout().trim(), "0", "{option} left a mount");
        assert!(
            processes_with(&marker).is_empty(),
            "{option} ran the program"
        );
    }
}

/// `--seccomp` in the box: loaded right before exec, after the mounts
/// (which the filter would refuse); a bad profile is refused before
/// anything is mounted.
#[test]
fn seccomp_is_loaded_last_and_a_bad_profile_mounts_nothing() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let scratch = Scratch::new("pivot-seccomp");
        let Some(r) = image(&scratch) else { return };
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let status =
            "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; swapon /etc/passwd 2>&1; true";
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --proc --tmpfs=/tmp --caps=container \
                 --seccomp=container -- sh -c \"{status}\""
            ),
        );
        let text = out.ok();
        assert!(text.contains("Seccomp:\t2\n"), "{text}");
        // swapon: EPERM from the filter, before the kernel looks at the path.
        assert!(text.contains("Operation not permitted"), "{text}");
        assert_eq!(field(&text, "NoNewPrivs"), "0", "{text}");
        let bad = scratch.join("bad.json");
        std::fs::write(&bad, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}").unwrap();
        // In a mount namespace of its own: after the refusal, nothing of
        // the image is mounted there.
        let script = format!(
            "{PIVOT} --root {r} --proc --tmpfs=/tmp --seccomp={} -- true; echo status=\\$?; \
             grep -c ' {r}' /proc/self/mountinfo",
            bad.display()
        );
        let run = sh(as_user, &format!("{UNSHARE} {flags} sh -c \"{script}\""));
        assert_eq!(run.stdout(), "status=1\n0\n", "{}", run.stderr());
        let line = run.stderr();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.starts_with("rs-pivot: ")
                && line.contains("line 1, key defaultAction: unknown variant `SCMP_ACT_NOPE`"),
            "{line}"
        );
    }
}
