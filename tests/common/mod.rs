//! Helpers for the integration tests: run the built binaries (as root or as
//! an unprivileged user), probe what this machine allows, make scratch
//! directories and a busybox root file system, and read what the kernel says.
//!
//! A test that cannot run here prints `SKIP: reason` and returns, unless
//! RSNS_REQUIRE_ALL=1 is set (as .ci/run does): then it fails instead.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

mod background;
mod racer;
mod terminal;

// Not every test binary uses these.
#[allow(unused_imports)]
pub use background::{Background, alive, wait_gone};
#[allow(unused_imports)]
pub use racer::{Racer, runs};
#[allow(unused_imports)]
pub use terminal::{COUNT_SIGINT, Terminal};

pub const UNSHARE: &str = env!("CARGO_BIN_EXE_rs-unshare");
pub const NSENTER: &str = env!("CARGO_BIN_EXE_rs-nsenter");
pub const LSNS: &str = env!("CARGO_BIN_EXE_rs-lsns");
pub const PIVOT: &str = env!("CARGO_BIN_EXE_rs-pivot");
pub const CGROUP: &str = env!("CARGO_BIN_EXE_rs-cgroup");
pub const SETPRIV: &str = env!("CARGO_BIN_EXE_rs-setpriv");

/// (short flag, /proc/self/ns name) for every kind, as both tools spell them.
pub const KINDS: [(&str, &str); 8] = [
    ("-m", "mnt"),
    ("-u", "uts"),
    ("-i", "ipc"),
    ("-n", "net"),
    ("-p", "pid"),
    ("-U", "user"),
    ("-C", "cgroup"),
    ("-T", "time"),
];

/// What a shell shows as `$?`: the exit code, or 128 + the signal.
pub fn shell_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap())
}

/// How long to wait at most for something that takes `secs` seconds on
/// an ordinary machine: RSNS_TIME_SCALE times more where everything is
/// slower (the kernel matrix's emulated VMs set it). Only ever a limit on
/// waiting; no test asserts a time.
pub fn patience(secs: u64) -> std::time::Duration {
    let scale = std::env::var("RSNS_TIME_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1u64)
        .max(1);
    std::time::Duration::from_secs(secs * scale)
}

/// Returns false (after saying why) when a test must skip; panics instead
/// when RSNS_REQUIRE_ALL=1.
pub fn require(ok: bool, reason: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("RSNS_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("RSNS_REQUIRE_ALL=1 but this test cannot run: {reason}");
    }
    eprintln!("SKIP: {reason}");
    // make test counts the skips and says why (tests/support/run-tests.sh).
    if let Some(log) = std::env::var_os("RSNS_SKIP_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(log)
    {
        let _ = f.write_all(format!("{reason}\n").as_bytes());
    }
    false
}

/// `require!(cond, "reason")`: return from the test if it cannot run here.
#[macro_export]
macro_rules! require {
    ($ok:expr, $reason:expr) => {
        if !$crate::common::require($ok, $reason) {
            return;
        }
    };
}

/// A named network namespace (`ip netns add`), with mounts of it made
/// elsewhere; all gone on drop, so a test that fails half-way leaves none
/// (a stale one shows in the next run's rs-lsns output, and holds its nsid).
pub struct NamedNetns {
    pub name: String,
    pub path: String,
    binds: Vec<PathBuf>,
}

impl NamedNetns {
    pub fn add(prefix: &str) -> NamedNetns {
        let name = format!("{prefix}-{}", std::process::id());
        cmd("ip", &["netns", "add", &name]).ok();
        NamedNetns {
            path: format!("/run/netns/{name}"),
            name,
            binds: Vec::new(),
        }
    }

    /// Binds the namespace onto `at` too (an empty file).
    pub fn bind_to(&mut self, at: &Path) {
        cmd("mount", &["--bind", &self.path, at.to_str().unwrap()]).ok();
        self.binds.push(at.to_path_buf());
    }
}

impl Drop for NamedNetns {
    fn drop(&mut self) {
        for at in &self.binds {
            let _ = cmd("umount", &[at.to_str().unwrap()]);
        }
        let _ = cmd("ip", &["netns", "delete", &self.name]);
    }
}

/// A release binary that `make build` made (what users install: static,
/// optimised), where make test and make test-kernels say
/// (RSNS_RELEASE_DIR); a logged skip (a failure in CI) if they do not.
pub fn release_binary(name: &str) -> Option<String> {
    let dir = std::env::var("RSNS_RELEASE_DIR")
        .ok()
        .filter(|d| !d.is_empty());
    if !require(
        dir.is_some(),
        "needs the release binaries (make test and make test-kernels build them)",
    ) {
        return None;
    }
    Some(format!("{}/{name}", dir.unwrap()))
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Whether this process is in cgroup v1 hierarchies too (a hybrid host, as
/// the kernel shows it in /proc/self/cgroup): joining a v2 group leaves
/// those as they were, and the tools say so.
#[allow(dead_code)]
pub fn host_has_cgroup_v1() -> bool {
    std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
        .any(|l| !l.is_empty() && !l.starts_with("0::"))
}

pub fn has_command(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether pidfds have inodes of their own here (pidfs, Linux 6.9+):
/// before, the pidfds of two processes share one.
pub fn pidfs() -> bool {
    let script = "import os; print(os.fstat(os.pidfd_open(os.getpid())).st_ino \
                  != os.fstat(os.pidfd_open(os.getppid())).st_ino)";
    cmd("python3", &["-c", script]).ok().trim() == "True"
}

/// The unprivileged user the tests switch to (tests/support/test-user.sh).
pub fn test_user() -> Option<(u32, u32)> {
    static USER: OnceLock<Option<(u32, u32)>> = OnceLock::new();
    *USER.get_or_init(|| {
        let name = std::env::var("RSNS_TEST_USER").unwrap_or_else(|_| "rsns-test".into());
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, &name]).output().ok()?;
            String::from_utf8(out.stdout).ok()?.trim().parse().ok()
        };
        Some((id("-u")?, id("-g")?))
    })
}

/// True when the test user exists and can create a user namespace.
pub fn can_run_unprivileged() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        is_root()
            && test_user().is_some_and(|(uid, gid)| {
                as_user(uid, gid, "unshare", &["-U", "true"])
                    .status()
                    .is_ok_and(|s| s.success())
            })
    })
}

/// The test user with /etc/subuid and /etc/subgid ranges, and newuidmap.
pub fn can_map_subids() -> bool {
    can_run_unprivileged()
        && has_command("newuidmap")
        && ["/etc/subuid", "/etc/subgid"].iter().all(|f| {
            let user = std::env::var("RSNS_TEST_USER").unwrap_or_else(|_| "rsns-test".into());
            std::fs::read_to_string(f)
                .is_ok_and(|c| c.lines().any(|l| l.starts_with(&format!("{user}:"))))
        })
}

/// A command run as uid:gid with no supplementary groups.
pub fn as_user(uid: u32, gid: u32, program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(program)
        .args(args);
    cmd
}

/// A command line run by `sh -c`, as root or as the test user.
pub fn sh(unprivileged: bool, script: &str) -> Run {
    match (unprivileged, test_user()) {
        (true, Some((uid, gid))) => run(as_user(uid, gid, "sh", &["-c", script])),
        _ => cmd("sh", &["-c", script]),
    }
}

/// Whether a test can run as the test user (`as_user`) or as root; a
/// logged skip when not.
pub fn can(as_user: bool) -> bool {
    if as_user {
        require(can_run_unprivileged(), "needs root and the test user")
    } else {
        require(is_root(), "needs root")
    }
}

/// The output of a finished command, with helpers for the checks.
#[derive(Debug)]
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit code; panics if the process died by a signal.
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        match self.output.status.code() {
            Some(code) => code,
            None => panic!(
                "killed by signal {:?}; stderr: {}",
                self.output.status.signal(),
                self.stderr()
            ),
        }
    }

    /// The signal that ended the process, if any.
    pub fn signal(&self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        self.output.status.signal()
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> String {
        assert!(
            self.output.status.success(),
            "expected success, got {:?}\nstdout: {}\nstderr: {}",
            self.output.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts rs-unshare's failure contract (see [`Run::fails_as`]).
    pub fn fails_with(&self, code: i32, needle: &str) {
        self.fails_as("rs-unshare", code, needle);
    }

    /// Asserts the failure contract: exit `code`, exactly one line on stderr
    /// starting with the tool's name and containing `needle`.
    pub fn fails_as(&self, tool: &str, code: i32, needle: &str) {
        let stderr = self.stderr();
        assert_eq!(self.code(), code, "stderr: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got: {stderr:?}"
        );
        assert!(lines[0].starts_with(&format!("{tool}: ")), "{stderr}");
        assert!(
            lines[0].contains(needle),
            "expected {needle:?} in {stderr:?}"
        );
    }
}

pub fn run(mut cmd: Command) -> Run {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Run { output }
}

/// Runs rs-unshare with `args` as the current user.
pub fn unshare(args: &[&str]) -> Run {
    let mut cmd = Command::new(UNSHARE);
    cmd.args(args);
    run(cmd)
}

/// Runs rs-nsenter with `args` as the current user.
pub fn nsenter(args: &[&str]) -> Run {
    let mut cmd = Command::new(NSENTER);
    cmd.args(args);
    run(cmd)
}

/// Runs rs-nsenter with `args` as the unprivileged test user.
pub fn nsenter_as_user(args: &[&str]) -> Run {
    let (uid, gid) = test_user().expect("probe can_run_unprivileged first");
    run(as_user(uid, gid, NSENTER, args))
}

/// Runs rs-unshare with `args` as the unprivileged test user.
pub fn unshare_as_user(args: &[&str]) -> Run {
    let (uid, gid) = test_user().expect("probe can_run_unprivileged first");
    run(as_user(uid, gid, UNSHARE, args))
}

/// Runs rs-lsns with `args` as the current user.
pub fn lsns(args: &[&str]) -> Run {
    let mut cmd = Command::new(LSNS);
    cmd.args(args);
    run(cmd)
}

/// Runs rs-lsns with `args` as the unprivileged test user.
pub fn lsns_as_user(args: &[&str]) -> Run {
    let (uid, gid) = test_user().expect("probe can_run_unprivileged first");
    run(as_user(uid, gid, LSNS, args))
}

/// rs-lsns's JSON rows (top level and nested children, flattened).
pub fn lsns_json(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["-J"];
    all.extend_from_slice(args);
    let text = lsns(&all).ok();
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON ({e}): {text}"));
    let mut rows = Vec::new();
    flatten(
        doc["namespaces"].as_array().expect("a namespaces array"),
        &mut rows,
    );
    rows
}

fn flatten(rows: &[serde_json::Value], out: &mut Vec<serde_json::Value>) {
    for row in rows {
        out.push(row.clone());
        if let Some(children) = row["children"].as_array() {
            flatten(children, out);
        }
    }
}

/// The inode of a namespace of a process: `readlink /proc/PID/ns/KIND`'s number.
pub fn ns_inode(pid: &str, kind: &str) -> u64 {
    let link = ns_link(pid, kind);
    link.split('[')
        .nth(1)
        .and_then(|rest| rest.trim_end_matches(']').parse().ok())
        .unwrap_or_else(|| panic!("not a namespace link: {link}"))
}

/// Runs any program with `args`.
pub fn cmd<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Run {
    let mut c = Command::new(program);
    c.args(args);
    run(c)
}

/// A scratch directory, removed (after detaching any mount in it) on drop.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    /// World-writable, so the unprivileged test user can use it too.
    pub fn new(name: &str) -> Scratch {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("rsns-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o1777)).unwrap();
        Scratch { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// An empty file, as persistent namespace targets need.
    pub fn empty_file(&self, name: &str) -> PathBuf {
        let path = self.join(name);
        std::fs::File::create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        path
    }

    /// The names in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Mount points at or below this directory, per our mountinfo.
    pub fn mounts(&self) -> Vec<String> {
        mounts_under(&self.path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for mount in mounts_under(&self.path).into_iter().rev() {
            let _ = Command::new("umount").args(["-l", &mount]).status();
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Mount points in /proc/self/mountinfo at or below `dir`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|m| m == &dir || m.starts_with(&format!("{dir}/")))
        .collect()
}

/// The inode of a namespace, as `readlink /proc/PID/ns/KIND` shows it.
pub fn ns_link(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Processes whose command line contains `marker`, other than us.
pub fn processes_with(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .contains(marker)
            })
        })
        .collect()
}

/// The process whose command line is exactly `sleep MARKER`, once it runs
/// (a shell that becomes it, and the shell's forks, have the marker too).
pub fn the_sleep(marker: &str) -> u32 {
    let want = format!("sleep\0{marker}\0");
    let deadline = std::time::Instant::now() + patience(10);
    loop {
        let found = processes_with(marker).into_iter().find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want.as_bytes())
        });
        if let Some(pid) = found {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "no sleep {marker}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A unique sleep duration, so a leftover process can be found by its command line.
pub fn marker_sleep() -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(1);
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    format!("{}.{:04}{:05}", 300 + n, n, std::process::id() % 100_000)
}

/// The seconds a [`Boxed`] program sleeps: distinct from the `sleep 600`
/// that setups start in the background, so the box's own sleep is found.
const BOX_SLEEP: &str = "601";

/// Who makes a [`Boxed`] program's namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maker {
    RsUnshare,
    UtilLinux,
}

/// A long-running program in new namespaces to join: `MAKER ARGS sh -c
/// 'SETUP; exec sleep 601'`. Ready once its script has reached the sleep;
/// killed on drop.
pub struct Boxed {
    /// The program's PID, as seen from here.
    pub pid: u32,
    maker: std::process::Child,
}

impl Boxed {
    // The child moves into the Boxed, whose Drop reaps it; the lint cannot see that.
    #[allow(clippy::zombie_processes)]
    pub fn start(maker: Maker, as_test_user: bool, args: &[&str], setup: &str) -> Boxed {
        let script = format!("{setup}\nexec sleep {BOX_SLEEP}");
        let program = match maker {
            Maker::RsUnshare => UNSHARE,
            Maker::UtilLinux => "unshare",
        };
        let mut all: Vec<&str> = args.to_vec();
        // With -f util-linux runs the program as its child: found below.
        if maker == Maker::UtilLinux {
            all.push("-f");
        }
        all.extend(["sh", "-c", &script]);
        let mut cmd = match (as_test_user, test_user()) {
            (true, Some((uid, gid))) => as_user(uid, gid, program, &all),
            _ => {
                let mut c = Command::new(program);
                c.args(&all);
                c
            }
        };
        let mut maker = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let deadline = std::time::Instant::now() + patience(10);
        loop {
            if let Some(pid) = Self::find_sleep(maker.id()) {
                return Boxed { pid, maker };
            }
            if std::time::Instant::now() > deadline {
                let _ = maker.kill();
                let _ = maker.wait();
                panic!("{program} {all:?} never got to its sleep");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// The box's own `sleep BOX_SLEEP` among `pid` and its descendants
    /// (through setpriv too); not a sleep the setup left in the background.
    fn find_sleep(pid: u32) -> Option<u32> {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        if cmdline == format!("sleep\0{BOX_SLEEP}\0").as_bytes() {
            return Some(pid);
        }
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .find_map(Self::find_sleep)
    }

    pub fn pid_arg(&self) -> String {
        self.pid.to_string()
    }

    /// `readlink /proc/PID/ns/KIND` of the boxed program.
    pub fn ns(&self, kind: &str) -> String {
        ns_link(&self.pid.to_string(), kind)
    }
}

/// kill(2), without procps' kill(1), which a minimal system lacks.
pub fn kill_pid(pid: u32, signal: nix::sys::signal::Signal) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).is_ok()
}

impl Drop for Boxed {
    fn drop(&mut self) {
        kill_pid(self.pid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.maker.kill();
        let _ = self.maker.wait();
    }
}

/// The busybox root file system, built once per test binary.
pub fn rootfs() -> Option<PathBuf> {
    static ROOTFS: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOTFS
        .get_or_init(|| {
            // The kernel matrix's VMs: a copy in the guest's tmpfs
            // (in-vm.sh), since every copy a test makes from the host's
            // share costs 40 s under emulation, and 0.4 s from there.
            if let Some(dir) = std::env::var_os("RSNS_ROOTFS").map(PathBuf::from)
                && dir.join("bin/busybox").exists()
            {
                return Some(dir);
            }
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rootfs");
            // /mnt came later: an older root file system is made again.
            if dir.join("bin/busybox").exists() && dir.join("mnt").is_dir() {
                return Some(dir);
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/mkrootfs.sh");
            let status = Command::new(script)
                .arg(&dir)
                .stdout(Stdio::null())
                .status()
                .ok()?;
            status.success().then_some(dir)
        })
        .clone()
}

/// A copy of the busybox root file system in `scratch` that a test may
/// change, with `extra` directories made in it; None (after a printed
/// skip) where there is no root file system.
pub fn rootfs_copy(scratch: &Scratch, extra: &[&str]) -> Option<String> {
    let r = rootfs_or_skip()?;
    let copy = scratch.join("rootfs");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&r)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    for d in extra {
        std::fs::create_dir_all(copy.join(d)).unwrap();
    }
    Some(copy.display().to_string())
}

/// The directories `dirs` of `scratch`, with all in them, owned by the
/// test user: a rootless box's layers are its user's own.
pub fn give_to_test_user(scratch: &Scratch, dirs: &[&str]) {
    let (uid, gid) = test_user().unwrap();
    for d in dirs {
        let path = scratch.join(d);
        cmd(
            "chown",
            &["-R", &format!("{uid}:{gid}"), path.to_str().unwrap()],
        )
        .ok();
    }
}

/// The busybox root file system as a path argument, or a printed skip
/// (a failure under RSNS_REQUIRE_ALL) when busybox-static is missing.
pub fn rootfs_or_skip() -> Option<String> {
    let r = rootfs();
    if !require(r.is_some(), "needs busybox-static for the root file system") {
        return None;
    }
    Some(r.unwrap().display().to_string())
}

/// The state letter and parent PID of `pid`, from /proc/PID/stat (the
/// command name may hold anything, so the fields start after the last `)`).
pub fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let stat = String::from_utf8_lossy(&stat);
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Writes `text` to a new executable script in `dir` and returns its path.
pub fn script(dir: &Scratch, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A thread of this test process in a network namespace of its own (made
/// with unshare(CLONE_NEWNET) on that thread alone; needs root): its TID
/// names a task that /proc lists under its process only, whose network
/// namespace is not the process's. The thread ends when this is dropped.
#[allow(dead_code)]
pub struct LoneThread {
    pub tid: i32,
    pub net: u64,
    stop: Option<std::sync::mpsc::Sender<()>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

#[allow(dead_code)]
impl LoneThread {
    pub fn start() -> LoneThread {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let net = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
            let ino = std::os::unix::fs::MetadataExt::ino(&net);
            ready_tx
                .send((nix::unistd::gettid().as_raw(), ino))
                .unwrap();
            let _ = stop_rx.recv();
        });
        let (tid, net) = ready_rx.recv().unwrap();
        LoneThread {
            tid,
            net,
            stop: Some(stop_tx),
            handle: Some(handle),
        }
    }
}

impl Drop for LoneThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Whether the running kernel is at least `major.minor`.
#[allow(dead_code)]
pub fn kernel_at_least(major: u32, minor: u32) -> bool {
    let uts = nix::sys::utsname::uname().unwrap();
    let release = uts.release().to_string_lossy().into_owned();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let mut next = || {
        parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    (next(), next()) >= (major, minor)
}
