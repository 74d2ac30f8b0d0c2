//! `--pty` (rs-unshare and rs-nsenter): the program's controlling terminal
//! is a new pseudo-terminal, from the target's devpts when rs-nsenter
//! enters its mount namespace; our input and output are relayed, the exit
//! status passed through, our window size copied, our terminal left as it
//! was. Checked with input from a pipe (scripts, CI) and from a terminal
//! of the test's own (python's pty module).

mod common;

use std::os::unix::fs::OpenOptionsExt;

use common::*;

/// Runs `program args` on a new terminal of 33 rows and 77 columns, in
/// python's pty module; returns what it printed, its exit status, and
/// whether the terminal still echoes and is in canonical mode afterwards.
/// Once the program prints "ready", the terminal becomes 40 by 100, and once
/// it prints "40 100", Ctrl-C is typed.
fn on_a_terminal(program: &str, args: &[&str]) -> (String, i32, bool) {
    let argv: Vec<String> = std::iter::once(program)
        .chain(args.iter().copied())
        .map(|a| format!("{a:?}"))
        .collect();
    let script = format!(
        r#"
import os, pty, struct, fcntl, termios, select, signal, time
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 77, 0, 0))
    # As a shell may: a copy of the caller's terminal left open, at fd 9.
    os.dup2(0, 9, inheritable=True)
    os.execv({program:?}, [{argv}])
out = b""
step = 0
# A program that never ends is a failure, not a hang.
deadline = time.time() + {patience}
while True:
    if not select.select([fd], [], [], max(0, deadline - time.time()))[0]:
        os.kill(pid, signal.SIGKILL)
        break
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
    if step == 0 and b"ready" in out:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 100, 0, 0))
        step = 1
    elif step == 1 and b"40 100" in out:
        os.write(fd, b"\x03")
        step = 2
_, st = os.waitpid(pid, 0)
lflag = termios.tcgetattr(fd)[3]
cooked = bool(lflag & termios.ECHO) and bool(lflag & termios.ICANON)
print(out.decode().replace("\r\n", "\n"), end="")
print("@@", os.waitstatus_to_exitcode(st), cooked)
"#,
        argv = argv.join(", "),
        patience = patience(20).as_secs()
    );
    let out = cmd("python3", &["-c", &script]).ok();
    let (text, tail) = out.rsplit_once("@@ ").unwrap();
    let mut tail = tail.split_whitespace();
    let status = tail.next().unwrap().parse().unwrap();
    let cooked = tail.next() == Some("True");
    (text.to_string(), status, cooked)
}

/// With input from a pipe and output to one, as in a script: the program
/// runs on a terminal that leads its session, reads our input to its end,
/// prints without echo or added CRs, and its status is ours. As root and
/// as an ordinary user in a user namespace of its own.
#[test]
fn unshare_pty_gives_the_program_a_terminal_of_its_own_with_input_from_a_pipe() {
    for (as_user, ns) in [(false, "-pfm"), (true, "-Upfm")] {
        if !can(as_user) {
            continue;
        }
        let script =
            "tty; ps -o tty=,sid=,pid= -p $$; read x; echo got $x; read y || echo end; exit 3";
        let run = sh(
            as_user,
            &format!("echo hi | {UNSHARE} {ns} --mount-proc --pty sh -c '{script}'"),
        );
        assert_eq!(run.code(), 3, "{}", run.stderr());
        let out = run.stdout();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out:?}");
        assert!(lines[0].starts_with("/dev/pts/"), "{out}");
        // Its controlling terminal, in a session it leads (PID 1 here).
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [&lines[0]["/dev/".len()..], "1", "1"],
            "{out}"
        );
        assert_eq!(&lines[2..], ["got hi", "end"], "{out}");
    }
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
        let bg = Background::sleeping_box(as_user, &r, &["--dev", "--proc"]);
        let pid = bg.program_pid().to_string();
        // The box's own devpts had no terminal: the program's is its first.
        let run = sh(
            as_user,
            &format!(
                "echo hi | {NSENTER} -t {pid} -a --pty sh -c 'tty; ls /dev/pts; read x; echo got $x; exit 4'"
            ),
        );
        assert_eq!(run.code(), 4, "{}", run.stderr());
        assert_eq!(run.stdout(), "/dev/pts/0\n0     ptmx\ngot hi\n");
        // On a terminal: its size goes across, and it is left as it was.
        if !as_user {
            let (out, status, cooked) = on_a_terminal(
                NSENTER,
                &[
                    "-t",
                    &pid,
                    "-a",
                    "--pty",
                    "sh",
                    "-c",
                    "stty size; tty; cd /proc/self/fd; for f in *; do [ -t $f ] && echo $f; done; exit 5",
                ],
            );
            // It holds its own terminal, as 0 to 2, and none of ours (which
            // TIOCSTI could type into), though we had one at 9.
            assert_eq!(
                (out.as_str(), status, cooked),
                ("33 77\n/dev/pts/0\n0\n1\n2\n", 5, true)
            );
            // A change of our size reaches it (SIGWINCH), and Ctrl-C
            // interrupts it, through its own terminal.
            let (out, status, cooked) = on_a_terminal(
                NSENTER,
                &[
                    "-t",
                    &pid,
                    "-a",
                    "--pty",
                    "sh",
                    "-c",
                    "trap 'stty size' WINCH; trap 'echo int; exit 7' INT; echo ready; \
                     while :; do sleep 0.1; done",
                ],
            );
            assert_eq!((status, cooked), (7, true), "{out}");
            assert_eq!(
                // (The terminal echoes Ctrl-C as ^C.)
                out.replace("^C", "").lines().collect::<Vec<_>>(),
                ["ready", "40 100", "int"],
                "{out}"
            );
        }
    }
}

#[test]
fn pty_refuses_no_fork_in_one_line() {
    nsenter(&["-t", "1", "-a", "--pty", "--no-fork", "true"]).fails_as(
        "rs-nsenter",
        1,
        "--pty needs a fork",
    );
}

/// An image that swaps /dev/ptmx with a FIFO (a stand-in for any device
/// whose opening does something) while rs-nsenter --pty looks it up,
/// hundreds of times: each run gets a terminal or refuses in one line, and
/// the FIFO is never opened (a reader blocked on it would wake). The
/// installed (release) rs-nsenter.
#[test]
fn pty_never_opens_what_an_image_swaps_in_for_dev_ptmx() {
    if !can(false) {
        return;
    }
    let Some(nsenter) = release_binary("rs-nsenter") else {
        return;
    };
    let scratch = Scratch::new("pty-race");
    let Some(r) = rootfs_copy(&scratch, &[]) else {
        return;
    };
    let bg = Background::start_as(
        false,
        &[
            "-pfmiun",
            PIVOT,
            "--root",
            &r,
            "--dev",
            "--proc",
            "--",
            "sh",
            "-c",
            "mkfifo /dev/trap && ln /dev/trap /dev/trap-held && echo ready; exec sleep 600",
        ],
    );
    bg.wait_output("ready");
    let pid = bg.program_pid().to_string();
    let dev = format!("/proc/{pid}/root/dev");
    // Blocks until someone opens the FIFO for writing.
    let (opened_tx, opened) = std::sync::mpsc::channel();
    let held = format!("{dev}/trap-held");
    std::thread::spawn(move || {
        let _ = std::fs::File::open(&held);
        let _ = opened_tx.send(());
    });
    let racer = Racer::start(&format!("{dev}/ptmx"), &format!("{dev}/trap"));
    let (mut got, mut refused) = (0, 0);
    for _ in 0..runs() {
        let run = cmd(&nsenter, &["-t", &pid, "-a", "--pty", "true"]);
        match run.code() {
            0 => got += 1,
            1 if run.stderr()
                == "rs-nsenter: --pty: /dev/ptmx here is a FIFO, not the pseudo-terminal \
                    multiplexer (character device 5:2): No such device (ENODEV)\n" =>
            {
                refused += 1
            }
            _ => panic!("{}: {}", run.code(), run.stderr()),
        }
    }
    drop(racer);
    let woke = opened.try_recv().is_ok();
    // Let the reader go.
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("{dev}/trap-held"));
    assert!(
        !woke,
        "the FIFO was opened ({got} terminals, {refused} refusals)"
    );
    eprintln!("{got} terminals, {refused} refusals");
    assert!(
        got > 0 && refused > 0,
        "{got} terminals, {refused} refusals"
    );
}
