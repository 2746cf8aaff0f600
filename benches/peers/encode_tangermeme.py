#!/usr/bin/env python3
"""tangermeme's one_hot_encode on a chr1-sized sequence in 1 Mi-base chunks (how a genome is
streamed), float32 and int8, best of 3 runs. The sequence is the file that
benches/peers/encode.sh writes (upper-case ACGT with N runs: tangermeme's alphabet and ignore
list). Prints one line per dtype: `tangermeme <dtype> <seconds>`."""
import sys
import time

import torch
from tangermeme.utils import one_hot_encode

CHUNK = 1 << 20


def main():
    seq = open(sys.argv[1]).read()
    torch.set_num_threads(1)
    for dtype in (torch.float32, torch.int8):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            for i in range(0, len(seq), CHUNK):
                one_hot_encode(seq[i:i + CHUNK], dtype=dtype)
            best = min(best, time.perf_counter() - t)
        print(f"tangermeme\t{str(dtype).removeprefix('torch.')}\t{best:.3f}")


if __name__ == "__main__":
    main()
