//! rs-pivot's overlays (bubblewrap's `--overlay-src` with `--overlay`,
//! `--tmp-overlay` and `--ro-overlay`): what the box sees through the
//! layers (the higher layer wins, lowest given first), where its writes go
//! (the host's UPPER, a tmpfs that goes with the box, nowhere), what the
//! mount table shows, and bad input refused before anything is mounted.
//! As root, and as an ordinary user where the kernel allows overlayfs in a
//! user namespace (5.11), else the refusal that says so.

mod common;

use std::path::Path;

use common::*;

/// Two layers: a and b in the lower one, b and c in the upper one.
fn layers(scratch: &Scratch) -> (String, String) {
    for (dir, files) in [("l1", &["a", "b"]), ("l2", &["b", "c"])] {
        std::fs::create_dir_all(scratch.join(dir)).unwrap();
        for f in files {
            std::fs::write(scratch.join(dir).join(f), format!("{dir}\n")).unwrap();
        }
    }
    let p = |d: &str| scratch.join(d).display().to_string();
    (p("l1"), p("l2"))
}

/// overlayfs in a user namespace came in Linux 5.11.
fn kernel_allows_user_overlay() -> bool {
    kernel_at_least(5, 11)
}

/// What the box reads through /mnt, then its writes, then /mnt's mount.
const PROBE: &str = "exec 2>&1; cat /mnt/a /mnt/b /mnt/c; echo changed > /mnt/a && echo new > /mnt/d && \
    cat /mnt/a /mnt/d; awk '$5 == \"/mnt\" {o = $6; for (i = 7; $i != \"-\"; i++); t = $(i + 1)} \
    END {print o; print t}' /proc/self/mountinfo";

#[test]
fn tmp_overlay_and_overlay_join_layers_and_put_writes_where_asked() {
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let scratch = Scratch::new("pivot-overlay");
        let Some(r) = rootfs_copy(&scratch, &["mnt"]) else {
            return;
        };
        let (l1, l2) = layers(&scratch);
        for d in ["up", "wk"] {
            std::fs::create_dir(scratch.join(d)).unwrap();
        }
        // A rootless box's layers are its user's own: overlayfs keeps a
        // file's owner when the box changes it, and an owner the user
        // namespace does not map (the host's root) cannot be kept.
        if as_user {
            give_to_test_user(&scratch, &["l1", "l2", "up", "wk"]);
        }
        let up = scratch.join("up").display().to_string();
        let wk = scratch.join("wk").display().to_string();
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        for (option, kept) in [
            ("--tmp-overlay=/mnt".to_string(), false),
            (format!("--overlay={up}:{wk}:/mnt"), true),
        ] {
            // What an earlier box wrote to UPPER would show through.
            let _ = std::fs::remove_file(Path::new(&up).join("d"));
            let run = sh(
                as_user,
                &format!(
                    "{UNSHARE} {flags} {PIVOT} --root {r} --proc --overlay-src={l1} \
                     --overlay-src={l2} {option} -- sh -c '{}'",
                    PROBE.replace('\'', "'\\''")
                ),
            );
            if as_user && !kernel_allows_user_overlay() {
                run.fails_as(
                    "rs-pivot",
                    1,
                    "overlayfs in a user namespace needs Linux 5.11",
                );
                return;
            }
            let out = run.ok();
            let lines: Vec<&str> = out.lines().collect();
            // b from l2: the layer given last is on top.
            assert_eq!(
                lines[..5],
                ["l1", "l2", "l2", "changed", "new"],
                "{option}: {out}"
            );
            assert!(
                lines[5].contains("nosuid") && lines[5].contains("nodev"),
                "{out}"
            );
            assert_eq!(lines[6], "overlay", "{out}");
            // The layers are never written.
            assert_eq!(
                std::fs::read_to_string(scratch.join("l1/a")).unwrap(),
                "l1\n"
            );
            assert!(!scratch.join("l1/d").exists() && !scratch.join("l2/d").exists());
            let upper_d = Path::new(&up).join("d");
            assert_eq!(upper_d.exists(), kept, "{option}");
            if kept {
                assert_eq!(std::fs::read_to_string(upper_d).unwrap(), "new\n");
            }
        }
    }
}

#[test]
fn ro_overlay_is_read_only() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-ro-overlay");
    let Some(r) = rootfs_copy(&scratch, &["mnt"]) else {
        return;
    };
    let (l1, l2) = layers(&scratch);
    let out = unshare(&[
        "-m",
        PIVOT,
        "--root",
        &r,
        &format!("--overlay-src={l1}"),
        &format!("--overlay-src={l2}"),
        "--ro-overlay=/mnt",
        "--",
        "sh",
        "-c",
        "cat /mnt/a /mnt/b /mnt/c; touch /mnt/x 2>&1 | sed 's/.*: //'",
    ])
    .ok();
    assert_eq!(out, "l1\nl2\nl2\nRead-only file system\n");
}

#[test]
fn bad_overlays_are_refused_before_anything_is_mounted() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-overlay-bad");
    let Some(r) = rootfs_copy(&scratch, &["mnt"]) else {
        return;
    };
    let (l1, l2) = layers(&scratch);
    std::os::unix::fs::symlink("/etc", format!("{r}/link")).unwrap();
    let file = scratch.join("l1/a").display().to_string();
    let src = |p: &str| format!("--overlay-src={p}");
    for (args, needle) in [
        (
            vec!["--tmp-overlay=/mnt".to_string()],
            "--tmp-overlay=/mnt: no --overlay-src before it".to_string(),
        ),
        (
            vec![src(&l1), "--ro-overlay=/mnt".into()],
            "--ro-overlay=/mnt: needs two --overlay-src or more".into(),
        ),
        (
            vec![src(&l1), "--tmp-overlay=/mnt".into(), src(&l2)],
            format!("--overlay-src={l2}: no --overlay, --tmp-overlay or --ro-overlay after it"),
        ),
        (
            vec![src("/nonexistent"), "--tmp-overlay=/mnt".into()],
            "--tmp-overlay=/mnt: layer '/nonexistent': No such file or directory".into(),
        ),
        (
            vec![src(&file), "--tmp-overlay=/mnt".into()],
            format!("--tmp-overlay=/mnt: layer '{file}': not a directory"),
        ),
        (
            vec![src(&l1), src(&l2), "--tmp-overlay=/link".into()],
            "--tmp-overlay=/link: '/link'".into(),
        ),
        (
            vec![src(&l1), "--tmp-overlay=/bin/busybox".into()],
            "--tmp-overlay=/bin/busybox: '/bin/busybox' is not a directory in the new root".into(),
        ),
        (
            vec![src(&l1), "--overlay=a:b".into()],
            "'a:b' is not UPPER:WORK:DST".into(),
        ),
    ] {
        // The mount table after the refusal is the one before it.
        let line = format!(
            "before=$(cat /proc/self/mountinfo); {PIVOT} --root {r} {} -- touch /ran; \
             echo status=$?; [ \"$before\" = \"$(cat /proc/self/mountinfo)\" ] && echo unchanged",
            args.join(" ")
        );
        let run = cmd("unshare", &["-m", "sh", "-c", &line]);
        let out = run.stdout();
        assert_eq!(out, "status=1\nunchanged\n", "{args:?}: {}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("rs-pivot: ") && err.contains(&needle),
            "{args:?}: {err}"
        );
        assert!(!Path::new(&r).join("ran").exists());
    }
}

/// Without --root, an overlay at / is the new root: a container of image
/// layers in one command. What it reads comes through the layers; its
/// writes land in UPPER (`--overlay`) or nowhere (`--tmp-overlay`).
#[test]
fn an_overlay_at_root_is_the_new_root() {
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let scratch = Scratch::new("pivot-overlay-root");
        let Some(base) = rootfs_copy(&scratch, &[]) else {
            return;
        };
        std::fs::create_dir_all(scratch.join("app/etc")).unwrap();
        std::fs::write(scratch.join("app/etc/motd"), "from the app layer\n").unwrap();
        for d in ["up", "wk"] {
            std::fs::create_dir(scratch.join(d)).unwrap();
        }
        if as_user {
            give_to_test_user(&scratch, &["rootfs", "app", "up", "wk"]);
        }
        let p = |d: &str| scratch.join(d).display().to_string();
        let flags = if as_user { "-Urpfm" } else { "-pfm" };
        let probe = "cat /etc/motd; echo new > /etc/note && cat /etc/note; \
            awk '$5 == \"/\" {for (i = 7; $i != \"-\"; i++); print $(i + 1)}' /proc/self/mountinfo";
        for (option, kept) in [
            ("--tmp-overlay=/".to_string(), false),
            (format!("--overlay={}:{}:/", p("up"), p("wk")), true),
        ] {
            let run = sh(
                as_user,
                &format!(
                    "{UNSHARE} {flags} {PIVOT} --overlay-src={base} --overlay-src={} {option} \
                     --proc -- sh -c '{}'",
                    p("app"),
                    probe.replace('\'', "'\\''")
                ),
            );
            if as_user && !kernel_allows_user_overlay() {
                run.fails_as(
                    "rs-pivot",
                    1,
                    "overlayfs in a user namespace needs Linux 5.11",
                );
                return;
            }
            assert_eq!(run.ok(), "from the app layer\nnew\noverlay\n", "{option}");
            assert!(!Path::new(&base).join("etc/note").exists());
            assert!(!scratch.join("app/etc/note").exists());
            assert_eq!(scratch.join("up/etc/note").exists(), kept, "{option}");
        }
    }
}

#[test]
fn a_root_overlay_and_root_are_one_or_the_other() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-overlay-root-bad");
    let Some(r) = rootfs_copy(&scratch, &["mnt"]) else {
        return;
    };
    for (args, needle) in [
        (
            format!("--root {r} --overlay-src={r} --tmp-overlay=/"),
            "--tmp-overlay=/: with --root the overlay goes inside the new root",
        ),
        (
            format!("--overlay-src={r} --tmp-overlay=/mnt"),
            "--tmp-overlay=/mnt: needs --root, or / as its destination",
        ),
    ] {
        let run = cmd(
            "unshare",
            &["-m", "sh", "-c", &format!("{PIVOT} {args} -- true")],
        );
        run.fails_as("rs-pivot", 1, needle);
    }
}

/// One layer is enough for `--tmp-overlay=/` (the checks read the layer
/// itself; the overlay is made once the namespace is private).
#[test]
fn one_layer_makes_a_tmp_overlay_root() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("pivot-overlay-one");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    let out = unshare(&[
        "-pfm",
        PIVOT,
        &format!("--overlay-src={r}"),
        "--tmp-overlay=/",
        "--",
        "sh",
        "-c",
        "echo x > /etc/n && cat /etc/n",
    ])
    .ok();
    assert_eq!(out, "x\n");
    assert!(!Path::new(&r).join("etc/n").exists());
    // A command the layer lacks is refused before anything is mounted.
    unshare(&[
        "-pfm",
        PIVOT,
        &format!("--overlay-src={r}"),
        "--tmp-overlay=/",
        "--",
        "nosuch",
    ])
    .fails_as("rs-pivot", 127, "nosuch: not found in '--tmp-overlay=/'");
}
