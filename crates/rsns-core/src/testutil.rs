//! Helpers for the unit tests.

use std::path::PathBuf;

/// A fresh, empty directory under the temporary directory, unique to this
/// process and `name`.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rsns-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
