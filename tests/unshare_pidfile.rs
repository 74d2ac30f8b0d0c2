//! `--pid-file`: what is at the path is checked before anything starts and
//! never replaced unless it is a regular file; the file appears only once
//! the program really runs, and a run that dies on its way to the exec
//! leaves neither a pid file nor a namespace file bound.

mod common;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use common::*;

const MODES: [&[&str]; 3] = [&[], &["-f"], &["-pf"]];

/// What kind of file is at `path` (without following a symlink).
fn kind(path: &Path) -> &'static str {
    let t = std::fs::symlink_metadata(path).unwrap().file_type();
    match () {
        _ if t.is_symlink() => "symlink",
        _ if t.is_dir() => "dir",
        _ if t.is_fifo() => "fifo",
        _ if t.is_char_device() => "char",
        _ if t.is_file() => "file",
        _ => "other",
    }
}

#[test]
fn what_is_at_the_path_is_refused_before_the_program_starts() {
    require!(is_root(), "needs root to make a device node");
    let dir = Scratch::new("pidfile-kinds");
    // A copy of /dev/full: rs-unshare once renamed a file over the real one.
    cmd(
        "mknod",
        &[dir.join("full").to_str().unwrap(), "c", "1", "7"],
    )
    .ok();
    cmd("mkfifo", &[dir.join("fifo").to_str().unwrap()]).ok();
    std::fs::create_dir(dir.join("dir")).unwrap();
    std::fs::write(dir.join("precious"), "keep me\n").unwrap();
    std::os::unix::fs::symlink(dir.join("precious"), dir.join("link")).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
    for (name, was, says) in [
        (
            "full",
            "char",
            "is a character device; refusing to replace it",
        ),
        ("fifo", "fifo", "is a FIFO; refusing to replace it"),
        ("dir", "dir", "is a directory; refusing to replace it"),
        (
            "link",
            "symlink",
            "is a symbolic link; refusing to replace it",
        ),
        (
            "dangling",
            "symlink",
            "is a symbolic link; refusing to replace it",
        ),
    ] {
        for mode in MODES {
            let ran = dir.join("ran");
            let pid_file = format!("--pid-file={}", dir.join(name).display());
            let script = format!("touch {}", ran.display());
            let mut args = mode.to_vec();
            args.extend([pid_file.as_str(), "sh", "-c", &script]);
            unshare(&args).fails_with(1, says);
            assert!(!ran.exists(), "{name} {mode:?}: the program ran");
            assert_eq!(kind(&dir.join(name)), was, "{name} {mode:?}: replaced");
        }
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("precious")).unwrap(),
        "keep me\n"
    );
    assert_eq!(
        dir.entries(),
        ["dangling", "dir", "fifo", "full", "link", "precious"]
    );
}

#[test]
fn an_old_regular_file_is_replaced_once_the_program_runs() {
    require!(is_root(), "needs root");
    let dir = Scratch::new("pidfile-replace");
    let path = dir.join("p.pid");
    for mode in MODES {
        std::fs::write(&path, "stale\n").unwrap();
        let pid_file = format!("--pid-file={}", path.display());
        // The program sees the old file still there: it is replaced only
        // once the program runs, never emptied before.
        let script = format!(
            "while grep -q stale {0}; do sleep 0.01; done; cat {0}",
            path.display()
        );
        let mut args = mode.to_vec();
        args.extend([pid_file.as_str(), "sh", "-c", &script]);
        let out = unshare(&args).ok();
        let pid: u32 = out
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{mode:?}: {out}"));
        assert!(pid > 1, "{mode:?}: {out}");
        assert_eq!(dir.entries(), ["p.pid"], "{mode:?}: no temporary file");
    }
}

/// rs-unshare dies on its way into the program's exec (a seccomp kill at
/// execve, the moment a SIGKILL could land): no pid file, no bind, no
/// temporary file, in exec mode (whose helper must tell this from an exec)
/// and in fork mode.
#[test]
fn a_death_on_the_way_to_the_exec_leaves_nothing() {
    require!(
        is_root() && has_command("python3"),
        "needs root and python3"
    );
    let die = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/die-at-exec.py");
    let dir = Scratch::new("pidfile-death");
    let uts = dir.empty_file("uts");
    for mode in MODES {
        let persist = format!("--uts={}", uts.display());
        let pid_file = format!("--pid-file={}", dir.join("p.pid").display());
        let mut args = vec![UNSHARE];
        args.extend_from_slice(mode);
        args.extend([persist.as_str(), pid_file.as_str(), "true"]);
        let run = cmd(die, &args);
        assert_eq!(run.code(), 128 + 31, "{mode:?}: {}", run.stderr());
        assert!(dir.mounts().is_empty(), "{mode:?}: the bind stayed");
        assert_eq!(dir.entries(), ["uts"], "{mode:?}: a file stayed");
    }
    // The same run without the kill keeps both (the program waits for its
    // pid file, so it surely runs when the file is written).
    let persist = format!("--uts={}", uts.display());
    let pid_file = format!("--pid-file={}", dir.join("p.pid").display());
    let wait = format!(
        "while [ ! -e {} ]; do sleep 0.01; done",
        dir.join("p.pid").display()
    );
    unshare(&[&persist, &pid_file, "sh", "-c", &wait]).ok();
    assert_eq!(dir.mounts().len(), 1);
    assert_eq!(dir.entries(), ["p.pid", "uts"]);
}
