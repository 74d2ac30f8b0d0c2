//! Keeping namespaces alive in files (`--uts=FILE` and friends): the bound
//! file is the program's namespace, util-linux nsenter enters it, and a run
//! that fails leaves no mount and no file behind.

mod common;

use std::os::unix::fs::MetadataExt;

use common::*;

/// (long option, /proc/self/ns name) for every kind.
const LONG_KINDS: [(&str, &str); 8] = [
    ("mount", "mnt"),
    ("uts", "uts"),
    ("ipc", "ipc"),
    ("net", "net"),
    ("pid", "pid"),
    ("user", "user"),
    ("cgroup", "cgroup"),
    ("time", "time"),
];

fn inode_of(path: &std::path::Path) -> String {
    std::fs::metadata(path).unwrap().ino().to_string()
}

#[test]
fn every_kind_is_kept_in_its_file_in_both_modes() {
    require!(is_root(), "needs root");
    for fork in [false, true] {
        for (option, kind) in LONG_KINDS {
            if kind == "pid" && !fork {
                continue; // needs --fork; refused, see unshare_errors
            }
            let dir = Scratch::new("persist");
            let file = dir.empty_file(kind);
            let arg = format!("--{option}={}", file.display());
            let link = format!("/proc/self/ns/{kind}");
            let mut args = vec![arg.as_str()];
            if fork {
                args.push("-f");
            }
            args.extend(["readlink", &link]);
            let inside = unshare(&args).ok();
            assert_eq!(
                inside.trim(),
                format!("{kind}:[{}]", inode_of(&file)),
                "{args:?}: the file holds the program's namespace"
            );
            assert_eq!(dir.mounts().len(), 1, "{args:?}");
        }
    }
}

#[test]
fn util_linux_nsenter_enters_what_we_kept() {
    require!(
        is_root() && has_command("nsenter"),
        "needs root and util-linux nsenter"
    );
    let dir = Scratch::new("nsenter");
    let uts = dir.empty_file("uts");
    let net = dir.empty_file("net");
    let time = dir.empty_file("time");
    let mnt = dir.empty_file("mnt");
    let args = [
        format!("--uts={}", uts.display()),
        format!("--net={}", net.display()),
        format!("--time={}", time.display()),
        format!("--mount={}", mnt.display()),
        "--boottime=1000000".into(),
        "sh".into(),
        "-c".into(),
        "hostname kept-box; mount -t tmpfs rsns-kept /mnt".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    unshare(&args).ok();
    let uts_arg = format!("--uts={}", uts.display());
    assert_eq!(
        cmd("nsenter", &[uts_arg.as_str(), "hostname"]).ok(),
        "kept-box\n"
    );
    let net_arg = format!("--net={}", net.display());
    let links = cmd("nsenter", &[net_arg.as_str(), "ip", "-o", "link"]).ok();
    assert_eq!(links.lines().count(), 1, "only loopback: {links}");
    let time_arg = format!("--time={}", time.display());
    let uptime = cmd("nsenter", &[time_arg.as_str(), "cat", "/proc/uptime"]).ok();
    let secs: f64 = uptime.split_whitespace().next().unwrap().parse().unwrap();
    assert!(secs > 1_000_000.0, "{uptime}");
    let mnt_arg = format!("--mount={}", mnt.display());
    let mounts = cmd(
        "nsenter",
        &[mnt_arg.as_str(), "cat", "/proc/self/mountinfo"],
    )
    .ok();
    assert!(
        mounts.contains("rsns-kept"),
        "the mount made inside is there"
    );
    // Dropping a namespace is an umount, as with unshare(1).
    assert!(
        cmd("umount", &[uts.to_str().unwrap()])
            .output
            .status
            .success()
    );
    assert_eq!(std::fs::metadata(&uts).unwrap().len(), 0);
}

#[test]
fn a_namespace_kept_by_util_linux_is_recognised_and_not_covered() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    let dir = Scratch::new("theirs");
    let file = dir.empty_file("uts");
    let arg = format!("--uts={}", file.display());
    cmd("unshare", &[arg.as_str(), "hostname", "theirs"]).ok();
    let run = unshare(&[arg.as_str(), "true"]);
    run.fails_with(1, "already holds a namespace");
    assert_eq!(dir.mounts().len(), 1, "their bind is left as it was");
}

#[test]
fn a_mount_namespace_can_be_kept_on_a_shared_mount() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    // unshare(1) fails here (EINVAL) and leaves its earlier binds behind. We
    // make the new namespace's mounts private before binding, so the bind
    // cannot propagate into the namespace it names.
    //
    // The scenario runs in a scratch mount namespace, and from any namespace
    // but the initial one the kernel refuses at random: it binds a mount
    // namespace only into one with a lower id, and Linux 6.18 hands out ids
    // per CPU. Such a refusal must say so; at least one of a few tries works.
    let dir = Scratch::new("sharedok");
    let d = dir.path.display();
    for fork in ["", "-f"] {
        let mut kept = false;
        for _ in 0..12 {
            let script = format!(
                "mount -t tmpfs s {d} && mount --make-shared {d} && touch {d}/mnt && \
                 {UNSHARE} {fork} --mount={d}/mnt readlink /proc/self/ns/mnt && \
                 stat -L -c %i {d}/mnt"
            );
            let run = cmd("unshare", &["-m", "sh", "-c", &script]);
            if run.output.status.success() {
                let out = run.stdout();
                let lines: Vec<&str> = out.lines().collect();
                assert_eq!(lines[0], format!("mnt:[{}]", lines[1]), "{fork}: {out}");
                kept = true;
                break;
            }
            assert!(
                run.stderr().contains("got a lower id"),
                "{fork}: {}",
                run.stderr()
            );
        }
        assert!(kept, "{fork}: never kept in 12 tries");
    }
}

#[test]
fn unprivileged_keeping_inside_its_own_mount_namespace() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    // An unprivileged user may bind only in a mount namespace it owns: make
    // one with util-linux, then keep a UTS namespace on a tmpfs in it.
    let (uid, gid) = test_user().unwrap();
    let script = format!(
        "mount -t tmpfs t /mnt && touch /mnt/uts && {UNSHARE} --uts=/mnt/uts hostname kept && nsenter --uts=/mnt/uts hostname"
    );
    let run = run(as_user(uid, gid, "unshare", &["-rm", "sh", "-c", &script]));
    assert_eq!(run.ok(), "kept\n");
}
