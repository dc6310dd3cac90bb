#!/usr/bin/env python
"""Train DenseUNet-JA (JA-9) on DRIVE patches with the bundle's recipe and log, every 10 iterations,
what happens inside its bottleneck self-attention: the largest attention logit |q.k|/sqrt(d), the
mean softmax entropy (ln 64 = 4.16 is uniform over a 128x128 patch's 64 positions), the output
scale gamma and the loss. The data are the DRIVE bundle's (its split, patches and augmentations).
This is the evidence behind docs/performance.md, "Precision".

    python scripts/probe_attention_logits.py --dataset_dir ../shared/data/DRIVE --precision bfloat16 \\
        --before_fix --iterations 250 --output outputs/probe/bf16_before.jsonl
    python scripts/probe_attention_logits.py --dataset_dir ../shared/data/DRIVE --precision bfloat16 \\
        --iterations 400 --output outputs/probe/bf16_fixed.jsonl

``--before_fix`` rebuilds the attention as it was before the fix (no q/k LayerNorm, attention in
the autocast precision); ``--no_qk_norm`` keeps the float32 attention but drops the LayerNorm.
CPU autocast (bfloat16) stands in for the GPU's; one thread by default, as on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import monai
import torch
from monai.bundle import ConfigParser

from monai_jattn.experiments.bundle_runs import find_bundle
from monai_jattn.networks import DenseUNet


def attention_statistics(sa: torch.nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Largest logit and mean softmax entropy of ``sa`` on its input ``x``, in float32."""
    with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
        tokens = x.float().flatten(2).transpose(1, 2)
        q, k, _ = sa.qkv.float()(tokens).chunk(3, dim=-1)
        q, k = sa.q_norm.float()(q), sa.k_norm.float()(k)
        logits = q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])
        weights = logits.softmax(-1)
        entropy = -(weights * weights.clamp_min(1e-30).log()).sum(-1).mean()
    return {
        "logit_max": logits.abs().max().item(),
        "entropy": entropy.item(),
        "input_rms": x.float().pow(2).mean().sqrt().item(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset_dir", required=True)
    parser.add_argument("--precision", default="bfloat16", choices=("float32", "bfloat16", "float16"))
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--before_fix", action="store_true", help="attention as before the fix")
    parser.add_argument("--no_qk_norm", action="store_true", help="float32 attention without q/k LayerNorm")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True, help="JSON lines, one record per 10 iterations")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    monai.utils.set_determinism(args.seed)
    # the DRIVE bundle's own training data: its split, CachedPatchLoader and batch augmentations
    config = ConfigParser()
    config.read_config(find_bundle("drive") / "configs" / "train.json")
    config.update({"dataset_dir": args.dataset_dir, "device": "cpu", "num_workers": 0, "seed": args.seed})
    loader = config.get_parsed_content("train#dataloader")
    net = DenseUNet(in_channels=1, attention="ja", ja_variant=9, sa_qk_norm=not (args.before_fix or args.no_qk_norm))
    sa = net.encoder[-1].attention.sa
    if args.before_fix:
        sa.forward = sa._attend  # no float32 island: the attention runs in the autocast precision
    optimizer = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-8)
    stats: dict[str, float] = {}
    sa.register_forward_hook(lambda module, inputs, output: stats.update(attention_statistics(module, inputs[0])))
    dtype = getattr(torch, args.precision)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with output.open("w") as log:
        for iteration, batch in zip(range(1, args.iterations + 1), loader):
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
                logits = net(batch["image"])
            loss = torch.nn.functional.cross_entropy(logits.float(), batch["label"][:, 0].long())
            loss.backward()
            optimizer.step()
            finite = math.isfinite(loss.item())
            if iteration % 10 == 0 or not finite:
                record = {"iteration": iteration, "loss": loss.item(), "gamma": sa.gamma.item(), **stats}
                log.write(json.dumps({**record, "seconds": round(time.time() - start, 1)}) + "\n")
                log.flush()
            if not finite:
                print(f"loss is {loss.item()} at iteration {iteration}")
                break
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
