//! rs-lsns against util-linux lsns and a bare scan (scan-floor.c) on a
//! machine with N extra processes, each in its own UTS and IPC namespaces
//! (herd.c), at N = 1,000 and 5,000. Runs alternate between the tools.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use super::{alternated_medians, peak_rss, run_once};

pub struct Tools {
    pub ours: String,
    pub theirs: String,
    pub floor: String,
    pub herd: String,
    pub rss: String,
}

/// (processes, timed runs per tool, ours must be this many times faster)
const SIZES: [(usize, usize, f64); 2] = [(1_000, 21, 3.0), (5_000, 9, 5.0)];
const FLOOR_TARGET: f64 = 1.5;

/// The herd stays while its stdin is open.
struct Herd {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Herd {
    fn start(path: &str, n: usize) -> Result<Herd, String> {
        let mut child = Command::new(path)
            .arg(n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{path}: {e}"))?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no herd stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("herd: {e}"))?;
        if line.trim() != "ready" {
            let _ = child.kill();
            return Err(format!("the herd of {n} did not start"));
        }
        Ok(Herd { child, stdin })
    }
}

impl Drop for Herd {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

pub fn bench(tools: &Tools) -> Result<Vec<String>, String> {
    println!(
        "\n| `lsns` with N namespaced processes | floor | util-linux | rs-lsns | util-linux/ours | ours/floor | peak RSS util-linux | peak RSS ours |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for (n, runs, speedup) in SIZES {
        let _herd = Herd::start(&tools.herd, n)?;
        for args in [&[][..], &["-J"][..]] {
            let argv = |tool: &str| -> Vec<String> {
                std::iter::once(tool.to_string())
                    .chain(args.iter().map(|a| a.to_string()))
                    .collect()
            };
            let argvs = [
                vec![tools.floor.clone()],
                argv(&tools.theirs),
                argv(&tools.ours),
            ];
            for argv in &argvs {
                run_once(argv)?;
            }
            let med = alternated_medians(&argvs, runs)?;
            let rss: Vec<u64> = [&argvs[1], &argvs[2]]
                .into_iter()
                .map(|argv| peak_rss(&tools.rss, argv))
                .collect::<Result<_, _>>()?;
            let label = format!("{n} {}", args.join(" "));
            let (faster, vs_floor) = (med[1] / med[2], med[2] / med[0]);
            if faster < speedup {
                missed.push(format!(
                    "lsns {label}: {faster:.2}x faster, target {speedup}x"
                ));
            }
            if n == 5_000 && vs_floor > FLOOR_TARGET {
                missed.push(format!("lsns {label}: {vs_floor:.2} x the floor"));
            }
            if rss[1] > rss[0] {
                missed.push(format!("lsns {label}: peak RSS above util-linux"));
            }
            println!(
                "| `{label}` | {:.1} ms | {:.1} ms | {:.1} ms | {faster:.2} | {vs_floor:.2} | {} KiB | {} KiB |",
                med[0], med[1], med[2], rss[0], rss[1]
            );
        }
    }
    Ok(missed)
}
