#!/usr/bin/env python3
"""PyTorch peer for benches/gpu.rs: Conv1d GFLOP/s on the DeepSEA layer shapes (1 kb input,
kernel 8, ReLU fused as in seqlens) and whole-DeepSEA sequences per second, on CUDA (cuDNN)
when available, else the CPU. Device time: CUDA events around `repeats` launches, after a
warm-up, with cuDNN's autotuner on (its best algorithm per shape), inputs resident on the
device -- the same protocol as seqlens' `GpuConv1d::time_dispatch`.

Usage: python3 benches/peers/gpu_torch.py [--batch 64]
"""
import argparse
import time

import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=64)
args = p.parse_args()
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cudnn.benchmark = True
# fp32 throughout, like the WGSL kernels: no TF32 tensor-core shortcuts.
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
print(f"device: {name} (torch {torch.__version__}, cudnn {torch.backends.cudnn.version()})")


def device_seconds(f, min_s=0.5):
    """Seconds per call of f(), on the device clock."""
    with torch.no_grad():
        for _ in range(3):
            f()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        f()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        once = max(time.perf_counter() - t, 1e-6)
        repeats = int(min(1000, max(3, min_s / once)))
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(repeats):
                f()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1e3 / repeats
        t = time.perf_counter()
        for _ in range(repeats):
            f()
        return (time.perf_counter() - t) / repeats


b = args.batch
print(f"\n# conv1d, DeepSEA layer shapes, batch {b}")
print("layer\tin\tout\tkernel\tlen_in\ttorch_ms\ttorch_gflops")
for layer, ci, co, length in [("conv1", 4, 320, 1000), ("conv2", 320, 480, 248), ("conv3", 480, 960, 60)]:
    conv = nn.Conv1d(ci, co, 8).to(dev)
    x = torch.rand(b, ci, length, device=dev)
    s = device_seconds(lambda: torch.relu(conv(x)))
    flops = 2.0 * b * co * (length - 7) * ci * 8
    print(f"{layer}\t{ci}\t{co}\t8\t{length}\t{s * 1e3:.3f}\t{flops / s / 1e9:.1f}")

# DeepSEA as seqlens' preset builds it (src/train/arch.rs): conv-relu-pool x2, conv-relu,
# dropouts (identity in eval), dense 925 + ReLU, dense 919 (logits).
model = nn.Sequential(
    nn.Conv1d(4, 320, 8), nn.ReLU(), nn.MaxPool1d(4, 4),
    nn.Conv1d(320, 480, 8), nn.ReLU(), nn.MaxPool1d(4, 4),
    nn.Conv1d(480, 960, 8), nn.ReLU(),
    nn.Flatten(), nn.Linear(960 * 53, 925), nn.ReLU(), nn.Linear(925, 919),
).to(dev).eval()
x = torch.rand(b, 4, 1000, device=dev)
host = x.cpu()
s_resident = device_seconds(lambda: model(x))
# With the transfers seqlens' whole-model number includes: upload, run, read back.
s_transfer = device_seconds(lambda: model(host.to(dev)).cpu())
print(f"\n# DeepSEA (1 kb, 919 outputs), whole model, batch {b}")
print(f"torch resident\t{b / s_resident:.1f} seq/s")
print(f"torch with transfers\t{b / s_transfer:.1f} seq/s")
