//! Property tests for the parsers of untrusted or user text: whatever the
//! input, no panic; and what a well-formed input says is what comes out.
//! The cargo-fuzz targets in crates/rsns-fuzz cover the same parsers with
//! coverage guidance (`make fuzz`).

use proptest::prelude::*;
use rsns_core::idmap::{IdRange, RangeSpec, parse_range_spec, parse_subid_line};
use rsns_core::lsns::columns::{Column, parse_output_list};
use rsns_core::lsns::filter::Expr;
use rsns_core::mountinfo::parse_line;
use rsns_core::scan::procfs::parse_stat;
use rsns_core::signal::parse_signal;
use rsns_core::supervise::signal_masks;

/// A range that stays inside the 32-bit id space on both sides.
fn valid_range() -> impl Strategy<Value = (u32, u32, u32)> {
    (1u32..=u32::MAX).prop_flat_map(|count| {
        let top = u32::MAX - (count - 1);
        (0..=top, 0..=top, Just(count))
    })
}

/// The kernel's escaping of a mountinfo path (seq_file mangling of space,
/// tab, newline and backslash as three octal digits).
fn kernel_escape(path: &str) -> String {
    path.chars()
        .map(|c| match c {
            ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

proptest! {
    #[test]
    fn range_specs_never_panic(text in ".{0,40}") {
        let _ = parse_range_spec(&text);
    }

    #[test]
    fn both_range_spellings_say_the_same((inner, outer, count) in valid_range()) {
        let want = Ok(RangeSpec::Range(IdRange { inner, outer, count }));
        prop_assert_eq!(parse_range_spec(&format!("{inner}:{outer}:{count}")), want.clone());
        prop_assert_eq!(parse_range_spec(&format!("{outer},{inner},{count}")), want);
    }

    #[test]
    fn a_range_past_the_last_id_is_refused(inner in any::<u32>(), count in 1u32..=u32::MAX) {
        let fits = u64::from(inner) + u64::from(count) - 1 <= u64::from(u32::MAX);
        prop_assert_eq!(parse_range_spec(&format!("{inner}:0:{count}")).is_ok(), fits);
    }

    #[test]
    fn subid_lines_never_panic(text in "(?s).{0,60}") {
        let _ = parse_subid_line(&text);
    }

    #[test]
    fn subid_lines_round_trip(owner in "[a-z_][a-z0-9_-]{0,30}", start in any::<u32>(), count in 1u32..) {
        let line = format!("{owner}:{start}:{count}\n");
        let (got_owner, range) = parse_subid_line(&line).unwrap();
        prop_assert_eq!(got_owner, owner.as_str());
        let range = range.unwrap();
        prop_assert_eq!((range.start, range.count), (start, count));
    }

    #[test]
    fn proc_stat_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_stat(&bytes);
    }

    #[test]
    fn any_command_name_comes_out_whole(
        pid in 1i32..,
        comm in "[^\\x00]{0,15}",
        ppid in 0i32..,
    ) {
        let stat = format!("{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 100 0 0");
        prop_assert_eq!(parse_stat(stat.as_bytes()), Some((comm, ppid)));
    }

    #[test]
    fn status_masks_are_read_wherever_they_are(
        ignored in any::<u64>(),
        caught in any::<u64>(),
        before in "([A-Za-z_]{1,12}:\t[a-z0-9 ]{0,20}\n){0,6}",
    ) {
        let text = format!("{before}SigQ:\t0/1\nSigIgn:\t{ignored:016x}\nSigCgt:\t{caught:016x}\nCapInh:\t0\n");
        prop_assert_eq!(signal_masks(text.as_bytes()), Some((ignored, caught)));
    }

    #[test]
    fn status_text_never_panics(text in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = signal_masks(&text);
    }

    #[test]
    fn mountinfo_lines_never_panic(text in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_line(&text);
    }

    #[test]
    fn escaped_mount_points_come_back_as_they_were(
        path in "/[ \t\n\\\\a-z0-9ü.]{0,30}",
        root in "/[ \\\\a-z]{0,10}",
        shared in proptest::option::of(1u64..1000),
        id in any::<u32>(),
        parent in any::<u32>(),
    ) {
        let tag = shared.map(|n| format!(" shared:{n}")).unwrap_or_default();
        let line = format!(
            "{id} {parent} 0:5 {} {} rw,nosuid{tag} master:3 - tmpfs tmp rw",
            kernel_escape(&root),
            kernel_escape(&path),
        );
        let mount = parse_line(line.as_bytes()).unwrap();
        prop_assert_eq!(mount.mount_point, std::path::PathBuf::from(path));
        prop_assert_eq!(mount.root, root.into_bytes());
        prop_assert_eq!(mount.shared, shared);
        prop_assert_eq!((mount.id, mount.parent), (u64::from(id), u64::from(parent)));
        prop_assert_eq!(mount.fstype, "tmpfs");
    }

    #[test]
    fn filters_never_panic_and_point_inside_the_text(text in ".{0,60}") {
        if let Err(err) = Expr::parse(&text) {
            prop_assert!((1..=text.chars().count() + 1).contains(&err.position), "{:?}", err);
        }
    }

    #[test]
    fn filters_built_from_the_grammar_parse(
        column in proptest::sample::select(Column::ALL.to_vec()),
        op in proptest::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]),
        number in any::<u32>(),
        negate in any::<bool>(),
        joiner in proptest::sample::select(vec!["&&", "||", "and", "or"]),
    ) {
        let bang = if negate { "!" } else { "" };
        let text = format!("{bang}({column} {op} {number}) {joiner} TYPE =~ \"^n.t$\"");
        prop_assert!(Expr::parse(&text).is_ok(), "{}", text);
    }

    #[test]
    fn signal_names_never_panic(text in ".{0,20}") {
        if let Ok(sig) = parse_signal(&text) {
            prop_assert!((1..=31).contains(&(sig as i32)));
        }
    }

    #[test]
    fn every_signal_by_number_and_any_spelling_of_its_name(number in 1i32..=31, lower in any::<bool>(), bare in any::<bool>()) {
        let sig = nix::sys::signal::Signal::try_from(number).unwrap();
        prop_assert_eq!(parse_signal(&number.to_string()), Ok(sig));
        let mut name = sig.as_str().to_string();
        if bare {
            name = name.trim_start_matches("SIG").to_string();
        }
        if lower {
            name = name.to_ascii_lowercase();
        }
        prop_assert_eq!(parse_signal(&name), Ok(sig));
    }

    #[test]
    fn column_lists_never_panic(text in ".{0,40}") {
        let _ = parse_output_list(&text, &[Column::Ns]);
    }

    #[test]
    fn column_lists_in_any_case_round_trip(
        columns in proptest::collection::vec(proptest::sample::select(Column::ALL.to_vec()), 1..8),
        lower in any::<bool>(),
    ) {
        let list: Vec<String> = columns
            .iter()
            .map(|c| if lower { c.name().to_ascii_lowercase() } else { c.name().to_string() })
            .collect();
        prop_assert_eq!(parse_output_list(&list.join(","), &[]), Ok(columns.clone()));
        let mut appended = vec![Column::Ns];
        appended.extend(&columns);
        prop_assert_eq!(parse_output_list(&format!("+{}", list.join(",")), &[Column::Ns]), Ok(appended));
    }
}

/// Found by `make fuzz` on its first seconds: for an empty filter the error
/// points just past the end, at character 1 (the fuzz target had assumed
/// 0-based positions; the parser was right, the invariant is now 1-based).
#[test]
fn an_empty_filter_points_at_character_1() {
    let err = Expr::parse("").unwrap_err();
    assert_eq!(err.position, 1);
    assert_eq!(Expr::parse("   ").unwrap_err().position, 4);
}
