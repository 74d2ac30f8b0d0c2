//! Building the lines of one id map from a single mapping and ranges.

use std::fmt::Write as _;

use super::{IdKind, IdMapError, IdRange, MAX_MAP_LINES};

/// The lines of /proc/PID/uid_map (or gid_map), in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    kind: IdKind,
    ranges: Vec<IdRange>,
}

impl IdMap {
    /// Combines the single mapping of the caller's id (`--map-user`, `-r`, `-c`)
    /// with ranges (`--map-users`). Where the single mapping falls inside a range,
    /// that range skips the single mapping's inner id on its inner side and its
    /// outer id on its outer side, pairing the remaining ids in order: a "hole",
    /// which costs the range its topmost id (unshare(1) documents the same).
    pub fn build(
        kind: IdKind,
        single: Option<(u32, u32)>,
        ranges: &[IdRange],
    ) -> Result<IdMap, IdMapError> {
        check_disjoint(kind, ranges)?;
        let mut lines = Vec::with_capacity(ranges.len() * 3 + 1);
        if let Some((inner, outer)) = single {
            lines.push(IdRange {
                inner,
                outer,
                count: 1,
            });
            for range in ranges {
                lines.extend(punch_hole(*range, inner, outer));
            }
        } else {
            lines.extend_from_slice(ranges);
        }
        let map = IdMap {
            kind,
            ranges: lines,
        };
        if map.ranges.len() > MAX_MAP_LINES || map.kernel_text().len() >= 4096 {
            return Err(IdMapError::TooLarge {
                kind,
                lines: map.ranges.len(),
            });
        }
        Ok(map)
    }

    pub fn kind(&self) -> IdKind {
        self.kind
    }

    pub fn ranges(&self) -> &[IdRange] {
        &self.ranges
    }

    /// True when the map is one id of ours (`outer`), the only map an
    /// unprivileged process may write itself.
    pub fn is_single_of(&self, outer: u32) -> bool {
        matches!(self.ranges[..], [r] if r.count == 1 && r.outer == outer)
    }

    /// The id inside that an outer id is shown as, if it is mapped.
    pub fn inner_of(&self, outer: u32) -> Option<u32> {
        self.ranges.iter().find_map(|r| {
            let offset = outer.checked_sub(r.outer)?;
            (offset < r.count).then(|| r.inner + offset)
        })
    }

    /// The text written to the map file: `inner outer count` lines.
    pub fn kernel_text(&self) -> String {
        let mut text = String::new();
        for r in &self.ranges {
            let _ = writeln!(text, "{} {} {}", r.inner, r.outer, r.count);
        }
        text
    }

    /// The triplets newuidmap/newgidmap take after the PID.
    pub fn helper_args(&self) -> Vec<String> {
        self.ranges
            .iter()
            .flat_map(|r| [r.inner, r.outer, r.count])
            .map(|n| n.to_string())
            .collect()
    }
}

/// The kernel rejects maps whose ranges overlap on either side; say which two.
fn check_disjoint(kind: IdKind, ranges: &[IdRange]) -> Result<(), IdMapError> {
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            let inner = u64::from(a.inner) < b.inner_end() && u64::from(b.inner) < a.inner_end();
            let outer = u64::from(a.outer) < b.outer_end() && u64::from(b.outer) < a.outer_end();
            if inner || outer {
                return Err(IdMapError::Overlap {
                    kind,
                    a: *a,
                    b: *b,
                    side: if inner {
                        "inside the namespace"
                    } else {
                        "outside the namespace"
                    },
                });
            }
        }
    }
    Ok(())
}

/// The pieces of `range` left when `inner` is removed from its inner side and
/// `outer` from its outer side, the remaining ids paired in order.
fn punch_hole(range: IdRange, inner: u32, outer: u32) -> Vec<IdRange> {
    let count = u64::from(range.count);
    let hole_at = |id: u32, start: u32| {
        u64::from(id)
            .checked_sub(u64::from(start))
            .filter(|k| *k < count)
    };
    let inner_hole = hole_at(inner, range.inner);
    let outer_hole = hole_at(outer, range.outer);
    if inner_hole.is_none() && outer_hole.is_none() {
        return vec![range];
    }
    let len = count - u64::from(inner_hole.is_some()).max(u64::from(outer_hole.is_some()));
    // The k-th remaining id of a side skips the hole once k reaches it.
    let nth = |start: u32, hole: Option<u64>, k: u64| {
        let skip = u64::from(hole.is_some_and(|h| k >= h));
        (u64::from(start) + k + skip) as u32
    };
    let mut cuts: Vec<u64> = [Some(0), inner_hole, outer_hole, Some(len)]
        .into_iter()
        .flatten()
        .filter(|c| *c <= len)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| IdRange {
            inner: nth(range.inner, inner_hole, w[0]),
            outer: nth(range.outer, outer_hole, w[0]),
            count: (w[1] - w[0]) as u32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(inner: u32, outer: u32, count: u32) -> IdRange {
        IdRange::new(inner, outer, count).unwrap()
    }

    /// Every (inner, outer) pair a map makes, to check maps by meaning.
    fn pairs(ranges: &[IdRange]) -> Vec<(u32, u32)> {
        ranges
            .iter()
            .flat_map(|r| (0..r.count).map(move |k| (r.inner + k, r.outer + k)))
            .collect()
    }

    #[test]
    fn root_over_auto_range_matches_unshare_man_page() {
        // unshare --map-auto --map-root-user as uid 1000 with 1000:100000:65536.
        let map = IdMap::build(IdKind::Uid, Some((0, 1000)), &[r(0, 100000, 65536)]).unwrap();
        assert_eq!(map.kernel_text(), "0 1000 1\n1 100000 65535\n");
    }

    #[test]
    fn single_inside_a_range_splits_it() {
        let map = IdMap::build(IdKind::Uid, Some((5, 1000)), &[r(0, 100, 10)]).unwrap();
        assert_eq!(map.ranges()[0], r(5, 1000, 1));
        let p = pairs(&map.ranges()[1..]);
        // Inner 5 is skipped, outer 100.. is paired in order, the top one is lost.
        assert_eq!(
            p,
            vec![
                (0, 100),
                (1, 101),
                (2, 102),
                (3, 103),
                (4, 104),
                (6, 105),
                (7, 106),
                (8, 107),
                (9, 108)
            ]
        );
    }

    #[test]
    fn single_on_both_sides_of_a_range() {
        // Identity range over everything, root mapped to itself: both sides lose 0.
        let map = IdMap::build(IdKind::Uid, Some((0, 0)), &[r(0, 0, 10)]).unwrap();
        assert_eq!(map.kernel_text(), "0 0 1\n1 1 9\n");
        // Different holes on each side.
        let map = IdMap::build(IdKind::Uid, Some((2, 107)), &[r(0, 100, 10)]).unwrap();
        let p = pairs(map.ranges());
        assert_eq!(p[0], (2, 107));
        let rest = &p[1..];
        assert_eq!(rest.len(), 9);
        assert!(rest.iter().all(|(i, o)| *i != 2 && *o != 107));
        let mut inner: Vec<u32> = rest.iter().map(|p| p.0).collect();
        let mut outer: Vec<u32> = rest.iter().map(|p| p.1).collect();
        inner.sort();
        outer.sort();
        assert_eq!(inner, vec![0, 1, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(outer, vec![100, 101, 102, 103, 104, 105, 106, 108, 109]);
    }

    #[test]
    fn no_hole_when_single_is_outside_ranges() {
        let map = IdMap::build(IdKind::Gid, Some((70000, 1000)), &[r(0, 100000, 65536)]).unwrap();
        assert_eq!(map.kernel_text(), "70000 1000 1\n0 100000 65536\n");
    }

    #[test]
    fn result_never_overlaps() {
        for (inner, outer) in [
            (0, 0),
            (0, 5),
            (5, 0),
            (9, 9),
            (3, 7),
            (7, 3),
            (0, 9),
            (9, 0),
        ] {
            let map = IdMap::build(IdKind::Uid, Some((inner, outer)), &[r(0, 0, 10)]).unwrap();
            let p = pairs(map.ranges());
            let mut i: Vec<u32> = p.iter().map(|x| x.0).collect();
            let mut o: Vec<u32> = p.iter().map(|x| x.1).collect();
            i.sort();
            i.dedup();
            o.sort();
            o.dedup();
            assert_eq!(i.len(), p.len(), "inner overlap for {inner},{outer}");
            assert_eq!(o.len(), p.len(), "outer overlap for {inner},{outer}");
        }
    }

    #[test]
    fn overlapping_ranges_are_refused_with_both_named() {
        let err =
            IdMap::build(IdKind::Uid, None, &[r(0, 100000, 100), r(50, 200000, 10)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "uid ranges 0:100000:100 and 50:200000:10 overlap inside the namespace"
        );
        let err = IdMap::build(IdKind::Gid, None, &[r(0, 100, 10), r(20, 105, 1)]).unwrap_err();
        assert!(err.to_string().contains("outside the namespace"));
        // Touching ranges are fine.
        IdMap::build(IdKind::Uid, None, &[r(0, 100, 10), r(10, 110, 10)]).unwrap();
    }

    #[test]
    fn too_many_lines_are_refused() {
        let ranges: Vec<IdRange> = (0..341).map(|i| r(i * 2, i * 2, 1)).collect();
        let err = IdMap::build(IdKind::Uid, None, &ranges).unwrap_err();
        assert!(matches!(err, IdMapError::TooLarge { lines: 341, .. }));
    }

    #[test]
    fn lookups_and_helper_args() {
        let map = IdMap::build(IdKind::Uid, Some((0, 1000)), &[r(1, 100000, 10)]).unwrap();
        assert_eq!(map.inner_of(1000), Some(0));
        assert_eq!(map.inner_of(100003), Some(4));
        assert_eq!(map.inner_of(5), None);
        assert!(!map.is_single_of(1000));
        assert!(
            IdMap::build(IdKind::Uid, Some((0, 1000)), &[])
                .unwrap()
                .is_single_of(1000)
        );
        assert_eq!(map.helper_args(), ["0", "1000", "1", "1", "100000", "10"]);
    }
}
