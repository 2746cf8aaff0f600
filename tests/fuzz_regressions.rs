//! Every input a fuzz target crashed on (fuzz/, cargo-fuzz), kept in tests/fuzz/TARGET/ and
//! run through the same calls as that target: each must now return an error that says what
//! is wrong with the input, never panic.

mod common;

use common::path;

/// Each kept input, and what its error must say.
fn case(target: &str, file: &str) -> Vec<u8> {
    std::fs::read(path(&format!("tests/fuzz/{target}/{file}"))).unwrap()
}

#[test]
fn model_loading_refuses_malformed_graphs() {
    for (file, want) in [
        // The graph returns a tensor nothing defines: tract indexed it by name and panicked.
        (
            "crash-ab50f6f7618156afee078ba86896133caa1061eb",
            "which no input, initializer or node defines",
        ),
        // A convolution whose kernel_shape has no values for its one spatial axis: tract
        // indexed one list by the other's length and panicked.
        (
            "crash-fbeccafd3cc67b77b24bb8e6ccda5a671f571e01",
            "spatial axes",
        ),
        // A Transpose whose perm names axis 32 of a rank-3 tensor: tract panicked while
        // analysing it.
        (
            "crash-44ba6e3e29e5be291aa609ec6412cbac5b7d7eb9",
            "perm [32, 2, 1] is not a permutation of the axes 0..3 (axis 32 is out of range)",
        ),
        // A Transpose whose perm repeats axis 0: tract's layout analysis allocated until the
        // process ran out of memory.
        (
            "oom-e43f36ed8983351aca9daaa8db652d0772780476",
            "perm [0, 2, 0] is not a permutation of the axes 0..3 (axis 0 is repeated)",
        ),
    ] {
        let e = seqlens::model::Model::from_bytes(&case("model", file))
            .err()
            .unwrap_or_else(|| panic!("{file} loaded"))
            .to_string();
        assert!(e.contains(want), "{file}: {e}");
    }
}

#[test]
fn engine_import_refuses_malformed_graphs() {
    for (file, want) in [
        // A node without outputs: the importer read its first output and panicked.
        (
            "crash-78c20330955524d5cb7d0e1be2fb7dd087bb0c21",
            "has no output",
        ),
        // A weight whose dims multiply past i64: the element count overflowed.
        (
            "crash-b381ab37bfc585ae968b0992570cf2e6879c868e",
            "impossible dims",
        ),
        // A BatchNormalization with four inputs: the importer read the fifth and panicked.
        (
            "crash-c0ba8a0a98919f8602b872c4ff27791e58ae33e2",
            "operand 5 is missing",
        ),
    ] {
        // At a fixed length an earlier node may refuse the model first; the model's own
        // length reaches the fault.
        let errors: Vec<String> = [Some(64), None]
            .into_iter()
            .map(|length| {
                seqlens::onnx::import(&case("engine", file), length, seqlens::encode::Layout::Ncl)
                    .err()
                    .unwrap_or_else(|| panic!("{file} imported"))
                    .to_string()
            })
            .collect();
        assert!(errors[1].contains(want), "{file}: {errors:?}");
    }
}

/// Every kept input is one of the cases above.
#[test]
fn every_kept_input_has_a_case() {
    for (target, n) in [("model", 4), ("engine", 3)] {
        let dir = path(&format!("tests/fuzz/{target}"));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            n,
            "{}",
            dir.display()
        );
    }
}
