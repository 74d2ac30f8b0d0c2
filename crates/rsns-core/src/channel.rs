//! Fixed-size messages over close-on-exec pipes between a process and the
//! child it forked. Sending and receiving never allocate, so a child may use
//! them between fork and exec. A closed pipe after [`Msg::Exec`] means the
//! exec succeeded: the write end vanished with the old program image.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::{pipe2, read, write};

/// What one side tells the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// The child finished its first steps (namespaces exist, propagation set).
    Ready,
    /// Go on: maps written, namespaces bound.
    Go,
    /// About to exec; EOF next means the exec worked.
    Exec,
    /// A step failed: which step (a code of the caller's) and the errno.
    Failed { step: u8, errno: i32 },
}

const LEN: usize = 8;

impl Msg {
    fn encode(self) -> [u8; LEN] {
        let (tag, step, errno) = match self {
            Msg::Ready => (1u8, 0u8, 0i32),
            Msg::Go => (2, 0, 0),
            Msg::Exec => (3, 0, 0),
            Msg::Failed { step, errno } => (4, step, errno),
        };
        let e = errno.to_ne_bytes();
        [tag, step, 0, 0, e[0], e[1], e[2], e[3]]
    }

    fn decode(buf: [u8; LEN]) -> Option<Msg> {
        let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
        match buf[0] {
            1 => Some(Msg::Ready),
            2 => Some(Msg::Go),
            3 => Some(Msg::Exec),
            4 => Some(Msg::Failed {
                step: buf[1],
                errno,
            }),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Sender(OwnedFd);

#[derive(Debug)]
pub struct Receiver(OwnedFd);

/// A one-way pipe, both ends close-on-exec.
pub fn channel() -> Result<(Receiver, Sender), Errno> {
    let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
    Ok((Receiver(r), Sender(w)))
}

impl Sender {
    /// Writes one message; 8 bytes is below PIPE_BUF, so it is atomic.
    pub fn send(&self, msg: Msg) -> Result<(), Errno> {
        let buf = msg.encode();
        loop {
            match write(self.0.as_fd(), &buf) {
                Ok(LEN) => return Ok(()),
                Ok(_) => return Err(Errno::EIO),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Receiver {
    /// The next message, or `None` once every write end is closed.
    pub fn recv(&self) -> Result<Option<Msg>, Errno> {
        let mut buf = [0u8; LEN];
        let mut got = 0;
        while got < LEN {
            match read(self.0.as_fd(), &mut buf[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(Errno::EIO),
                Ok(n) => got += n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        Msg::decode(buf).map(Some).ok_or(Errno::EIO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_eof_is_none() {
        let (rx, tx) = channel().unwrap();
        let msgs = [
            Msg::Ready,
            Msg::Go,
            Msg::Exec,
            Msg::Failed {
                step: 7,
                errno: libc::EACCES,
            },
        ];
        for m in msgs {
            tx.send(m).unwrap();
        }
        drop(tx);
        for m in msgs {
            assert_eq!(rx.recv().unwrap(), Some(m));
        }
        assert_eq!(rx.recv().unwrap(), None);
    }
}
