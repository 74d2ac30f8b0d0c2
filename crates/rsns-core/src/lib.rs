//! The core of the rs-* namespace tools: every system call and every parser
//! they need, so each binary only parses its arguments and calls one function.
//!
//! Only [`sys`] contains `unsafe`. Nothing that creates or enters namespaces
//! spawns a thread: creating a user namespace or joining a mount namespace
//! fails in a multi-threaded process. The one exception is rs-lsns's /proc
//! scan ([`scan`]), which enters nothing and reads processes in parallel.

pub mod caps;
pub mod cgroup;
pub mod channel;
pub mod containers;
pub mod error;
pub mod exec;
pub mod exec_missing;
pub mod idmap;
pub mod ids;
pub mod launch;
pub mod logging;
pub mod lsns;
pub mod mount;
pub mod mountinfo;
pub mod ns;
pub mod nsenter;
pub mod persist;
pub mod pidfile;
pub mod pivot;
pub mod privs;
pub mod process;
pub mod pty;
pub mod scan;
pub mod signal;
pub mod supervise;
pub mod target;
pub mod text;
pub mod unshare;
pub mod userdb;

#[allow(unsafe_code)]
pub mod sys;

#[cfg(test)]
mod testutil;
