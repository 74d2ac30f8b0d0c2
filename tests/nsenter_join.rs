//! rs-nsenter joins running boxes (made by rs-unshare and by util-linux
//! unshare) and namespace files; the joined program reports what the kernel
//! says: namespace inodes, hostname, PIDs, ids, directories, environment.

mod common;

use common::*;

const SHOW_NS: &str = "readlink /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net \
                       /proc/self/ns/pid /proc/self/ns/cgroup /proc/self/ns/user /proc/self/ns/time";

fn box_links(b: &Boxed) -> Vec<String> {
    ["mnt", "uts", "ipc", "net", "pid", "cgroup", "user", "time"]
        .iter()
        .map(|k| b.ns(k))
        .collect()
}

#[test]
fn all_joins_every_namespace_of_a_box_made_by_either_tool() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    for maker in [Maker::RsUnshare, Maker::UtilLinux] {
        let b = Boxed::start(
            maker,
            false,
            &["-pfmuinCT", "--mount-proc"],
            "hostname joined-box",
        );
        let script = format!("{SHOW_NS}; hostname; echo $$; ls /proc | grep -c '^[0-9]'");
        let out = nsenter(&["-t", &b.pid_arg(), "-a", "sh", "-c", &script]).ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..8].to_vec(), box_links(&b), "{maker:?}");
        assert_eq!(lines[8], "joined-box");
        // In the box's PID namespace, with its /proc: a few processes only.
        let pid: u32 = lines[9].parse().unwrap();
        assert!(pid < 20, "{maker:?}: PID {pid} inside");
        assert!(lines[10].parse::<u32>().unwrap() <= 6, "{maker:?}: {out}");
    }
}

#[test]
fn each_kind_alone_is_the_targets_and_the_rest_stays_ours() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-Urpfmuin", "-CT"], "true");
    for (flag, kind) in KINDS {
        let link = format!("/proc/self/ns/{kind}");
        let out = nsenter(&[
            "-t",
            &b.pid_arg(),
            flag,
            "readlink",
            &link,
            "/proc/self/ns/uts",
        ])
        .ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], b.ns(kind), "{flag}");
        if kind != "uts" {
            assert_eq!(
                lines[1],
                ns_link("self", "uts"),
                "{flag} left our uts namespace alone"
            );
        }
    }
}

#[test]
fn the_owner_joins_its_rootless_box_where_nsenter_fails() {
    require!(
        can_run_unprivileged() && has_command("nsenter"),
        "needs the unprivileged test user"
    );
    let b = Boxed::start(
        Maker::RsUnshare,
        true,
        &["-Urpfmu", "--mount-proc"],
        "hostname rootless",
    );
    let script = format!("id -u; hostname; echo $$; {SHOW_NS}");
    let out = nsenter_as_user(&["-t", &b.pid_arg(), "-a", "sh", "-c", &script]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..2], ["0", "rootless"]);
    assert!(lines[2].parse::<u32>().unwrap() < 20);
    assert_eq!(lines[3..].to_vec(), box_links(&b));
    // nsenter(1) 2.38 tries the cgroup namespace we share with the box and
    // gets EPERM; we skip every namespace that is already ours.
    let (uid, gid) = test_user().unwrap();
    let theirs = run(as_user(
        uid,
        gid,
        "nsenter",
        &["-t", &b.pid_arg(), "-a", "true"],
    ));
    assert!(
        !theirs.output.status.success(),
        "util-linux now succeeds: {}",
        theirs.stderr()
    );
    // The same through the /proc/PID/ns files (the path for kernels before 5.8).
    let mut cmd = as_user(uid, gid, NSENTER, &["-t", &b.pid_arg(), "-a", "hostname"]);
    cmd.env("RSNS_JOIN_VIA_PROC", "1");
    assert_eq!(run(cmd).ok(), "rootless\n");
}

#[test]
fn root_and_working_directory_of_the_target_or_given() {
    let rootfs = rootfs();
    require!(
        is_root() && rootfs.is_some(),
        "needs root and busybox-static"
    );
    let rootfs = rootfs.unwrap();
    let root = format!("--root={}", rootfs.display());
    let b = Boxed::start(
        Maker::RsUnshare,
        false,
        &["-Urpfm", &root, "--wd=/etc"],
        "true",
    );
    let t = b.pid_arg();
    // The target's root and working directory.
    let out = nsenter(&[
        "-t",
        &t,
        "-a",
        "-r",
        "-w",
        "sh",
        "-c",
        "pwd; cat /etc/hostname",
    ])
    .ok();
    assert_eq!(out, "/etc\nbox\n");
    // -W: a directory taken inside the namespaces and the new root.
    assert_eq!(
        nsenter(&["-t", &t, "-a", "-r", "-W", "/tmp", "pwd"]).ok(),
        "/tmp\n"
    );
    // With -r alone, the working directory is where entering left us.
    assert_eq!(nsenter(&["-t", &t, "-a", "-r", "pwd"]).ok(), "/\n");
    // Given directories are opened here, before entering: -r=DIR is a root
    // from our side, and -w=DIR a tunnel back into our mount namespace
    // (reachable, though getcwd cannot name it from inside).
    let given_root = format!("-r={}", rootfs.display());
    assert_eq!(
        nsenter(&["-t", &t, "-a", &given_root, "cat", "/etc/hostname"]).ok(),
        "box\n"
    );
    let dir = Scratch::new("tunnel");
    std::fs::write(dir.join("marker"), "from our side\n").unwrap();
    let tunnel = format!("-w={}", dir.path.display());
    assert_eq!(
        nsenter(&["-t", &t, "-a", &tunnel, "cat", "marker"]).ok(),
        "from our side\n"
    );
}

#[test]
fn environment_of_the_target_with_e() {
    require!(is_root(), "needs root");
    let b = Boxed::start(
        Maker::RsUnshare,
        false,
        &["-u", "--clear-env"],
        "export BOXED=yes",
    );
    let mut cmd = std::process::Command::new(NSENTER);
    cmd.env("OURS", "1")
        .args(["-t", &b.pid_arg(), "-u", "-e", "env"]);
    let theirs = run(cmd).ok();
    assert!(
        theirs.contains("BOXED=yes") && !theirs.contains("OURS=1"),
        "{theirs}"
    );
    let mut cmd = std::process::Command::new(NSENTER);
    cmd.env("OURS", "1").args(["-t", &b.pid_arg(), "-u", "env"]);
    let ours = run(cmd).ok();
    assert!(
        ours.contains("OURS=1") && !ours.contains("BOXED=yes"),
        "{ours}"
    );
}

#[test]
fn credentials_default_follow_and_preserve() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let (uid, _) = test_user().unwrap();
    // A box that maps the user to itself: uid 0 does not exist in it.
    let b = Boxed::start(Maker::RsUnshare, true, &["-c"], "true");
    let t = b.pid_arg();
    let run = nsenter_as_user(&["-t", &t, "-U", "id", "-u"]);
    run.fails_as("rs-nsenter", 1, "--preserve-credentials");
    assert_eq!(
        nsenter_as_user(&["-t", &t, "-U", "--preserve-credentials", "id", "-u"]).ok(),
        format!("{uid}\n")
    );
    assert_eq!(
        nsenter_as_user(&["-t", &t, "-U", "-S", "follow", "-G", "follow", "id", "-u"]).ok(),
        format!("{uid}\n")
    );
    // A root box: the default is root inside; follow gives the target's ids.
    let b = Boxed::start(Maker::RsUnshare, true, &["-r"], "true");
    assert_eq!(
        nsenter_as_user(&["-t", &b.pid_arg(), "-U", "id", "-u"]).ok(),
        "0\n"
    );
    // Where setgroups is denied (after -r) there are no groups to drop: fine.
    assert_eq!(
        nsenter_as_user(&["-t", &b.pid_arg(), "-U", "-G", "0", "id", "-g"]).ok(),
        "0\n"
    );
}

#[test]
fn keep_caps_gives_ambient_capabilities() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let b = Boxed::start(Maker::RsUnshare, true, &["-c"], "true");
    let pid = b.pid_arg();
    let amb = |extra: &[&str]| {
        let mut args = vec!["-t", &pid, "-U", "--preserve-credentials"];
        args.extend_from_slice(extra);
        args.extend(["grep", "CapAmb", "/proc/self/status"]);
        let out = nsenter_as_user(&args).ok();
        u64::from_str_radix(out.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    assert_eq!(amb(&[]), 0);
    assert_ne!(amb(&["--keep-caps"]), 0);
}

#[test]
fn user_parent_is_the_owner_or_the_parent() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let b = Boxed::start(Maker::RsUnshare, true, &["-Uru"], "true");
    let t = b.pid_arg();
    // From the UTS namespace: the user namespace that owns it, the box's.
    let out = nsenter_as_user(&[
        "-t",
        &t,
        "-u",
        "--user-parent",
        "readlink",
        "/proc/self/ns/user",
    ])
    .ok();
    assert_eq!(out.trim(), b.ns("user"));
    // From the box's user namespace: its parent, which is ours.
    let out = nsenter_as_user(&[
        "-t",
        &t,
        "-U",
        "--user-parent",
        "readlink",
        "/proc/self/ns/user",
    ])
    .ok();
    assert_eq!(out.trim(), ns_link("self", "user"));
}

#[test]
fn net_socket_enters_the_network_namespace_of_a_socket() {
    require!(is_root() && has_command("bash"), "needs root and bash");
    // Fd 3 is a socket made in our network namespace, held by a box in another.
    let script = format!("exec 3<>/dev/udp/127.0.0.1/9; exec {UNSHARE} -n sh -c 'exec sleep 600'");
    let mut child = std::process::Command::new("bash")
        .args(["-c", &script])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + patience(10);
    let pid = loop {
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
            .unwrap_or_default();
        if let Some(p) = children.split_whitespace().next() {
            break p.to_string();
        }
        if std::fs::read_to_string(format!("/proc/{}/comm", child.id()))
            .is_ok_and(|c| c.trim() == "sleep")
        {
            break child.id().to_string();
        }
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let box_net = ns_link(&pid, "net");
    assert_ne!(box_net, ns_link("self", "net"));
    assert_eq!(
        nsenter(&["-t", &pid, "-N", "3", "readlink", "/proc/self/ns/net"])
            .ok()
            .trim(),
        ns_link("self", "net")
    );
    assert_eq!(
        nsenter(&["-t", &pid, "-n", "readlink", "/proc/self/ns/net"])
            .ok()
            .trim(),
        box_net
    );
    nsenter(&["-t", &pid, "-N", "1", "true"]).fails_as("rs-nsenter", 1, "is not a socket");
    nsenter(&["-t", &pid, "-N", "77", "true"]).fails_as("rs-nsenter", 1, "has no descriptor 77");
    let _ = child.kill();
    let _ = kill_pid(
        pid.parse::<u32>().unwrap(),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.wait();
}

#[test]
fn join_cgroup_moves_the_program_into_the_targets_cgroup() {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let v2 = mountinfo
        .lines()
        .find(|l| l.contains(" - cgroup2 "))
        .and_then(|l| l.split(' ').nth(4))
        .map(str::to_string);
    require!(
        is_root() && v2.is_some(),
        "needs root and a cgroup v2 hierarchy"
    );
    // A group name is bytes: a space and a byte that is not UTF-8 included.
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut name = format!("rsns-test-{} caf", std::process::id()).into_bytes();
    name.push(0xe9);
    let group =
        std::path::PathBuf::from(v2.unwrap()).join(std::ffi::OsString::from_vec(name.clone()));
    std::fs::create_dir_all(&group).unwrap();
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    std::fs::write(group.join("cgroup.procs"), b.pid_arg()).unwrap();
    // On a hybrid host (a cgroup v1 hierarchy mounted), the target also in
    // a v1 group we are not in: one note names what -c leaves out. Where
    // there is none, or nothing differs, no note.
    let v1 = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .find(|l| l.contains(" - cgroup ") && l.ends_with(",pids"))
        .and_then(|l| l.split(' ').nth(4))
        .map(std::path::PathBuf::from);
    let v1_group = v1.map(|m| m.join(format!("rsns-test-{}", std::process::id())));
    if let Some(g) = &v1_group {
        std::fs::create_dir_all(g).unwrap();
        std::fs::write(g.join("cgroup.procs"), b.pid_arg()).unwrap();
    }
    let run = nsenter(&["-t", &b.pid_arg(), "-u", "-c", "cat", "/proc/self/cgroup"]);
    run.ok();
    let note = format!(
        "-c joins the cgroup v2 group only; PID {} is also in cgroup v1 groups the program \
         stays out of (pids:/rsns-test-{})\n",
        b.pid_arg(),
        std::process::id()
    );
    assert_eq!(
        run.stderr().matches(&note).count(),
        usize::from(v1_group.is_some()),
        "{}",
        run.stderr()
    );
    assert_eq!(
        run.stderr().lines().count(),
        usize::from(v1_group.is_some())
    );
    let mut want = b"/".to_vec();
    want.extend_from_slice(group.file_name().unwrap().as_bytes());
    want.push(b'\n');
    assert!(
        run.output.stdout.ends_with(&want),
        "{:?}",
        String::from_utf8_lossy(&run.output.stdout)
    );
    drop(b);
    if let Some(g) = &v1_group {
        let deadline = std::time::Instant::now() + patience(5);
        while std::fs::remove_dir(g).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "{} still busy",
                g.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    // The group empties once the box and our program are gone.
    let deadline = std::time::Instant::now() + patience(5);
    while std::fs::remove_dir(&group).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "cgroup {} still busy",
            group.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn namespace_files_kept_by_either_tool_are_entered() {
    require!(
        is_root() && has_command("unshare"),
        "needs root and util-linux unshare"
    );
    let dir = Scratch::new("nsfiles");
    let ours = dir.empty_file("ours");
    let theirs = dir.empty_file("theirs");
    let arg = |p: &std::path::Path| format!("--uts={}", p.display());
    unshare(&[&arg(&ours), "hostname", "kept-by-us"]).ok();
    cmd(
        "unshare",
        &[arg(&theirs).as_str(), "hostname", "kept-by-them"],
    )
    .ok();
    assert_eq!(nsenter(&[&arg(&ours), "hostname"]).ok(), "kept-by-us\n");
    assert_eq!(nsenter(&[&arg(&theirs), "hostname"]).ok(), "kept-by-them\n");
    // The short form with the file attached, as nsenter(1) spells it.
    let short = format!("-u{}", theirs.display());
    assert_eq!(nsenter(&[&short, "hostname"]).ok(), "kept-by-them\n");
}

#[test]
fn a_pid_namespace_makes_the_program_our_child_inside_unless_no_fork() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-pf", "--mount-proc"], "true");
    let t = b.pid_arg();
    let inside: u32 = nsenter(&["-t", &t, "-p", "sh", "-c", "echo $$"])
        .ok()
        .trim()
        .parse()
        .unwrap();
    assert!(inside < 20, "the program is inside: PID {inside}");
    // -F: the program stays where it is; its children are inside.
    let out = nsenter(&["-t", &t, "-p", "-F", "sh", "-c", "echo $$; sh -c 'echo $$'"]).ok();
    let lines: Vec<u32> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert!(lines[0] > 20 && lines[1] < 20, "{out}");
}
