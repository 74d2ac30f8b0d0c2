//! The options rs-unshare and rs-pivot took from bubblewrap, run beside
//! bwrap on the same image with the same values: what the program sees
//! (its directory, hostname, environment, a tmpfs's mode, a skipped bind,
//! a read-only root) and what the hand-off descriptors say must be the
//! same, as root and as an ordinary user. bwrap's spelling of the root is
//! `--bind R /`, ours `--root R`; its `--remount-ro /` is our `--ro`
//! (ours is recursive, and `/` is refused with a pointer to `--ro`), and
//! bwrap sets no_new_privs unasked, which ours does with `--nnp`.

mod common;

use common::*;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// What the program reports of its box.
const PROBE: &str = "pwd; hostname; env | grep ^PARITY_ | sort; stat -c '%a %U' /tmp; \
    touch /x 2>&1 | sed 's/.*: //'; ls /mnt | wc -l; cat /proc/self/status | grep ^NoNewPrivs";

fn both(as_user: bool, bwrap: &str, ours: &str) -> (String, String) {
    let run = |line: &str| sh(as_user, &format!("PARITY_DROP=gone {line}"));
    let theirs = run(bwrap);
    let mine = run(ours);
    (theirs.ok(), mine.ok())
}

#[test]
fn the_program_sees_the_same_box() {
    require!(
        has_command("bwrap"),
        "needs bwrap (Debian package bubblewrap)"
    );
    let Some(r) = rootfs_or_skip() else { return };
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let bwrap = format!(
            "bwrap --unshare-all --unshare-user --uid 0 --gid 0 --hostname box --bind {r} / \
             --proc /proc --dev /dev \
             --perms 1777 --tmpfs /tmp --chdir /etc --setenv PARITY_A 'a b' --unsetenv PARITY_DROP \
             --ro-bind-try /nonexistent /mnt --remount-ro / sh -c \"{PROBE}\""
        );
        let ours = format!(
            "{UNSHARE} -Urpfmiun --hostname=box {PIVOT} --root {r} --proc --dev \
             --perms=1777 --tmpfs=/tmp --chdir=/etc --setenv='PARITY_A=a b' --unsetenv=PARITY_DROP \
             --ro-bind-try=/nonexistent:/mnt --ro --nnp -- sh -c \"{PROBE}\""
        );
        let (theirs, mine) = both(as_user, &bwrap, &ours);
        assert_eq!(mine, theirs, "as user: {as_user}");
        assert!(mine.starts_with("/etc\nbox\nPARITY_A=a b\n1777 "), "{mine}");
        assert!(mine.contains("Read-only file system\n0\n"), "{mine}");
    }
}

/// `--dir`, `--perms`, `--symlink`, `--file`, `--bind-data`,
/// `--ro-bind-data` and `--chmod` in a tmpfs, beside bwrap's: the same
/// modes, kinds, link target, contents and read-only data bind.
#[test]
fn files_are_made_as_bwrap_makes_them() {
    require!(
        has_command("bwrap"),
        "needs bwrap (Debian package bubblewrap)"
    );
    let Some(r) = rootfs_or_skip() else { return };
    let probe = "stat -c '%a %F %n' /tmp/d /tmp/p /tmp/f /tmp/g /tmp/rb /tmp/rw /tmp/deep \
        /tmp/deep/er; readlink /tmp/l; cat /tmp/f /tmp/g /tmp/rb /tmp/rw; \
        { echo x > /tmp/rb; } 2>/dev/null || echo rb-read-only";
    let data = "3<<E3 4<<E4 5<<E5 6<<E6\nf\nE3\ng\nE4\nrb\nE5\nrw\nE6\n";
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let bwrap = format!(
            "bwrap --unshare-all --unshare-user --uid 0 --gid 0 --bind {r} / --proc /proc \
             --dev /dev --tmpfs /tmp --dir /tmp/d --perms 0700 --dir /tmp/p \
             --symlink ../etc/passwd /tmp/l --file 3 /tmp/f --perms 0640 --file 4 /tmp/g \
             --ro-bind-data 5 /tmp/rb --bind-data 6 /tmp/rw --chmod 0750 /tmp/d \
             --dir /tmp/deep/er sh -c \"{probe}\" {data}"
        );
        let ours = format!(
            "{UNSHARE} -Urpfmiun {PIVOT} --root {r} --proc --dev --tmpfs=/tmp --dir=/tmp/d \
             --perms=700 --dir=/tmp/p --symlink=../etc/passwd:/tmp/l --file=3:/tmp/f \
             --perms=640 --file=4:/tmp/g --ro-bind-data=5:/tmp/rb --bind-data=6:/tmp/rw \
             --chmod=750:/tmp/d --dir=/tmp/deep/er -- sh -c \"{probe}\" {data}"
        );
        let (theirs, mine) = both(as_user, &bwrap, &ours);
        assert_eq!(mine, theirs, "as user: {as_user}");
        assert!(
            mine.starts_with("750 directory /tmp/d\n700 directory /tmp/p\n666 regular file"),
            "{mine}"
        );
        assert!(mine.ends_with("\nrb\nrw\nrb-read-only\n"), "{mine}");
    }
}

#[test]
fn the_hand_offs_write_what_bwrap_writes() {
    require!(
        has_command("bwrap"),
        "needs bwrap (Debian package bubblewrap)"
    );
    let Some(r) = rootfs_or_skip() else { return };
    if !can(true) {
        return;
    }
    let dir = Scratch::new("bwrap-handoff");
    let d = dir.path.to_str().unwrap();
    for (program, code) in [("exit 7", 7), ("kill -TERM $$", 143)] {
        let run = |who: &str, line: String| {
            let out = sh(
                true,
                &format!("{line} 3>{d}/{who}.info 4>{d}/{who}.status 5</dev/null; echo $?"),
            )
            .ok();
            assert_eq!(out, format!("{code}\n"), "{who}: {program}");
            let info: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join(&format!("{who}.info"))).unwrap(),
            )
            .unwrap();
            let status: Vec<serde_json::Value> =
                std::fs::read_to_string(dir.join(&format!("{who}.status")))
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
            (info, status)
        };
        // --block-fd on a descriptor at its end: the program starts.
        let (b_info, b_status) = run(
            "bwrap",
            format!(
                "bwrap --unshare-all --bind {r} / --info-fd 3 --json-status-fd 4 --block-fd 5 \
                 sh -c '{program}'"
            ),
        );
        let (o_info, o_status) = run(
            "ours",
            format!(
                "{UNSHARE} -Urpfmiun --init --info-fd=3 --json-status-fd=4 --block-fd=5 \
                 {PIVOT} --root {r} -- sh -c '{program}'"
            ),
        );
        // Every key bwrap writes, ours writes too (ours adds user and time).
        for key in b_info.as_object().unwrap().keys() {
            assert!(o_info.get(key).is_some(), "{key} missing from {o_info}");
        }
        assert_eq!(
            o_status.len(),
            b_status.len(),
            "{o_status:?} / {b_status:?}"
        );
        assert_eq!(o_status[0], o_info);
        assert_eq!(o_status[1], b_status[1]);
        assert_eq!(o_status[1], serde_json::json!({ "exit-code": code }));
    }
}

/// bubblewrap 0.11's overlays beside ours, with bwrap 0.11 or later (the
/// installed one, or one make test builds from Debian's source package:
/// tests/support/bwrap-new.sh): a tmp overlay at a directory and as the
/// root, a read-only one, and one writing to UPPER, whose contents after
/// the box must be the same too.
#[test]
fn overlays_are_made_as_bwrap_makes_them() {
    let newer = std::env::var("RSNS_BWRAP_NEW").unwrap_or_default();
    require!(
        !newer.is_empty() && Path::new(&newer).is_file(),
        "needs bwrap 0.11 or later in RSNS_BWRAP_NEW (make test builds one: tests/support/bwrap-new.sh)"
    );
    // Both sides make a user namespace, as root too.
    require!(
        kernel_at_least(5, 11),
        "overlayfs in a user namespace needs Linux 5.11"
    );
    let Some(r) = rootfs_or_skip() else { return };
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let scratch = Scratch::new("bwrap-overlay");
        for (layer, files) in [
            ("l1", &[("a", "1"), ("b", "1")]),
            ("l2", &[("b", "2"), ("c", "2")]),
        ] {
            std::fs::create_dir(scratch.join(layer)).unwrap();
            for (name, text) in files {
                std::fs::write(scratch.join(layer).join(name), format!("{text}\n")).unwrap();
            }
        }
        for who in ["bwrap", "ours"] {
            for d in ["up", "wk"] {
                std::fs::create_dir_all(scratch.join(&format!("{who}-{d}"))).unwrap();
            }
        }
        let dirs = ["l1", "l2", "bwrap-up", "bwrap-wk", "ours-up", "ours-wk"];
        if as_user {
            give_to_test_user(&scratch, &dirs);
        }
        let p = |d: &str| scratch.join(d).display().to_string();
        let (l1, l2) = (p("l1"), p("l2"));
        let probe = "cat /mnt/a /mnt/b /mnt/c; echo new > /mnt/n && cat /mnt/n; rm /mnt/a; ls /mnt; \
            stat -c %a /mnt";
        let root_probe = "cat /b /c /etc/hostname; echo new > /n && cat /n; ls / | head -4";
        let cases = [
            (
                format!("--bind {r} / --overlay-src {l1} --overlay-src {l2} --tmp-overlay /mnt"),
                format!("--root {r} --overlay-src={l1} --overlay-src={l2} --tmp-overlay=/mnt"),
                probe,
            ),
            (
                format!("--bind {r} / --overlay-src {l1} --overlay-src {l2} --ro-overlay /mnt"),
                format!("--root {r} --overlay-src={l1} --overlay-src={l2} --ro-overlay=/mnt"),
                "cat /mnt/a /mnt/b /mnt/c; { echo new > /mnt/n; } 2>/dev/null || echo read-only",
            ),
            (
                format!(
                    "--bind {r} / --overlay-src {l1} --overlay-src {l2} --overlay {} {} /mnt",
                    p("bwrap-up"),
                    p("bwrap-wk")
                ),
                format!(
                    "--root {r} --overlay-src={l1} --overlay-src={l2} --overlay={}:{}:/mnt",
                    p("ours-up"),
                    p("ours-wk")
                ),
                probe,
            ),
            (
                format!("--overlay-src {r} --overlay-src {l2} --tmp-overlay /"),
                format!("--overlay-src={r} --overlay-src={l2} --tmp-overlay=/"),
                root_probe,
            ),
        ];
        for (theirs, ours, probe) in cases {
            let bwrap = format!(
                "{newer} --unshare-all --unshare-user --uid 0 --gid 0 {theirs} --proc /proc \
                 --dev /dev sh -c '{probe}'"
            );
            let mine =
                format!("{UNSHARE} -Urpfmiun {PIVOT} {ours} --proc --dev -- sh -c '{probe}'");
            let (theirs_out, mine_out) = both(as_user, &bwrap, &mine);
            assert_eq!(mine_out, theirs_out, "as user: {as_user}: {ours}");
        }
        // What each left in its UPPER: the new file, and a whiteout for a.
        let upper = |who: &str| {
            let dir = scratch.join(&format!("{who}-up"));
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let kind = e.file_type().unwrap();
                    format!(
                        "{} {}",
                        e.file_name().to_string_lossy(),
                        kind.is_char_device()
                    )
                })
                .collect();
            names.sort();
            names
        };
        assert_eq!(upper("ours"), upper("bwrap"), "as user: {as_user}");
        assert_eq!(upper("ours"), ["a true", "n false"], "as user: {as_user}");
    }
}
