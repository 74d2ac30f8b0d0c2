//! rs-pivot --root with --dev, --proc, --sys, --tmpfs, --bind, --ro-bind and
//! --ro: what the box sees, as the kernel shows it (mount table, device
//! numbers, read-only file systems), as root and as an ordinary user in a
//! user namespace; images whose /dev, /mnt or /proc are symlinks to host
//! paths never get a mount there; a failure halfway leaves no mount.

mod common;

use common::*;

/// `MOUNT_POINT FSTYPE ro|rw` for each mount the box sees.
const MOUNTS: &str = r#"awk '{for (i = 7; $i != "-"; i++); split($6, o, ","); print $5, $(i + 1), o[1]}' /proc/self/mountinfo"#;

#[test]
fn dev_proc_sys_tmpfs_and_ro_as_the_kernel_shows_them() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let script = format!(
            "echo pid=$$; ls /dev | tr '\\n' ' '; echo; ls /dev/pts; readlink /dev/ptmx; \
             stat -c '%t:%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /proc/keys; \
             head -c 3 /dev/zero | od -An -tx1; echo x > /dev/null && echo null-takes-writes; \
             echo x > /tmp/t && echo tmp-writable; echo x > /etc/t || echo etc-read-only; \
             echo 1 > /proc/sys/kernel/hostname || echo proc-sys-read-only; {MOUNTS}"
        );
        let run = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --dev --proc --sys --tmpfs=/tmp --ro -- \
                 /bin/sh -c \"$0\"",
            )
            .replace("\"$0\"", &shell_quote(&script)),
        );
        let out = run.ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "pid=1", "{out}");
        assert_eq!(
            lines[1].trim(),
            "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero",
            "{out}"
        );
        // A new devpts instance: none of the host's terminals.
        assert_eq!(lines[2], "ptmx", "{out}");
        assert_eq!(lines[3], "pts/ptmx", "{out}");
        assert_eq!(
            lines[4..11],
            ["1:3", "1:5", "1:7", "1:8", "1:9", "5:0", "1:3"],
            "{out}"
        );
        assert_eq!(lines[11].trim(), "00 00 00");
        assert_eq!(
            lines[12..14],
            ["null-takes-writes", "tmp-writable"],
            "{out}"
        );
        assert!(out.contains("etc-read-only\n"), "{out}");
        assert!(out.contains("proc-sys-read-only\n"), "{out}");
        let mounts: Vec<&str> = lines[14..]
            .iter()
            .copied()
            .filter(|l| !l.ends_with("-read-only"))
            .collect();
        for want in [
            "/ ext4 ro",
            "/dev tmpfs rw",
            "/dev/null devtmpfs rw",
            "/dev/pts devpts rw",
            "/dev/shm tmpfs rw",
            "/proc proc rw",
            "/proc/sys proc ro",
            "/proc/keys devtmpfs rw",
            "/sys sysfs ro",
            "/tmp tmpfs rw",
        ] {
            let (point, rest) = want.split_once(' ').unwrap();
            let found = mounts.iter().find(|m| m.split(' ').next() == Some(point));
            // The image's own file system type varies; its mode does not.
            let found = found.map(|m| {
                if point == "/" {
                    format!("/ ext4 {}", m.rsplit(' ').next().unwrap())
                } else {
                    m.to_string()
                }
            });
            assert_eq!(found.as_deref(), Some(want), "{rest}: {out}");
        }
        assert!(
            stderr_has(&run, "/etc/t: Read-only file system"),
            "{}",
            run.stderr()
        );
    }
}

fn stderr_has(run: &Run, needle: &str) -> bool {
    run.stderr().contains(needle)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn binds_reach_the_host_and_ro_binds_do_not() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let scratch = Scratch::new("pivot-bind");
        let Some(r) = rootfs_copy(&scratch, &[]) else {
            return;
        };
        let shared = scratch.join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::write(shared.join("from-host"), "hello\n").unwrap();
        std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
        let file = scratch.join("one-file");
        std::fs::write(&file, "a file\n").unwrap();
        std::fs::create_dir(format!("{r}/srv")).unwrap();
        std::fs::write(format!("{r}/etc/motd"), "image\n").unwrap();
        let flags = if as_user { "-Urm" } else { "-m" };
        let s = shared.display();
        let f = file.display();
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --bind={s}:/srv --ro-bind={s}:/mnt \
                 --ro-bind={f}:/etc/motd -- /bin/sh -c 'cat /srv/from-host /etc/motd; \
                 echo w > /srv/from-box && echo bind-writable; \
                 echo w > /mnt/nope 2>/dev/null || echo ro-bind-read-only; \
                 echo w > /etc/motd 2>/dev/null || echo file-read-only'"
            ),
        )
        .ok();
        assert_eq!(
            out,
            "hello\na file\nbind-writable\nro-bind-read-only\nfile-read-only\n"
        );
        assert_eq!(
            std::fs::read_to_string(shared.join("from-box")).unwrap(),
            "w\n"
        );
        assert!(!shared.join("nope").exists());
        assert_eq!(
            std::fs::read_to_string(format!("{r}/etc/motd")).unwrap(),
            "image\n"
        );
    }
}

/// Images whose mount points are symlinks to the host's paths: refused,
/// and nothing is mounted there or anywhere under the image.
#[test]
fn a_hostile_image_never_gets_a_mount_on_the_host() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let scratch = Scratch::new("pivot-hostile");
        let Some(r) = rootfs_copy(&scratch, &[]) else {
            return;
        };
        let victim = scratch.join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::create_dir(scratch.join("src")).unwrap();
        std::fs::write(victim.join("precious"), "keep\n").unwrap();
        let v = victim.display().to_string();
        for dir in ["dev", "mnt", "proc", "sys"] {
            std::fs::remove_dir(format!("{r}/{dir}")).unwrap();
            std::os::unix::fs::symlink(&v, format!("{r}/{dir}")).unwrap();
        }
        // A symlink halfway along a path, and one to a host file.
        std::os::unix::fs::symlink(&v, format!("{r}/tmp/up")).unwrap();
        std::os::unix::fs::symlink(victim.join("precious"), format!("{r}/etc/null")).unwrap();
        let src = scratch.join("src").display().to_string();
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        for (option, needle) in [
            ("--dev".to_string(), "'/dev' is a symlink in the new root"),
            ("--proc".to_string(), "'/proc' is a symlink in the new root"),
            ("--sys".to_string(), "'/sys' is a symlink in the new root"),
            (
                format!("--bind={src}:/mnt"),
                "'/mnt' is a symlink in the new root",
            ),
            (
                "--tmpfs=/tmp/up/x".to_string(),
                "goes through a symlink in the new root",
            ),
            (
                "--ro-bind=/dev/null:/etc/null".to_string(),
                "'/etc/null' is a symlink",
            ),
            ("--tmpfs=/dev/shm".to_string(), "goes through a symlink"),
        ] {
            let script = format!(
                "{PIVOT} --root {r} {option} -- /bin/true; echo status=\\$?; \
                 grep -c -e ' {v}' -e ' {r}' /proc/self/mountinfo"
            );
            let run = sh(as_user, &format!("{UNSHARE} {flags} sh -c \"{script}\""));
            assert_eq!(run.stdout(), "status=1\n0\n", "{option}: {}", run.stderr());
            let err = run.stderr();
            assert!(
                err.starts_with("rs-pivot: ") && err.contains(needle),
                "{option}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);
        assert_eq!(
            std::fs::read_to_string(victim.join("precious")).unwrap(),
            "keep\n"
        );
    }
}

/// A failure after the first mount (a bind into /proc/x, which the image
/// has but the new proc does not) undoes every mount made before it.
#[test]
fn a_failure_halfway_leaves_no_mount() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let scratch = Scratch::new("pivot-halfway");
        let Some(r) = rootfs_copy(&scratch, &[]) else {
            return;
        };
        std::fs::create_dir(format!("{r}/proc/x")).unwrap();
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let script = format!(
            "{PIVOT} --root {r} --dev --proc --sys --tmpfs=/tmp --bind=/tmp:/proc/x -- /bin/true; \
             echo status=\\$?; grep -c ' {r}' /proc/self/mountinfo"
        );
        let run = sh(as_user, &format!("{UNSHARE} {flags} sh -c \"{script}\""));
        assert_eq!(run.stdout(), "status=1\n0\n", "{}", run.stderr());
        assert!(
            run.stderr()
                .contains("--bind=/tmp:/proc/x: '/proc/x' does not exist in the new root"),
            "{}",
            run.stderr()
        );
    }
}

#[test]
fn proc_needs_a_pid_namespace_of_its_own() {
    if !can(false) {
        return;
    }
    let Some(r) = rootfs_or_skip() else { return };
    let script = format!(
        "{PIVOT} --root {r} --proc -- /bin/true; echo status=$?; grep -c ' {r}' /proc/self/mountinfo"
    );
    let run = cmd(UNSHARE, &["-m", "sh", "-c", &script]);
    assert_eq!(run.stdout(), "status=1\n0\n");
    assert!(
        run.stderr().contains("--proc needs a new PID namespace"),
        "{}",
        run.stderr()
    );
}

#[test]
fn bad_mount_options_name_the_value() {
    for (args, needle) in [
        (&["--root=/", "--bind=/etc"][..], "'/etc' is not SRC:DST"),
        (&["--dev", "a", "b"][..], "--root"),
        (
            &["--root=/nonexistent-rsns", "--tmpfs=/tmp"][..],
            "/nonexistent-rsns",
        ),
    ] {
        let run = cmd(PIVOT, args);
        assert_eq!(run.code(), 1, "{args:?}");
        assert!(run.stderr().contains(needle), "{args:?}: {}", run.stderr());
    }
}

/// `--ro` holds for the mounts already in the image too, and comes before
/// ours (the tmpfs stays writable); a destination that names `..` (the new
/// root itself, or anything) is refused before anything is mounted.
#[test]
fn ro_is_recursive_and_dot_dot_never_reaches_the_root() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let flags = if as_user { "-Urm" } else { "-m" };
        let script = format!(
            "mount -t tmpfs inner {r}/mnt && {PIVOT} --root {r} --ro --tmpfs=/tmp -- /bin/sh -c \
             'touch /mnt/x || echo mnt-read-only; touch /tmp/x && echo tmp-writable'"
        );
        let run = sh(as_user, &format!("{UNSHARE} {flags} sh -c \"{script}\""));
        assert_eq!(
            run.stdout(),
            "mnt-read-only\ntmp-writable\n",
            "{}",
            run.stderr()
        );
        for dst in [
            "--bind=/tmp:/..",
            "--tmpfs=/..",
            "--tmpfs=/proc/..",
            "--ro-bind=/etc:/etc/../x",
        ] {
            let run = sh(
                as_user,
                &format!("{UNSHARE} {flags} {PIVOT} --root {r} {dst} -- /bin/touch /OVERROOT"),
            );
            assert_eq!(run.code(), 1, "{dst}: {}", run.stderr());
            assert!(
                run.stderr().contains("names '..'"),
                "{dst}: {}",
                run.stderr()
            );
        }
        assert!(!std::path::Path::new(&r).join("OVERROOT").exists());
    }
}

/// A mount inside an earlier one is made in order, on what the earlier
/// mount holds: in a tmpfs of ours the mount point is made (nothing is
/// written to the image), in a bind it must exist there.
#[test]
fn mounts_inside_earlier_mounts_are_made_in_order() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let Some(r) = rootfs_or_skip() else { return };
        let scratch = Scratch::new("pivot-nested");
        let src = scratch.join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("hello"), "hi\n").unwrap();
        let s = src.display();
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let run = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --dev --tmpfs=/tmp --bind={s}:/tmp/x/y \
                 --ro-bind={s}/hello:/tmp/f --ro-bind={s}/hello:/dev/hello --tmpfs=/tmp/x/y/sub -- \
                 /bin/sh -c 'cat /tmp/x/y/hello /tmp/f /dev/hello; ls /tmp/x/y/sub | wc -l; \
                 echo z > /tmp/f || echo f-read-only'"
            ),
        );
        assert_eq!(
            run.stdout(),
            "hi\nhi\nhi\n0\nf-read-only\n",
            "{}",
            run.stderr()
        );
        assert!(
            !std::path::Path::new(&r).join("tmp/x").exists(),
            "nothing made in the image"
        );
        // Inside a bind (the host's directory) a missing mount point is an
        // error, not a directory made on the host.
        let run = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --bind={s}:/mnt --tmpfs=/mnt/new -- /bin/true"
            ),
        );
        assert_eq!(run.code(), 1, "{}", run.stderr());
        assert!(
            run.stderr().contains("'/mnt/new' does not exist"),
            "{}",
            run.stderr()
        );
        assert!(!src.join("new").exists());
    }
}

/// `--bind` and `--ro-bind` are nosuid and nodev, as bubblewrap's binds;
/// `--dev-bind` keeps device nodes working (still nosuid). As the kernel
/// shows it: the mount's options in mountinfo, and opening /dev/zero
/// through each bind.
#[test]
fn binds_are_nosuid_and_nodev_unless_dev_bind() {
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let scratch = Scratch::new("pivot-nodev");
        let Some(r) = rootfs_copy(&scratch, &["b", "rb", "db"]) else {
            return;
        };
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let script = "for d in b rb db; do \
             o=$(awk -v m=/$d '$5 == m {print $6}' /proc/self/mountinfo); \
             if [ \"$(head -c1 /$d/zero 2>&1 | wc -c)\" = 1 ]; then z=opens; else z=refused; fi; \
             echo $d $o $z; done";
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} {PIVOT} --root {r} --proc --bind=/dev:/b --ro-bind=/dev:/rb \
                 --dev-bind=/dev:/db -- sh -c {}",
                shell_quote(script)
            ),
        )
        .ok();
        let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split(' ').collect()).collect();
        let has = |line: &[&str], flag: &str| line[1].split(',').any(|f| f == flag);
        assert!(has(&lines[0], "nosuid") && has(&lines[0], "nodev"), "{out}");
        assert_eq!(lines[0][2], "refused", "{out}");
        assert!(
            has(&lines[1], "ro") && has(&lines[1], "nosuid") && has(&lines[1], "nodev"),
            "{out}"
        );
        assert!(
            has(&lines[2], "nosuid") && !has(&lines[2], "nodev"),
            "{out}"
        );
        assert_eq!(lines[2][2], "opens", "{out}");
    }
}

/// `--chdir` (inside the new root, symlinks resolved as if it were /),
/// `--setenv`, `--unsetenv` and `--clearenv` in command-line order, as the
/// program sees them; bad values refused before anything is mounted.
#[test]
fn chdir_and_the_environment_as_given() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-env");
    let Some(r) = rootfs_copy(&scratch, &["srv/app"]) else {
        return;
    };
    std::os::unix::fs::symlink("/srv/app", format!("{r}/applink")).unwrap();
    // A link that climbs above / stays inside the new root.
    std::os::unix::fs::symlink("/../../../srv", format!("{r}/climb")).unwrap();
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(UNSHARE);
        c.args(["-m", PIVOT, "--root", &r])
            .args(args)
            .args([
                "--",
                "sh",
                "-c",
                "pwd; env | grep -E '^(A|B|FOO|KEEP)=' | sort",
            ])
            .env_clear()
            .env("FOO", "1")
            .env("KEEP", "k");
        common::run(c).ok()
    };
    assert_eq!(
        run(&[
            "--chdir=/applink",
            "--setenv=A=1",
            "--unsetenv=FOO",
            "--setenv=FOO=3"
        ]),
        "/srv/app\nA=1\nFOO=3\nKEEP=k\n"
    );
    assert_eq!(run(&["--setenv=FOO=2", "--unsetenv=FOO"]), "/\nKEEP=k\n");
    assert_eq!(run(&["--clearenv", "--setenv=B=x=y"]), "/\nB=x=y\n");
    assert_eq!(run(&["--chdir=/climb/app"]), "/srv/app\nFOO=1\nKEEP=k\n");
    for (option, needle) in [
        ("--chdir=/nope", "--chdir=/nope: No such file or directory"),
        ("--chdir=rel", "--chdir=rel: give an absolute path"),
        ("--setenv=novalue", "'novalue' is not VAR=VALUE"),
    ] {
        let script = format!(
            "{PIVOT} --root {r} --tmpfs=/tmp {option} -- true; s=$?; grep -c {r} /proc/self/mountinfo; exit $s"
        );
        let out = unshare(&["-m", "sh", "-c", &script]);
        out.fails_as("rs-pivot", 1, needle);
        assert_eq!(out.stdout().trim(), "0", "{option} left a mount");
    }
}

/// `--tmpfs` is mode 1777 by default (a /tmp an ordinary user in the box
/// can use, as docker's and podman's); `--perms` and `--size` set the next
/// one's mode and size, as the kernel shows them (stat, the tmpfs's own
/// options in mountinfo); misplaced or bad values are usage errors.
#[test]
fn tmpfs_mode_and_size_as_asked() {
    if !can(false) {
        return;
    }
    let Some(r) = rootfs_or_skip() else { return };
    let out = unshare(&[
        "-pfm",
        PIVOT,
        "--root",
        &r,
        "--proc",
        "--tmpfs=/tmp",
        "--perms=0700",
        "--size=1m",
        "--tmpfs=/mnt",
        "--",
        "sh",
        "-c",
        "stat -c '%n %a' /tmp /mnt; awk '$5 == \"/mnt\" {print $NF}' /proc/self/mountinfo",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["/tmp 1777", "/mnt 700"], "{out}");
    let opts: Vec<&str> = lines[2].split(',').collect();
    assert!(
        opts.contains(&"size=1024k") && opts.contains(&"mode=700"),
        "{out}"
    );
    for (args, needle) in [
        (&["--perms=700"][..], "--perms applies to the next --tmpfs"),
        (
            &["--perms=9", "--tmpfs=/tmp"][..],
            "'9' is not an octal mode",
        ),
        (&["--size=0", "--tmpfs=/tmp"][..], "'0' is not a size"),
        (
            &["--size=1m", "--size=2m", "--tmpfs=/tmp"][..],
            "two --size for one --tmpfs",
        ),
    ] {
        let mut all = vec!["--root", r.as_str()];
        all.extend_from_slice(args);
        all.extend(["--", "true"]);
        cmd(PIVOT, &all).fails_as("rs-pivot", 1, needle);
    }
}

/// `--bind-try` and `--ro-bind-try` (bubblewrap's): a missing source is
/// skipped and the box still runs; a present one is bound as by `--bind`.
#[test]
fn bind_try_skips_a_missing_source() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-try");
    let Some(r) = rootfs_copy(&scratch, &["a", "b"]) else {
        return;
    };
    let out = unshare(&[
        "-pfm",
        PIVOT,
        "--root",
        &r,
        "--proc",
        "--bind-try=/nonexistent-rsns:/a",
        "--dev-bind-try=/nonexistent-rsns/x:/a",
        "--ro-bind-try=/etc:/b",
        "--",
        "sh",
        "-c",
        "awk '$5 == \"/a\" || $5 == \"/b\" {print $5, $6}' /proc/self/mountinfo; test -e /b/passwd && echo b-bound",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("/b ro,nosuid,nodev"), "{out}");
    assert_eq!(lines[1], "b-bound", "{out}");
    unshare(&[
        "-m",
        PIVOT,
        "--root",
        &r,
        "--bind=/nonexistent-rsns:/a",
        "--",
        "true",
    ])
    .fails_as(
        "rs-pivot",
        1,
        "--bind=/nonexistent-rsns:/a: source '/nonexistent-rsns'",
    );
}

/// `--remount-ro=DST` (bubblewrap's): the mount at DST read-only after the
/// mounts, as mountinfo and a refused write show; a path that is no mount
/// point, or that climbs out with `..`, is refused before anything changes.
#[test]
fn remount_ro_makes_a_mount_read_only() {
    if !can(false) {
        return;
    }
    // A copy: the box has no /dev, and writes into its image are its own.
    let scratch = Scratch::new("pivot-remount");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    let out = unshare(&[
        "-pfm",
        PIVOT,
        "--root",
        &r,
        "--proc",
        "--tmpfs=/tmp",
        "--tmpfs=/mnt",
        "--remount-ro=/mnt",
        "--",
        "sh",
        "-c",
        "for d in tmp mnt; do if touch /$d/x 2>&1 | grep -q .; then echo $d ro; else echo $d rw; fi; done; \
         awk '$5 == \"/mnt\" {print $6}' /proc/self/mountinfo",
    ])
    .ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["tmp rw", "mnt ro"], "{out}");
    assert!(lines[2].split(',').any(|o| o == "ro"), "{out}");
    for (option, needle) in [
        (
            "--remount-ro=/etc",
            "'/etc' is not a mount point in the new root",
        ),
        ("--remount-ro=/../x", "names '..'"),
    ] {
        let script = format!(
            "{PIVOT} --root {r} --tmpfs=/tmp {option} -- true; s=$?; grep -c {r} /proc/self/mountinfo; exit $s"
        );
        let run = unshare(&["-m", "sh", "-c", &script]);
        run.fails_as("rs-pivot", 1, needle);
        assert_eq!(run.stdout().trim(), "0", "{option} left a mount");
    }
}
