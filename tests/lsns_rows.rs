//! rs-lsns rows checked against what the kernel says: the /proc/PID/ns links
//! of processes we start in new namespaces, nsfs bind mounts, open
//! descriptors, and the parent/owner chain of nested namespaces.

mod common;

use common::*;
use serde_json::Value;

fn row_for(rows: &[Value], ino: u64) -> Value {
    rows.iter()
        .find(|r| r["ns"] == ino)
        .unwrap_or_else(|| {
            let some = &rows[..rows.len().min(10)];
            panic!(
                "no row for namespace {ino} among {} rows: {some:?} ...",
                rows.len()
            )
        })
        .clone()
}

#[test]
fn every_kind_of_a_new_box_is_listed_with_its_lowest_pid() {
    require!(is_root(), "needs root to make every kind of namespace");
    let boxed = Boxed::start(
        Maker::RsUnshare,
        false,
        &["-muinpCTf"],
        "sleep 600 & sleep 600 &",
    );
    let pid = boxed.pid_arg();
    let rows = lsns_json(&["-p", &pid, "-l", "-o", "NS,TYPE,NPROCS,PID,PATH"]);
    assert_eq!(rows.len(), 8, "{rows:?}");
    // The box's shell, PID 1 inside, execs the sleep we know: it is the
    // lowest PID; its two background sleeps make 3 processes.
    for (_, kind) in KINDS {
        let row = row_for(&rows, ns_inode(&pid, kind));
        assert_eq!(row["type"], kind, "{row}");
        if kind != "user" {
            assert_eq!(row["nprocs"], 3, "{row}");
            assert_eq!(row["pid"], boxed.pid, "{row}");
            assert_eq!(row["path"], format!("/proc/{pid}/ns/{kind}"), "{row}");
        }
    }
}

#[test]
fn nested_user_and_pid_namespaces_show_their_parents_and_owners() {
    require!(is_root(), "needs root");
    let inner = marker_sleep();
    let boxed = Boxed::start(
        Maker::RsUnshare,
        false,
        &["-Urpf"],
        &format!("{UNSHARE} -Urpf sleep {inner} &"),
    );
    let outer = boxed.pid_arg();
    let inner_pid = the_sleep(&inner).to_string();
    let rows = lsns_json(&["-l", "-o", "NS,TYPE,PNS,ONS", "-t", "user", "-t", "pid"]);
    let inner_user = row_for(&rows, ns_inode(&inner_pid, "user"));
    assert_eq!(inner_user["pns"], ns_inode(&outer, "user"));
    assert_eq!(inner_user["ons"], ns_inode(&outer, "user"));
    let inner_pidns = row_for(&rows, ns_inode(&inner_pid, "pid"));
    assert_eq!(inner_pidns["pns"], ns_inode(&outer, "pid"));
    assert_eq!(inner_pidns["ons"], ns_inode(&inner_pid, "user"));
    let outer_user = row_for(&rows, ns_inode(&outer, "user"));
    assert_eq!(outer_user["pns"], ns_inode("self", "user"));
    // The owner tree hangs the inner user namespace under the outer one.
    let tree = lsns(&["-J", "--tree=owner", "-t", "user", "-o", "NS"]).ok();
    let doc: Value = serde_json::from_str(&tree).unwrap();
    let outer_ino = ns_inode(&outer, "user");
    let inner_ino = ns_inode(&inner_pid, "user");
    let find = |rows: &Value, ino: u64| -> Option<Value> {
        rows.as_array()?.iter().find(|r| r["ns"] == ino).cloned()
    };
    let root = find(&doc["namespaces"], ns_inode("self", "user")).expect("our user namespace");
    let outer_row = find(&root["children"], outer_ino).expect("outer under ours");
    assert!(find(&outer_row["children"], inner_ino).is_some(), "{tree}");
    // The parent tree hangs the inner PID namespace under the outer one.
    let tree = lsns(&["-J", "--tree=parent", "-t", "pid", "-o", "NS"]).ok();
    let doc: Value = serde_json::from_str(&tree).unwrap();
    let root = find(&doc["namespaces"], ns_inode("self", "pid")).expect("our PID namespace");
    let outer_pid = find(&root["children"], ns_inode(&outer, "pid")).expect("outer under ours");
    assert!(
        find(&outer_pid["children"], ns_inode(&inner_pid, "pid")).is_some(),
        "{tree}"
    );
    drop(boxed);
    let _ = cmd("pkill", &["-KILL", "-f", &format!("sleep {inner}")]);
}

#[test]
fn a_namespace_kept_only_by_a_bind_mount_is_listed_with_its_file() {
    require!(is_root(), "needs root to bind a namespace file");
    let dir = Scratch::new("lsns-bind");
    let file = dir.empty_file("uts");
    let file_str = file.to_str().unwrap();
    unshare(&[&format!("--uts={file_str}"), "true"]).ok();
    let ino = std::fs::metadata(&file)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let rows = lsns_json(&["-P", "-o", "NS,TYPE,NPROCS,PID,PATH,NSFS,USER"]);
    let row = row_for(&rows, ino);
    assert_eq!(row["type"], "uts");
    assert_eq!(row["nprocs"], 0);
    assert!(row["pid"].is_null(), "{row}");
    assert_eq!(row["path"], file_str);
    assert_eq!(row["nsfs"], file_str);
    assert_eq!(row["user"], "root");
    // Filtering on a column that is not shown.
    let listed = lsns(&[
        "-r",
        "-n",
        "-o",
        "NS",
        "-Q",
        &format!("NPROCS == 0 && NS == {ino}"),
    ])
    .ok();
    assert_eq!(listed.trim(), ino.to_string());
    // Bound at a second file: NSFS takes two lines, and the second is padded
    // as lsns pads it (each column but the last filled, then a space).
    let second = dir.empty_file("uts2");
    let second_str = second.to_str().unwrap();
    cmd("mount", &["--bind", file_str, second_str]).ok();
    let only = format!("NS == {ino}");
    let table = lsns(&["-n", "-o", "NS,NSFS,TYPE,PID", "-Q", &only]).ok();
    let width = file_str.len().max(second_str.len());
    let (first_path, second_path) = if file_str < second_str {
        (file_str, second_str)
    } else {
        (second_str, file_str)
    };
    assert_eq!(
        table,
        format!(
            "{ino} {first_path:width$} uts  \n{:10} {second_path:width$}      \n",
            ""
        ),
        "{table:?}"
    );
    cmd("umount", &[second_str]).ok();
    cmd("umount", &[file_str]).ok();
    // Another test's rs-lsns may hold the namespace for a moment (it opens
    // what it finds while it scans), and is listed as holding it: wait for
    // such a holder to go, but not for long.
    let deadline = std::time::Instant::now() + patience(5);
    loop {
        let rows = lsns_json(&["-P", "-o", "NS"]);
        if rows.iter().all(|r| r["ns"] != ino) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still listed after umount: {:?}",
            rows.iter().find(|r| r["ns"] == ino)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_namespace_kept_only_by_an_open_descriptor_is_listed() {
    require!(is_root(), "needs root");
    // A shell opens the UTS namespace of a short-lived box on fd 7, the box
    // ends: only the descriptor keeps the namespace.
    let marker = marker_sleep();
    let script = format!(
        "{UNSHARE} -u sleep 30 & box=$!; \
         until [ \"$(readlink /proc/$box/ns/uts)\" != \"$(readlink /proc/self/ns/uts)\" ]; do sleep 0.05; done; \
         exec 7</proc/$box/ns/uts; kill $box; wait $box; exec sleep {marker}"
    );
    let mut holder = std::process::Command::new("sh")
        .args(["-c", &script])
        .spawn()
        .unwrap();
    let pid = the_sleep(&marker).to_string();
    let held = std::fs::metadata(format!("/proc/{pid}/fd/7"))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    assert_ne!(held, ns_inode(&pid, "uts"));
    let rows = lsns_json(&["-t", "uts", "-o", "NS,NPROCS,PATH"]);
    let row = row_for(&rows, held);
    assert_eq!(row["nprocs"], 0);
    assert_eq!(row["path"], format!("/proc/{pid}/fd/7"));
    let _ = holder.kill();
    let _ = kill_pid(
        pid.parse::<u32>().unwrap(),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = holder.wait();
}

#[test]
fn listing_a_namespace_shows_its_processes() {
    require!(is_root(), "needs root");
    // In a PID namespace, so the background sleeps end with the box.
    let boxed = Boxed::start(
        Maker::RsUnshare,
        false,
        &["-upf"],
        "sleep 600 & sleep 600 &",
    );
    let pid = boxed.pid_arg();
    let ino = ns_inode(&pid, "uts").to_string();
    let rows = lsns_json(&[&ino, "-o", "PID,PPID,PATH"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        let p = row["pid"].to_string();
        assert_eq!(ns_inode(&p, "uts").to_string(), ino);
        assert_eq!(row["path"], format!("/proc/{p}/ns/uts"));
    }
}

#[test]
fn network_namespace_ids_and_files_are_shown() {
    require!(is_root() && has_command("ip"), "needs root and ip(8)");
    let netns = NamedNetns::add("rsns-test");
    let path = netns.path.clone();
    cmd("ip", &["netns", "set", &netns.name, "77"]).ok();
    let ino = std::fs::metadata(&path)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let rows = lsns_json(&["-t", "net"]);
    drop(netns);
    let row = row_for(&rows, ino);
    assert_eq!(row["netnsid"], "77", "{row}");
    assert_eq!(row["nsfs"], path, "{row}");
    let ours = row_for(&rows, ns_inode("self", "net"));
    assert_eq!(ours["netnsid"], "unassigned");
}

#[test]
fn an_unprivileged_user_sees_its_own_namespaces_and_skips_the_rest() {
    require!(can_run_unprivileged(), "needs the unprivileged test user");
    let (uid, _) = test_user().unwrap();
    let boxed = Boxed::start(Maker::RsUnshare, true, &["-Ur"], "");
    let user_ns = ns_inode(&boxed.pid_arg(), "user");
    let out = lsns_as_user(&["-J", "-l", "-o", "NS,TYPE,PID,UID"]).ok();
    let doc: Value = serde_json::from_str(&out).unwrap();
    let rows = doc["namespaces"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["ns"] == user_ns)
        .expect("the user's own box");
    assert_eq!(row["uid"], uid);
    assert_eq!(row["pid"], boxed.pid);
    // Root's processes (PID 1 has even root locked out) are skipped, not errors.
    assert!(rows.iter().all(|r| r["pid"] != 1));
}

#[test]
fn seven_hundred_boxes_are_all_listed() {
    require!(is_root(), "needs root");
    // Enough processes for the scan to read /proc in parallel chunks: each
    // box must come back, with its only process, whichever chunk read it.
    let marker = marker_sleep();
    let mut starter = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "i=0; while [ $i -lt 700 ]; do {UNSHARE} -u sleep {marker} & i=$((i+1)); done; wait"
            ),
        ])
        .spawn()
        .unwrap();
    let want = format!("sleep\0{marker}\0");
    let deadline = std::time::Instant::now() + patience(60);
    let boxes = loop {
        let boxes: Vec<u32> = processes_with(&marker)
            .into_iter()
            .filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == want.as_bytes())
            })
            .collect();
        if boxes.len() == 700 || std::time::Instant::now() > deadline {
            break boxes;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let rows = lsns_json(&["-t", "uts", "-o", "NS,NPROCS,PID"]);
    for pid in &boxes {
        let row = row_for(&rows, ns_inode(&pid.to_string(), "uts"));
        assert_eq!(
            (row["nprocs"].as_u64(), row["pid"].as_u64()),
            (Some(1), Some(u64::from(*pid)))
        );
    }
    for pid in &boxes {
        kill_pid(*pid, nix::sys::signal::Signal::SIGKILL);
    }
    starter.wait().unwrap();
    assert_eq!(boxes.len(), 700, "not every box started");
}

/// util-linux's lsns/filedesc: a namespace whose only holder is a descriptor
/// opened through its bind-mounted file. That descriptor reads as the file's
/// path (or `/` once unmounted), not as `net:[N]`: rs-lsns asks stat. Also
/// when the file is mounted only in another mount namespace (a container).
#[test]
fn a_namespace_held_by_a_descriptor_opened_through_its_file_is_listed() {
    require!(is_root(), "needs root to bind a namespace file");
    let dir = Scratch::new("lsns-filedesc");
    for (case, wrap) in [
        ("unmounted", ""),
        ("mounted elsewhere", "-m --propagation=private"),
    ] {
        let file = dir.empty_file(&format!("net-{}", wrap.len()));
        let file = file.display();
        let marker = marker_sleep();
        let detach = if wrap.is_empty() {
            format!("umount -l {file}; ")
        } else {
            String::new()
        };
        let inner =
            format!("{UNSHARE} --net={file} true && exec 7<{file} && {detach}exec sleep {marker}");
        let mut holder = std::process::Command::new(UNSHARE)
            .args(wrap.split_whitespace())
            .args(["sh", "-c", &inner])
            .spawn()
            .unwrap();
        let pid = the_sleep(&marker).to_string();
        let link = std::fs::read_link(format!("/proc/{pid}/fd/7")).unwrap();
        assert!(
            link.is_absolute(),
            "{case}: the fd reads as a path: {link:?}"
        );
        let held = std::fs::metadata(format!("/proc/{pid}/fd/7"))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .unwrap();
        assert_ne!(held, ns_inode(&pid, "net"), "{case}");
        let rows = lsns_json(&["-t", "net", "-o", "NS,TYPE,NPROCS,PATH"]);
        let row = row_for(&rows, held);
        assert_eq!(row["type"], "net", "{case}");
        assert_eq!(row["nprocs"], 0, "{case}");
        assert_eq!(row["path"], format!("/proc/{pid}/fd/7"), "{case}");
        let _ = kill_pid(
            pid.parse::<u32>().unwrap(),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = holder.wait();
    }
}

/// Mount points are bytes: one that is not UTF-8 neither breaks the scan
/// nor is lost; it is shown with `\xHH` for the odd byte, as lsns(8) does.
#[test]
fn a_mount_point_that_is_not_utf8_is_listed() {
    require!(is_root(), "needs root to mount");
    let dir = Scratch::new("lsns-bytes");
    let odd = format!("{}/caf\\351", dir.path.display());
    let script = format!(
        "set -e; d=$(printf '{odd}'); mkdir \"$d\"; mount -t tmpfs t \"$d\"; touch \"$d/uts\"; \
         {UNSHARE} --uts=\"$d/uts\" true; {LSNS} -t uts -P -n -o NSFS; {LSNS} -J -t uts -P -o NSFS"
    );
    let out = unshare(&["-m", "--propagation=private", "sh", "-c", &script]).ok();
    let shown = format!("{}/caf\\xe9/uts", dir.path.display());
    let mut lines = out.lines();
    assert_eq!(
        lines.next().map(str::trim_end),
        Some(shown.as_str()),
        "{out}"
    );
    // JSON carries the byte reversibly: U+DC00 + byte, a lone surrogate
    // (Python's surrogateescape gives the bytes back).
    let json = lines.collect::<Vec<_>>().join("\n");
    let want = format!("\"nsfs\": \"{}/caf\\udce9/uts\"", dir.path.display());
    assert!(json.contains(&want), "{json}");
}

/// A thread's ID names that thread: a thread that entered a network
/// namespace alone is listed in it (it printed its process's), and shares
/// the rest with its process, as /proc/TID/ns shows.
#[test]
fn a_thread_id_lists_the_threads_own_namespaces() {
    require!(is_root(), "needs root to give a thread a network namespace");
    let thread = LoneThread::start();
    let pid = std::process::id().to_string();
    let tid = thread.tid.to_string();
    assert_ne!(ns_inode(&pid, "net"), thread.net);
    let rows = lsns_json(&["-p", &tid, "-t", "net", "-o", "NS,NPROCS,PID"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["ns"], thread.net);
    assert_eq!(rows[0]["pid"], thread.tid);
    assert_eq!(rows[0]["nprocs"], 1);
    // Its other namespaces are its process's: the same rows.
    // (NS and TYPE only: other tests' processes come and go, changing NPROCS.)
    let of = |task: &str| lsns(&["-p", task, "-t", "uts", "-t", "mnt", "-o", "NS,TYPE"]).ok();
    assert_eq!(of(&tid), of(&pid));
    assert_eq!(of(&pid).lines().count(), 3);
}

/// The installed (static) rs-lsns with a uid that has no name, under an
/// nsswitch.conf that lists systemd (Debian's default): it died with
/// SIGSEGV when glibc loaded libnss_systemd into the static binary; lsns
/// prints the number, and so must we. Runs the release binary that `make
/// build` made (make test passes RSNS_RELEASE_DIR), and the debug one.
#[test]
fn a_uid_without_a_name_prints_as_a_number_in_the_static_binary() {
    if !can(false) {
        return;
    }
    let Some(static_lsns) = release_binary("rs-lsns") else {
        return;
    };
    // Whatever this machine's nsswitch.conf says, the tools run under one
    // that lists systemd (bound over it in a mount namespace of their own).
    let scratch = Scratch::new("nss");
    let conf = scratch.join("nsswitch.conf");
    std::fs::write(&conf, "passwd: files systemd\ngroup: files systemd\n").unwrap();
    let marker = marker_sleep();
    let mut sleeper = std::process::Command::new("unshare")
        .args([
            "-u",
            "setpriv",
            "--reuid=4242",
            "--regid=4242",
            "--clear-groups",
            "sleep",
            &marker,
        ])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + patience(10);
    let pid = loop {
        if let Some(p) = processes_with(&marker).into_iter().next() {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sleep did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let pid = pid.to_string();
    for lsns_bin in [static_lsns.as_str(), LSNS] {
        let script = format!(
            "mount --bind {} /etc/nsswitch.conf && exec {lsns_bin} -p {pid} -t uts -n -o UID,USER",
            conf.display()
        );
        let run = cmd("unshare", &["-m", "sh", "-c", &script]);
        assert_eq!(run.signal(), None, "{lsns_bin} died: {}", run.stderr());
        assert_eq!(
            run.ok().split_whitespace().collect::<Vec<_>>(),
            ["4242", "4242"],
            "{lsns_bin}"
        );
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    kill_pid(pid.parse().unwrap(), nix::sys::signal::Signal::SIGKILL);
}
