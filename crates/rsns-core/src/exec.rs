//! The program to run: its argv, environment and the paths to try, all built
//! before forking so the child execs without allocating. The PATH search runs
//! in the child because it must happen inside the new root.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::sys::{self, CStrArray};

/// Searched when the program's environment has no PATH (root's default on Debian).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Which variables the program inherits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EnvPolicy {
    #[default]
    Inherit,
    /// `--clear-env`: none.
    Clear,
    /// `--whitelist-env=A,B`: only these, if set.
    Keep(Vec<String>),
}

impl EnvPolicy {
    /// Applies the policy to `vars` (our own environment, in order).
    pub fn apply(&self, vars: Vec<(OsString, OsString)>) -> Vec<(OsString, OsString)> {
        match self {
            EnvPolicy::Inherit => vars,
            EnvPolicy::Clear => Vec::new(),
            EnvPolicy::Keep(names) => vars
                .into_iter()
                .filter(|(k, _)| names.iter().any(|n| OsStr::new(n) == k))
                .collect(),
        }
    }
}

/// The environment the program gets.
#[derive(Debug, Clone, Copy)]
pub enum ProgramEnv<'a> {
    /// Ours, handed to execve as it is: nothing to copy.
    Inherit,
    /// Exactly these variables.
    Only(&'a [(OsString, OsString)]),
}

impl ProgramEnv<'_> {
    /// The PATH the program will see, where it is looked up.
    fn path(&self) -> Option<OsString> {
        match self {
            ProgramEnv::Inherit => std::env::var_os("PATH"),
            ProgramEnv::Only(vars) => vars
                .iter()
                .find(|(k, _)| k == "PATH")
                .map(|(_, v)| v.clone()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{what} contains a NUL byte")]
pub struct NulByte {
    what: String,
}

fn cstring(bytes: &[u8], what: impl FnOnce() -> String) -> Result<CString, NulByte> {
    CString::new(bytes).map_err(|_| NulByte { what: what() })
}

/// Everything needed to exec the program without allocating.
#[derive(Debug)]
pub struct ExecPlan {
    display: String,
    candidates: Vec<CString>,
    argv: CStrArray,
    /// `None`: our own environment.
    envp: Option<CStrArray>,
    sh: CString,
    scratch: Vec<*const libc::c_char>,
}

impl ExecPlan {
    /// `command[0]` with its arguments; searched in the PATH of `env` unless it
    /// contains a slash.
    pub fn command(command: &[OsString], env: ProgramEnv<'_>) -> Result<ExecPlan, NulByte> {
        let program = command.first().expect("a command has a program").as_bytes();
        let candidates = if program.is_empty() {
            // execvp(3): an empty name is never found (ENOENT, status 127).
            Vec::new()
        } else if program.contains(&b'/') {
            vec![cstring(program, || "the program name".into())?]
        } else {
            let path = env.path().map(OsString::into_vec);
            search_candidates(path.as_deref().unwrap_or(DEFAULT_PATH.as_bytes()), program)?
        };
        let argv = command
            .iter()
            .enumerate()
            .map(|(i, a)| cstring(a.as_bytes(), || format!("argument {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        Self::assemble(
            String::from_utf8_lossy(program).into_owned(),
            candidates,
            argv,
            env,
        )
    }

    /// A login shell, as unshare(1) runs one when no program is given: the path
    /// is used as is and argv[0] is `-` plus its base name.
    pub fn login_shell(shell: &Path, env: ProgramEnv<'_>) -> Result<ExecPlan, NulByte> {
        let path = cstring(shell.as_os_str().as_bytes(), || "the shell path".into())?;
        let base = shell.file_name().unwrap_or(shell.as_os_str()).as_bytes();
        let mut arg0 = b"-".to_vec();
        arg0.extend_from_slice(base);
        let argv = vec![cstring(&arg0, || "the shell name".into())?];
        Self::assemble(shell.display().to_string(), vec![path], argv, env)
    }

    fn assemble(
        display: String,
        candidates: Vec<CString>,
        argv: Vec<CString>,
        env: ProgramEnv<'_>,
    ) -> Result<ExecPlan, NulByte> {
        let envp = match env {
            ProgramEnv::Inherit => None,
            ProgramEnv::Only(vars) => Some(CStrArray::new(
                vars.iter()
                    .map(|(k, v)| {
                        let mut kv = k.clone().into_vec();
                        kv.push(b'=');
                        kv.extend_from_slice(v.as_bytes());
                        cstring(&kv, || {
                            format!("environment variable {}", k.to_string_lossy())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )),
        };
        let scratch = Vec::with_capacity(argv.len() + 2);
        Ok(ExecPlan {
            display,
            candidates,
            argv: CStrArray::new(argv),
            envp,
            sh: c"/bin/sh".to_owned(),
            scratch,
        })
    }

    /// The paths exec will try, in order.
    pub fn candidates(&self) -> impl Iterator<Item = &CStr> {
        self.candidates.iter().map(CString::as_c_str)
    }

    /// The program as the user named it.
    pub fn display(&self) -> &str {
        &self.display
    }

    #[cfg(test)]
    pub fn argv(&self) -> &[CString] {
        self.argv.strings()
    }

    /// Tries each candidate like execvp(3): a file that is missing moves on, a
    /// file that is not executable is remembered, a file without a known header
    /// runs with /bin/sh. Returns only on failure, with the errno to report.
    /// Allocation-free.
    pub fn exec(&mut self) -> Errno {
        match self.resolve() {
            Ok(chosen) => self.exec_resolved(chosen),
            Err(errno) => errno,
        }
    }

    /// The candidate exec will run, found as execvp(3) would but without
    /// exec'ing: the first regular file we may execute. A missing one moves
    /// on; one we may not run is remembered (EACCES). Searching first keeps
    /// the time between "about to exec" and the exec itself short.
    /// Allocation-free.
    pub fn resolve(&self) -> Result<usize, Errno> {
        let mut saw_eacces = false;
        let mut last = Errno::ENOENT;
        for (i, candidate) in self.candidates.iter().enumerate() {
            match executable(candidate) {
                Ok(()) => return Ok(i),
                Err(Errno::EACCES) => saw_eacces = true,
                Err(e @ (Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV)) => {
                    last = e
                }
                Err(other) => return Err(other),
            }
        }
        Err(if saw_eacces { Errno::EACCES } else { last })
    }

    /// execve of the candidate [`resolve`](Self::resolve) chose; a file
    /// without a known header runs with /bin/sh. Returns only on failure.
    pub fn exec_resolved(&mut self, chosen: usize) -> Errno {
        let candidate = &self.candidates[chosen];
        match sys::execve(candidate, &self.argv, self.envp.as_ref()) {
            Errno::ENOEXEC => sys::execve_with_shell(
                &self.sh,
                candidate,
                &self.argv,
                self.envp.as_ref(),
                &mut self.scratch,
            ),
            other => other,
        }
    }
}

/// A regular file that our effective ids may execute (a noexec mount says
/// EACCES here too, as execve would).
fn executable(path: &CStr) -> Result<(), Errno> {
    let st = nix::sys::stat::stat(path)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Errno::EACCES);
    }
    nix::unistd::faccessat(
        nix::fcntl::AT_FDCWD,
        path,
        nix::unistd::AccessFlags::X_OK,
        nix::fcntl::AtFlags::AT_EACCESS,
    )
}

/// `dir/program` for each PATH entry; an empty entry means the current directory.
fn search_candidates(path: &[u8], program: &[u8]) -> Result<Vec<CString>, NulByte> {
    path.split(|b| *b == b':')
        .map(|dir| {
            let mut full = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            full.push(b'/');
            full.extend_from_slice(program);
            cstring(&full, || "a PATH entry".into())
        })
        .collect()
}

/// The shell to run when no program is given: $SHELL, else the login shell of
/// `uid`, else /bin/sh.
pub fn default_shell(env_shell: Option<OsString>, uid: u32) -> PathBuf {
    env_shell
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::ids::login_shell(uid))
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// The exit status for a failed exec: 127 when nothing was found, 126 otherwise.
pub fn exec_failure_status(errno: Errno) -> i32 {
    match errno {
        Errno::ENOENT | Errno::ENOTDIR => 127,
        _ => 126,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(items: &[&str]) -> Vec<OsString> {
        items.iter().map(OsString::from).collect()
    }

    fn env(items: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        items
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn path_search_uses_the_programs_path() {
        let vars = env(&[("PATH", "/a::/b")]);
        let plan = ExecPlan::command(&os(&["ls", "-l"]), ProgramEnv::Only(&vars)).unwrap();
        let c: Vec<_> = plan
            .candidates
            .iter()
            .map(|c| c.to_str().unwrap())
            .collect();
        assert_eq!(c, ["/a/ls", "./ls", "/b/ls"]);
        assert_eq!(plan.argv().len(), 2);
        assert_eq!(
            plan.envp.unwrap().strings()[0].to_str().unwrap(),
            "PATH=/a::/b"
        );
    }

    #[test]
    fn default_path_without_path_and_no_search_with_slash() {
        let plan = ExecPlan::command(&os(&["ip"]), ProgramEnv::Only(&[])).unwrap();
        assert_eq!(plan.candidates.len(), DEFAULT_PATH.split(':').count());
        let vars = env(&[("PATH", "/x")]);
        let plan = ExecPlan::command(&os(&["./run"]), ProgramEnv::Only(&vars)).unwrap();
        assert_eq!(plan.candidates, [c"./run".to_owned()]);
        // Our own environment is passed through without a copy.
        let plan = ExecPlan::command(&os(&["./run"]), ProgramEnv::Inherit).unwrap();
        assert!(plan.envp.is_none());
    }

    #[test]
    fn login_shell_argv0() {
        let plan = ExecPlan::login_shell(Path::new("/bin/bash"), ProgramEnv::Inherit).unwrap();
        assert_eq!(plan.argv()[0].to_str().unwrap(), "-bash");
        assert_eq!(plan.display(), "/bin/bash");
    }

    #[test]
    fn env_policies() {
        let vars = env(&[("A", "1"), ("B", "2"), ("C", "3")]);
        assert_eq!(EnvPolicy::Inherit.apply(vars.clone()), vars);
        assert!(EnvPolicy::Clear.apply(vars.clone()).is_empty());
        let kept = EnvPolicy::Keep(vec!["C".into(), "A".into(), "Z".into()]).apply(vars);
        assert_eq!(kept, env(&[("A", "1"), ("C", "3")]));
    }

    #[test]
    fn nul_bytes_are_refused() {
        let bad = vec![OsString::from("a"), OsString::from_vec(b"b\0c".to_vec())];
        let err = ExecPlan::command(&bad, ProgramEnv::Inherit).unwrap_err();
        assert_eq!(err.to_string(), "argument 1 contains a NUL byte");
    }

    #[test]
    fn statuses() {
        assert_eq!(exec_failure_status(Errno::ENOENT), 127);
        assert_eq!(exec_failure_status(Errno::EACCES), 126);
        assert_eq!(exec_failure_status(Errno::ENOEXEC), 126);
    }

    #[test]
    fn exec_of_missing_program_reports_enoent_without_exec() {
        let vars = env(&[("PATH", "/nonexistent")]);
        let mut plan =
            ExecPlan::command(&os(&["no-such-program-rsns"]), ProgramEnv::Only(&vars)).unwrap();
        assert_eq!(plan.exec(), Errno::ENOENT);
        // A file without any execute bit is refused before anything runs.
        let file = std::env::temp_dir().join(format!("rsns-noexec-{}", std::process::id()));
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let path = file.to_str().unwrap();
        let mut plan = ExecPlan::command(&os(&[path]), ProgramEnv::Inherit).unwrap();
        assert_eq!(plan.exec(), Errno::EACCES);
        std::fs::remove_file(&file).unwrap();
    }
}
