//! `rsns-docgen man DIR` and `rsns-docgen completions DIR`, for
//! `make man`, `make completions` and `make install`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (what, dir) = match args.as_slice() {
        [_, what, dir] => (what.as_str(), std::path::Path::new(dir)),
        _ => {
            eprintln!("usage: rsns-docgen man|completions DIR");
            std::process::exit(1);
        }
    };
    let written = match what {
        "man" => rsns_docgen::write_man_pages(dir),
        "completions" => rsns_docgen::write_completions(dir),
        other => {
            eprintln!("rsns-docgen: unknown kind '{other}' (use man or completions)");
            std::process::exit(1);
        }
    };
    match written {
        Ok(paths) => {
            for path in paths {
                println!("{}", path.display());
            }
        }
        Err(err) => {
            eprintln!("rsns-docgen: write {what} into {}: {err}", dir.display());
            std::process::exit(1);
        }
    }
}
