//! Real containers, started here by rootful podman (Debian's, with runc on
//! a host whose cgroups are hybrid, where crun refuses to run; an image
//! imported from the busybox root file system, since nothing can be
//! pulled): `rs-nsenter --container=REF` enters what the kernel shows as
//! the container's namespaces, and what `podman exec` sees; rs-lsns's
//! `--container` and CONTAINER column name it; bad REFs get one line.
//! `--host-tools` and `--same-privs` are held against `podman exec`. A
//! containerd of the test's own runs a task through `ctr`, found the same
//! way.

mod common;

use std::process::Command;

use common::*;

const IMAGE: &str = "localhost/rsns-busybox";

/// A podman container running `sleep`, removed on drop.
struct Podman {
    name: String,
    id: String,
    pid: i32,
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.name])
            .output();
    }
}

/// Whether podman can run here; a logged skip (a failure in CI) if not.
fn podman_ready() -> bool {
    if !require(is_root(), "needs root (rootful podman)") {
        return false;
    }
    // The VMs share this machine's file system read-only: podman's
    // storage cannot be written there.
    if !require(
        std::env::var("RSNS_IN_VM").as_deref() != Ok("1"),
        "podman needs a writable /var/lib/containers (the kernel matrix's VMs share the host's read-only)",
    ) {
        return false;
    }
    require(
        has_command("podman"),
        "needs podman (Debian package podman; make test installs it)",
    )
}

/// The image, imported once from the busybox root file system.
fn image() -> Option<()> {
    if cmd("podman", &["image", "exists", IMAGE]).code() == 0 {
        return Some(());
    }
    let r = rootfs_or_skip()?;
    let scratch = Scratch::new("podman-image");
    let tar = scratch.join("rootfs.tar");
    cmd("tar", &["-C", &r, "-cf", tar.to_str().unwrap(), "."]).ok();
    cmd("podman", &["import", tar.to_str().unwrap(), IMAGE]).ok();
    Some(())
}

/// `podman run -d` of `sleep`: with runc where the cgroups are hybrid
/// (crun refuses them), and modest limits (podman's defaults are raises,
/// which need CAP_SYS_RESOURCE this machine's root lacks).
fn start(name: &str) -> Podman {
    // Modest limits, under the hard ones we have (/proc/self/limits): the
    // container's process is given them from outside, where even our own
    // values were refused as a raise.
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let limit = |what: &str| {
        let line = limits.lines().find(|l| l.starts_with(what)).unwrap();
        let hard = line[what.len()..].split_whitespace().nth(1).unwrap();
        hard.parse::<u64>().map_or(1000, |h| h.min(1000))
    };
    let (nofile, nproc) = (limit("Max open files"), limit("Max processes"));
    let mut args: Vec<String> = Vec::new();
    if !cgroup2_unified() {
        args.extend(["--runtime".into(), "runc".into()]);
    }
    args.extend(
        [
            "run",
            "-d",
            "--name",
            name,
            "--network=none",
            "--hostname",
            name,
            "--ulimit",
            &format!("nofile={nofile}:{nofile}"),
            "--ulimit",
            &format!("nproc={nproc}:{nproc}"),
            IMAGE,
            "sleep",
            "600",
        ]
        .map(String::from),
    );
    // Made before the run: a run that fails halfway leaves a created
    // container behind, which the guard removes too.
    let mut guard = Podman {
        name: name.into(),
        id: String::new(),
        pid: 0,
    };
    guard.id = cmd("podman", &args).ok().trim().to_string();
    guard.pid = cmd("podman", &["inspect", "-f", "{{.State.Pid}}", name])
        .ok()
        .trim()
        .parse()
        .unwrap();
    guard
}

/// Whether /sys/fs/cgroup is cgroup v2 alone (crun runs there; on a hybrid
/// host only runc does).
fn cgroup2_unified() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.contains(" /sys/fs/cgroup ") && l.contains(" - cgroup2 "))
}

fn ns_of(pid: i32, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .display()
        .to_string()
}

const KINDS: [&str; 5] = ["mnt", "uts", "ipc", "net", "pid"];

#[test]
fn nsenter_and_lsns_find_a_podman_container_by_name_and_id() {
    if !podman_ready() || image().is_none() {
        return;
    }
    let web = start(&format!("rsns-web-{}", std::process::id()));
    let probe = "for k in mnt uts ipc net pid; do readlink /proc/self/ns/$k; done; hostname";
    // What the kernel shows of the container's first process, and what
    // podman exec sees: the same namespaces and hostname.
    let mut kernel: Vec<String> = KINDS.iter().map(|k| ns_of(web.pid, k)).collect();
    kernel.push(web.name.clone());
    let kernel = kernel.join("\n") + "\n";
    let exec = cmd("podman", &["exec", &web.name, "sh", "-c", probe]).ok();
    assert_eq!(exec, kernel);
    for reference in [web.name.as_str(), &web.id, &web.id[..12]] {
        let out = cmd(
            NSENTER,
            &[&format!("--container={reference}"), "-a", "sh", "-c", probe],
        )
        .ok();
        assert_eq!(out, kernel, "--container={reference}");
    }
    // rs-lsns: the container's namespaces, as -p with its first process.
    let listed = cmd(
        LSNS,
        &[
            &format!("--container={}", web.name),
            "-n",
            "-r",
            "-o",
            "TYPE,NS,PID",
        ],
    )
    .ok();
    let by_pid = cmd(
        LSNS,
        &["-p", &web.pid.to_string(), "-n", "-r", "-o", "TYPE,NS,PID"],
    )
    .ok();
    assert_eq!(listed, by_pid);
    let net_inode = ns_of(web.pid, "net")
        .trim_start_matches("net:[")
        .trim_end_matches(']')
        .to_string();
    assert!(
        listed.contains(&format!("net {net_inode} {}\n", web.pid)),
        "{listed}"
    );
    // The CONTAINER column: the engine and name on the container's rows,
    // empty on the host's; in JSON and in -Q too.
    let rows = cmd(LSNS, &["-n", "-r", "-t", "net", "-o", "NS,CONTAINER"]).ok();
    assert!(
        rows.lines()
            .any(|l| l == format!("{net_inode} podman:{}", web.name)),
        "{rows}"
    );
    let host_net = ns_of(std::process::id() as i32, "net")
        .trim_start_matches("net:[")
        .trim_end_matches(']')
        .to_string();
    // (-r prints an empty cell as nothing after its separator.)
    assert!(rows.lines().any(|l| l == format!("{host_net} ")), "{rows}");
    let json = cmd(
        LSNS,
        &[
            "-J",
            "-t",
            "net",
            "-o",
            "NS,CONTAINER",
            "-Q",
            &format!("CONTAINER == \"podman:{}\"", web.name),
        ],
    )
    .ok();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["namespaces"],
        serde_json::json!([{ "ns": net_inode.parse::<u64>().unwrap(), "container": format!("podman:{}", web.name) }])
    );
}

/// `--host-tools` in a podman container: the host's programs see the
/// namespaces, the /etc/hostname and the PID 1 that `podman exec` sees,
/// the container's root at $RSNS_TARGET_ROOT; its mounts are unchanged.
#[test]
fn host_tools_in_a_podman_container_see_what_podman_exec_sees() {
    if !podman_ready() || image().is_none() {
        return;
    }
    let web = start(&format!("rsns-tools-{}", std::process::id()));
    let mounts = std::fs::read_to_string(format!("/proc/{}/mountinfo", web.pid)).unwrap();
    let view = |root: &str| {
        format!(
            "for k in uts ipc net pid; do readlink /proc/self/ns/$k; done; \
             cat {root}/etc/hostname; echo; cat /proc/1/comm"
        )
    };
    let exec = cmd("podman", &["exec", &web.name, "sh", "-c", &view("")]).ok();
    let host_stat = cmd("sh", &["-c", "/usr/bin/stat --version | head -1"]).ok();
    let ours = cmd(
        NSENTER,
        &[
            &format!("--container={}", web.name),
            "--host-tools",
            "sh",
            "-c",
            &(view("$RSNS_TARGET_ROOT") + "; /usr/bin/stat --version | head -1"),
        ],
    )
    .ok();
    assert_eq!(ours, exec + &host_stat);
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{}/mountinfo", web.pid)).unwrap(),
        mounts
    );
    assert!(!std::path::Path::new("/run/rsns").exists());
}

/// `--pty`: a terminal of the container's own devpts, as `podman exec -t`
/// gives (runc opens it inside the container too): the same `tty`, the
/// same /dev/pts in the container, the exit status passed through.
#[test]
fn pty_in_a_podman_container_is_what_podman_exec_t_gives() {
    if !podman_ready() || image().is_none() {
        return;
    }
    let web = start(&format!("rsns-pty-{}", std::process::id()));
    let probe = "tty; ls /dev/pts; exit 3";
    let exec = cmd("podman", &["exec", "-t", &web.name, "sh", "-c", probe]);
    let ours = cmd(
        NSENTER,
        &[
            &format!("--container={}", web.name),
            "-a",
            "--pty",
            "sh",
            "-c",
            probe,
        ],
    );
    assert_eq!((ours.code(), exec.code()), (3, 3), "{}", ours.stderr());
    // (podman's terminal adds a CR to each newline; ours, printing to no
    // terminal, does not.)
    assert_eq!(ours.stdout(), exec.stdout().replace("\r\n", "\n"));
    assert!(
        ours.stdout().starts_with("/dev/pts/0\n"),
        "{}",
        ours.stdout()
    );
}

/// `--same-privs`: the program holds what `podman exec` gives (podman's
/// 11 capabilities, its seccomp filter), as the kernel shows both.
#[test]
fn same_privs_hold_what_podman_exec_holds() {
    if !podman_ready() || image().is_none() {
        return;
    }
    let web = start(&format!("rsns-privs-{}", std::process::id()));
    let privs = "grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status";
    let exec = cmd("podman", &["exec", &web.name, "sh", "-c", privs]).ok();
    assert!(exec.contains("CapBnd:\t00000000800405fb\n"), "{exec}");
    assert!(exec.contains("Seccomp:\t2\n"), "{exec}");
    let ours = cmd(
        NSENTER,
        &[
            &format!("--container={}", web.name),
            "-a",
            "--same-privs",
            "sh",
            "-c",
            privs,
        ],
    )
    .ok();
    assert_eq!(ours, exec);
}

#[test]
fn a_ref_that_names_no_container_gets_one_line() {
    if !podman_ready() || image().is_none() {
        return;
    }
    let web = start(&format!("rsns-other-{}", std::process::id()));
    for (tool, args) in [
        (NSENTER, &["--container=rsns-no-such-container", "-a"][..]),
        (LSNS, &["--container=rsns-no-such-container"][..]),
    ] {
        let run = cmd(tool, args);
        assert_eq!(run.code(), 1, "{}", run.stderr());
        let err = run.stderr();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("no container matches 'rsns-no-such-container'; running: ")
                && err.contains(&format!("podman:{} ({})", web.name, &web.id[..12])),
            "{err}"
        );
    }
    let run = cmd(NSENTER, &["--container=rsns-x", "-t", "1", "-a"]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr().contains("cannot be used with"),
        "{}",
        run.stderr()
    );
}

/// A rootless podman container of the test user (runc's state in its
/// XDG_RUNTIME_DIR, its name in its storage; on a cgroup v1 host it has no
/// cgroup of its own): the user enters it by name, into the namespaces the
/// kernel shows, as the container's root; rs-lsns names it.
#[test]
fn the_callers_rootless_podman_container_by_name() {
    if !podman_ready() || !can(true) {
        return;
    }
    let Some(r) = rootfs_or_skip() else { return };
    let scratch = Scratch::new("podman-rootless");
    let tar = scratch.join("rootfs.tar");
    cmd("tar", &["-C", &r, "-cf", tar.to_str().unwrap(), "."]).ok();
    for d in ["home", "run"] {
        std::fs::create_dir(scratch.join(d)).unwrap();
    }
    give_to_test_user(&scratch, &["home", "run", "rootfs.tar"]);
    let s = scratch.path.display();
    let name = format!("rsns-rootless-{}", std::process::id());
    let runtime = if cgroup2_unified() {
        ""
    } else {
        "--runtime runc"
    };
    let env = format!("export HOME={s}/home XDG_RUNTIME_DIR={s}/run; cd {s}/home");
    let probe =
        "for k in user mnt uts net pid; do readlink /proc/self/ns/$k; done; hostname; id -u";
    // The host's programs, in its user, network and PID namespaces.
    let tools = "for k in user net pid; do readlink /proc/self/ns/$k; done; \
                 cat /proc/1/comm; cat $RSNS_TARGET_ROOT/etc/hostname";
    let out = sh(
        true,
        &format!(
            "{env}; chmod 700 $XDG_RUNTIME_DIR; podman import -q {s}/rootfs.tar {IMAGE} >/dev/null && \
             podman {runtime} run -d --name {name} --network=none --hostname {name} {IMAGE} sleep 600 \
             >/dev/null && P=$(podman inspect -f '{{{{.State.Pid}}}}' {name}) && \
             for k in user mnt uts net pid; do readlink /proc/$P/ns/$k; done && echo {name} && echo 0 && \
             echo --- && {NSENTER} --container={name} -a sh -c '{probe}' && echo --- && \
             {LSNS} -n -r -t net -o NS,CONTAINER | grep ' podman:' && echo --- && \
             {NSENTER} --container={name} --host-tools sh -c '{tools}'; \
             status=$?; podman rm -f -t 0 {name} >/dev/null 2>&1; \
             kill $(cat $XDG_RUNTIME_DIR/libpod/tmp/pause.pid 2>/dev/null) 2>/dev/null; exit $status"
        ),
    )
    .ok();
    let parts: Vec<&str> = out.split("---\n").collect();
    assert_eq!(parts.len(), 4, "{out}");
    // What the kernel shows for the container's process is what the
    // user gets, as the container's root.
    assert_eq!(parts[1], parts[0], "{out}");
    let net = parts[0].lines().nth(3).unwrap();
    let inode = net.trim_start_matches("net:[").trim_end_matches(']');
    assert_eq!(parts[2], format!("{inode} podman:{name}\n"), "{out}");
    let ns: Vec<&str> = parts[0].lines().collect();
    assert_eq!(
        parts[3],
        // (podman writes /etc/hostname without a newline.)
        format!("{}\n{}\n{}\nsleep\n{name}", ns[0], ns[3], ns[4]),
        "{out}"
    );
}

/// A containerd of the test's own (its root, state and socket in scratch,
/// as no init runs one here), with the busybox image imported from a tar
/// built with `podman save`; stopped, with its task, on drop.
struct Containerd {
    scratch: Scratch,
    daemon: std::process::Child,
    task: Option<String>,
}

impl Containerd {
    fn start() -> Containerd {
        let scratch = Scratch::new("containerd");
        let dir = |d: &str| scratch.join(d).display().to_string();
        let daemon = Command::new("containerd")
            .args(["--root", &dir("root"), "--state", &dir("state")])
            .args(["--address", &dir("sock")])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(scratch.join("log")).unwrap())
            .spawn()
            .unwrap();
        let ctd = Containerd {
            scratch,
            daemon,
            task: None,
        };
        let deadline = std::time::Instant::now() + patience(30);
        while ctd.ctr(&["version"]).code() != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "containerd did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let tar = ctd.scratch.join("image.tar").display().to_string();
        cmd(
            "podman",
            &[
                "save",
                "-q",
                "--format",
                "docker-archive",
                "-o",
                &tar,
                IMAGE,
            ],
        )
        .ok();
        ctd.ctr(&["image", "import", &tar]).ok();
        ctd
    }

    fn ctr(&self, args: &[&str]) -> Run {
        let sock = self.scratch.join("sock").display().to_string();
        let mut all = vec!["--address", sock.as_str()];
        all.extend_from_slice(args);
        cmd("ctr", &all)
    }

    /// `ctr run -d` of `sleep`; the task's PID.
    fn run(&mut self, id: &str) -> i32 {
        self.ctr(&["run", "-d", &format!("{IMAGE}:latest"), id, "sleep", "600"])
            .ok();
        self.task = Some(id.to_string());
        let tasks = self.ctr(&["task", "ls"]).ok();
        tasks
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{id} ")))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no task {id} in {tasks}"))
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        if let Some(id) = self.task.take() {
            let _ = self.ctr(&["task", "kill", "-s", "KILL", id.as_str()]);
            for _ in 0..50 {
                if self.ctr(&["task", "rm", id.as_str()]).code() == 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let _ = self.ctr(&["container", "rm", id.as_str()]);
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A task containerd runs (through ctr: its cgroup `/default/ID`, runc's
/// state under /run/containerd/runc): entered by its ID into the
/// namespaces the kernel shows for its process, named in rs-lsns's
/// CONTAINER column, and open to `--host-tools` and `--same-privs`.
#[test]
fn a_containerd_task_by_id_through_ctr() {
    if !podman_ready()
        || !require(
            has_command("containerd") && has_command("ctr"),
            "needs containerd and ctr (Debian package containerd; make test installs it)",
        )
        || image().is_none()
    {
        return;
    }
    let mut ctd = Containerd::start();
    let id = format!("rsns-ctr-{}", std::process::id());
    let pid = ctd.run(&id);
    let kinds = ["mnt", "uts", "ipc", "net", "pid"];
    let kernel: String = kinds.iter().map(|k| ns_of(pid, k) + "\n").collect();
    let probe = "for k in mnt uts ipc net pid; do readlink /proc/self/ns/$k; done";
    let out = cmd(
        NSENTER,
        &[&format!("--container={id}"), "-a", "sh", "-c", probe],
    )
    .ok();
    assert_eq!(out, kernel);
    let net = ns_of(pid, "net");
    let inode = net.trim_start_matches("net:[").trim_end_matches(']');
    let rows = cmd(LSNS, &["-n", "-r", "-t", "net", "-o", "NS,CONTAINER"]).ok();
    assert!(
        rows.lines()
            .any(|l| l == format!("{inode} containerd:{id}")),
        "{rows}"
    );
    let tools = cmd(
        NSENTER,
        &[
            &format!("--container={id}"),
            "--host-tools",
            "sh",
            "-c",
            "readlink /proc/self/ns/net; cat /proc/1/comm; test -x $RSNS_TARGET_ROOT/bin/busybox && echo busybox",
        ],
    )
    .ok();
    assert_eq!(tools, format!("{net}\nsleep\nbusybox\n"));
    let privs = "grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' /proc/self/status";
    let target = cmd("sh", &["-c", &privs.replace("self", &pid.to_string())]).ok();
    let ours = cmd(
        NSENTER,
        &[
            &format!("--container={id}"),
            "-a",
            "--same-privs",
            "sh",
            "-c",
            privs,
        ],
    )
    .ok();
    assert_eq!(ours, target);
}
