//! `--pty` (rs-unshare and rs-nsenter): the program's controlling terminal
//! is a new pseudo-terminal, from the target's devpts when rs-nsenter
//! enters its mount namespace; our input and output are relayed, the exit
//! status passed through, our window size copied, our terminal left as it
//! was. Checked with input from a pipe (scripts, CI) and from a terminal
//! of the test's own (python's pty module).

mod common;

use common::*;

/// Runs `program args` on a new terminal of 33 rows and 77 columns, in
/// python's pty module; returns what it printed, its exit status, and
/// whether the terminal still echoes and is in canonical mode afterwards.
fn on_a_terminal(program: &str, args: &[&str]) -> (String, i32, bool) {
    let argv: Vec<String> = std::iter::once(program)
        .chain(args.iter().copied())
        .map(|a| format!("{a:?}"))
        .collect();
    let script = format!(
        r#"
import os, pty, struct, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 77, 0, 0))
    os.execv({program:?}, [{argv}])
out = b""
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
lflag = termios.tcgetattr(fd)[3]
cooked = bool(lflag & termios.ECHO) and bool(lflag & termios.ICANON)
print(out.decode().replace("\r\n", "\n"), end="")
print("@@", os.waitstatus_to_exitcode(st), cooked)
"#,
        argv = argv.join(", ")
    );
    let out = cmd("python3", &["-c", &script]).ok();
    let (text, tail) = out.rsplit_once("@@ ").unwrap();
    let mut tail = tail.split_whitespace();
    let status = tail.next().unwrap().parse().unwrap();
    let cooked = tail.next() == Some("True");
    (text.to_string(), status, cooked)
}

/// The output without the line the terminal echoed of our input ("hi",
/// as any terminal echoes, whenever it came).
fn without_echo(out: &str) -> String {
    let out = out.replace("\r\n", "\n");
    let mut lines: Vec<&str> = out.lines().collect();
    let echo = lines.iter().position(|l| *l == "hi").expect("the echo");
    lines.remove(echo);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn unshare_pty_gives_the_program_a_terminal_of_its_own_with_input_from_a_pipe() {
    if !can(false) {
        return;
    }
    let script = "tty; ps -o tty=,sid=,pid= -p $$; read x; echo got $x; exit 3";
    let run = sh(
        false,
        &format!("echo hi | {UNSHARE} -pfm --mount-proc --pty sh -c '{script}'"),
    );
    assert_eq!(run.code(), 3, "{}", run.stderr());
    let out = without_echo(&run.stdout());
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("/dev/pts/"), "{out}");
    // Its controlling terminal, in a session it leads.
    let ps: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(format!("/dev/{}", ps[0]), lines[0], "{out}");
    assert_eq!(ps[1], ps[2], "{out}");
    assert_eq!(lines[2], "got hi", "{out}");
}

#[test]
fn nsenter_pty_takes_the_terminal_from_the_targets_devpts() {
    for as_user in [false, true] {
        if !can(as_user) {
            continue;
        }
        let scratch = Scratch::new("pty-box");
        let Some(r) = rootfs_copy(&scratch, &[]) else {
            return;
        };
        if as_user {
            give_to_test_user(&scratch, &["rootfs"]);
        }
        let ns = if as_user { "-Urpfmiun" } else { "-pfmiun" };
        let bg = Background::start_as(
            as_user,
            &[
                ns,
                PIVOT,
                "--root",
                &r,
                "--dev",
                "--proc",
                "--",
                "sh",
                "-c",
                "echo ready; exec sleep 600",
            ],
        );
        bg.wait_output("ready");
        let pid = bg.program_pid().to_string();
        // The box's own devpts had no terminal: the program's is its first.
        let run = sh(
            as_user,
            &format!("echo hi | {NSENTER} -t {pid} -a --pty sh -c 'tty; ls /dev/pts; read x; echo got $x; exit 4'"),
        );
        assert_eq!(run.code(), 4, "{}", run.stderr());
        assert_eq!(
            without_echo(&run.stdout()),
            "/dev/pts/0\n0     ptmx\ngot hi\n"
        );
        // On a terminal: its size goes across, and it is left as it was.
        if !as_user {
            let (out, status, cooked) = on_a_terminal(
                NSENTER,
                &["-t", &pid, "-a", "--pty", "sh", "-c", "stty size; tty; exit 5"],
            );
            assert_eq!((out.as_str(), status, cooked), ("33 77\n/dev/pts/0\n", 5, true));
        }
    }
}

#[test]
fn pty_refuses_no_fork_in_one_line() {
    nsenter(&["-t", "1", "-a", "--pty", "--no-fork", "true"])
        .fails_as("rs-nsenter", 1, "--pty needs a fork");
}
