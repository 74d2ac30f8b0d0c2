//! rs-lsns output: JSON against the table, util-linux lsns for the same
//! columns, the formats, and a scan under heavy namespace churn.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

/// The namespace inodes a raw listing shows.
fn raw_inodes(args: &[&str]) -> BTreeSet<u64> {
    let mut all = vec!["-r", "-n", "-o", "NS"];
    all.extend_from_slice(args);
    lsns(&all)
        .ok()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn json_lists_the_same_namespaces_as_the_table() {
    require!(is_root(), "needs root to see every process");
    let boxed = Boxed::start(Maker::RsUnshare, false, &["-muinf"], "");
    // Other tests start and end processes meanwhile: compare the namespaces
    // of the box, which outlive all three runs.
    let pid = boxed.pid_arg();
    let table = raw_inodes(&["-l", "-p", &pid]);
    let inodes = |args: &[&str]| -> BTreeSet<u64> {
        lsns_json(args)
            .iter()
            .map(|r| r["ns"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(table.len(), 8);
    assert_eq!(table, inodes(&["-l", "-o", "NS", "-p", &pid]));
    assert_eq!(
        table,
        inodes(&["-o", "NS", "-p", &pid]),
        "the process tree nests rows but keeps them all"
    );
    for row in lsns_json(&["--output-all"]) {
        assert!(row["ns"].is_u64() && row["nprocs"].is_u64(), "{row}");
        assert!(row["type"].is_string(), "{row}");
    }
}

/// `LIBSMARTCOLS_JSON=compact|lines` as util-linux 2.42 reads it: compact is
/// the same document with one row per line, lines is one row object per
/// line with no wrapper, anything else is the indented default.
#[test]
fn libsmartcols_json_picks_compact_or_json_lines() {
    require!(is_root(), "needs root to see every process");
    let boxed = Boxed::start(Maker::RsUnshare, false, &["-muinf"], "");
    let pid = boxed.pid_arg();
    let args = ["-J", "-l", "-o", "NS,TYPE,PID", "-p", pid.as_str()];
    let pretty: Value = serde_json::from_str(&lsns_env(&args, &[])).unwrap();
    let rows = pretty["namespaces"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 8);

    let compact = lsns_env(&args, &[("LIBSMARTCOLS_JSON", "compact")]);
    assert!(!compact.contains(' '), "{compact}");
    assert_eq!(compact.lines().count(), rows.len() + 2, "{compact}");
    assert!(
        compact.starts_with("{\"namespaces\":[\n{\"ns\":"),
        "{compact}"
    );
    assert_eq!(serde_json::from_str::<Value>(&compact).unwrap(), pretty);

    let lines = lsns_env(&args, &[("LIBSMARTCOLS_JSON", "lines")]);
    let each: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(each, rows, "{lines}");

    let other = lsns_env(&args, &[("LIBSMARTCOLS_JSON", "yaml")]);
    assert_eq!(other, lsns_env(&args, &[]));
    assert!(other.starts_with("{\n   \"namespaces\": ["), "{other}");
}

/// util-linux lsns's output. lsns 2.38 exits 1 without a word when a process
/// vanishes under it in mid-scan, which the other tests running beside this
/// one make likely; that is its race, not ours, so it gets a few tries.
/// rs-lsns with `args` and these variables set.
fn lsns_env(args: &[&str], vars: &[(&str, &str)]) -> String {
    let mut c = std::process::Command::new(LSNS);
    c.args(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    run(c).ok()
}

fn util_linux_lsns(args: &[&str]) -> String {
    for _ in 0..5 {
        let run = cmd("lsns", args);
        if run.output.status.success() || !run.stderr().is_empty() {
            return run.ok();
        }
    }
    cmd("lsns", args).ok()
}

#[test]
fn rows_match_util_linux_lsns_for_the_same_columns() {
    require!(
        is_root() && has_command("lsns"),
        "needs root and util-linux lsns"
    );
    // In a PID namespace, so the background sleep ends with the box.
    let boxed = Boxed::start(Maker::UtilLinux, false, &["-muinp"], "sleep 600 &");
    let pid = boxed.pid_arg();
    let args = [
        "-n",
        "-l",
        "-u",
        "-o",
        "NS,TYPE,NPROCS,PID,PPID,USER,UID,PATH,COMMAND",
        "-p",
        &pid,
    ];
    let theirs = util_linux_lsns(&args);
    let ours = lsns(&args).ok();
    // The five namespaces made for the box are identical line for line.
    let made: Vec<u64> = ["mnt", "uts", "ipc", "net", "pid"]
        .iter()
        .map(|k| ns_inode(&pid, k))
        .collect();
    let pick = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                made.iter()
                    .any(|ino| l.trim_start().starts_with(&ino.to_string()))
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(pick(&ours).len(), 5, "{ours}");
    assert_eq!(pick(&ours), pick(&theirs));
}

#[test]
fn the_default_table_matches_util_linux_layout() {
    require!(
        is_root() && has_command("lsns"),
        "needs root and util-linux lsns"
    );
    let boxed = Boxed::start(Maker::RsUnshare, false, &["-upf"], "sleep 600 &");
    let ino = ns_inode(&boxed.pid_arg(), "uts").to_string();
    // Listing the processes of one namespace: a process tree.
    let theirs = util_linux_lsns(&[&ino]);
    let ours = lsns(&[&ino]).ok();
    assert_eq!(ours, theirs);
    // Drawn as the locale allows, as util-linux does.
    let utf8 = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .is_some_and(|l| l.to_ascii_lowercase().replace('-', "").contains("utf8"));
    let end = if utf8 { "└─" } else { "`-" };
    assert!(ours.contains(&format!("{end}sleep 600")), "{ours}");
    let ascii = lsns_env(&[&ino], &[("LC_ALL", "C")]);
    assert!(ascii.contains("`-sleep 600"), "{ascii}");
}

/// In a PID namespace of its own with its own /proc, so the PIDs are small
/// and of three digits (1, then 469 and on) and no other test's process shows: the whole
/// output of both tools, for the cases where libsmartcols's width rules bite
/// (a cell narrower than its header, or as wide as it but under the hint).
#[test]
fn small_pids_are_laid_out_as_util_linux_does() {
    require!(
        is_root() && has_command("lsns") && has_command("unshare"),
        "needs root and util-linux lsns and unshare"
    );
    let dir = Scratch::new("lsns-small-pids");
    let script = r#"
        out=$1 ours=$2
        echo 468 > /proc/sys/kernel/ns_last_pid
        unshare -u sh -c 'sleep 600 & echo $! > "$1/600"; echo $$ > "$1/601"; exec sleep 601' sh "$out" &
        cmdline() { tr '\0' ' ' < "/proc/$(cat "$out/$1" 2>/dev/null)/cmdline" 2>/dev/null; }
        while [ "$(cmdline 600)" != "sleep 600 " ] || [ "$(cmdline 601)" != "sleep 601 " ]; do
            tries=$((${tries:-0} + 1)); [ "$tries" -lt 600 ] || { echo "the box did not start"; exit 1; }
            sleep 0.05
        done
        uts=$(readlink "/proc/$(cat "$out/601")/ns/uts" | tr -dc 0-9)
        n=0
        for args in "" "-o NS,TYPE,NPROCS,PID,PPID,USER,UID,PATH,COMMAND" \
                "-u -o NS,TYPE,NPROCS,PID,PPID,COMMAND" "-t pid -t user" "$uts" \
                "-o PID,PPID,TYPE $uts"; do
            n=$((n + 1))
            lsns $args > "$out/theirs.$n" 2>&1
            "$ours" $args > "$out/ours.$n" 2>&1
        done
        kill -9 "$(cat "$out/600")" "$(cat "$out/601")"
    "#;
    // From a file, so the command lines both tools print stay short.
    let file = dir.join("layout.sh");
    std::fs::write(&file, script).unwrap();
    let (file, out) = (file.to_str().unwrap(), dir.join(""));
    cmd(
        "unshare",
        &[
            "-pf",
            "--mount-proc",
            "sh",
            file,
            out.to_str().unwrap(),
            LSNS,
        ],
    )
    .ok();
    for n in 1..=6 {
        let read = |who: &str| std::fs::read_to_string(dir.join(&format!("{who}.{n}"))).unwrap();
        let (theirs, ours) = (read("theirs"), read("ours"));
        assert!(theirs.lines().count() > 1, "case {n}: {theirs}");
        assert_eq!(ours, theirs, "case {n}");
    }
}

#[test]
fn raw_and_nowrap_keep_one_line_per_row() {
    require!(is_root() && has_command("ip"), "needs root and ip(8)");
    // (Declared first, so dropped last: after the mount on it is gone.)
    let dir = Scratch::new("lsns-raw");
    let second = dir.empty_file("net two");
    let mut netns = NamedNetns::add("rsns-raw");
    let path = netns.path.clone();
    netns.bind_to(&second);
    let ino = std::fs::metadata(&path)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let table = lsns(&["-t", "net", "-o", "NS,NSFS"]).ok();
    let raw = lsns(&["-t", "net", "-r", "-o", "NS,NSFS"]).ok();
    let nowrap = lsns(&["-t", "net", "-W", "-o", "NS,NSFS"]).ok();
    drop(netns);
    let second = second.to_str().unwrap();
    let escaped = second.replace(' ', "\\x20");
    assert!(raw.contains(&format!("{ino} {path},{escaped}")), "{raw}");
    assert!(nowrap.contains(&format!("{path},{second}")), "{nowrap}");
    // The table gives the second mount point a line of its own.
    let at = table
        .lines()
        .position(|l| l.contains(&path))
        .expect("the netns row");
    assert_eq!(table.lines().nth(at + 1).unwrap().trim(), second, "{table}");
}

#[test]
fn list_columns_names_every_column() {
    let text = lsns(&["-H"]).ok();
    for name in [
        "NS",
        "TYPE",
        "PATH",
        "NPROCS",
        "PID",
        "PPID",
        "COMMAND",
        "UID",
        "USER",
        "NETNSID",
        "NSFS",
        "PNS",
        "ONS",
        "CONTAINER",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(name)),
            "{name}: {text}"
        );
    }
    let json: Value = serde_json::from_str(&lsns(&["-H", "-J"]).ok()).unwrap();
    assert_eq!(json["lsns-columns"].as_array().unwrap().len(), 14);
}

#[test]
fn a_scan_under_churn_always_succeeds_and_stays_consistent() {
    require!(is_root(), "needs root");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::process::Command::new(UNSHARE)
                        .args(["-uinf", "sh", "-c", "sleep 0.01 & sleep 0.02 & wait"])
                        .status();
                }
            })
        })
        .collect();
    for _ in 0..40 {
        for row in lsns_json(&["-l", "-o", "NS,TYPE,NPROCS,PID,COMMAND,PATH"]) {
            let nprocs = row["nprocs"].as_u64().unwrap();
            // A namespace is shown with a process exactly when it has some.
            assert_eq!(row["pid"].is_null(), nprocs == 0, "{row}");
            if let Some(pid) = row["pid"].as_u64() {
                assert_eq!(
                    row["path"],
                    format!("/proc/{pid}/ns/{}", row["type"].as_str().unwrap())
                );
            }
        }
        let run = lsns(&["-t", "uts"]);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        assert!(run.stderr().is_empty(), "{}", run.stderr());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for churner in churners {
        churner.join().unwrap();
    }
}

/// A path with a real newline and one with the text `\x0a` never print the
/// same: the table escapes a backslash before `x` as lsns does, raw output
/// every backslash, and JSON carries the real text. (In a mount namespace
/// of its own, so the files are not in the other tests' tables.)
#[test]
fn a_newline_and_the_text_backslash_x0a_print_differently() {
    if !can(false) {
        return;
    }
    let scratch = Scratch::new("lsns-escape");
    let dir = scratch.path.display().to_string();
    let script = format!(
        "cd {dir} && touch 'a
b' 'a\\x0ab' && {UNSHARE} --uts='a
b' true && \
         {UNSHARE} --uts='a\\x0ab' true && {LSNS} -t uts -n --nowrap -o NSFS | grep {dir}; \
         echo ---; {LSNS} -t uts -n -r -o NSFS | grep {dir}; echo ---; {LSNS} -J -t uts -o NSFS"
    );
    let out = unshare(&["-m", "sh", "-c", &script]).ok();
    let parts: Vec<&str> = out.split("---\n").collect();
    let mut table: Vec<&str> = parts[0].lines().map(str::trim).collect();
    table.sort();
    assert_eq!(
        table,
        [format!("{dir}/a\\x0ab"), format!("{dir}/a\\x5cx0ab")],
        "{out}"
    );
    let raw: Vec<&str> = parts[1].lines().collect();
    assert_eq!(raw.len(), 2, "{out}");
    assert_ne!(raw[0], raw[1]);
    let json: serde_json::Value = serde_json::from_str(parts[2]).unwrap();
    let mut paths: Vec<String> = json["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["nsfs"].as_str().map(str::to_string))
        .filter(|p| p.contains(&dir))
        .collect();
    paths.sort();
    assert_eq!(paths, [format!("{dir}/a\nb"), format!("{dir}/a\\x0ab")]);
}
