//! rs-setpriv's rows: util-linux's setpriv on the options both have, and
//! the floor (floor.c) making the same calls; then `--seccomp=container`,
//! which util-linux lacks, against the floor loading the very filters
//! rs-setpriv compiles (written out here), so the figure is the cost of
//! compiling the profile at each start.

use std::io::Write;

use rsns_core::privs::seccomp;

use super::{Options, PROGRAM, Row, pair_table, warm_medians, with_program, words};

pub fn rows(opts: &Options) -> Vec<Row> {
    let ours = format!("{}/rs-setpriv", opts.ours);
    let theirs = format!("{}/setpriv", opts.theirs);
    [
        ("--nnp", &["--nnp"][..], &["nnp"][..]),
        (
            "--reuid=65534 --regid=65534 --clear-groups",
            &["--reuid=65534", "--regid=65534", "--clear-groups"][..],
            &["ids", "65534", "65534"][..],
        ),
        (
            "--bounding-set=-all --inh-caps=-all",
            &["--bounding-set=-all", "--inh-caps=-all"][..],
            &["nocaps"][..],
        ),
    ]
    .into_iter()
    .map(|(label, args, floor)| Row {
        label: label.into(),
        floor: [vec![opts.floor.clone()], words(floor)].concat(),
        theirs: [vec![theirs.clone()], words(args)].concat(),
        ours: [vec![ours.clone()], words(args)].concat(),
    })
    .collect()
}

/// The bounding set, as rs-setpriv reads it to decide the profile's
/// capability-gated rules.
fn bounding_set() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .ok_or_else(|| "no CapBnd in /proc/self/status".to_string())
}

pub fn seccomp(opts: &Options) -> Result<Vec<String>, String> {
    let compiled = seccomp::prepare(&seccomp::Source::Container, bounding_set()?)?;
    let dir = std::env::temp_dir().join(format!("rsns-bench-bpf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut floor = vec![opts.floor.clone(), "seccomp".into()];
    for (i, filter) in compiled.filters.iter().enumerate() {
        let path = dir.join(format!("{i}.bpf"));
        let mut bytes = Vec::with_capacity(filter.len() * 8);
        for insn in filter {
            bytes.extend_from_slice(&insn.code.to_ne_bytes());
            bytes.extend_from_slice(&[insn.jt, insn.jf]);
            bytes.extend_from_slice(&insn.k.to_ne_bytes());
        }
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        floor.push(path.display().to_string());
    }
    floor.push("--".into());
    let ours = words(&[
        &format!("{}/rs-setpriv", opts.ours),
        "--seccomp=container",
        "--",
    ]);
    let result = warm_medians(
        &[with_program(&floor, PROGRAM), with_program(&ours, PROGRAM)],
        opts.runs,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let sizes: Vec<String> = compiled
        .filters
        .iter()
        .map(|f| f.len().to_string())
        .collect();
    Ok(pair_table(
        "| `setpriv --seccomp=container true` | floor (the same filters, compiled beforehand) | rs-setpriv | ours/floor |",
        &format!(
            "podman's profile for the capabilities held: {} filters of {} instructions",
            sizes.len(),
            sizes.join(" + ")
        ),
        &result?,
        1.10,
        ("setpriv --seccomp=container", "the floor"),
    ))
}
