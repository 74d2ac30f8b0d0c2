//! NETNSID: the id a network namespace has in ours (what `ip netns set`
//! assigns), asked with one RTM_GETNSID netlink request per namespace.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, send, socket,
};

const RTM_NEWNSID: u16 = 88;
const RTM_GETNSID: u16 = 90;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NETNSA_NSID: u16 = 1;
const NETNSA_FD: u16 = 3;
/// The header (16 bytes) and a struct rtgenmsg padded to 4.
const PAYLOAD_START: usize = 16 + 4;

/// The id of a network namespace as seen from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetNsId {
    Assigned(i32),
    /// NETNSA_NSID_NOT_ASSIGNED (-1): shown as `unassigned`, as ip(8) does.
    Unassigned,
}

impl std::fmt::Display for NetNsId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetNsId::Assigned(id) => write!(f, "{id}"),
            NetNsId::Unassigned => f.write_str("unassigned"),
        }
    }
}

/// A NETLINK_ROUTE socket, opened once per run and only when NETNSID is shown.
#[derive(Debug)]
pub struct NetNsIds {
    socket: OwnedFd,
    seq: u32,
}

impl NetNsIds {
    pub fn open() -> Result<NetNsIds, Errno> {
        let socket = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        Ok(NetNsIds { socket, seq: 0 })
    }

    /// The id of the network namespace `ns` (a descriptor of it).
    pub fn lookup(&mut self, ns: BorrowedFd<'_>) -> Result<NetNsId, Errno> {
        self.seq += 1;
        let request = request(self.seq, ns.as_raw_fd());
        send(self.socket.as_raw_fd(), &request, MsgFlags::empty())?;
        let mut reply = [0u8; 256];
        let len = recv(self.socket.as_raw_fd(), &mut reply, MsgFlags::empty())?;
        parse_reply(&reply[..len])
    }
}

/// nlmsghdr + rtgenmsg{AF_UNSPEC} + one NETNSA_FD attribute.
fn request(seq: u32, fd: i32) -> Vec<u8> {
    let mut msg = Vec::with_capacity(28);
    msg.extend_from_slice(&28u32.to_ne_bytes());
    msg.extend_from_slice(&RTM_GETNSID.to_ne_bytes());
    msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&[0u8; 4]); // rtgen_family AF_UNSPEC, padding
    msg.extend_from_slice(&8u16.to_ne_bytes());
    msg.extend_from_slice(&NETNSA_FD.to_ne_bytes());
    msg.extend_from_slice(&fd.to_ne_bytes());
    msg
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn i32_at(buf: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// An RTM_NEWNSID reply carries NETNSA_NSID; an NLMSG_ERROR carries -errno.
fn parse_reply(reply: &[u8]) -> Result<NetNsId, Errno> {
    let len = i32_at(reply, 0).ok_or(Errno::EBADMSG)? as usize;
    let reply = reply.get(..len).ok_or(Errno::EBADMSG)?;
    match u16_at(reply, 4).ok_or(Errno::EBADMSG)? {
        NLMSG_ERROR => {
            let code = i32_at(reply, 16).ok_or(Errno::EBADMSG)?;
            Err(Errno::from_raw(-code))
        }
        RTM_NEWNSID => {
            let mut at = PAYLOAD_START;
            while let (Some(attr_len), Some(kind)) = (u16_at(reply, at), u16_at(reply, at + 2)) {
                if attr_len < 4 {
                    break;
                }
                if kind == NETNSA_NSID {
                    let id = i32_at(reply, at + 4).ok_or(Errno::EBADMSG)?;
                    return Ok(if id < 0 {
                        NetNsId::Unassigned
                    } else {
                        NetNsId::Assigned(id)
                    });
                }
                at += (usize::from(attr_len) + 3) & !3;
            }
            Err(Errno::ENODATA)
        }
        _ => Err(Errno::EBADMSG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut msg = Vec::new();
        msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 10]);
        msg.extend_from_slice(body);
        msg
    }

    #[test]
    fn replies_parse_into_ids_and_errors() {
        let mut body = vec![0u8; 4];
        body.extend_from_slice(&8u16.to_ne_bytes());
        body.extend_from_slice(&NETNSA_NSID.to_ne_bytes());
        body.extend_from_slice(&7i32.to_ne_bytes());
        assert_eq!(
            parse_reply(&reply(RTM_NEWNSID, &body)),
            Ok(NetNsId::Assigned(7))
        );
        body[8..12].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(
            parse_reply(&reply(RTM_NEWNSID, &body)),
            Ok(NetNsId::Unassigned)
        );
        let error = (-libc::EINVAL).to_ne_bytes();
        assert_eq!(parse_reply(&reply(NLMSG_ERROR, &error)), Err(Errno::EINVAL));
        assert_eq!(parse_reply(&[1, 2]), Err(Errno::EBADMSG));
    }

    #[test]
    fn our_own_namespace_has_no_id_in_itself() {
        let ns = std::fs::File::open("/proc/self/ns/net").unwrap();
        let mut ids = NetNsIds::open().unwrap();
        use std::os::fd::AsFd;
        assert_eq!(ids.lookup(ns.as_fd()), Ok(NetNsId::Unassigned));
    }
}
