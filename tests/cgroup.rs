//! rs-cgroup: the program starts inside a new cgroup v2 group, whatever it
//! leaves running is killed at the end, the group is removed, the statuses
//! are the program's; limits as the kernel shows them where this kernel's
//! cgroup v2 hierarchy has the controllers (the kernel matrix's VMs), and a
//! clear refusal where they are bound to cgroup v1 (this host).

mod common;

use std::path::PathBuf;

use common::*;

/// The cgroup2 mount, and the default parent rs-cgroup uses as root.
fn v2() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mounts: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    let mount = mounts
        .iter()
        .find(|m| **m == "/sys/fs/cgroup")
        .or_else(|| mounts.first())?;
    Some(PathBuf::from(mount))
}

fn setup() -> Option<PathBuf> {
    let mount = v2();
    if !require(
        is_root() && mount.is_some(),
        "needs root and a cgroup v2 hierarchy",
    ) {
        return None;
    }
    mount
}

/// Whether the v2 hierarchy offers this controller (not so on this host,
/// where cpu, memory and pids are bound to cgroup v1).
fn has_controller(mount: &std::path::Path, name: &str) -> bool {
    std::fs::read_to_string(mount.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|n| n == name))
}

/// A hog past any small memory limit, in one process that doubles a
/// string: nothing else in the group for the OOM killer to pick, or left
/// for rs-cgroup to empty (a pipeline of three once failed this on 5.10).
const ONE_PROCESS_HOG: &str =
    "x=a; i=0; while [ $i -lt 30 ]; do x=$x$x; i=$((i+1)); done; echo survived";

/// The program died of SIGKILL, and rs-cgroup blamed the OOM killer.
fn assert_oom_killed(run: &Run) {
    assert_eq!(
        run.signal(),
        Some(9),
        "{:?}\nstdout: {}\nstderr: {}",
        run.output.status,
        run.stdout(),
        run.stderr()
    );
    assert!(
        run.stderr().contains("killed by the OOM killer"),
        "{}",
        run.stderr()
    );
}

fn cgroup(args: &[&str]) -> Run {
    cmd(CGROUP, args)
}

fn unique(name: &str) -> String {
    format!("rsns-test-{name}-{}", std::process::id())
}

#[test]
fn the_program_runs_inside_a_new_group_that_is_gone_after() {
    let Some(mount) = setup() else { return };
    let name = unique("inside");
    // In a cgroup namespace rooted at its group, the program sees it as /;
    // the group's own cgroup.procs holds it.
    let procs = mount.join("rsns").join(&name).join("cgroup.procs");
    let script = format!(
        "grep ^0:: /proc/self/cgroup; grep -qx $$ {} && echo member",
        procs.display()
    );
    let out = cgroup(&["--name", &name, "--", "sh", "-c", &script]).ok();
    assert_eq!(out, "0::/\nmember\n", "{out}");
    assert!(!mount.join("rsns").join(&name).exists(), "the group stayed");
}

#[test]
fn what_the_program_leaves_running_is_killed() {
    let Some(mount) = setup() else { return };
    let marker = marker_sleep();
    // A daemon that double-forks into its own session: still in the group.
    let script = format!("setsid sh -c 'sleep {marker} &' & wait; echo started");
    let name = unique("daemon");
    let out = cgroup(&["--name", &name, "--", "sh", "-c", &script]).ok();
    assert_eq!(out, "started\n");
    assert!(
        processes_with(&marker).is_empty(),
        "the daemon outlived the group"
    );
    assert!(!mount.join("rsns").join(&name).exists());
}

#[test]
fn the_status_is_the_programs() {
    let Some(_) = setup() else { return };
    assert_eq!(cgroup(&["sh", "-c", "exit 3"]).code(), 3);
    let killed = cgroup(&["sh", "-c", "kill -TERM $$"]);
    assert_eq!(killed.signal(), Some(15));
    cgroup(&["no-such-program-rsns"]).fails_as(
        "rs-cgroup",
        127,
        "failed to execute no-such-program-rsns",
    );
    cgroup(&["/etc/passwd"]).fails_as("rs-cgroup", 126, "Permission denied");
}

#[test]
fn keep_leaves_the_group_and_join_runs_in_it() {
    let Some(mount) = setup() else { return };
    let name = unique("keep");
    cgroup(&["--keep", "--name", &name, "true"]).ok();
    let dir = mount.join("rsns").join(&name);
    assert!(dir.is_dir(), "--keep removed the group");
    // The full path, the path as /proc/PID/cgroup prints it (alone or the
    // whole line), and the path relative to the mount name the same group.
    for form in [
        dir.display().to_string(),
        format!("/rsns/{name}"),
        format!("0::/rsns/{name}"),
        format!("rsns/{name}"),
    ] {
        let run = cgroup(&[&format!("--join={form}"), "cat", "/proc/self/cgroup"]);
        let out = run.ok();
        assert!(out.contains(&format!("0::/rsns/{name}\n")), "{form}: {out}");
        // On a hybrid host, one note says the v1 hierarchies stay as they were.
        let notes = run
            .stderr()
            .matches("--join joins the cgroup v2 group only")
            .count();
        assert_eq!(notes, usize::from(host_has_cgroup_v1()), "{}", run.stderr());
    }
    assert!(dir.is_dir(), "--join removed a group it did not make");
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn stats_in_json_have_the_documented_keys() {
    let Some(_) = setup() else { return };
    let run = cgroup(&[
        "--stats=json",
        "sh",
        "-c",
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
    ]);
    run.ok();
    // The JSON line is bare: jq reads it from the stream as it is.
    let line = run.stderr();
    let json: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    for key in [
        "wall_s",
        "cpu_user_s",
        "cpu_system_s",
        "memory_peak_bytes",
        "oom_kills",
        "pids_peak",
    ] {
        assert!(json.get(key).is_some(), "no {key}: {json}");
    }
    assert!(json["wall_s"].as_f64().unwrap() > 0.0);
    assert!(
        json["cpu_user_s"].as_f64().unwrap() + json["cpu_system_s"].as_f64().unwrap() > 0.0,
        "{json}"
    );
}

/// `--stats-file` (like time -o): the stats in a file, stderr left to the
/// program; a symlink or a device there is refused before anything runs.
#[test]
fn stats_file_takes_the_stats_and_refuses_what_is_not_a_file() {
    let Some(_) = setup() else { return };
    let scratch = Scratch::new("stats-file");
    let file = scratch.join("stats.json");
    let arg = format!("--stats-file={}", file.display());
    let run = cgroup(&["--stats=json", &arg, "sh", "-c", "echo to-stderr >&2"]);
    assert_eq!(run.stderr(), "to-stderr\n");
    let json: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&file).unwrap().trim()).unwrap();
    assert!(json["wall_s"].as_f64().is_some(), "{json}");
    let text = scratch.join("stats.txt");
    cgroup(&[&format!("--stats-file={}", text.display()), "true"]).ok();
    assert!(std::fs::read_to_string(&text).unwrap().starts_with("wall "));
    let link = scratch.join("link");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    let marker = scratch.join("ran");
    for (target, needle) in [
        (link.display().to_string(), "is a symlink"),
        ("/dev/null".into(), "not a regular file"),
    ] {
        cgroup(&[
            &format!("--stats-file={target}"),
            "touch",
            marker.to_str().unwrap(),
        ])
        .fails_as("rs-cgroup", 1, needle);
    }
    assert!(!marker.exists(), "the program ran");
}

#[test]
fn bad_input_names_the_value_and_leaves_no_group() {
    let Some(mount) = setup() else { return };
    let name = unique("bad");
    let named = format!("--name={name}");
    for (args, needle) in [
        (&["--memory=12XB", "true"][..], "'12XB' is not a size"),
        (
            &["--pids=-3", "true"][..],
            "'-3' is not a number of processes",
        ),
        (&["--cpus=0", "true"][..], "'0' is not a number of CPUs"),
        (
            &[named.as_str(), "--set=nosuch.file=1", "true"][..],
            "nosuch",
        ),
        (
            &[named.as_str(), "--set=cgroup.nosuch=1", "true"][..],
            "cgroup.nosuch",
        ),
        (
            &["--parent=/nonexistent-rsns", "true"][..],
            "--parent=/nonexistent-rsns",
        ),
        (&["--name=a/b", "true"][..], "one path component"),
    ] {
        cgroup(args).fails_as("rs-cgroup", 1, needle);
        assert!(
            !mount.join("rsns").join(&name).exists(),
            "{args:?} left the group"
        );
    }
}

#[test]
fn an_ordinary_user_without_parent_is_told_what_to_do() {
    require!(can_run_unprivileged(), "needs root and the test user");
    let (uid, gid) = test_user().unwrap();
    run(as_user(uid, gid, CGROUP, &["true"])).fails_as(
        "rs-cgroup",
        1,
        "give --parent a cgroup delegated to you",
    );
}

/// Limits where the controllers are in cgroup v2 (the VMs); the refusal
/// where they are bound to cgroup v1 (this host).
#[test]
fn memory_and_pids_limits_as_the_kernel_shows_them() {
    let Some(mount) = setup() else { return };
    if !has_controller(&mount, "memory") || !has_controller(&mount, "pids") {
        cgroup(&["--memory=64M", "true"]).fails_as(
            "rs-cgroup",
            1,
            "rs-cgroup manages cgroup v2 only",
        );
        return;
    }
    // The interface files say what was asked, read by the program from its
    // own group.
    let name = unique("limits");
    let named = format!("--name={name}");
    let script = format!(
        "d={}/rsns/{name}; cat $d/memory.max $d/pids.max $d/cpu.max",
        mount.display()
    );
    let out = cgroup(&[
        &named,
        "--memory=64M",
        "--pids=16",
        "--cpus=0.5",
        "sh",
        "-c",
        &script,
    ])
    .ok();
    assert_eq!(out, "67108864\n16\n50000 100000\n");
    // Every other limit option, each in its own file.
    let script = format!(
        "d={}/rsns/{name}; \
         cat $d/memory.high $d/memory.swap.max $d/cpu.weight $d/cpuset.cpus; \
         sed -n 's/^default //p' $d/io.weight",
        mount.display()
    );
    let out = cgroup(&[
        &named,
        "--memory-high=48M",
        "--swap=0",
        "--cpu-weight=50",
        "--cpuset=0",
        "--io-weight=200",
        "sh",
        "-c",
        &script,
    ])
    .ok();
    assert_eq!(out, "50331648\n0\n50\n0\n200\n");
    // Past --pids, fork fails (the shell says so and gives up), and what
    // it had started is gone with the group.
    let marker = marker_sleep();
    let forks =
        format!("i=0; while [ $i -lt 40 ]; do sleep {marker} & i=$((i+1)); done; echo all-started");
    let run = cgroup(&["--pids=8", "sh", "-c", &forks]);
    assert_ne!(run.code(), 0, "{}", run.stdout());
    assert!(!run.stdout().contains("all-started"));
    assert!(
        run.stderr().to_lowercase().contains("fork"),
        "{}",
        run.stderr()
    );
    assert!(
        processes_with(&marker).is_empty(),
        "sleeps outlived the group"
    );
    // Past --memory, the OOM killer: 137 and one line saying so.
    let hog = ONE_PROCESS_HOG;
    let run = cgroup(&["--memory=32M", "--swap=0", "sh", "-c", hog]);
    assert_oom_killed(&run);
}

/// With `rs-unshare -C` the box sees its own group as `/`; `rs-nsenter -c`
/// joins that group from outside (and `-C` its view of it).
#[test]
fn a_box_sees_its_group_as_root_and_nsenter_joins_it() {
    let Some(mount) = setup() else { return };
    let dir = Scratch::new("cgroup-box");
    let pid_file = dir.join("pid");
    let out_file = dir.join("out");
    let name = unique("box");
    let pid_arg = format!("--pid-file={}", pid_file.display());
    let mut child = std::process::Command::new(CGROUP)
        .args(["--name", &name, "--", UNSHARE, "-C", &pid_arg])
        .args(["sh", "-c", "cat /proc/self/cgroup; exec sleep 60"])
        .stdout(std::fs::File::create(&out_file).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + patience(10);
    let pid = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file) {
            break text.trim().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "no pid file");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let group = format!("0::/rsns/{name}\n");
    let host_view = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(host_view.contains(&group), "{host_view}");
    // Joined the group, seen from the host's cgroup namespace...
    let joined = cmd(NSENTER, &["-t", &pid, "-c", "cat", "/proc/self/cgroup"]).ok();
    assert!(joined.contains(&group), "{joined}");
    // ... and with the box's namespace too, as the box sees it.
    let inside = cmd(
        NSENTER,
        &["-t", &pid, "-c", "-C", "cat", "/proc/self/cgroup"],
    )
    .ok();
    assert!(inside.contains("0::/\n"), "{inside}");
    // The pid file comes before the box's shell runs cat: wait for its line.
    while !std::fs::read_to_string(&out_file).is_ok_and(|t| t.contains("0::")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the box printed nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    kill_pid(pid.parse().unwrap(), nix::sys::signal::Signal::SIGKILL);
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    let seen = std::fs::read_to_string(&out_file).unwrap();
    assert!(seen.contains("0::/\n"), "the box saw {seen}");
    assert!(!mount.join("rsns").join(&name).exists(), "the group stayed");
}

/// A delegated subtree, as systemd's Delegate=yes makes one: the group and
/// its cgroup.procs, cgroup.subtree_control and cgroup.threads are the
/// user's, and the user's process sits in a leaf below it (so the group
/// has no processes of its own and may hand controllers down).
struct Delegated {
    dir: PathBuf,
    leaf: PathBuf,
}

impl Delegated {
    fn new(mount: &std::path::Path, uid: u32, gid: u32, controllers: &[&str]) -> Delegated {
        for c in controllers {
            std::fs::write(mount.join("cgroup.subtree_control"), format!("+{c}")).unwrap();
        }
        let dir = mount.join(unique("delegated"));
        std::fs::create_dir(&dir).unwrap();
        let chown = |p: &std::path::Path| std::os::unix::fs::chown(p, Some(uid), Some(gid));
        for file in [
            "",
            "cgroup.procs",
            "cgroup.subtree_control",
            "cgroup.threads",
        ] {
            chown(&dir.join(file)).unwrap();
        }
        let leaf = dir.join("caller");
        std::fs::create_dir(&leaf).unwrap();
        Delegated { dir, leaf }
    }

    /// rs-cgroup run as the user from the leaf (moved there as root, then
    /// privileges dropped), with `--parent` the delegated group.
    fn run_as_user(&self, uid: u32, gid: u32, args: &[&str]) -> Run {
        let script = format!(
            "echo $$ > '{}/cgroup.procs' && exec setpriv --reuid={uid} --regid={gid} \
             --clear-groups -- \"$@\"",
            self.leaf.display()
        );
        let parent = format!("--parent={}", self.dir.display());
        let mut c = std::process::Command::new("sh");
        c.args(["-c", &script, "sh", CGROUP, &parent]).args(args);
        run(c)
    }

    /// The groups rs-cgroup left below the delegated one, but the leaf.
    fn left(&self) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir() && e.path() != self.leaf)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Delegated {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.leaf);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// An ordinary user under a delegated group: the program runs in a new
/// group below it, what it leaves is killed, the group is removed; and,
/// where cgroup v2 has the controllers, the limits hold.
#[test]
fn an_ordinary_user_works_under_a_delegated_group() {
    let Some(mount) = setup() else { return };
    require!(can_run_unprivileged(), "needs root and the test user");
    let (uid, gid) = test_user().unwrap();
    let limits = has_controller(&mount, "memory") && has_controller(&mount, "pids");
    let wanted: &[&str] = if limits { &["memory", "pids"] } else { &[] };
    let delegated = Delegated::new(&mount, uid, gid, wanted);
    let marker = marker_sleep();
    let script = format!(
        "id -u; sed -n 's/^0:://p' /proc/self/cgroup; setsid sh -c 'sleep {marker} &' & wait"
    );
    let out = delegated
        .run_as_user(uid, gid, &["--name=mine", "sh", "-c", &script])
        .ok();
    let base = delegated
        .dir
        .strip_prefix(&mount)
        .unwrap()
        .display()
        .to_string();
    assert_eq!(out, format!("{uid}\n/{base}/mine\n"));
    assert!(
        processes_with(&marker).is_empty(),
        "the daemon outlived the group"
    );
    assert!(delegated.left().is_empty(), "left {:?}", delegated.left());
    if !limits {
        return;
    }
    let script = "d=$(sed -n 's/^0:://p' /proc/self/cgroup); \
                  cat /sys/fs/cgroup$d/memory.max /sys/fs/cgroup$d/pids.max";
    let script = script.replace("/sys/fs/cgroup", &mount.display().to_string());
    let out = delegated
        .run_as_user(
            uid,
            gid,
            &["--memory=64M", "--pids=16", "sh", "-c", &script],
        )
        .ok();
    assert_eq!(out, "67108864\n16\n");
    let hog = ONE_PROCESS_HOG;
    let run = delegated.run_as_user(uid, gid, &["--memory=32M", "sh", "-c", hog]);
    assert_oom_killed(&run);
    assert!(delegated.left().is_empty(), "left {:?}", delegated.left());
}

/// Outside a delegated subtree an ordinary user gets EACCES, with how to get
/// one; nothing is left.
#[test]
fn an_ordinary_user_is_refused_a_group_not_theirs() {
    let Some(mount) = setup() else { return };
    require!(can_run_unprivileged(), "needs root and the test user");
    let (uid, gid) = test_user().unwrap();
    let parent = format!("--parent={}", mount.join("rsns").display());
    std::fs::create_dir_all(mount.join("rsns")).unwrap();
    run(as_user(uid, gid, CGROUP, &[&parent, "true"])).fails_as("rs-cgroup", 1, "Delegate=yes");
}

/// The red team's escape: a root program that writes itself into another
/// group's cgroup.procs and lives on. It runs in a cgroup namespace rooted at
/// its group; where the hierarchy is mounted with nsdelegate (as systemd
/// mounts it, and the kernel matrix's VMs) the kernel refuses the move and
/// nothing survives. Without nsdelegate (this host's hybrid hierarchy) the
/// move still works, as docs/rs-cgroup.md says, and -v says so.
#[test]
fn the_program_cannot_move_itself_out_of_its_group() {
    let Some(mount) = setup() else { return };
    let delegating = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(mount.to_str().unwrap()) && l.contains("nsdelegate"));
    let other = mount.join(unique("other"));
    std::fs::create_dir(&other).unwrap();
    let script = format!(
        "echo $$ > {}/cgroup.procs && echo moved; true",
        other.display()
    );
    let name = unique("escape");
    let run = cgroup(&["-v", "--name", &name, "--", "sh", "-c", &script]);
    let held = std::fs::read_to_string(other.join("cgroup.procs")).unwrap();
    std::fs::remove_dir(&other).unwrap();
    if delegating {
        assert_eq!(
            run.stdout(),
            "",
            "the program moved itself out: {}",
            run.stderr()
        );
        // The kernel refused the write (ENOENT; dash words it "I/O error").
    } else {
        assert_eq!(run.stdout(), "moved\n", "{}", run.stderr());
        assert!(
            run.stderr().contains("lacks nsdelegate"),
            "{}",
            run.stderr()
        );
    }
    assert_eq!(held, "", "a process of the box is still running");
}

/// Groups the program makes under its own are removed with it (and what
/// runs in them killed): the exit status stays the program's.
#[test]
fn subgroups_the_program_made_go_with_the_group() {
    let Some(mount) = setup() else { return };
    let name = unique("subgroups");
    let dir = mount.join("rsns").join(&name);
    let marker = marker_sleep();
    let script = format!(
        "mkdir -p {d}/sub1/child && sh -c 'echo $$ > {d}/sub1/child/cgroup.procs; exec sleep {marker}' & \
         until grep -q . {d}/sub1/child/cgroup.procs; do sleep 0.01; done; exit 0",
        d = dir.display()
    );
    let run = cgroup(&["--name", &name, "--", "sh", "-c", &script]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(!dir.exists(), "the group or a subgroup stayed");
    assert!(
        processes_with(&marker).is_empty(),
        "a process in a subgroup survived"
    );
}

/// Checks come before any change: --join with limits, --set on the core
/// files that run a group, a bad --name, a --parent that walks out of the
/// hierarchy. None of them writes anything.
#[test]
fn refusals_change_no_group() {
    let Some(mount) = setup() else { return };
    let parent = mount.join(unique("parent"));
    std::fs::create_dir(&parent).unwrap();
    let before = std::fs::read_to_string(parent.join("cgroup.max.descendants")).unwrap();
    let join = format!("--join={}", parent.display());
    cgroup(&[&join, "--set=cgroup.max.descendants=0", "true"]).fails_as(
        "rs-cgroup",
        1,
        "limits and --set apply only to a group rs-cgroup makes",
    );
    cgroup(&[&join, "--pids=3", "true"]).fails_as("rs-cgroup", 1, "--join");
    assert_eq!(
        std::fs::read_to_string(parent.join("cgroup.max.descendants")).unwrap(),
        before
    );
    for file in [
        "cgroup.procs",
        "cgroup.kill",
        "cgroup.freeze",
        "cgroup.subtree_control",
        "cgroup.type",
    ] {
        cgroup(&[&format!("--set={file}=1"), "true"]).fails_as("rs-cgroup", 1, "runs the group");
    }
    cgroup(&["--set=memory.max=", "true"]).fails_as("rs-cgroup", 1, "has no value");
    cgroup(&["--set=..=1", "true"]).fails_as("rs-cgroup", 1, "does not name an interface file");
    let long = format!("--set=memory.max={}", "9".repeat(100_000));
    let run = cgroup(&["--name", &unique("long"), &long, "true"]);
    assert!(run.stderr().len() < 2000, "the value was echoed whole");
    // A rejected name enables no controller on the way.
    let controller = std::fs::read_to_string(mount.join("cgroup.controllers"))
        .unwrap()
        .split_whitespace()
        .next()
        .map(str::to_string);
    if let Some(c) = controller {
        // A file the kernel does not have is named as such, not "not yours".
        cgroup(&[&format!("--set={c}.nosuch=1"), "true"]).fails_as(
            "rs-cgroup",
            1,
            &format!("no such interface file: {c}.nosuch"),
        );
        let parent_arg = format!("--parent={}", parent.display());
        cgroup(&[
            &parent_arg,
            "--name=a/b",
            &format!("--set={c}.max=1"),
            "true",
        ])
        .fails_as("rs-cgroup", 1, "one path component");
        assert_eq!(
            std::fs::read_to_string(parent.join("cgroup.subtree_control"))
                .unwrap()
                .trim(),
            "",
            "the rejected run enabled a controller"
        );
    }
    // `..` in --parent is refused before anything is written outside.
    let base = mount.file_name().unwrap().to_string_lossy().to_string();
    let walk = format!("--parent={}/../{base}/walk", mount.display());
    cgroup(&[&walk, "--pids=3", "true"]).fails_as("rs-cgroup", 1, "names '..'");
    assert!(
        !mount
            .parent()
            .unwrap()
            .join("cgroup.subtree_control")
            .exists()
    );
    std::fs::remove_dir(&parent).unwrap();
}

/// "Killed by the OOM killer" only when the OOM killer took the program
/// itself: a child taken by it, then the program's own SIGKILL later, is
/// not blamed on it (the red team's case). The program's own kill comes 2 s
/// later: rs-cgroup blames a SIGKILL within 200 ms of an OOM event it read,
/// and a VM under emulation can be that late reading it. Where the memory controller is
/// in cgroup v2 (the kernel matrix's VMs); here, the refusal.
#[test]
fn the_oom_killer_is_named_only_when_it_took_the_program() {
    let Some(mount) = setup() else { return };
    if !has_controller(&mount, "memory") {
        cgroup(&["--memory=32M", "true"]).fails_as("rs-cgroup", 1, "cgroup v2 only");
        return;
    }
    // The hog in a script of its own, so it runs in a child of the program.
    // The program is out of the OOM killer's reach (-1000) and the hog the
    // first in it (1000): under emulation the victim can take so long to
    // die that a second OOM comes and may pick any process of the group
    // (the program, in 6.1's VM).
    let scratch = Scratch::new("oom");
    let hog = "x=$(head -c 200000000 /dev/zero | tr '\\0' a)";
    let script = scratch.join("hog.sh");
    std::fs::write(
        &script,
        format!("echo 1000 >/proc/$$/oom_score_adj\n{hog}\n"),
    )
    .unwrap();
    let later = format!(
        "echo -1000 >/proc/$$/oom_score_adj; sh {}; echo child-killed; sleep 2; kill -KILL $$",
        script.display()
    );
    let run = cgroup(&["--memory=32M", "--swap=0", "--", "sh", "-c", &later]);
    let what = format!(
        "signal {:?}: {}{}",
        run.signal(),
        run.stdout(),
        run.stderr()
    );
    assert_eq!(run.signal(), Some(9), "{what}");
    assert!(run.stdout().contains("child-killed"), "{what}");
    assert!(!run.stderr().contains("OOM killer"), "{what}");
    let itself = format!("{hog}; echo survived");
    let run = cgroup(&[
        "--memory=32M",
        "--swap=0",
        "--set=memory.oom.group=1",
        "--",
        "sh",
        "-c",
        &itself,
    ]);
    assert_eq!(run.signal(), Some(9), "{}", run.stderr());
    assert!(
        run.stderr().contains("killed by the OOM killer"),
        "{}",
        run.stderr()
    );
}

/// `--devices` and `--device-allow`: a BPF device program on the group, as
/// the kernel enforces it on the program's opens and mknods: docker's
/// default list, nothing, or the rules given; bad rules refused first.
#[test]
fn a_device_policy_decides_what_the_program_may_open() {
    let Some(_) = setup() else { return };
    // A refusal by the policy is EPERM at open; anything else (kmsg wants
    // a bigger read) is the device's own answer.
    let probe = "for d in /dev/zero /dev/null /dev/full /dev/kmsg; do \
                 if head -c1 $d 2>&1 | grep -q 'Operation not permitted'; then echo $d refused; \
                 else echo $d opens; fi; done; \
                 t=$(mktemp -u /tmp/rsns-dev-XXXXXX); \
                 if mknod $t c 1 11 2>/dev/null; then echo mknod ok; \
                 if head -c1 $t 2>&1 | grep -q 'Operation not permitted'; then echo node refused; \
                 else echo node opens; fi; rm -f $t; else echo mknod refused; fi";
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["sh", "-c", probe]);
        cgroup(&all).ok()
    };
    assert_eq!(
        run(&["--devices=container"]),
        "/dev/zero opens\n/dev/null opens\n/dev/full opens\n/dev/kmsg refused\nmknod ok\nnode refused\n"
    );
    assert_eq!(
        run(&["--devices=none"]),
        "/dev/zero refused\n/dev/null refused\n/dev/full refused\n/dev/kmsg refused\nmknod refused\n"
    );
    assert_eq!(
        run(&["--device-allow=c 1:3 rw", "--device-allow=c 1:11 r"]),
        "/dev/zero refused\n/dev/null opens\n/dev/full refused\n/dev/kmsg opens\nmknod refused\n"
    );
    cgroup(&["--device-allow=x 1:3 rw", "true"]).fails_as("rs-cgroup", 1, "TYPE is c, b or a");
    cgroup(&["--device-allow=c 1:3 rx", "true"]).fails_as(
        "rs-cgroup",
        1,
        "ACCESS is letters of rwm",
    );
    cgroup(&["--join=/x", "--devices=none", "true"]).fails_as("rs-cgroup", 1, "--join");
}
