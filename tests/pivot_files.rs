//! rs-pivot --root with --dir, --symlink, --file, --bind-data,
//! --ro-bind-data, --chmod and missing mount points: what the box and the
//! image show (modes, link targets, contents, the mount table), as root and
//! as an ordinary user; a failure takes back what was made in the image;
//! hostile paths (a symlink, a file where a directory goes) are refused and
//! nothing on the host changes.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

/// A copy of the image in a scratch directory, the test user's own for a
/// rootless box.
fn own_image(as_user: bool, name: &str) -> Option<(Scratch, String)> {
    let scratch = Scratch::new(name);
    let r = rootfs_copy(&scratch, &[])?;
    if as_user {
        give_to_test_user(&scratch, &["rootfs"]);
    }
    Some((scratch, r))
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Each option makes what it says, with the mode asked or bubblewrap's
/// default; what is made in the image stays (as bubblewrap's), what is made
/// in a tmpfs of ours goes with the box; the data binds are file mounts.
#[test]
fn files_and_directories_as_the_kernel_shows_them() {
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let Some((_scratch, r)) = own_image(as_user, "pivot-files") else {
            return;
        };
        let flags = if as_user { "-Urmpf" } else { "-mpf" };
        let probe = "stat -c '%a %F %n' /made /made/p7 /made/f /tmp/d /tmp/d/f /tmp/rb /tmp/rw; \
             readlink /made/link; cat /made/f /tmp/d/f /tmp/rb /tmp/rw; \
             echo changed > /tmp/rw; cat /tmp/rw; { echo x > /tmp/rb; } 2>/dev/null || echo rb-read-only; \
             grep -E ' /tmp/r[bw] ' /proc/self/mountinfo | cut -d' ' -f5,6";
        let line = format!(
            "{UNSHARE} {flags} {PIVOT} --root {r} --proc --dev --dir=/made --perms=700 --dir=/made/p7 \
             --symlink=../etc/passwd:/made/link --file=3:/made/f --tmpfs=/tmp --dir=/tmp/d \
             --file=4:/tmp/d/f --ro-bind-data=5:/tmp/rb --perms=640 --bind-data=6:/tmp/rw \
             --chmod=711:/made -- sh -c \"{probe}\" \
             3<<E3 4<<E4 5<<E5 6<<E6\nimage\nE3\ntmp\nE4\nread-only\nE5\nwritable\nE6\n"
        );
        let out = sh(as_user, &line).ok();
        assert_eq!(
            out,
            "711 directory /made\n700 directory /made/p7\n666 regular file /made/f\n\
             755 directory /tmp/d\n666 regular file /tmp/d/f\n600 regular file /tmp/rb\n\
             640 regular file /tmp/rw\n../etc/passwd\nimage\ntmp\nread-only\nwritable\n\
             changed\nrb-read-only\n/tmp/rb ro,nosuid,nodev,relatime\n\
             /tmp/rw rw,nosuid,nodev,relatime\n",
            "as user: {as_user}"
        );
        // In the image: what was made there, as made; the tmpfs's are gone.
        let made = Path::new(&r).join("made");
        assert_eq!(mode(&made), 0o711);
        assert_eq!(mode(&made.join("p7")), 0o700);
        assert_eq!(std::fs::read_to_string(made.join("f")).unwrap(), "image\n");
        assert_eq!(
            std::fs::read_link(made.join("link")).unwrap(),
            Path::new("../etc/passwd")
        );
        assert_eq!(
            std::fs::read_dir(Path::new(&r).join("tmp"))
                .unwrap()
                .count(),
            0
        );
    }
}

/// A mount point the image lacks is made (parents too) and stays, as
/// bubblewrap's; a failure later takes back everything made in the image,
/// and a mode --chmod changed, leaving the image and the mount table as
/// they were.
#[test]
fn missing_mount_points_are_made_and_a_failure_takes_them_back() {
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let Some((scratch, r)) = own_image(as_user, "pivot-made") else {
            return;
        };
        std::fs::create_dir(scratch.join("src")).unwrap();
        std::fs::write(scratch.join("src/hello"), "hi\n").unwrap();
        if as_user {
            give_to_test_user(&scratch, &["src"]);
        }
        let s = scratch.join("src");
        let s = s.display();
        let flags = if as_user { "-Urm" } else { "-m" };
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --ro --tmpfs=/new/deep --ro-bind={s}:/opt/src \
                 --ro-bind={s}/hello:/opt/hello -- sh -c 'ls /new; cat /opt/src/hello /opt/hello'"
            ),
        )
        .ok();
        assert_eq!(out, "deep\nhi\nhi\n", "as user: {as_user}");
        assert!(Path::new(&r).join("new/deep").is_dir());
        assert!(Path::new(&r).join("opt/hello").is_file());
        // A failure at the last step, as the image is walked (a symlink
        // where --symlink finds a directory) or as the mounts are made (no
        // mount point is made in a bind of a host directory): the image is
        // as it was before.
        let listing = |r: &str| -> std::collections::BTreeSet<String> {
            let out = cmd("find", &[r, "-printf", "%M %u %p %l\\n"]).ok();
            out.lines().map(String::from).collect()
        };
        let before = listing(&r);
        for (last, error) in [
            (
                "--symlink=x:/bin",
                "--symlink=x:/bin: '/bin' exists, and is not a symlink",
            ),
            (
                "--tmpfs=/mnt/x/y/new",
                "--tmpfs=/mnt/x/y/new: '/mnt/x/y/new' does not exist in the new root",
            ),
        ] {
            let run = sh(
                as_user,
                &format!(
                    "before=$(cat /proc/self/mountinfo); {UNSHARE} {flags} {PIVOT} --root {r} \
                     --dir=/a/b --file=0:/f --chmod=700:/etc --tmpfs=/c/d --dir=/c/d/e \
                     --bind={s}:/mnt/x/y {last} -- true </dev/null; echo status=$?; \
                     [ \"$before\" = \"$(cat /proc/self/mountinfo)\" ] && echo unchanged"
                ),
            );
            assert_eq!(run.stdout(), "status=1\nunchanged\n", "{}", run.stderr());
            assert!(
                run.stderr().starts_with(&format!("rs-pivot: {error}")),
                "{}",
                run.stderr()
            );
            assert_eq!(run.stderr().lines().count(), 1, "{}", run.stderr());
            let after = listing(&r);
            assert!(
                after == before,
                "as user: {as_user}, {last}: made {:?}, gone {:?}",
                after.difference(&before).collect::<Vec<_>>(),
                before.difference(&after).collect::<Vec<_>>()
            );
            assert_eq!(mode(&Path::new(&r).join("etc")), 0o755);
        }
    }
}

/// A symlink on the way, or at the end, is never followed (it could point
/// at the host's files); a file where a directory goes is refused; a file
/// there already is not overwritten. Nothing outside the image changes.
#[test]
fn hostile_paths_are_refused_and_the_host_is_untouched() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-files-hostile");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    let outside = scratch.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("t"), "host\n").unwrap();
    std::fs::set_permissions(outside.join("t"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&outside, Path::new(&r).join("lnk")).unwrap();
    std::os::unix::fs::symlink(outside.join("t"), Path::new(&r).join("tl")).unwrap();
    let o = outside.display();
    for (args, needle) in [
        (
            "--dir=/lnk/x".to_string(),
            "'/lnk' is a symlink in the new root".to_string(),
        ),
        (
            "--file=0:/lnk/x".into(),
            "'/lnk' is a symlink in the new root".into(),
        ),
        (
            "--symlink=y:/lnk/x".into(),
            "'/lnk' is a symlink in the new root".into(),
        ),
        (
            "--chmod=600:/lnk/t".into(),
            "'/lnk/t' goes through a symlink in the new root".into(),
        ),
        (
            "--chmod=600:/tl".into(),
            "'/tl' is a symlink in the new root".into(),
        ),
        ("--file=0:/tl".into(), "'/tl' exists already".into()),
        (
            "--dir=/tl".into(),
            "'/tl' is a symlink in the new root".into(),
        ),
        (
            "--tmpfs=/lnk/m".into(),
            "'/lnk/m' goes through a symlink in the new root".into(),
        ),
        (
            "--dir=/etc/passwd/x".into(),
            "'/etc/passwd' is not a directory in the new root".into(),
        ),
        (
            "--dir=/etc/passwd".into(),
            "'/etc/passwd' exists, and is not a directory".into(),
        ),
        (
            "--bind-data=0:/etc".to_string(),
            "'/etc' is a directory, and the source is not".into(),
        ),
        (
            format!("--symlink={o}:/etc"),
            "'/etc' exists, and is not a symlink".into(),
        ),
    ] {
        let run = sh(
            false,
            &format!("{UNSHARE} -m {PIVOT} --root {r} {args} -- true </dev/null"),
        );
        assert_eq!(run.code(), 1, "{args}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args}: {err}");
        assert!(err.contains(&needle), "{args}: {err}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "{args}");
        assert_eq!(mode(&outside.join("t")), 0o644, "{args}");
    }
}

/// Bad values: a one-line error naming the value, status 1, nothing made.
#[test]
fn bad_file_options_name_the_value() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-files-bad");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    for (args, needle) in [
        ("--file=x:/a", "'x:/a' is not FD:DST"),
        ("--file=3", "'3' is not FD:DST"),
        ("--bind-data=-1:/a", "'-1:/a' is not FD:DST"),
        ("--chmod=8:/a", "'8' is not an octal mode"),
        ("--chmod=700", "'700' is not OCTAL:DST"),
        ("--symlink=:/a", "':/a' is not TARGET:DST"),
        (
            "--file=9:/a",
            "--file=9:/a: descriptor 9: Bad file descriptor",
        ),
        (
            "--file=0:/a --ro-bind-data=0:/b",
            "--ro-bind-data=0:/b: descriptor 0 is given twice",
        ),
        (
            "--dir=/a --perms=700",
            "--perms applies to the next --tmpfs, --dir, --file",
        ),
        ("--perms=700 --perms=755 --dir=/a", "two --perms for one"),
        ("--dir=/../a", "'/../a' names '..'"),
        (
            "--chmod=700:/a",
            "--chmod=700:/a: '/a' does not exist in the new root",
        ),
    ] {
        let run = sh(
            false,
            &format!("{UNSHARE} -m {PIVOT} --root {r} {args} -- true </dev/null"),
        );
        assert_eq!(run.code(), 1, "{args}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args}: {err}");
        assert!(err.contains(needle), "{args}: {err}");
        assert!(!Path::new(&r).join("a").exists(), "{args}");
        assert!(!Path::new(&r).join("b").exists(), "{args}");
    }
}
