//! `rs-nsenter --host-tools`: the host's programs in a box's namespaces
//! (all but the mount namespace, a private copy of ours), the box's root at
//! /run/rsns/target, a /proc of the box's PID namespace; nothing of it seen
//! by the box or left on the host. Checked against what the kernel shows of
//! the box's process, as root and as an ordinary user with a rootless box.

mod common;

use common::*;

fn host_mounts_with(needle: &str) -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

#[test]
fn host_tools_run_the_hosts_programs_in_the_boxs_namespaces_with_its_root_and_processes() {
    // The installed (static) rs-nsenter: the host's programs it runs use
    // the host's libraries, not its own.
    let Some(nsenter) = release_binary("rs-nsenter") else {
        return;
    };
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let scratch = Scratch::new("host-tools");
        let Some(r) = rootfs_copy(&scratch, &[]) else {
            return;
        };
        std::fs::write(format!("{r}/etc/rsns-marker"), "in the image\n").unwrap();
        if as_user {
            give_to_test_user(&scratch, &["rootfs"]);
        }
        let bg = Background::sleeping_box(as_user, &r, &["--proc"]);
        let pid = bg.program_pid().to_string();
        let box_mounts = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
        assert!(!std::path::Path::new("/run/rsns").exists());

        let kinds = if as_user {
            "uts ipc net pid user"
        } else {
            "uts ipc net pid"
        };
        let probe = format!(
            "for k in {kinds}; do readlink /proc/self/ns/$k; done; readlink /proc/self/ns/mnt; \
             pwd; echo $RSNS_TARGET_ROOT; cat etc/rsns-marker; cat /proc/1/comm; \
             /usr/bin/stat --version | head -1; \
             mount -t tmpfs none $RSNS_TARGET_ROOT/tmp && echo mounted"
        );
        let out = sh(
            as_user,
            &format!("{nsenter} -t {pid} --host-tools sh -c '{probe}'"),
        )
        .ok();
        // The host's own program, with its libraries, answers as here.
        let host_stat = cmd("sh", &["-c", "/usr/bin/stat --version | head -1"]).ok();
        let mut expected: Vec<String> = kinds.split(' ').map(|k| ns_link(&pid, k)).collect();
        let lines: Vec<&str> = out.lines().collect();
        let mnt = lines[expected.len()].to_string();
        assert_ne!(mnt, ns_link(&pid, "mnt"), "{out}");
        assert_ne!(mnt, ns_link("self", "mnt"), "{out}");
        expected.push(mnt);
        expected.extend(
            [
                "/run/rsns/target",
                "/run/rsns/target",
                "in the image",
                "sleep",
                host_stat.trim(),
                "mounted",
            ]
            .map(String::from),
        );
        assert_eq!(lines, expected, "as user: {as_user}");
        // The box saw nothing of it; the host keeps nothing of it.
        assert_eq!(
            std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap(),
            box_mounts
        );
        assert!(!std::path::Path::new("/run/rsns").exists());
        assert_eq!(host_mounts_with("rsns"), 0);
    }
}

#[test]
fn host_tools_refuse_what_contradicts_them_in_one_line() {
    for (args, needle) in [
        (
            &["--host-tools", "true"][..],
            "--host-tools needs a target (-t PID or --container=REF)",
        ),
        (&["-t", "1", "--host-tools", "-m", "true"], "drop -m"),
        (
            &["-t", "1", "--host-tools", "-r", "true"],
            "drop -r, -w and -W",
        ),
        (
            &["-t", "1", "--host-tools", "--wdns=/", "true"],
            "drop -r, -w and -W",
        ),
    ] {
        nsenter(args).fails_as("rs-nsenter", 1, needle);
    }
}
