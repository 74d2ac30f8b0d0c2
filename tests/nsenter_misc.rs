//! rs-nsenter's own output: -v logs on stderr only, --help and --version.

mod common;

use common::*;

#[test]
fn verbose_logs_go_to_stderr_and_stdout_stays_data() {
    require!(is_root(), "needs root");
    let b = Boxed::start(Maker::RsUnshare, false, &["-u"], "true");
    let t = b.pid_arg();
    let run = nsenter(&["-v", "-t", &t, "-u", "echo", "data"]);
    assert_eq!(run.ok(), "data\n");
    assert!(run.stderr().contains("plan"), "{}", run.stderr());
    let quiet = nsenter(&["-t", &t, "-u", "echo", "data"]);
    assert_eq!(quiet.stderr(), "");
}

/// `-v` reads like the rest of our messages: no Rust debug syntax
/// (`Some(TargetSpec { pid: 1515, inode: None })`, `["..."]`, `MapPlan {`).
#[test]
fn verbose_logs_read_as_text_not_rust_debug_syntax() {
    let t = std::process::id().to_string();
    let runs = [
        nsenter(&["-v", "-t", &t, "-u", "true"]),
        unshare(&["-v", "-Ur", "true"]),
    ];
    for run in runs {
        let log = run.stderr();
        assert!(log.contains("plan"), "{log}");
        for debug in ["Some(", "None", " { ", "[\"", "MapPlan", "TargetSpec"] {
            assert!(!log.contains(debug), "{debug:?} in: {log}");
        }
    }
}
