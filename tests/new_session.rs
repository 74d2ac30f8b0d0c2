//! `--new-session`: a program inside cannot push keystrokes into the
//! caller's terminal with TIOCSTI (bubblewrap's CVE-2017-5226). The kernel
//! refuses TIOCSTI on a terminal that is not the caller's controlling one
//! unless it holds CAP_SYS_ADMIN in the initial user namespace (so root
//! outside a user namespace can always push, with or without a session of
//! its own), and every case runs the program in a user namespace; each also
//! runs without the option,
//! where the push must work (this kernel allows legacy TIOCSTI), so the test
//! can fail.

mod common;

use common::*;

/// Pushes `x` into its standard input's terminal; says whether it could.
const PUSH: &str = "perl -e '$c = \"x\"; ioctl(STDIN, 0x5412, $c) or die \"TIOCSTI: $!\\n\"; \
                    print \"pushed\\n\"'";

/// Whether the TIOCSTI checks can run here; prints why not.
fn can_try_tiocsti() -> bool {
    require(
        can_run_unprivileged()
            && has_command("script")
            && has_command("perl")
            && legacy_tiocsti_allowed(),
        "needs the test user, script, perl and legacy TIOCSTI",
    )
}

fn legacy_tiocsti_allowed() -> bool {
    // Without the sysctl (before 6.2) TIOCSTI is always allowed.
    std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").map_or(true, |v| v.trim() == "1")
}

/// `command` in a terminal, as the test user when `as_test_user`.
fn in_terminal(as_test_user: bool, command: &str) -> String {
    let (uid, gid) = test_user().expect("the test user");
    let prefix = if as_test_user {
        format!("setpriv --reuid={uid} --regid={gid} --clear-groups ")
    } else {
        String::new()
    };
    let term = Terminal::start(&format!("{prefix}{command}"));
    let (code, out) = term.finish();
    format!("status={code} {out}")
}

fn check(as_test_user: bool, tool_and_options: &str) {
    let who = format!("{tool_and_options} user={as_test_user}");
    let open = in_terminal(as_test_user, &format!("{tool_and_options} {PUSH}"));
    assert!(
        open.starts_with("status=0") && open.contains("pushed"),
        "{who}: without --new-session the push works: {open:?}"
    );
    let closed = in_terminal(
        as_test_user,
        &format!("{tool_and_options} --new-session {PUSH}"),
    );
    assert!(
        closed.contains("TIOCSTI: Operation not permitted") && !closed.contains("pushed"),
        "{who}: {closed:?}"
    );
    assert!(!closed.starts_with("status=0"), "{who}: {closed:?}");
}

#[test]
fn rs_unshare_new_session_stops_tiocsti() {
    if !can_try_tiocsti() {
        return;
    }
    for as_test_user in [false, true] {
        check(as_test_user, &format!("{UNSHARE} -Ur"));
        check(as_test_user, &format!("{UNSHARE} -Urpf --mount-proc"));
        check(as_test_user, &format!("{UNSHARE} -Urp --init"));
    }
}

#[test]
fn rs_nsenter_new_session_stops_tiocsti() {
    if !can_try_tiocsti() {
        return;
    }
    for as_test_user in [false, true] {
        // The user's own box: entering its user namespace leaves no
        // capability in the initial one, root included.
        let b = Boxed::start(Maker::RsUnshare, as_test_user, &["-Urpf"], "true");
        let t = b.pid_arg();
        check(as_test_user, &format!("{NSENTER} -t {t} -U"));
        check(as_test_user, &format!("{NSENTER} -t {t} -a"));
    }
}
