"""seqlens: run and explain deep-learning models on genomic sequences.

>>> import seqlens
>>> model = seqlens.Model.load("examples/models/demo.onnx")
>>> x = seqlens.one_hot(["ACGT" * 125])          # (1, 4, 500), tangermeme's layout
>>> model.predict(x).shape                        # (1, outputs)
(1, 8)

The work runs in Rust (the seqlens crate) with the GIL released; Ctrl-C interrupts it.
Errors are ``SeqlensError`` with the same messages as the ``seqlens`` command line.
"""

from ._seqlens import (
    Model,
    SeqlensError,
    __version__,
    one_hot,
    read_fasta,
    read_vcf,
    reverse_complement,
)

__all__ = [
    "Model",
    "SeqlensError",
    "__version__",
    "one_hot",
    "read_fasta",
    "read_vcf",
    "reverse_complement",
]

