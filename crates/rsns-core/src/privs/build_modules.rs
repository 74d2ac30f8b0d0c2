//! What build.rs takes of `privs` (see build.rs); not part of the library.

#[path = "capnames.rs"]
pub mod capnames;
#[path = "seccomp/build_modules.rs"]
pub mod seccomp;
