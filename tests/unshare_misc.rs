//! The program's surroundings: environment, default shell, root and working
//! directory, pid file, inherited descriptors, logging, help.

mod common;

use std::process::Command;

use common::*;

fn unshare_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(UNSHARE);
    cmd.env_clear().envs(env.iter().copied()).args(args);
    run(cmd)
}

#[test]
fn clear_env_and_whitelist_env() {
    let env = [("PATH", "/usr/bin:/bin"), ("KEEP", "1"), ("DROP", "2")];
    let all = unshare_env(&["env"], &env).ok();
    assert!(all.contains("KEEP=1") && all.contains("DROP=2"), "{all}");
    assert_eq!(unshare_env(&["--clear-env", "/usr/bin/env"], &env).ok(), "");
    // Without PATH the default search path still finds env.
    assert_eq!(unshare_env(&["--clear-env", "env"], &env).ok(), "");
    let kept = unshare_env(&["--whitelist-env=KEEP,PATH,NOPE", "env"], &env).ok();
    let mut lines: Vec<&str> = kept.lines().collect();
    lines.sort();
    assert_eq!(lines, ["KEEP=1", "PATH=/usr/bin:/bin"]);
}

/// Runs rs-unshare without a program, feeding `input` to the shell it starts.
fn shell_with_input(env: &[(&str, &str)], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(UNSHARE)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn without_a_program_a_login_shell_from_shell_runs() {
    // $0 of a shell reading stdin is its argv[0]: "-" and the base name.
    let out = shell_with_input(
        &[("PATH", "/usr/bin:/bin"), ("SHELL", "/bin/sh")],
        "echo shell=$0\n",
    );
    assert_eq!(out, "shell=-sh\n");
}

#[test]
fn without_shell_the_login_shell_of_the_user_runs() {
    require!(is_root(), "needs root");
    // root's login shell from the passwd database, started as a login shell.
    let shell = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("root:"))
        .and_then(|l| l.rsplit(':').next().map(str::to_string))
        .unwrap();
    let text = shell_with_input(&[("PATH", "/usr/bin:/bin")], "echo shell=$0\nexit 0\n");
    let base = shell.rsplit('/').next().unwrap();
    assert!(text.contains(&format!("shell=-{base}")), "{text}");
}

#[test]
fn root_and_working_directory() {
    let rootfs = rootfs();
    require!(
        rootfs.is_some() && is_root(),
        "needs root and busybox-static"
    );
    let rootfs = rootfs.unwrap();
    let root = format!("--root={}", rootfs.display());
    assert_eq!(unshare(&[&root, "/bin/pwd"]).ok(), "/\n");
    // -w is taken inside the new root, also when relative.
    assert_eq!(unshare(&[&root, "-w", "/etc", "/bin/pwd"]).ok(), "/etc\n");
    assert_eq!(
        unshare(&[&root, "-w", "usr/bin", "/bin/pwd"]).ok(),
        "/usr/bin\n"
    );
    // The program is looked up in the new root's PATH.
    assert_eq!(
        unshare(&[&root, "sh", "-c", "echo inside"]).ok(),
        "inside\n"
    );
    // Without -R, -w is relative to where we are.
    let mut cmd = Command::new(UNSHARE);
    cmd.current_dir("/usr").args(["-w", "share", "pwd"]);
    assert_eq!(run(cmd).ok(), "/usr/share\n");
}

#[test]
fn pid_file_holds_the_programs_host_pid() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("pidfile");
    let pid_file = dir.join("prog.pid");
    let arg = format!("--pid-file={}", pid_file.display());
    for fork in [&["-pf"][..], &[][..]] {
        let _ = std::fs::remove_file(&pid_file);
        let mut args = vec![arg.as_str()];
        args.extend_from_slice(fork);
        // The program reads its own host PID from the file and checks it is itself.
        let script = format!(
            "while [ ! -s {f} ]; do sleep 0.01; done; p=$(cat {f}); \
             echo $$; [ \"$(readlink /proc/$p/exe 2>/dev/null || echo none)\" != none ] && echo visible; \
             cat /proc/self/stat | cut -d' ' -f1",
            f = pid_file.display()
        );
        args.extend(["sh", "-c", &script]);
        let out = unshare(&args).ok();
        let host_pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        if fork.is_empty() {
            // Exec mode: the program has our PID, the same inside and out.
            assert_eq!(lines[0], host_pid.to_string());
        } else {
            assert_eq!(lines[0], "1", "PID 1 inside, {host_pid} outside");
        }
        assert_eq!(dir.entries(), ["prog.pid"], "no temporary file left");
    }
}

#[test]
fn the_program_gets_only_the_descriptors_we_were_given() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("fds");
    let uts = dir.empty_file("uts");
    let persist = format!("--uts={}", uts.display());
    let pid_file = format!("--pid-file={}", dir.join("p.pid").display());
    for extra in [
        &[][..],
        &["-f"][..],
        &["-Urpf", "--mount-proc"][..],
        &["--kill-child"][..],
        &[persist.as_str(), pid_file.as_str()][..],
        &[persist.as_str(), pid_file.as_str(), "-f"][..],
    ] {
        let baseline = cmd("ls", &["/proc/self/fd"]).ok();
        let _ = Command::new("umount").arg(&uts).status();
        let _ = std::fs::remove_file(dir.join("p.pid"));
        let mut args = extra.to_vec();
        args.extend(["ls", "/proc/self/fd"]);
        let out = unshare(&args).ok();
        // Exactly what ls sees when run by the same caller without us (that
        // includes what the test harness passes down, and ls's own directory).
        assert_eq!(out, baseline, "{extra:?}");
    }
}

#[test]
fn the_program_gets_the_signal_dispositions_we_were_given() {
    let sig_ign = |prefix: &str, extra: &str| {
        let script = format!("{prefix} {extra} grep SigIgn /proc/self/status");
        cmd("sh", &["-c", &script]).ok()
    };
    for mode in ["", "-f"] {
        let with_us = format!("{UNSHARE} {mode}");
        // SIGPIPE at its default, as our caller left it (std would ignore it).
        assert_eq!(sig_ign("", &with_us), sig_ign("", ""), "{mode:?}");
        // An ignored SIGPIPE stays ignored.
        assert_eq!(
            sig_ign("trap '' PIPE;", &with_us),
            sig_ign("trap '' PIPE;", ""),
            "{mode:?}"
        );
    }
    // So a program writing into a closed pipe ends quietly, as without us.
    let out = cmd("sh", &["-c", &format!("{UNSHARE} yes 2>&1 | head -n 1")]).ok();
    assert_eq!(out, "y\n");
}

#[test]
fn verbose_logs_go_to_stderr_and_stdout_stays_data() {
    require!(is_root(), "needs root");
    let run = unshare(&["-v", "-u", "-f", "echo", "data"]);
    assert_eq!(run.ok(), "data\n");
    assert!(run.stderr().contains("plan"), "{}", run.stderr());
    let quiet = unshare(&["-u", "echo", "data"]);
    assert_eq!(quiet.stderr(), "");
}

#[test]
fn no_namespace_at_all_just_runs_the_program() {
    assert_eq!(unshare(&["echo", "plain"]).ok(), "plain\n");
    assert_eq!(unshare(&["-f", "echo", "plain"]).ok(), "plain\n");
}

/// `--mount-proc=DIR` where DIR is no mount point on a mount shared with
/// the host: the proc would land in the host's mount table too (and stay
/// after exit), so it is refused before anything is made; a DIR that is a
/// mount point is made private first and nothing reaches the host.
#[test]
fn a_proc_that_would_reach_the_host_is_refused() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("proc-shared");
    let dir = scratch.join("p");
    std::fs::create_dir(&dir).unwrap();
    // The scratch directory on a shared mount of its own, as on systemd hosts.
    let base = scratch.path.display().to_string();
    cmd("mount", &["--bind", &base, &base]).ok();
    cmd("mount", &["--make-shared", &base]).ok();
    let arg = format!("--mount-proc={}", dir.display());
    let run = unshare(&["-pf", &arg, "--propagation=shared", "true"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("would appear in the host's mount table"),
        "{}",
        run.stderr()
    );
    let root = format!("--root={base}");
    let run = unshare(&[
        "-pf",
        "--mount-proc=/p",
        &root,
        "--propagation=shared",
        "/bin/true",
    ]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    // A mount point is fine: made private first.
    cmd(
        "mount",
        &["--bind", dir.to_str().unwrap(), dir.to_str().unwrap()],
    )
    .ok();
    unshare(&["-pf", &arg, "--propagation=shared", "true"]).ok();
    let procs = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&base) && l.contains(" - proc "))
        .count();
    assert_eq!(procs, 0, "a proc reached the host's mount table");
}

/// `--hostname=NAME` (bubblewrap's): the name in a UTS namespace of the
/// box's own, as the kernel reports it inside (uname and
/// /proc/sys/kernel/hostname); the host's is untouched. It implies -u, so it
/// can never rename the host. Bad names: one line, nothing run.
#[test]
fn hostname_is_set_in_the_boxs_own_uts_namespace() {
    let host_before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for as_user in [false, true] {
        if !can(as_user) {
            return;
        }
        let flags = if as_user { "-Ur" } else { "-f" };
        let out = sh(
            as_user,
            &format!(
                "{UNSHARE} {flags} --hostname=rsns-box sh -c 'uname -n; cat /proc/sys/kernel/hostname; readlink /proc/self/ns/uts'"
            ),
        )
        .ok();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..2], ["rsns-box", "rsns-box"], "{out}");
        assert_ne!(
            lines[2],
            ns_link("self", "uts"),
            "not a UTS namespace of its own"
        );
    }
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host_before
    );
    let marker = marker_sleep();
    for (name, needle) in [
        ("--hostname=", "--hostname=: a hostname is 1 to 64 bytes"),
        (
            &format!("--hostname={}", "x".repeat(65))[..],
            "a hostname is 1 to 64 bytes",
        ),
    ] {
        unshare(&[name, "sleep", &marker]).fails_with(1, needle);
        assert!(processes_with(&marker).is_empty());
    }
}
