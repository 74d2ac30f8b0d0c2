//! docs/cookbook.md and docs/errors.md cannot rot: every ```console block
//! of a page is run,
//! in page order, in one scratch directory, and each command's output
//! (stdout and stderr, as a terminal shows them) is compared with the lines
//! below it on the page.
//!
//! The page's conventions: a line starting with `# ` is a command run as
//! root, `$ ` one run as an unprivileged user (a block uses one of them); a
//! command ending in `\` goes on to the next line (shown after the `> `
//! continuation prompt); other lines are the
//! output. In the output, `{{name}}` stands for one word (no spaces) that
//! varies from run to run: the first time a name appears in a block it takes
//! the word found there, and later it must be the same word, so an inode or
//! PID shown twice must really be the same. `{{_}}` is any one word,
//! `{{...}}` any text, and a line `...` any number of lines. Runs of spaces
//! count as one, so column widths may vary.
//!
//! After each block, no process it started may be left, and no mount in the
//! scratch directory.

mod common;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

const PAGE: &str = include_str!("../docs/cookbook.md");
const ERRORS: &str = include_str!("../docs/errors.md");
const README: &str = include_str!("../README.md");

#[derive(Debug)]
struct Block {
    /// The page's file name, for messages.
    page: &'static str,
    /// 1-based line of the opening fence.
    line: usize,
    as_root: bool,
    /// `needs=FEATURE` on the fence: the kernel feature the block shows
    /// (a kernel without it skips the block, saying so).
    needs: Option<String>,
    commands: Vec<Step>,
}

#[derive(Debug)]
struct Step {
    line: usize,
    text: String,
    expected: Vec<String>,
}

fn parse_page(page: &'static str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut continued = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some(block) = current.as_mut() else {
            if let Some(info) = line.trim_end().strip_prefix("```console") {
                current = Some(Block {
                    page,
                    line: n,
                    as_root: false,
                    needs: info.trim().strip_prefix("needs=").map(str::to_string),
                    commands: Vec::new(),
                });
            }
            continue;
        };
        if line.trim_end() == "```" {
            blocks.push(current.take().unwrap());
            continue;
        }
        if continued {
            let step = block.commands.last_mut().unwrap();
            step.text.push('\n');
            // A shell shows its continuation prompt, `> `; it is not typed.
            step.text.push_str(line.strip_prefix("> ").unwrap_or(line));
            continued = line.ends_with('\\');
            continue;
        }
        let prompt = line.get(..2);
        if prompt == Some("# ") || prompt == Some("$ ") {
            let as_root = prompt == Some("# ");
            if block.commands.is_empty() {
                block.as_root = as_root;
            }
            assert_eq!(
                block.as_root, as_root,
                "{page}:{n}: a block mixes `#` and `$` prompts"
            );
            block.commands.push(Step {
                line: n,
                text: line[2..].to_string(),
                expected: Vec::new(),
            });
            continued = line.ends_with('\\');
            continue;
        }
        match block.commands.last_mut() {
            Some(step) => step.expected.push(line.to_string()),
            None => panic!("{page}:{n}: output before any command"),
        }
    }
    assert!(current.is_none(), "{page}: a console block is not closed");
    blocks
}

const MARK: &str = "@@cookbook-step-";

/// The block as one script that marks where each command's output begins.
fn script(block: &Block) -> String {
    let mut s = String::from("exec 2>&1\n");
    for (i, step) in block.commands.iter().enumerate() {
        s.push_str(&format!("echo '{MARK}{i}@@'\n{}\n", step.text));
    }
    s.push_str(&format!("echo '{MARK}end@@'\n"));
    s
}

/// Each command's output lines, cut at the marks; `None` if the script
/// did not reach its end.
fn split_output(out: &str, steps: usize) -> Option<Vec<Vec<String>>> {
    let mut sections: Vec<Vec<String>> = vec![Vec::new(); steps];
    let mut at: Option<usize> = None;
    for line in out.lines() {
        if let Some(pos) = line.find(MARK) {
            let before = &line[..pos];
            if let (Some(i), false) = (at, before.is_empty()) {
                sections[i].push(before.to_string());
            }
            let tag = line[pos + MARK.len()..].trim_end_matches("@@");
            if tag == "end" {
                return Some(sections);
            }
            at = tag.parse().ok();
            continue;
        }
        if let Some(i) = at {
            sections[i].push(line.to_string());
        }
    }
    None
}

/// Variables bound so far in a block.
type Vars = HashMap<String, String>;

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    /// A named or anonymous word.
    Word(&'a str),
    Any,
}

fn pieces(pattern: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let name = &rest[start + 2..start + 2 + len];
        out.push(if name == "..." {
            Piece::Any
        } else {
            Piece::Word(name)
        });
        rest = &rest[start + 4 + len..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn match_pieces(pieces: &[Piece<'_>], text: &str, vars: &mut Vars) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    match first {
        Piece::Text(t) => text
            .strip_prefix(*t)
            .is_some_and(|tail| match_pieces(rest, tail, vars)),
        Piece::Any => (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .any(|i| {
                let mut tried = vars.clone();
                let ok = match_pieces(rest, &text[i..], &mut tried);
                if ok {
                    *vars = tried;
                }
                ok
            }),
        Piece::Word(name) => {
            let word_end = text.find(char::is_whitespace).unwrap_or(text.len());
            (1..=word_end)
                .filter(|i| text.is_char_boundary(*i))
                .any(|i| {
                    let word = &text[..i];
                    let mut tried = vars.clone();
                    if *name != "_" {
                        match tried.get(*name) {
                            Some(bound) if bound != word => return false,
                            Some(_) => {}
                            None => {
                                tried.insert(name.to_string(), word.to_string());
                            }
                        }
                    }
                    let ok = match_pieces(rest, &text[i..], &mut tried);
                    if ok {
                        *vars = tried;
                    }
                    ok
                })
        }
    }
}

fn match_lines(expected: &[String], actual: &[String], vars: &mut Vars) -> bool {
    let Some((first, rest)) = expected.split_first() else {
        return actual.is_empty();
    };
    if first.trim() == "..." {
        return (0..=actual.len()).any(|skip| {
            let mut tried = vars.clone();
            let ok = match_lines(rest, &actual[skip..], &mut tried);
            if ok {
                *vars = tried;
            }
            ok
        });
    }
    let Some((line, actual_rest)) = actual.split_first() else {
        return false;
    };
    let mut tried = vars.clone();
    let pattern = squeeze(first);
    let ok = match_pieces(&pieces(&pattern), &squeeze(line), &mut tried)
        && match_lines(rest, actual_rest, &mut tried);
    if ok {
        *vars = tried;
    }
    ok
}

/// The processes of a process group that are not zombies. (A zombie is
/// dead; here init reaps orphans only now and then.)
fn live_members(group: Pid) -> Vec<String> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        // After the command: state, ppid, pgrp.
        if fields.len() > 2 && fields[2] == group.to_string() && fields[0] != "Z" {
            live.push(head.to_string() + ")");
        }
    }
    live
}

fn trim_blank_tail(lines: &[String]) -> &[String] {
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    &lines[..end]
}

/// Whether this kernel has what a block `needs`, tried the way the block
/// uses it; why not, if not.
fn missing_feature(needs: &str) -> Option<String> {
    match needs {
        "userns-overlay"
            if !std::fs::read_to_string("/proc/filesystems")
                .unwrap_or_default()
                .contains("\toverlay\n") =>
        {
            Some("overlayfs is not loaded (make deps loads it: modprobe overlay)".to_string())
        }
        "userns-overlay" => {
            let dir = Scratch::new("probe-overlay");
            let script = "mkdir l u w m && mount -t overlay o -o lowerdir=l,upperdir=u,workdir=w m";
            let mut c = match test_user() {
                Some((uid, gid)) => as_user(uid, gid, UNSHARE, &["-Urm", "sh", "-c", script]),
                None => {
                    let mut c = Command::new(UNSHARE);
                    c.args(["-Urm", "sh", "-c", script]);
                    c
                }
            };
            let ok = c
                .current_dir(&dir.path)
                .output()
                .is_ok_and(|o| o.status.success());
            (!ok).then(|| "overlayfs in a user namespace needs Linux 5.11".to_string())
        }
        "pasta" => {
            // pasta copies the addresses and routes of an interface with a
            // default route (a VM here has none) and opens /dev/net/tun.
            let ok = run_as_block_user("pasta", &["--quiet", "--config-net", "true"]);
            (!ok).then(|| {
                "pasta (Debian package passt) cannot connect a namespace here: it needs an \
                 interface with a default route to copy, and /dev/net/tun open to users"
                    .to_string()
            })
        }
        "binfmt-userns" => {
            let probe = run_as_block_user(UNSHARE, &["-Urm", "--mount-binfmt", "true"]);
            if !probe {
                Some("binfmt_misc in a user namespace needs Linux 6.7".to_string())
            } else if !Path::new("/usr/bin/qemu-aarch64-static").exists() {
                Some("needs qemu-user-static (/usr/bin/qemu-aarch64-static)".to_string())
            } else {
                let dir = Scratch::new("probe-foreign");
                let script = concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/support/foreign-busybox.sh"
                );
                let ok = Command::new(script)
                    .arg(dir.join("arm64"))
                    .env("RSNS_FOREIGN_CACHE", foreign_cache())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                (!ok).then(|| {
                    "cannot fetch Debian's arm64 busybox-static (no network, and not cached)"
                        .to_string()
                })
            }
        }
        "cgroup2-controllers" => {
            let missing: Vec<&str> = ["memory", "pids", "cpu"]
                .into_iter()
                .filter(|c| !cgroup2_controllers().iter().any(|have| have == c))
                .collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "cgroup v2 here lacks the {} controllers (rs-cgroup's limits need them)",
                    missing.join(", ")
                )
            })
        }
        // Real podman containers: not in the kernel matrix's VMs, which
        // share this machine's storage read-only.
        "podman" if std::env::var("RSNS_IN_VM").as_deref() == Ok("1") => Some(
            "podman needs a writable /var/lib/containers (the kernel matrix's VMs share the host's read-only)"
                .to_string(),
        ),
        "podman" => (!has_command("podman"))
            .then(|| "needs podman (Debian package podman; make test installs it)".to_string()),
        other => Some(format!("unknown feature '{other}'")),
    }
}

/// Where foreign-busybox.sh keeps what it fetched: in the target
/// directory, which the kernel matrix's VMs share (read-only, and without a
/// network: the host's runs fill it first).
fn foreign_cache() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("foreign")
}

/// Runs a command as a block of `$` prompts would (the test user); success.
fn run_as_block_user(program: &str, args: &[&str]) -> bool {
    let mut c = match test_user() {
        Some((uid, gid)) => as_user(uid, gid, program, args),
        None => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    };
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The controllers of the cgroup2 mount's root, if one is mounted.
fn cgroup2_controllers() -> Vec<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(mount) = mountinfo
        .lines()
        .filter(|l| l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4))
        .next()
    else {
        return Vec::new();
    };
    std::fs::read_to_string(Path::new(mount).join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Where a machine keeps the controllers in cgroup v1 (this host), the
/// limits blocks cannot run; what it can show is rs-cgroup's refusal, so
/// that is checked instead of skipping. None when this does not apply.
fn refusal_instead(block: &Block, why: &str) -> Option<Vec<String>> {
    let v1 = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|l| {
            l.contains(" - cgroup ")
                && l.rsplit(' ')
                    .next()
                    .is_some_and(|o| o.split(',').any(|o| o == "memory"))
        });
    if block.needs.as_deref() != Some("cgroup2-controllers") || !v1 || !is_root() {
        return None;
    }
    let run = cmd(CGROUP, &["--memory=64M", "true"]);
    eprintln!(
        "NOTE: {}:{}: {why}; checked rs-cgroup's refusal instead",
        block.page, block.line
    );
    let wanted = "rs-cgroup manages cgroup v2 only";
    Some(if run.code() == 1 && run.stderr().contains(wanted) {
        Vec::new()
    } else {
        vec![format!(
            "{}:{}: expected rs-cgroup to refuse --memory ({wanted}), got {:?}: {}",
            block.page,
            block.line,
            run.code(),
            run.stderr()
        )]
    })
}

/// A containers.conf for the page's podman blocks: runc, which runs where
/// the cgroups are hybrid (crun refuses them), and limits under the hard
/// ones (podman's defaults are raises, which need CAP_SYS_RESOURCE, and
/// root here may lack it). Written once into the target directory.
fn podman_conf() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cookbook-containers.conf");
    if !path.exists() {
        let text = "[containers]\ndefault_ulimits = [\"nofile=1000:1000\", \"nproc=1000:1000\"]\n\
                    [engine]\nruntime = \"runc\"\n";
        let _ = std::fs::write(&path, text);
    }
    path
}

/// Runs a block; returns what went wrong, if anything.
fn run_block(block: &Block, dir: &Path) -> Vec<String> {
    if let Some(why) = block.needs.as_deref().and_then(missing_feature) {
        if let Some(errors) = refusal_instead(block, &why) {
            return errors;
        }
        // A skip: counted and reported, and a failure under RSNS_REQUIRE_ALL.
        require(false, &format!("{}:{}: {why}", block.page, block.line));
        return Vec::new();
    }
    let bin_dir = Path::new(UNSHARE).parent().unwrap();
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", bin_dir.display());
    let text = script(block);
    let mut cmd = match (block.as_root, test_user()) {
        (false, Some((uid, gid))) => as_user(uid, gid, "sh", &["-c", &text]),
        _ => {
            let mut c = Command::new("sh");
            c.args(["-c", &text]);
            c
        }
    };
    cmd.env_clear()
        .env("PATH", &path)
        .env("LC_ALL", "C")
        .env("SHELL", "/bin/sh")
        .env("RSNS_FOREIGN_CACHE", foreign_cache())
        .env("CONTAINERS_CONF", podman_conf())
        .current_dir(dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("cannot run sh");
    let group = Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + patience(120);
    let output = std::thread::scope(|s| {
        let waiter = s.spawn(|| child.wait_with_output());
        while !waiter.is_finished() {
            if Instant::now() > deadline {
                let _ = killpg(group, Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        waiter.join().unwrap().expect("wait for sh")
    });
    let mut problems = Vec::new();
    // Anything of the block's still alive is a leak: the page must clean up.
    let left = live_members(group);
    let _ = killpg(group, Signal::SIGKILL);
    if !left.is_empty() {
        problems.push(format!(
            "{}:{}: the block left processes running: {left:?}",
            block.page, block.line
        ));
    }
    let mounts = mounts_under(dir);
    if !mounts.is_empty() {
        problems.push(format!(
            "{}:{}: the block left mounts: {mounts:?}",
            block.page, block.line
        ));
    }
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let Some(sections) = split_output(&out, block.commands.len()) else {
        problems.push(format!(
            "{}:{}: the block did not run to its end ({:?}); output:\n{out}",
            block.page, block.line, output.status
        ));
        return problems;
    };
    let mut vars = Vars::new();
    for (step, actual) in block.commands.iter().zip(&sections) {
        let expected = trim_blank_tail(&step.expected);
        let actual = trim_blank_tail(actual);
        if !match_lines(expected, actual, &mut vars) {
            problems.push(format!(
                "{}:{}: `{}`\n--- the page shows:\n{}\n--- it printed:\n{}\n",
                block.page,
                step.line,
                step.text,
                expected.join("\n"),
                actual.join("\n")
            ));
        }
    }
    problems
}

/// Runs every block of a page in one scratch directory; the problems found.
/// With `rootfs`, the directory has the busybox root file system at
/// ./rootfs, as `make demo` leaves it (the README's examples use it).
fn run_page(page: &'static str, text: &str, at_least: usize, rootfs: bool) -> Vec<String> {
    let blocks = parse_page(page, text);
    assert!(
        blocks.len() >= at_least,
        "{page}: only {} console blocks",
        blocks.len()
    );
    let dir = Scratch::new(page.trim_end_matches(".md"));
    // The pages run tests/support's scripts. A copy, not a link: the test
    // user may not reach the checkout (a clone in a 0700 home, as make
    // test-fresh found).
    let support = dir.join("tests/support");
    std::fs::create_dir_all(&support).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), support.join(entry.file_name())).unwrap();
        }
    }
    for d in [dir.path.join("tests"), support.clone()] {
        std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    // `make demo` leaves a busybox root file system at ./rootfs.
    if let (true, Some(rootfs)) = (rootfs, common::rootfs()) {
        std::os::unix::fs::symlink(rootfs, dir.join("rootfs")).unwrap();
    }
    blocks
        .iter()
        .flat_map(|block| run_block(block, &dir.path))
        .collect()
}

#[test]
fn every_block_of_the_cookbook_prints_what_the_page_shows() {
    require!(can_run_unprivileged(), "needs root and the test user");
    require!(has_command("busybox"), "needs busybox-static");
    let problems = run_page("cookbook.md", PAGE, 10, false);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_block_of_the_error_page_prints_what_it_shows() {
    require!(can_run_unprivileged(), "needs root and the test user");
    require!(has_command("newuidmap"), "needs newuidmap (uidmap)");
    let problems = run_page("errors.md", ERRORS, 3, false);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_block_of_the_readme_prints_what_it_shows() {
    require!(can_map_subids(), "needs root, the test user and newuidmap");
    require!(rootfs().is_some(), "needs busybox-static");
    require!(
        has_command("jq") && has_command("nsenter") && has_command("ip"),
        "needs jq, util-linux nsenter and iproute2"
    );
    let problems = run_page("README.md", README, 6, true);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The second column of the page's table, without its backticks.
fn table_messages(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| failure"))
        .filter_map(|l| l.split(" | ").nth(1))
        .map(|cell| cell.trim().trim_matches('`').to_string())
        .collect()
}

#[test]
fn every_message_in_the_error_table_is_one_a_block_prints() {
    let shown: Vec<String> = parse_page("errors.md", ERRORS)
        .into_iter()
        .flat_map(|b| b.commands)
        .flat_map(|s| s.expected)
        .collect();
    let messages = table_messages(ERRORS);
    assert!(messages.len() >= 20, "{messages:?}");
    for message in messages {
        // The parts around each {{_}} must appear, in order, in one line.
        let found = shown.iter().any(|line| {
            let mut rest = line.as_str();
            message.split("{{_}}").all(|part| match rest.find(part) {
                Some(at) => {
                    rest = &rest[at + part.len()..];
                    true
                }
                None => false,
            })
        });
        assert!(found, "errors.md: no block prints `{message}`");
    }
}

#[test]
fn placeholders_bind_once_and_must_agree() {
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut vars = Vars::new();
    assert!(match_lines(
        &lines(&["mnt -> mnt:[{{ino}}]", "{{ino}}   mnt"]),
        &lines(&["mnt -> mnt:[42]", "42 mnt"]),
        &mut vars
    ));
    assert_eq!(vars["ino"], "42");
    let mut vars = Vars::new();
    assert!(!match_lines(
        &lines(&["mnt:[{{ino}}]", "{{ino}} mnt"]),
        &lines(&["mnt:[42]", "43 mnt"]),
        &mut vars
    ));
    let mut vars = Vars::new();
    assert!(match_lines(
        &lines(&["a", "...", "z {{...}}"]),
        &lines(&["a", "b", "c", "z any text here"]),
        &mut vars
    ));
    assert!(match_lines(
        &lines(&["a", "..."]),
        &lines(&["a"]),
        &mut vars
    ));
    assert!(!match_lines(&lines(&["a"]), &lines(&["a", "b"]), &mut vars));
    assert!(!match_lines(
        &lines(&["{{_}}"]),
        &lines(&["two words"]),
        &mut vars
    ));
    assert!(!match_lines(&lines(&["{{_}}"]), &lines(&[""]), &mut vars));
}

#[test]
fn output_is_cut_at_the_marks() {
    let out = format!("x\n{MARK}0@@\none\ntwo{MARK}1@@\n{MARK}end@@\n");
    assert_eq!(
        split_output(&out, 2),
        Some(vec![vec!["one".into(), "two".into()], vec![]])
    );
    assert_eq!(split_output("no marks", 1), None);
}

#[test]
fn blocks_commands_and_continuations_parse() {
    let page = "text\n```console\n$ echo a \\\n>   b\na b\n$ true\n```\n```sh\n$ not run\n```\n";
    let blocks = parse_page("test.md", page);
    assert_eq!(blocks.len(), 1);
    assert!(!blocks[0].as_root);
    assert_eq!(blocks[0].commands[0].text, "echo a \\\n  b");
    assert_eq!(blocks[0].commands[0].expected, ["a b"]);
    assert_eq!(blocks[0].commands[1].text, "true");
}
