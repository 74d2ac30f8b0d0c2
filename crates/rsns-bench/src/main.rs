//! `make bench`: start-up time and peak RSS of rs-unshare against util-linux
//! unshare and a floor (a minimal C program doing only the raw system calls,
//! floor.c), on the same invocations. Runs are alternated (the order rotates
//! every round) so drift on the machine hits every tool alike; the results are
//! medians, reported as ratios.
//!
//! Peak RSS is the tool's own: those runs exec a no-op program (nop.c) instead
//! of `true`, whose own ~1.1 MiB would otherwise hide both tools, and are
//! launched by a tiny static C program (rss.c), because a forked child counts
//! its copy of the launcher until it execs.
//!
//! Usage: rsns-bench [--runs N] [--ours PATH] [--theirs PATH] [--floor PATH]
//!                   [--nop PATH] [--rss PATH]

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

struct Case {
    label: &'static str,
    args: &'static [&'static str],
    floor_mode: &'static str,
}

const CASES: [Case; 4] = [
    Case {
        label: "-U",
        args: &["-U"],
        floor_mode: "U",
    },
    Case {
        label: "-Urpfmu --mount-proc",
        args: &["-Urpfmu", "--mount-proc"],
        floor_mode: "Urpfmu-proc",
    },
    Case {
        label: "-n",
        args: &["-n"],
        floor_mode: "n",
    },
    Case {
        label: "-pf",
        args: &["-pf"],
        floor_mode: "pf",
    },
];

const PROGRAM: &str = "true";
const WARMUP: usize = 20;
const RSS_RUNS: usize = 7;

struct Options {
    runs: usize,
    ours: String,
    theirs: String,
    floor: String,
    nop: String,
    rss: String,
}

fn parse_options() -> Result<Options, String> {
    let mut opts = Options {
        runs: 400,
        ours: "target/release/rs-unshare".into(),
        theirs: "unshare".into(),
        floor: "target/release/rsns-floor".into(),
        nop: "target/release/rsns-nop".into(),
        rss: "target/release/rsns-rss".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => opts.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--ours" => opts.ours = value()?,
            "--theirs" => opts.theirs = value()?,
            "--floor" => opts.floor = value()?,
            "--nop" => opts.nop = value()?,
            "--rss" => opts.rss = value()?,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(opts)
}

/// One tool's command line for a case, running `program`.
fn argv(tool: usize, case: &Case, opts: &Options, program: &str) -> Vec<String> {
    let mut v = match tool {
        0 => vec![opts.floor.clone(), case.floor_mode.to_string()],
        1 => std::iter::once(opts.theirs.clone())
            .chain(case.args.iter().map(|s| s.to_string()))
            .collect(),
        _ => std::iter::once(opts.ours.clone())
            .chain(case.args.iter().map(|s| s.to_string()))
            .collect(),
    };
    v.push(program.into());
    v
}

fn run_once(argv: &[String]) -> Result<f64, String> {
    let start = Instant::now();
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        return Err(format!("{argv:?} failed: {status}"));
    }
    Ok(elapsed)
}

/// Peak RSS in KiB of one run, from the small launcher.
fn peak_rss(launcher: &str, argv: &[String]) -> Result<u64, String> {
    let out = Command::new(launcher)
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{launcher}: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("no RSS for {argv:?}"))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn main() -> ExitCode {
    let opts = match parse_options() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("rsns-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match bench(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rsns-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(opts: &Options) -> Result<(), String> {
    println!(
        "{} runs per tool and case, alternated; times are medians of wall time per run;\n\
         peak RSS is the tool's own (median of {RSS_RUNS} runs of `unshare ARGS nop`)\n",
        opts.runs
    );
    println!(
        "| `unshare ARGS {PROGRAM}` | floor | util-linux | rs-unshare | ours/util-linux | ours/floor | util-linux/floor | peak RSS util-linux | peak RSS ours |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for case in &CASES {
        let argvs: Vec<Vec<String>> = (0..3).map(|t| argv(t, case, opts, PROGRAM)).collect();
        for argv in &argvs {
            for _ in 0..WARMUP {
                run_once(argv)?;
            }
        }
        let mut times: Vec<Vec<f64>> = (0..3).map(|_| Vec::with_capacity(opts.runs)).collect();
        for round in 0..opts.runs {
            for k in 0..3 {
                let tool = (round + k) % 3;
                times[tool].push(run_once(&argvs[tool])?);
            }
        }
        let med: Vec<f64> = times.iter_mut().map(|t| median(t)).collect();
        let mut rss = Vec::new();
        for tool in 1..3 {
            let argv = argv(tool, case, opts, &opts.nop);
            let mut samples: Vec<f64> = (0..RSS_RUNS)
                .map(|_| peak_rss(&opts.rss, &argv).map(|kib| kib as f64))
                .collect::<Result<_, _>>()?;
            rss.push(median(&mut samples));
        }
        let (vs_util, vs_floor) = (med[2] / med[1], med[2] / med[0]);
        if vs_util > 1.0 {
            missed.push(format!("{}: {vs_util:.2} x util-linux", case.label));
        }
        if vs_floor > 1.10 {
            missed.push(format!("{}: {vs_floor:.2} x the floor", case.label));
        }
        if rss[1] > rss[0] {
            missed.push(format!("{}: peak RSS above util-linux", case.label));
        }
        println!(
            "| `{}` | {:.3} ms | {:.3} ms | {:.3} ms | {:.2} | {:.2} | {:.2} | {:.0} KiB | {:.0} KiB |",
            case.label,
            med[0],
            med[1],
            med[2],
            vs_util,
            vs_floor,
            med[1] / med[0],
            rss[0],
            rss[1]
        );
    }
    println!("\ntargets: ours/util-linux <= 1.00, ours/floor <= 1.10, peak RSS ours <= util-linux");
    if missed.is_empty() {
        println!("all targets met");
    } else {
        println!("missed: {}", missed.join("; "));
    }
    Ok(())
}
