//! `--pty`: the program gets a new pseudo-terminal as its controlling
//! terminal, in a session of its own, and we relay between it and ours.
//!
//! The terminal comes from /dev/ptmx as the mount namespace we are in sees
//! it: rs-nsenter opens it once it has entered the target's, so the
//! program's terminal is in the target's devpts (and shows in its
//! /dev/pts). The peer is taken from the master with TIOCGPTPEER, never
//! looked up in /dev/pts, and /dev/ptmx must be the multiplexer (character
//! device 5:2): an image cannot hand us something else there.
//!
//! The program never holds our terminal: its 0, 1 and 2 are the new
//! terminal's peer, and everything else of ours is close-on-exec. So
//! TIOCSTI and the like from inside reach only its own terminal. While it
//! runs, ours is in raw mode (restored however we end), window size
//! changes are copied across (SIGWINCH), and when our input is not a
//! terminal its end is passed on as the terminal's end-of-file character.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use nix::sys::termios::{self, SetArg, Termios};

use crate::error::SysError;
use crate::sys;

/// A new pseudo-terminal: the master (ours) and its peer (the program's).
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub peer: OwnedFd,
}

/// Our /proc/self/fd, opened before anything is entered: the one way to
/// reopen a descriptor of ours once our root and PID namespace may be a
/// container's (whose /proc does not show us).
#[derive(Debug)]
pub struct FdDir(OwnedFd);

impl FdDir {
    pub fn open() -> Result<FdDir, SysError> {
        // Now, while /proc is ours.
        no_other_terminal();
        nix::fcntl::open(
            "/proc/self/fd",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(FdDir)
        .map_err(|e| SysError::new("--pty: cannot open /proc/self/fd", e))
    }
}

/// Opens a new pseudo-terminal from /dev/ptmx as our root shows it, with
/// our window size. The path is looked up once, without opening what it
/// names (O_PATH), and only the multiplexer (character device 5:2) is then
/// opened, through `fds`: an image that puts another device at /dev/ptmx
/// (a watchdog, say) never has it opened by us, even in a race.
pub fn open(fds: &FdDir) -> Result<Pty, SysError> {
    let fail = |what: &'static str| move |e: Errno| SysError::new(what, e);
    let path = nix::fcntl::open("/dev/ptmx", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(fail("--pty: cannot find /dev/ptmx"))?;
    let st = nix::sys::stat::fstat(path.as_fd()).map_err(fail("--pty: fstat /dev/ptmx"))?;
    let is_ptmx = st.st_mode & libc::S_IFMT == libc::S_IFCHR
        && libc::major(st.st_rdev) == 5
        && libc::minor(st.st_rdev) == 2;
    if !is_ptmx {
        let what = match st.st_mode & libc::S_IFMT {
            libc::S_IFCHR | libc::S_IFBLK => format!(
                "{} device {}:{}",
                if st.st_mode & libc::S_IFMT == libc::S_IFCHR {
                    "character"
                } else {
                    "block"
                },
                libc::major(st.st_rdev),
                libc::minor(st.st_rdev)
            ),
            libc::S_IFIFO => "a FIFO".into(),
            libc::S_IFDIR => "a directory".into(),
            libc::S_IFSOCK => "a socket".into(),
            _ => "a regular file".into(),
        };
        return Err(SysError::new(
            format!(
                "--pty: /dev/ptmx here is {what}, not the pseudo-terminal multiplexer (character device 5:2)"
            ),
            Errno::ENODEV,
        ));
    }
    let master = nix::fcntl::openat(
        fds.0.as_fd(),
        path.as_raw_fd().to_string().as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
    .map_err(fail("--pty: cannot open /dev/ptmx"))?;
    let peer = sys::pty_peer(master.as_fd())
        .map_err(fail("--pty: cannot open the new terminal (TIOCGPTPEER)"))?;
    if let Some(ws) = our_window_size() {
        let _ = sys::set_window_size(master.as_fd(), &ws);
    }
    for_scripts(peer.as_fd());
    Ok(Pty { master, peer })
}

/// Every other terminal we hold (past 0 to 2, which the program's replace)
/// closes on exec: a terminal of the caller's that a shell left open
/// would let the program type into it (TIOCSTI). We never exec, so this
/// changes nothing of ours; other descriptors pass on as without --pty.
fn no_other_terminal() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let listed: Vec<i32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in listed {
        sys::cloexec_if_terminal(fd);
    }
}

/// Input that no one types (a pipe, a file) is not echoed back into the
/// output, and output that goes to no terminal keeps its bare newlines
/// (no CR added): what a script feeds and reads stays as it was. The
/// program may set other modes; a terminal of ours gets a terminal's.
fn for_scripts(peer: BorrowedFd<'_>) {
    let typed = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    let shown = nix::unistd::isatty(std::io::stdout()).unwrap_or(false);
    if typed && shown {
        return;
    }
    let Ok(mut modes) = termios::tcgetattr(peer) else {
        return;
    };
    if !typed {
        modes.local_flags.remove(termios::LocalFlags::ECHO);
    }
    if !shown {
        modes.output_flags.remove(termios::OutputFlags::ONLCR);
    }
    let _ = termios::tcsetattr(peer, SetArg::TCSANOW, &modes);
}

fn our_window_size() -> Option<libc::winsize> {
    sys::window_size(std::io::stdin().as_fd())
        .or_else(|| sys::window_size(std::io::stdout().as_fd()))
}

/// The parent's side while the program runs.
#[derive(Debug)]
pub struct Relay {
    master: OwnedFd,
    /// Our input is still read (until its end).
    input_open: bool,
    /// Our terminal's settings before raw mode, put back on drop.
    saved: Option<Termios>,
}

impl Relay {
    /// Starts relaying through `master`: our terminal, if stdin is one,
    /// goes raw (keystrokes, Ctrl-C included, go to the program's
    /// terminal, whose line discipline acts on them).
    pub fn new(master: OwnedFd) -> Relay {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        if let Some(old) = &saved {
            let mut raw = old.clone();
            termios::cfmakeraw(&mut raw);
            let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw);
        }
        Relay {
            master,
            input_open: true,
            saved,
        }
    }

    pub fn master(&self) -> BorrowedFd<'_> {
        self.master.as_fd()
    }

    pub fn input_open(&self) -> bool {
        self.input_open
    }

    /// The program's terminal has output: to our stdout. False once it has
    /// no more (EIO: no process holds its peer).
    pub fn from_program(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        match nix::unistd::read(&self.master, &mut buf) {
            Ok(0) | Err(Errno::EIO) => false,
            Ok(n) => {
                write_all(std::io::stdout().as_fd(), &buf[..n]);
                true
            }
            Err(_) => true,
        }
    }

    /// Our input has something: to the program's terminal. At its end, a
    /// terminal of ours has nothing more to say; any other input's end is
    /// the end-of-file character (Ctrl-D), which the program's line
    /// discipline turns into its end of input.
    pub fn from_us(&mut self) {
        let mut buf = [0u8; 8192];
        match nix::unistd::read(std::io::stdin(), &mut buf) {
            Ok(0) | Err(Errno::EIO) => {
                self.input_open = false;
                if self.saved.is_none() {
                    let eof = termios::tcgetattr(self.master.as_fd())
                        .map_or(4, |t| t.control_chars[libc::VEOF]);
                    write_all(self.master.as_fd(), &[eof]);
                }
            }
            Ok(n) => write_all(self.master.as_fd(), &buf[..n]),
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(_) => self.input_open = false,
        }
    }

    /// SIGWINCH: our new size to the program's terminal.
    pub fn resize(&self) {
        if let Some(ws) = our_window_size() {
            let _ = sys::set_window_size(self.master.as_fd(), &ws);
        }
    }

    /// The program ended: what its terminal still holds, out.
    pub fn drain(&mut self) {
        while self.from_program() {
            let mut fds = [nix::poll::PollFd::new(
                self.master.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            // Nothing more within a moment: whoever still holds the peer
            // (a child the program left) is not ours to wait for.
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(50u16)) {
                Ok(n) if n > 0 => continue,
                _ => break,
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(old) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, old);
        }
    }
}

/// Writes all of `data`, waiting out a full terminal (the master is
/// non-blocking) and giving up on any other error.
fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EAGAIN) => {
                let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLOUT)];
                let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u16));
            }
            Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}
