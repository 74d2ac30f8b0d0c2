//! Bad input to rs-lsns: one line on stderr naming the bad value, exit 1.

mod common;

use common::*;

#[test]
fn an_unknown_type_is_named() {
    lsns(&["-t", "bogus"]).fails_as("rs-lsns", 1, "'bogus'");
}

#[test]
fn an_unknown_column_is_named() {
    lsns(&["-o", "NS,BOGUS"]).fails_as("rs-lsns", 1, "unknown column: 'BOGUS'");
    lsns(&["-o", "+nope"]).fails_as("rs-lsns", 1, "'nope'");
    // No column at all prints no blank rows: refused, as lsns(8) does.
    lsns(&["-o", ""]).fails_as("rs-lsns", 1, "-o '': a column name is missing");
    lsns(&["-o", "NS,"]).fails_as("rs-lsns", 1, "-o 'NS,': a column name is missing");
}

#[test]
fn json_and_raw_exclude_each_other() {
    lsns(&["-J", "-r"]).fails_as("rs-lsns", 1, "--raw");
}

#[test]
fn a_task_that_is_not_a_number_is_named() {
    lsns(&["-p", "abc"]).fails_as("rs-lsns", 1, "'abc'");
}

#[test]
fn a_task_that_does_not_exist_is_an_error() {
    // PIDs above pid_max never exist.
    lsns(&["-p", "2147483647"]).fails_as("rs-lsns", 1, "no process with PID 2147483647");
    lsns(&["-p", "0"]).fails_as("rs-lsns", 1, "no process with PID 0");
}

#[test]
fn a_filter_that_does_not_parse_points_at_the_character() {
    lsns(&["-Q", "NPROCS > )"]).fails_as("rs-lsns", 1, "at character 10");
    lsns(&["-Q", "TYPE == 'net"]).fails_as("rs-lsns", 1, "unterminated string at character 9");
    lsns(&["-Q", "(TYPE == 'net'"]).fails_as("rs-lsns", 1, "missing ')'");
    lsns(&["-Q", "COMMAND =~ 'a('"]).fails_as("rs-lsns", 1, "regular expression");
}

#[test]
fn a_filter_naming_an_unknown_column_is_refused() {
    lsns(&["-Q", "TYPE == 'net' && BOGUS > 1"]).fails_as(
        "rs-lsns",
        1,
        "unknown column 'BOGUS' at character 18",
    );
}

#[test]
fn a_namespace_that_does_not_exist_is_an_error() {
    lsns(&["1"]).fails_as("rs-lsns", 1, "no namespace with inode 1");
    lsns(&["-t", "net", "1"]).fails_as("rs-lsns", 1, "no net namespace with inode 1");
    lsns(&["x"]).fails_as("rs-lsns", 1, "'x'");
}

#[test]
fn conflicting_modes_are_refused() {
    lsns(&["-l", "-T"]).fails_as("rs-lsns", 1, "--tree");
    lsns(&["-P", "-p", "1"]).fails_as("rs-lsns", 1, "--task");
    lsns(&["-Tbogus"]).fails_as("rs-lsns", 1, "'bogus'");
}

#[test]
fn verbose_logs_on_stderr_only() {
    // A thread's ID given to -p is one thing -v reports, on every kernel.
    let tid = nix::unistd::gettid().as_raw();
    require!(
        tid != std::process::id() as i32,
        "the test runs on the main thread"
    );
    let tid = tid.to_string();
    let quiet = lsns(&["-p", &tid, "-o", "NS"]);
    let loud = lsns(&["-v", "-p", &tid, "-o", "NS"]);
    assert!(quiet.stderr().is_empty(), "{}", quiet.stderr());
    assert!(
        loud.stderr().contains("-p names a thread"),
        "{}",
        loud.stderr()
    );
    assert_eq!(loud.code(), 0);
    // stdout stays data only: the same namespaces.
    assert_eq!(quiet.ok(), loud.ok());
}

/// rs-lsns -t uts -o NS -Q FILTER under `ulimit -s STACK_KIB`.
fn lsns_small_stack(stack_kib: u32, filter: &str) -> Run {
    let mut c = std::process::Command::new("sh");
    c.args([
        "-c",
        &format!("ulimit -s {stack_kib} && exec \"$0\" -t uts -o NS -Q \"$1\""),
        LSNS,
        filter,
    ]);
    run(c)
}

#[test]
fn deeply_nested_filters_work_or_fail_cleanly_on_a_small_stack() {
    let brackets = "(".repeat(8000);
    lsns_small_stack(256, &brackets).fails_as(
        "rs-lsns",
        1,
        "expected a column or a value (the filter ends at character 8000)",
    );
    let unclosed = format!("{brackets}NPROCS > 0");
    lsns_small_stack(256, &unclosed).fails_as("rs-lsns", 1, "missing ')'");
    for filter in [
        format!("{brackets}NPROCS > 0{}", ")".repeat(8000)),
        format!("{}NPROCS > 0", "!".repeat(10_000)),
        vec!["NPROCS > 0"; 5000].join(" && "),
    ] {
        let run = lsns_small_stack(256, &filter);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        assert!(run.stdout().lines().count() > 1, "{}", run.stdout());
    }
}

/// A pattern that would compile to gigabytes, or nest deeper than a stack,
/// is refused in one line (it grew to 23 GB, and segfaulted).
#[test]
fn huge_and_deep_patterns_are_refused_in_one_line() {
    let deep = format!(
        "COMMAND =~ \"{}a{}\"",
        "(".repeat(15_000),
        ")".repeat(15_000)
    );
    for (filter, needle) in [
        ("COMMAND =~ \"a{1000}{1000}{1000}\"", "too large"),
        (deep.as_str(), "nests"),
    ] {
        let run = lsns(&["-Q", filter]);
        assert_eq!(run.code(), 1, "{}", run.stderr());
        assert!(run.stderr().contains(needle), "{}", run.stderr());
        assert_eq!(run.stderr().lines().count(), 1, "{}", run.stderr());
    }
}
