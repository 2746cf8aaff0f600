//! Every input a fuzz target crashed on (fuzz/, cargo-fuzz), kept in tests/fuzz/TARGET/ and
//! run through the same calls as that target: each must now return an error that says what
//! is wrong with the input, never panic.

mod common;

use common::path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = path(&format!("tests/fuzz/{target}"));
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{}", dir.display());
    out
}

/// A graph returning a tensor nothing defines: tract indexed it by name and panicked.
#[test]
fn model_loading_refuses_dangling_tensors() {
    for (file, bytes) in inputs("model") {
        let e = seqlens::model::Model::from_bytes(&bytes)
            .err()
            .unwrap_or_else(|| panic!("{file} loaded"))
            .to_string();
        assert!(
            e.contains("which no input, initializer or node defines"),
            "{file}: {e}"
        );
    }
}

/// A node without outputs: the importer read its first output and panicked.
#[test]
fn engine_import_refuses_nodes_without_outputs() {
    for (file, bytes) in inputs("engine") {
        for length in [Some(64), None] {
            let e = seqlens::onnx::import(&bytes, length)
                .err()
                .unwrap_or_else(|| panic!("{file} imported"))
                .to_string();
            assert!(e.contains("has no output"), "{file}: {e}");
        }
    }
}
