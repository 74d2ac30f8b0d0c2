//! `make bench`: start-up time and peak RSS of the rs-* tools against
//! util-linux and a floor (a minimal C program doing only the raw system
//! calls, floor.c), on the same invocations. Runs are alternated (the order
//! rotates every round) so drift on the machine hits every tool alike; the
//! results are medians, reported as ratios.
//!
//! Peak RSS is the tool's own: those runs exec a no-op program (nop.c) instead
//! of `true`, whose own ~1.1 MiB would otherwise hide both tools, and are
//! launched by a tiny static C program (rss.c), because a forked child counts
//! its copy of the launcher until it execs.
//!
//! rs-lsns is measured on a machine full of namespaces (lsns.rs).
//!
//! Usage: rsns-bench [--runs N] [--ours DIR] [--theirs DIR] [--floor PATH]
//!                   [--nop PATH] [--rss PATH] [--scan-floor PATH] [--herd PATH]
//!                   [--rootfs DIR] [--bundle DIR] [--bwrap-new PATH] [--layers DIR,DIR]
//!                   [--only unshare|nsenter|setpriv|lsns|pivot|box|layers|cgroup|finale[,...]]
//! DIR holds rs-unshare, rs-nsenter, rs-setpriv, rs-lsns and rs-pivot (ours)
//! or unshare, nsenter, setpriv and lsns (theirs). --bundle: crun's bundle
//! for the finale (tests/support/podman-bundle.py writes it). The pivot row runs `true` and the no-op program
//! inside the root file system given by --rootfs, at the same paths. The
//! layers row joins --rootfs and the two --layers above it, against a bwrap
//! with overlays (--bwrap-new: 0.11 or later).

use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

mod boxes;
mod cgroup;
mod finale;
mod lsns;
mod setpriv;

const PROGRAM: &str = "true";
const WARMUP: usize = 20;
const RSS_RUNS: usize = 7;

pub(crate) struct Options {
    runs: usize,
    ours: String,
    theirs: String,
    floor: String,
    nop: String,
    rss: String,
    scan_floor: String,
    herd: String,
    /// A busybox root file system for the rs-pivot row.
    rootfs: String,
    /// The finale's crun bundle.
    bundle: String,
    /// A bwrap with overlays (0.11 or later), and the layers above --rootfs.
    bwrap_new: String,
    layers: Vec<String>,
    /// `--only unshare|nsenter|lsns|pivot|box|cgroup`: one tool's tables.
    only: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut opts = Options {
        runs: 400,
        ours: "target/release".into(),
        theirs: "/usr/bin".into(),
        floor: "target/release/rsns-floor".into(),
        nop: "target/release/rsns-nop".into(),
        rss: "target/release/rsns-rss".into(),
        scan_floor: "target/release/rsns-scan-floor".into(),
        herd: "target/release/rsns-herd".into(),
        rootfs: "target/rootfs".into(),
        bundle: "target/bench/podman-bundle".into(),
        bwrap_new: String::new(),
        layers: Vec::new(),
        only: None,
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
            "--scan-floor" => opts.scan_floor = value()?,
            "--herd" => opts.herd = value()?,
            "--rootfs" => opts.rootfs = value()?,
            "--bundle" => opts.bundle = value()?,
            "--bwrap-new" => opts.bwrap_new = value()?,
            "--layers" => opts.layers = value()?.split(',').map(String::from).collect(),
            "--only" => opts.only = Some(value()?),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(opts)
}

/// Joining a mount namespace moves the working directory: use full paths.
fn absolute(mut opts: Options) -> Result<Options, String> {
    for path in [
        &mut opts.ours,
        &mut opts.theirs,
        &mut opts.floor,
        &mut opts.nop,
        &mut opts.rss,
        &mut opts.scan_floor,
        &mut opts.herd,
        &mut opts.rootfs,
        &mut opts.bundle,
    ]
    .into_iter()
    .chain(opts.layers.iter_mut())
    {
        // Paths a table does not use may not exist (in the VM, say): each
        // table's first run names a missing one.
        if let Ok(full) = std::fs::canonicalize(&*path) {
            *path = full.display().to_string();
        }
    }
    Ok(opts)
}

/// One invocation, as the floor, util-linux and we spell it; the program
/// (`true`, or the no-op for RSS) is appended.
pub(crate) struct Row {
    label: String,
    floor: Vec<String>,
    theirs: Vec<String>,
    ours: Vec<String>,
}

fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn with_program(argv: &[String], program: &str) -> Vec<String> {
    let mut v = argv.to_vec();
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
    // For the Makefile: can this machine run the rs-cgroup table?
    if std::env::args().nth(1).as_deref() == Some("--cgroup-possible") {
        return match cgroup::possible() {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("rsns-bench: {why}");
                ExitCode::FAILURE
            }
        };
    }
    let opts = match parse_options().and_then(absolute) {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("rsns-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match bench(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("rsns-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs each command `runs` times, rotating which goes first every round so
/// drift on the machine hits all alike; the median time of each, in ms.
fn alternated_medians(argvs: &[Vec<String>], runs: usize) -> Result<Vec<f64>, String> {
    alternated(argvs, runs, |argv| run_once(argv))
}

/// Warm-up runs of each command, then [`alternated_medians`].
fn warm_medians(argvs: &[Vec<String>], runs: usize) -> Result<Vec<f64>, String> {
    for argv in argvs {
        for _ in 0..WARMUP {
            run_once(argv)?;
        }
    }
    alternated_medians(argvs, runs)
}

/// Prints a one-row table of theirs against ours (`header` names the row
/// and the two sides) and returns the miss when ours/theirs is over
/// `target`: "`name`: RATIO x `against`".
fn pair_table(
    header: &str,
    row: &str,
    med: &[f64],
    target: f64,
    (name, against): (&str, &str),
) -> Vec<String> {
    let ratio = med[1] / med[0];
    println!("\n{header}");
    println!("|---|---|---|---|");
    println!(
        "| {row} | {:.3} ms | {:.3} ms | {ratio:.2} |",
        med[0], med[1]
    );
    if ratio > target {
        vec![format!("{name}: {ratio:.2} x {against}")]
    } else {
        Vec::new()
    }
}

/// The same for anything `run` times (a sequence of commands, say).
fn alternated<T>(
    items: &[T],
    runs: usize,
    run: impl Fn(&T) -> Result<f64, String>,
) -> Result<Vec<f64>, String> {
    let n = items.len();
    let mut times: Vec<Vec<f64>> = (0..n).map(|_| Vec::with_capacity(runs)).collect();
    for round in 0..runs {
        for k in 0..n {
            let which = (round + k) % n;
            times[which].push(run(&items[which])?);
        }
    }
    Ok(times.iter_mut().map(|t| median(t)).collect())
}

/// Measures the rows of one table; returns the targets missed.
fn table(
    opts: &Options,
    tool: &str,
    rows: &[Row],
    floor_target: Option<f64>,
) -> Result<Vec<String>, String> {
    println!(
        "\n| `{tool} ARGS {PROGRAM}` | floor | util-linux | rs-{tool} | ours/util-linux | ours/floor | util-linux/floor | peak RSS util-linux | peak RSS ours |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for row in rows {
        let argvs = [
            with_program(&row.floor, PROGRAM),
            with_program(&row.theirs, PROGRAM),
            with_program(&row.ours, PROGRAM),
        ];
        for argv in &argvs {
            for _ in 0..WARMUP {
                run_once(argv)?;
            }
        }
        let med = alternated_medians(&argvs, opts.runs)?;
        let mut rss = Vec::new();
        for argv in [&row.theirs, &row.ours] {
            let argv = with_program(argv, &opts.nop);
            let mut samples: Vec<f64> = (0..RSS_RUNS)
                .map(|_| peak_rss(&opts.rss, &argv).map(|kib| kib as f64))
                .collect::<Result<_, _>>()?;
            rss.push(median(&mut samples));
        }
        let (vs_util, vs_floor) = (med[2] / med[1], med[2] / med[0]);
        if vs_util > 1.0 {
            missed.push(format!("{tool} {}: {vs_util:.2} x util-linux", row.label));
        }
        if floor_target.is_some_and(|t| vs_floor > t) {
            missed.push(format!("{tool} {}: {vs_floor:.2} x the floor", row.label));
        }
        if rss[1] > rss[0] {
            missed.push(format!("{tool} {}: peak RSS above util-linux", row.label));
        }
        println!(
            "| `{}` | {:.3} ms | {:.3} ms | {:.3} ms | {:.2} | {:.2} | {:.2} | {:.0} KiB | {:.0} KiB |",
            row.label,
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
    Ok(missed)
}

fn bench(opts: &Options) -> Result<bool, String> {
    println!(
        "{} runs per tool and row, alternated; times are medians of wall time per run;\n\
         peak RSS is the tool's own (median of {RSS_RUNS} runs with a no-op program)",
        opts.runs
    );
    let ours = |name: &str| format!("{}/{name}", opts.ours);
    let theirs = |name: &str| format!("{}/{name}", opts.theirs);
    let unshare_rows: Vec<Row> = [
        ("-U", &["-U"][..], &["U"][..]),
        (
            "-Urpfmu --mount-proc",
            &["-Urpfmu", "--mount-proc"][..],
            &["Urpfmu-proc"][..],
        ),
        ("-n", &["-n"][..], &["n"][..]),
        ("-pf", &["-pf"][..], &["pf"][..]),
    ]
    .into_iter()
    .map(|(label, args, floor)| Row {
        label: label.into(),
        floor: [vec![opts.floor.clone()], words(floor)].concat(),
        theirs: [vec![theirs("unshare")], words(args)].concat(),
        ours: [vec![ours("rs-unshare")], words(args)].concat(),
    })
    .chain(std::iter::once(Row {
        // util-linux has no init of its own: -pf makes the program PID 1.
        label: "-p --init (util-linux: -pf)".into(),
        floor: vec![opts.floor.clone(), "pinit".into()],
        theirs: vec![theirs("unshare"), "-pf".into()],
        ours: vec![ours("rs-unshare"), "-p".into(), "--init".into()],
    }))
    .collect();
    // --only cgroup,finale: a comma-separated list.
    let wanted = |tool: &str| {
        opts.only
            .as_deref()
            .is_none_or(|only| only.split(',').any(|o| o == tool))
    };
    let mut missed = Vec::new();
    if wanted("unshare") {
        missed.extend(table(opts, "unshare", &unshare_rows, Some(1.10))?);
    }

    if wanted("nsenter") {
        // A box to join: new mount, UTS, IPC, network and PID namespaces.
        let mut target = start_box(&ours("rs-unshare"))?;
        let pid = target.1.clone();
        let join = Row {
            label: "-t PID -a".to_string(),
            floor: vec![opts.floor.clone(), "join".into(), pid.clone()],
            theirs: vec![theirs("nsenter"), "-t".into(), pid.clone(), "-a".into()],
            ours: vec![ours("rs-nsenter"), "-t".into(), pid.clone(), "-a".into()],
        };
        let result = table(opts, "nsenter", &[join], None);
        let _ = target.0.kill();
        let _ = target.0.wait();
        missed.extend(result?);
    }

    if wanted("setpriv") {
        missed.extend(table(opts, "setpriv", &setpriv::rows(opts), Some(1.10))?);
        missed.extend(setpriv::seccomp(opts)?);
    }

    if wanted("pivot") {
        // The change of root as a user types it; util-linux needs a shell,
        // mount twice, pivot_root, umount and chroot for the same steps.
        let r = opts.rootfs.clone();
        let steps = "mount --make-rprivate / && mount --rbind \"$0\" \"$0\" && cd \"$0\" && \
                     pivot_root . . && umount -l . && exec chroot . \"$1\"";
        let row = Row {
            label: "-m, --root ROOTFS".into(),
            floor: vec![opts.floor.clone(), "mpivot".into(), r.clone()],
            theirs: [
                vec![theirs("unshare"), "-m".into(), "sh".into(), "-c".into()],
                vec![steps.into(), r.clone()],
            ]
            .concat(),
            ours: vec![
                ours("rs-unshare"),
                "-m".into(),
                ours("rs-pivot"),
                "--root".into(),
                r.clone(),
                "--".into(),
            ],
        };
        missed.extend(table(opts, "pivot", &[row], None)?);
    }

    if wanted("box") {
        match which("bwrap") {
            Some(bwrap) => missed.extend(boxes::bench(
                &boxes::Tools {
                    unshare: ours("rs-unshare"),
                    pivot: ours("rs-pivot"),
                    bwrap,
                    rootfs: opts.rootfs.clone(),
                },
                opts.runs,
            )?),
            None => return Err("bwrap not found: install bubblewrap (make bench does)".into()),
        }
    }

    if wanted("layers") {
        if opts.bwrap_new.is_empty() || opts.layers.len() != 2 {
            return Err(
                "the layers row needs --bwrap-new (bwrap 0.11 or later) and two --layers".into(),
            );
        }
        missed.extend(boxes::bench_layers(
            &boxes::Tools {
                unshare: ours("rs-unshare"),
                pivot: ours("rs-pivot"),
                bwrap: opts.bwrap_new.clone(),
                rootfs: opts.rootfs.clone(),
            },
            &opts.layers,
            opts.runs,
        )?);
    }

    if wanted("cgroup") {
        match cgroup::possible() {
            Ok(()) => missed.extend(cgroup::bench(
                &cgroup::Tools {
                    ours: ours("rs-cgroup"),
                    floor: opts.floor.clone(),
                },
                opts.runs,
            )?),
            Err(why) => {
                println!(
                    "\nrs-cgroup with limits: not measured here ({why}); make bench runs it in a VM"
                );
                missed.extend(cgroup::bench_without_controllers(
                    &cgroup::Tools {
                        ours: ours("rs-cgroup"),
                        floor: opts.floor.clone(),
                    },
                    opts.runs,
                )?);
            }
        }
    }

    if wanted("finale") {
        match (cgroup::possible(), which("crun")) {
            (Ok(()), Some(crun)) => missed.extend(finale::bench(
                &finale::Tools {
                    cgroup: ours("rs-cgroup"),
                    unshare: ours("rs-unshare"),
                    pivot: ours("rs-pivot"),
                    crun,
                    rootfs: opts.rootfs.clone(),
                    bundle: opts.bundle.clone(),
                },
                opts.runs,
            )?),
            (Err(why), _) => {
                println!(
                    "\nthe finale against crun: not measured here ({why}); make bench runs it in a VM"
                )
            }
            (Ok(()), None) => return Err("crun not found: install crun (make bench does)".into()),
        }
    }

    if wanted("lsns") {
        missed.extend(lsns::bench(&lsns::Tools {
            ours: ours("rs-lsns"),
            theirs: theirs("lsns"),
            floor: opts.scan_floor.clone(),
            herd: opts.herd.clone(),
            rss: opts.rss.clone(),
        })?);
    }

    println!(
        "\ntargets: ours/util-linux <= 1.00 and peak RSS ours <= util-linux everywhere; \
         ours/floor <= 1.10 for unshare, setpriv and cgroup, cgroup faster than cgroup-tools, the box and the layered box faster than bwrap, the finale faster than crun; lsns: >= 3x faster at 1,000, >= 5x faster \
         and ours/floor <= 1.5 at 5,000"
    );
    if missed.is_empty() {
        println!("all targets met");
    } else {
        println!("missed: {}", missed.join("; "));
    }
    Ok(missed.is_empty())
}

/// A program in PATH, as a full path.
fn which(program: &str) -> Option<String> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| format!("{dir}/{program}"))
        .find(|path| std::path::Path::new(path).is_file())
}

/// Starts `rs-unshare -pfmuin --kill-child sleep` and returns it with the sleep's PID.
fn start_box(rs_unshare: &str) -> Result<(Child, String), String> {
    let pid_file = std::env::temp_dir().join(format!("rsns-bench-box-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pid_file);
    let mut child = Command::new(rs_unshare)
        .arg("-pfmuin")
        // Killing rs-unshare at the end must take the box with it.
        .arg("--kill-child")
        .arg(format!("--pid-file={}", pid_file.display()))
        .args(["sleep", "100000"])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("{rs_unshare}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = std::fs::remove_file(&pid_file);
            return Ok((child, pid.trim().to_string()));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the box to join did not start".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
