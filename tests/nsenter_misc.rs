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
