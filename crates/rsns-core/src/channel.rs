//! Fixed-size messages between a process and a child it forked, one way each,
//! over a close-on-exec Unix socket pair. Sending and receiving never allocate,
//! so a child may use them between fork and exec. A closed channel after
//! [`Msg::Exec`] means the exec succeeded: the sending end vanished with the
//! old program image.
//!
//! A socket pair rather than a pipe: send(MSG_NOSIGNAL) reports a peer that is
//! gone as EPIPE instead of raising SIGPIPE, and we leave SIGPIPE as our caller
//! set it, because the program we exec inherits it.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, recv, send, socketpair};

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
    /// From an init (`--init`) about to exit: the program died by this signal,
    /// which an init cannot die by itself.
    Killed { signal: i32 },
}

const LEN: usize = 8;

impl Msg {
    fn encode(self) -> [u8; LEN] {
        let (tag, step, errno) = match self {
            Msg::Ready => (1u8, 0u8, 0i32),
            Msg::Go => (2, 0, 0),
            Msg::Exec => (3, 0, 0),
            Msg::Failed { step, errno } => (4, step, errno),
            Msg::Killed { signal } => (5, 0, signal),
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
            5 => Some(Msg::Killed { signal: errno }),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Sender(OwnedFd);

impl std::os::fd::AsFd for Sender {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[derive(Debug)]
pub struct Receiver(OwnedFd);

/// A one-way channel, both ends close-on-exec.
pub fn channel() -> Result<(Receiver, Sender), Errno> {
    let (r, w) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((Receiver(r), Sender(w)))
}

impl Sender {
    /// Writes one message.
    pub fn send(&self, msg: Msg) -> Result<(), Errno> {
        self.send_bytes(&msg.encode())
    }

    /// Writes raw bytes (text that follows a message, for example).
    pub fn send_bytes(&self, mut bytes: &[u8]) -> Result<(), Errno> {
        while !bytes.is_empty() {
            match send(self.0.as_raw_fd(), bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(n) => bytes = &bytes[n..],
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Receiver {
    /// The next message, or `None` once the sending end is closed.
    pub fn recv(&self) -> Result<Option<Msg>, Errno> {
        let mut buf = [0u8; LEN];
        let mut got = 0;
        while got < LEN {
            match recv(self.0.as_raw_fd(), &mut buf[got..], MsgFlags::empty()) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(Errno::EIO),
                Ok(n) => got += n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        Msg::decode(buf).map(Some).ok_or(Errno::EIO)
    }

    /// Everything until the sending end is closed.
    pub fn recv_to_end(&self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match recv(self.0.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(0) => return all,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) => continue,
                Err(_) => return all,
            }
        }
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
            Msg::Killed { signal: 15 },
        ];
        for m in msgs {
            tx.send(m).unwrap();
        }
        tx.send_bytes(b"tail").unwrap();
        drop(tx);
        for m in msgs {
            assert_eq!(rx.recv().unwrap(), Some(m));
        }
        assert_eq!(rx.recv_to_end(), b"tail");
        assert_eq!(rx.recv().unwrap(), None);
    }

    #[test]
    fn sending_to_a_closed_peer_is_an_error_not_a_signal() {
        let (rx, tx) = channel().unwrap();
        drop(rx);
        assert_eq!(tx.send(Msg::Go), Err(Errno::EPIPE));
    }
}
