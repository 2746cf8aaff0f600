//! Every example in `seqlens <command> --help` runs as written, on the bundled files, in a
//! scratch directory that holds a copy of `examples/data` (so that `index` and outputs write
//! there) beside links to the bundled models and `data/`. Examples within one command run in
//! the order shown, since a later one may read an earlier one's output.

mod common;

use std::path::Path;
use std::process::Command;

fn help(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_seqlens"))
        .args(args)
        .arg("--help")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The examples of a help text: `seqlens ...` commands after an `Example` heading, with
/// shell continuations (a line ending in ` \`) joined.
fn examples(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut continued = false;
    for line in text.lines().skip_while(|l| !l.starts_with("Example")) {
        let (body, more) = match line.trim().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line.trim(), false),
        };
        let words = || body.split_whitespace().map(str::to_string);
        if continued {
            out.last_mut().unwrap().extend(words());
        } else if let Some(rest) = body.strip_prefix("seqlens ") {
            out.push(rest.split_whitespace().map(str::to_string).collect());
        } else {
            continue;
        }
        continued = more;
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_help_example_runs_as_written() {
    let root = common::root();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &root.join("examples/data"),
        &dir.path().join("examples/data"),
    );
    std::os::unix::fs::symlink(
        root.join("examples/models"),
        dir.path().join("examples/models"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("data"), dir.path().join("data")).unwrap();

    let top = help(dir.path(), &[]);
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 13, "{commands:?}");
    let mut all = examples(&top);
    for c in &commands {
        let these = examples(&help(dir.path(), &[c]));
        assert!(!these.is_empty(), "`seqlens {c} --help` shows no example");
        all.extend(these);
    }
    for args in all {
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_seqlens"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seqlens {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "{:.1} s: seqlens {}",
            started.elapsed().as_secs_f64(),
            args.join(" ")
        );
    }
}
