//! rs-setpriv against util-linux setpriv: the same dump, and the same state
//! as the kernel shows it (read back by util-linux's own `setpriv -d` run as
//! the program) after the same options; Landlock and seccomp by what the
//! program can do; bad input refused before anything runs.

mod common;

use common::*;

fn ours(args: &[&str]) -> Run {
    cmd(SETPRIV, args)
}

fn theirs(args: &[&str]) -> Run {
    cmd("setpriv", args)
}

/// Our dump without the two lines setpriv does not have (seccomp, Landlock).
fn without_extras(dump: &str) -> String {
    let lines: Vec<&str> = dump.lines().collect();
    assert!(lines[lines.len() - 2].starts_with("Seccomp: "), "{dump}");
    assert!(
        lines[lines.len() - 1].starts_with("Landlock ABI: "),
        "{dump}"
    );
    lines[..lines.len() - 2]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn the_dump_is_setprivs_line_for_line() {
    require!(has_command("setpriv"), "needs util-linux setpriv");
    for level in ["-d", "-dd", "-ddd"] {
        assert_eq!(
            without_extras(&ours(&[level]).ok()),
            theirs(&[level]).ok(),
            "{level}"
        );
    }
    assert_eq!(ours(&["--list-caps"]).ok(), theirs(&["--list-caps"]).ok());
    if can_run_unprivileged() {
        let (uid, gid) = test_user().unwrap();
        let mine = run(as_user(uid, gid, SETPRIV, &["-dd"])).ok();
        let util = run(as_user(uid, gid, "setpriv", &["-dd"])).ok();
        assert_eq!(without_extras(&mine), util);
    }
}

/// Each set of options, applied by both tools, then read back from the
/// kernel by util-linux's `setpriv -dd` as the program.
#[test]
fn options_leave_the_kernel_in_the_state_setpriv_leaves_it() {
    require!(
        is_root() && has_command("setpriv"),
        "needs root and util-linux setpriv"
    );
    let cases: &[&[&str]] = &[
        &["--nnp"],
        &[
            "--bounding-set",
            "-all,+chown,+kill",
            "--inh-caps",
            "+chown",
        ],
        &[
            "--inh-caps",
            "+chown,+net_raw",
            "--ambient-caps",
            "+net_raw",
        ],
        &["--reuid=1000", "--regid=1000", "--clear-groups"],
        &[
            "--ruid=1000",
            "--euid=1001",
            "--rgid=5",
            "--egid=6",
            "--keep-groups",
        ],
        &["--groups", "5,7,9", "--rgid", "3"],
        &[
            "--securebits",
            "+noroot,+noroot_locked",
            "--pdeathsig",
            "TERM",
        ],
        &[
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "--inh-caps=+chown",
            "--bounding-set=-sys_admin",
        ],
        &["--pdeathsig", "clear"],
    ];
    // PR_SET_PTRACER exists only with Yama (both tools fail without it),
    // and setpriv has --ptracer since 2.41.
    let yama: &[&[&str]] = &[&["--ptracer", "any"], &["--ptracer", "1"]];
    let util_has_ptracer = theirs(&["--help"]).ok().contains("--ptracer");
    let yama = if std::path::Path::new("/proc/sys/kernel/yama").exists() && util_has_ptracer {
        yama
    } else {
        &[]
    };
    for case in cases.iter().chain(yama) {
        let mut args = case.to_vec();
        args.extend(["setpriv", "-ddd"]);
        let mine = ours(&args);
        let util = theirs(&args);
        assert_eq!(mine.ok(), util.ok(), "{case:?}");
    }
    // --ptracer works where Yama does, and says why where it does not.
    let ptracer = ours(&["--ptracer", "any", "true"]);
    if std::path::Path::new("/proc/sys/kernel/yama").exists() {
        ptracer.ok();
    } else {
        ptracer.fails_as("rs-setpriv", 127, "Yama is not active here");
    }
    // The kernel's own words for the plainest case.
    let status = ours(&["--nnp", "--bounding-set=-all", "cat", "/proc/self/status"]).ok();
    assert!(status.contains("NoNewPrivs:\t1\n"), "{status}");
    assert!(status.contains("CapBnd:\t0000000000000000\n"), "{status}");
}

#[test]
fn reset_env_gives_a_login_environment() {
    require!(is_root(), "needs root");
    let out = cmd(
        "env",
        &[
            "-i",
            "FOO=1",
            "TERM=xterm",
            SETPRIV,
            "--reset-env",
            "--reuid=0",
            "env",
        ],
    )
    .ok();
    let mut vars: Vec<&str> = out.lines().collect();
    vars.sort();
    assert!(!out.contains("FOO="), "{out}");
    for want in ["HOME=/root", "LOGNAME=root", "TERM=xterm", "USER=root"] {
        assert!(vars.contains(&want), "{want} not in {out}");
    }
    assert!(vars.iter().any(|v| v.starts_with("PATH=/")), "{out}");
    assert!(vars.iter().any(|v| v.starts_with("SHELL=/")), "{out}");
}

/// util-linux's own landlock cases (tests/ts/setpriv/landlock), and what
/// the program could do.
#[test]
fn landlock_allows_only_what_the_rules_allow() {
    require!(
        rsns_core::sys::landlock_abi().is_ok(),
        "needs Landlock (Linux 5.13+, landlock among the LSMs)"
    );
    ours(&["--landlock-access", "fs", "true"]).fails_as(
        "rs-setpriv",
        126,
        "failed to execute true: Permission denied",
    );
    let denied = ours(&[
        "--landlock-access",
        "fs:write",
        "cp",
        "/dev/null",
        "/dev/zero",
    ]);
    assert_ne!(denied.code(), 0);
    assert!(
        denied.stderr().contains("Permission denied"),
        "{}",
        denied.stderr()
    );
    ours(&[
        "--landlock-access",
        "fs:write",
        "--landlock-rule",
        "path-beneath:write:/dev/zero",
        "cp",
        "/dev/null",
        "/dev/zero",
    ])
    .ok();
    ours(&[
        "--landlock-access",
        "fs:execute,read-file",
        "--landlock-rule",
        "path-beneath:execute,read-file:/",
        "true",
    ])
    .ok();
    ours(&[
        "--landlock-access",
        "fs",
        "--landlock-rule",
        "path-beneath::/",
        "true",
    ])
    .ok();
    // Reading allowed beneath /usr (the program and its libraries) and /etc
    // only: /etc/hostname yes, /proc no.
    let rules = [
        "--landlock-access",
        "fs:read-file",
        "--landlock-rule",
        "path-beneath:read-file:/usr",
        "--landlock-rule",
        "path-beneath:read-file:/etc",
    ];
    let mut read = rules.to_vec();
    read.extend(["cat", "/etc/hostname"]);
    ours(&read).ok();
    let mut other = rules.to_vec();
    other.extend(["cat", "/proc/self/status"]);
    let refused = ours(&other);
    assert!(
        refused.stderr().contains("Permission denied"),
        "{}",
        refused.stderr()
    );
}

/// A raw classic-BPF filter, as enosys --dump writes it: fallocate fails
/// with ENOSYS, everything else is allowed.
#[test]
fn a_seccomp_filter_file_is_loaded() {
    require!(has_command("fallocate"), "needs util-linux fallocate");
    let dir = Scratch::new("setpriv-seccomp");
    let insn = |code: u16, jt: u8, jf: u8, k: u32| {
        let mut b = code.to_ne_bytes().to_vec();
        b.extend([jt, jf]);
        b.extend(k.to_ne_bytes());
        b
    };
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    let filter: Vec<u8> = [
        insn(LD_W_ABS, 0, 0, 0),
        insn(JEQ_K, 0, 1, libc::SYS_fallocate as u32),
        insn(RET_K, 0, 0, 0x0005_0000 | libc::ENOSYS as u32),
        insn(RET_K, 0, 0, 0x7fff_0000),
    ]
    .concat();
    let file = dir.join("filter.bpf");
    std::fs::write(&file, filter).unwrap();
    let target = dir.join("f");
    let target = target.to_str().unwrap();
    let filtered = ours(&[
        "--seccomp-filter",
        file.to_str().unwrap(),
        "fallocate",
        "-l",
        "1",
        target,
    ]);
    assert!(
        filtered.stderr().contains("Function not implemented"),
        "{}",
        filtered.stderr()
    );
    ours(&["fallocate", "-l", "1", target]).ok();
    let dump = ours(&["--seccomp-filter", file.to_str().unwrap(), SETPRIV, "-d"]).ok();
    assert!(dump.contains("Seccomp: filter (1 loaded)\n"), "{dump}");
    // A file that is not whole instructions: named, nothing runs.
    let bad = dir.join("bad.bpf");
    std::fs::write(&bad, b"12345").unwrap();
    ours(&["--seccomp-filter", bad.to_str().unwrap(), "true"]).fails_as(
        "rs-setpriv",
        127,
        "invalid filter",
    );
}

/// Bad input: one line naming the value, setpriv's status, nothing run.
#[test]
fn bad_input_is_refused_before_anything_runs() {
    let marker = marker_sleep();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--inh-caps", "+bogus"], 1, "unknown capability \"bogus\""),
        (
            &["--bounding-set", "chown"],
            1,
            "bad capability string 'chown'",
        ),
        (
            &["--securebits", "+keep_caps"],
            1,
            "keep_caps does not make sense",
        ),
        (
            &["--securebits", "+nope"],
            1,
            "unrecognized securebit 'nope'",
        ),
        (&["--pdeathsig", "NOPE"], 1, "unknown signal: NOPE"),
        (&["--ptracer", "x"], 1, "invalid PID argument: 'x'"),
        (&["--reuid", "no-such-user-rsns"], 1, "no-such-user-rsns"),
        (
            &["--regid", "no-such-group-rsns", "--keep-groups"],
            1,
            "no-such-group-rsns",
        ),
        (&["--rgid", "0"], 1, "--[re]gid requires"),
        (
            &["--init-groups"],
            1,
            "--init-groups requires --ruid or --reuid",
        ),
        (
            &["--landlock-access", "fs:bogus"],
            1,
            "could not parse landlock fs access: bogus",
        ),
        (
            &["--landlock-rule", "path-beneath:/x"],
            1,
            "invalid landlock rule",
        ),
        (
            &[
                "--landlock-access",
                "fs",
                "--landlock-rule",
                "path-beneath::/no-such-rsns",
            ],
            1,
            "could not open file for landlock: /no-such-rsns",
        ),
        (
            &["--seccomp-filter", "/no-such-rsns"],
            127,
            "cannot open /no-such-rsns",
        ),
    ];
    for (args, code, needle) in cases {
        let mut all = args.to_vec();
        all.extend(["sleep", &marker]);
        ours(&all).fails_as("rs-setpriv", *code, needle);
        assert!(
            processes_with(&marker).is_empty(),
            "{args:?} ran the program"
        );
    }
    ours(&[]).fails_as("rs-setpriv", 1, "No program specified");
    ours(&["-d", "--nnp"]).fails_as("rs-setpriv", 1, "--dump is incompatible");
    ours(&["no-such-program-rsns"]).fails_as(
        "rs-setpriv",
        127,
        "failed to execute no-such-program-rsns: No such file or directory",
    );
}

/// `--init-groups`: the user's groups as /etc/group lists them (bound over
/// the real one in a mount namespace of their own), as setpriv's
/// initgroups(3) finds them.
#[test]
fn init_groups_reads_the_users_groups_from_etc_group() {
    require!(
        is_root() && has_command("setpriv") && can_run_unprivileged(),
        "needs root, util-linux setpriv and the test user"
    );
    let (uid, gid) = test_user().unwrap();
    let name = rsns_core::ids::user_name(uid).unwrap();
    let dir = Scratch::new("setpriv-groups");
    let group = dir.join("group");
    let mut text = std::fs::read_to_string("/etc/group").unwrap();
    text.push_str(&format!(
        "rsns-a:x:4101:{name}\nrsns-b:x:4102:other,{name}\nrsns-c:x:4103:other\n"
    ));
    std::fs::write(&group, text).unwrap();
    let dump = |tool: &str| {
        let script = format!(
            "mount --bind {} /etc/group && exec {tool} --reuid={uid} --regid={gid} --init-groups setpriv -d",
            group.display()
        );
        cmd("unshare", &["-m", "sh", "-c", &script]).ok()
    };
    let mine = dump(SETPRIV);
    assert_eq!(mine, dump("setpriv"));
    assert!(
        mine.contains(&format!("Supplementary groups: {gid},4101,4102\n")),
        "{mine}"
    );
}

/// `--caps`: every set becomes podman's default 11 (0x800405fb), none, or
/// the names given, and nothing is ambient, as /proc/PID/status shows.
#[test]
fn caps_narrow_every_set_as_the_kernel_shows() {
    require!(is_root(), "needs root (to hold the capabilities narrowed)");
    let status = |set: &str| {
        let out = ours(&[&format!("--caps={set}"), "cat", "/proc/self/status"]).ok();
        ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"].map(|field| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("{field}:\t")))
                .unwrap()
                .to_string()
        })
    };
    let podman = "00000000800405fb".to_string();
    assert_eq!(
        status("container"),
        [
            podman.clone(),
            podman.clone(),
            podman.clone(),
            podman,
            "0000000000000000".into()
        ]
    );
    assert!(status("none").iter().all(|v| v == "0000000000000000"));
    let some = status("chown,CAP_KILL");
    assert_eq!(some[3], "0000000000000021");
    assert_eq!(some[2], "0000000000000021");
    ours(&["--caps=chown,bogus", "true"]).fails_as("rs-setpriv", 1, "unknown capability \"bogus\"");
    ours(&["--caps=none", "--inh-caps=+chown", "true"]).fails_as("rs-setpriv", 1, "--caps");
}

/// `-v` says each step on stderr and leaves stdout to the program;
/// `--selinux-label` and `--apparmor-profile` where that LSM is not
/// running: one line naming it, setpriv's status, nothing run.
#[test]
fn verbose_steps_and_absent_lsms() {
    let run = ours(&["-v", "--nnp", "echo", "out"]);
    assert_eq!(run.ok(), "out\n");
    let err = run.stderr();
    assert!(
        err.contains("no_new_privs set") && err.contains("exec"),
        "{err}"
    );
    assert!(ours(&["--nnp", "true"]).stderr().is_empty());
    let marker = marker_sleep();
    for (option, dir, name) in [
        (
            "--selinux-label=system_u:system_r:container_t:s0",
            "/sys/fs/selinux",
            "SELinux",
        ),
        (
            "--apparmor-profile=unconfined",
            "/sys/kernel/security/apparmor",
            "AppArmor",
        ),
    ] {
        if std::path::Path::new(dir).exists() {
            continue;
        }
        ours(&[option, "sleep", &marker]).fails_as(
            "rs-setpriv",
            127,
            &format!("{name} is not running"),
        );
        assert!(
            processes_with(&marker).is_empty(),
            "{option} ran the program"
        );
    }
}

/// The installed (static) rs-setpriv with user and group names, under an
/// nsswitch.conf that lists systemd (Debian's default, which made the
/// static rs-lsns crash): names come from /etc/passwd and /etc/group, no
/// glibc NSS in the process; `-d` as from the debug build.
#[test]
fn the_static_binary_takes_names_without_nss() {
    require!(
        is_root() && can_run_unprivileged(),
        "needs root and the test user"
    );
    let Some(static_setpriv) = release_binary("rs-setpriv") else {
        return;
    };
    let (uid, gid) = test_user().unwrap();
    let name = rsns_core::ids::user_name(uid).unwrap();
    let scratch = Scratch::new("setpriv-nss");
    let conf = scratch.join("nsswitch.conf");
    std::fs::write(&conf, "passwd: files systemd\ngroup: files systemd\n").unwrap();
    let script = format!(
        "mount --bind {} /etc/nsswitch.conf && {} --reuid={name} --regid={gid} --clear-groups id -u",
        conf.display(),
        static_setpriv
    );
    let run = cmd("unshare", &["-m", "sh", "-c", &script]);
    assert_eq!(run.signal(), None, "{}", run.stderr());
    assert_eq!(run.ok().trim(), uid.to_string());
    let dump = cmd(&static_setpriv, &["-d"]).ok();
    assert_eq!(dump, ours(&["-d"]).ok());
}

/// `--seccomp`: the built-in profile and JSON ones (docker's form and a
/// whole OCI config.json), as the kernel applies them to the program; an
/// ordinary user gets no_new_privs set for it, and -v says so; a bad
/// profile is one line naming the line and key, and nothing runs.
#[test]
fn seccomp_profiles_decide_what_the_program_may_call() {
    require!(has_command("python3"), "needs python3 (ctypes)");
    let dir = Scratch::new("setpriv-profile");
    // userfaultfd: podman's profile refuses it with EPERM; root may call it.
    let probe = format!(
        "import ctypes; l = ctypes.CDLL(None, use_errno=True); \
         r = l.syscall({}, 0); print(r if r < 0 else 'fd', ctypes.get_errno() if r < 0 else 0)",
        libc::SYS_userfaultfd
    );
    let status = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status";
    if is_root() {
        assert_eq!(ours(&["python3", "-c", &probe]).ok(), "fd 0\n");
        let out = ours(&[
            "--seccomp=container",
            "--caps=container",
            "python3",
            "-c",
            &probe,
        ])
        .ok();
        assert_eq!(out, "-1 1\n", "userfaultfd under the container profile");
        // Loaded while CAP_SYS_ADMIN was held: no no_new_privs needed.
        let out = ours(&[
            "--seccomp=container",
            "--caps=container",
            "sh",
            "-c",
            status,
        ])
        .ok();
        assert_eq!(out, "NoNewPrivs:\t0\nSeccomp:\t2\n");
    }
    let deny_mkdir = r#"{"defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#;
    let docker = dir.join("docker.json");
    std::fs::write(&docker, deny_mkdir).unwrap();
    let oci = dir.join("config.json");
    std::fs::write(
        &oci,
        format!(r#"{{"ociVersion": "1.0.2", "linux": {{"seccomp": {deny_mkdir}}}}}"#),
    )
    .unwrap();
    for (i, file) in [&docker, &oci].into_iter().enumerate() {
        let target = dir.join(&format!("made-{i}"));
        let run = ours(&[
            &format!("--seccomp={}", file.display()),
            "mkdir",
            target.to_str().unwrap(),
        ]);
        assert_ne!(run.code(), 0);
        assert!(
            run.stderr().contains("Permission denied"),
            "{}",
            run.stderr()
        );
        assert!(!target.exists());
    }
    if can_run_unprivileged() {
        let (uid, gid) = test_user().unwrap();
        let file = format!("--seccomp={}", docker.display());
        let run = run(as_user(
            uid,
            gid,
            SETPRIV,
            &["-v", &file, "sh", "-c", status],
        ));
        assert_eq!(run.ok(), "NoNewPrivs:\t1\nSeccomp:\t2\n");
        assert!(
            run.stderr()
                .contains("no_new_privs set: without CAP_SYS_ADMIN"),
            "{}",
            run.stderr()
        );
    }
    // Bad profiles: one line, status 1, the program never ran.
    let ran = dir.join("ran");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        format!("--seccomp={}", p.display())
    };
    let cases = [
        (
            write(
                "typo.json",
                "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [\n  {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALOW\"}]}",
            ),
            "line 3, key syscalls[0].action: unknown variant `SCMP_ACT_ALOW`",
        ),
        (
            write("broken.json", "{\"defaultAction\":,}"),
            "line 1, column 18: expected value",
        ),
        (
            write("notify.json", r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#),
            "needs a seccomp agent",
        ),
        (
            "--seccomp=/no/such-rsns-profile".into(),
            "/no/such-rsns-profile: No such file or directory",
        ),
        (
            format!("--seccomp={}", dir.path.display()),
            "not a regular file",
        ),
    ];
    for (arg, needle) in cases {
        ours(&[&arg, "touch", ran.to_str().unwrap()]).fails_as("rs-setpriv", 1, needle);
        assert!(!ran.exists(), "{arg}: the program ran");
    }
}

/// A uid of digits is a number, never asked of NSS as a name (getent was a
/// third of every start); a name /etc/passwd lacks still is, and
/// `--init-groups` looks its uid up as setpriv does (getpwuid). A getent
/// of ours on PATH says whether it was asked.
#[test]
fn digits_are_a_uid_and_names_go_to_nss() {
    require!(is_root(), "needs root to change ids");
    let dir = Scratch::new("setpriv-getent");
    let asked = dir.join("asked");
    script(
        &dir,
        "getent",
        &format!("#!/bin/sh\necho \"$@\" >>{}\nexit 2\n", asked.display()),
    );
    let path = format!("{}:{}", dir.path.display(), std::env::var("PATH").unwrap());
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(SETPRIV);
        c.args(args).env("PATH", &path);
        run(c)
    };
    let out = run(&["--reuid=4242", "--regid=4242", "--clear-groups", "id", "-u"]);
    assert_eq!(out.ok(), "4242\n");
    assert!(
        !asked.exists(),
        "getent was asked: {:?}",
        std::fs::read_to_string(&asked)
    );
    run(&["--reuid=rsns-no-such-user", "true"]).fails_as(
        "rs-setpriv",
        1,
        "failed to parse reuid: 'rsns-no-such-user'",
    );
    assert_eq!(
        std::fs::read_to_string(&asked).unwrap(),
        "passwd -- rsns-no-such-user\n"
    );
    std::fs::remove_file(&asked).unwrap();
    run(&["--reuid=4242", "--regid=4242", "--init-groups", "true"]).fails_as(
        "rs-setpriv",
        1,
        "uid 4242 not found, --init-groups requires",
    );
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), "passwd -- 4242\n");
}
