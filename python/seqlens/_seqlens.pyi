# Types of the native module (src/python.rs); the docstrings at runtime say more.
from os import PathLike
from typing import Any, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

Sequences = Union[Sequence[str], Sequence[tuple[str, str]]]
Path = Union[str, PathLike[str]]

class SeqlensError(Exception): ...

class Model:
    @staticmethod
    def load(
        source: Union[Path, bytes],
        backend: str = "auto",
        overrides: dict[str, Any] | None = None,
    ) -> Model: ...
    def info(self) -> dict[str, Any]: ...
    @property
    def backend(self) -> dict[str, Any]: ...
    @property
    def labels(self) -> list[str]: ...
    def predict(
        self,
        x: Union[npt.ArrayLike, Sequences],
        *,
        rc_average: bool = False,
        batch_size: int = 64,
        unknown: str = "error",
    ) -> npt.NDArray[np.float32]: ...
    def predict_fasta(
        self,
        path: Path,
        *,
        rc_average: bool = False,
        batch_size: int = 64,
        stride: int | None = None,
        unknown: str = "error",
    ) -> dict[str, Any]: ...
    def attribute(
        self,
        x: Sequences,
        *,
        method: str = "ixg",
        target: list[str] | None = None,
        at: tuple[int, int] | None = None,
        range: tuple[int, int] | None = None,
        steps: int | None = None,
        baseline: str | None = None,
        shuffles: int | None = None,
        seed: int | None = None,
        references: dict[str, list[str]] | None = None,
    ) -> npt.NDArray[np.float32]: ...
    def ism(
        self,
        x: Sequences,
        *,
        target: list[str] | None = None,
        at: tuple[int, int] | None = None,
        range: tuple[int, int] | None = None,
    ) -> npt.NDArray[np.float32]: ...
    def score_variants(
        self,
        vcf: Path,
        fasta: Path,
        *,
        scores: list[str] = ["diff", "log_odds"],
        pseudocount: float = 1e-6,
        rc_average: bool = False,
        batch_size: int = 64,
        out: Path | None = None,
        index: bool = False,
    ) -> dict[str, Any]: ...

def one_hot(
    seqs: Union[str, Sequences], *, alphabet: str = "dna", n: str = "zero"
) -> npt.NDArray[np.float32]: ...
def reverse_complement(seq: str, *, alphabet: str = "dna") -> str: ...
def read_fasta(path: Path) -> list[tuple[str, str]]: ...
def read_vcf(path: Path) -> list[dict[str, Any]]: ...
