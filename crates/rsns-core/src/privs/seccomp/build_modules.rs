//! What build.rs takes of `privs::seccomp` (see build.rs); not part of the
//! library.

#[path = "compile.rs"]
pub mod compile;
#[path = "container.rs"]
pub mod container;
#[path = "profile.rs"]
pub mod profile;
