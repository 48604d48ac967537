"""Who-did-it's target pass against the number of frames, code against code, on synthetic frames.

Who-did-it (:func:`claimmatch.contradict.who_did_it.frame_pairs`) compares each eligible frame's target
with the others' and keeps its ``max_partners`` most similar at or above ``target_threshold``. This times
``frame_pairs`` alone (phrase vectors looked up, no model) on synthetic frames at each ``--frames`` size,
for this tree and, with ``--baseline DIR`` (an exported older commit), for that tree, each size and
code in its own process, and checks that both give the same pairs (a hash of them). For this tree it
then times the incremental pass: ``--add`` × n more frames, given the first pass's stored target cells
(``known_targets``), as ``contradictions --index`` does after ``index add``.

Synthetic frames, deterministic per size: 384-d unit vectors like the embedder's; a frame's target is a
phrase used before (20 %) or a new one (80 %; real claims tables give 81-93 % distinct targets at 4k-6k
frames); phrases belong to topics of skewed sizes, a phrase vector is its topic's direction plus as much
noise (two phrases of a topic: cosine about 0.5, around the 0.5 threshold), so most frames have a few
partners and the frames of the large topics hundreds; 200 verbs (Zipf), an agent per frame out of
n/3, 30 outlets, every claim its own cluster, claim vectors = target vector + noise.

    python -m benchmarks.who_did_it_scale --frames 10000 50000 200000 --baseline /tmp/base \\
        --baseline-max-frames 50000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import results
from benchmarks.results import ROOT, log

DIM = 384


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    p.add_argument("--baseline", type=Path, default=None,
                   help="another code tree (e.g. `git archive COMMIT | tar -x -C DIR`) timed the same way")
    p.add_argument("--baseline-max-frames", type=int, default=50_000,
                   help="larger sizes are not run with the baseline (its pass is quadratic)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--add", type=float, default=0.01,
                   help="frames added for the incremental pass (this tree only), as a fraction of --frames")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "who_did_it_scale.json")
    p.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--code", type=Path, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_frames(n: int, seed: int):
    """(claims, claim_vectors, encode): ``n`` eligible frames and a lookup embedder of their phrases."""
    import polars as pl

    rng = np.random.default_rng(seed)
    fresh = rng.random(n) < 0.8
    earlier = rng.random(n)
    target = np.empty(n, np.int64)
    used = 0
    for f in range(n):  # a new phrase, or the phrase of an earlier frame
        if fresh[f] or f == 0:
            target[f], used = used, used + 1
        else:
            target[f] = target[int(earlier[f] * f)]
    topics = max(1, used // 25)
    topic = np.minimum(topics - 1, (topics * rng.random(used) ** 2).astype(np.int64))
    centres = _unit(rng.standard_normal((topics, DIM)))
    phrase_vec = _unit(centres[topic] + _unit(rng.standard_normal((used, DIM))))
    verbs = 200
    verb = np.minimum(verbs - 1, rng.zipf(1.5, n) - 1)
    verb_vec = _unit(rng.standard_normal((verbs, DIM)))
    n_agents = max(2, n // 3)
    agent = rng.integers(0, n_agents, n)
    agent_vec = _unit(rng.standard_normal((n_agents, DIM)))
    table: dict[str, np.ndarray] = {}
    for k in range(used):
        table[f"p{k}"] = phrase_vec[k]
    for k in range(n_agents):
        table[f"agent{k}"] = agent_vec[k]
    for f in range(n):
        table.setdefault(f"verb{verb[f]} p{target[f]}", _unit((verb_vec[verb[f]] + phrase_vec[target[f]])[None])[0])
    claims = pl.DataFrame({
        "claim_id": [f"c{f:07d}" for f in range(n)], "outlet": [f"o{f % 30}" for f in range(n)],
        "agent": [f"agent{a}" for a in agent.tolist()], "predicate": [f"verb{v}" for v in verb.tolist()],
        "patient": [f"p{t}" for t in target.tolist()], "stance": ["asserts"] * n, "negated": [False] * n})
    claim_vectors = _unit(phrase_vec[target] + 0.5 * _unit(rng.standard_normal((n, DIM))))

    def encode(texts: list[str]) -> np.ndarray:
        return np.stack([table[t] for t in texts]).astype(np.float32)

    return claims, claim_vectors, encode


def child(n: int, seed: int, code: Path | None, add: float) -> dict:
    """Time frame_pairs of the code in ``code`` (default: this tree) on the synthetic frames of size n;
    for this tree, also the incremental pass after ``add`` × n more frames, given the first run's cells."""
    if code is not None:
        sys.path.insert(0, str(code))
    import torch

    from claimmatch.config import Settings
    from claimmatch.contradict.who_did_it import frame_pairs

    torch.set_num_threads(1)
    extra = int(n * add)  # generated for both codes, so that the first n frames are the same
    claims, vectors, encode = synthetic_frames(n + extra, seed)
    s = Settings()
    kw = {"predicate_threshold": s.predicate_threshold, "target_threshold": s.target_threshold,
          "agent_threshold": s.agent_threshold, "subject_threshold": s.who_subject_threshold,
          "other_verb_claim_threshold": s.candidate_threshold}
    start, cpu = time.perf_counter(), time.process_time()
    fp = frame_pairs(claims[:n], np.arange(n), vectors[:n], encode, **kw)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    digest = hashlib.sha256(np.asarray(fp.i, np.int64).tobytes() + np.asarray(fp.j, np.int64).tobytes()).hexdigest()
    out = {"frames": n, "distinct_targets": claims[:n]["patient"].n_unique(), "seconds": round(seconds, 3),
           "cpu_seconds": round(cpu, 3), "pairs": len(fp), "pairs_sha256": digest[:16],
           "peak_rss_mib": results.peak_rss_mib()}
    if extra and code is None:
        cells = fp.targets
        start, cpu = time.perf_counter(), time.process_time()
        inc = frame_pairs(claims, np.arange(n + extra), vectors, encode, known_targets=cells, **kw)
        out["incremental"] = {"frames": n + extra, "new_frames": extra, "stored_cells": len(cells),
                              "seconds": round(time.perf_counter() - start, 3),
                              "cpu_seconds": round(time.process_time() - cpu, 3), "pairs": len(inc)}
    return out


def run_child(n: int, seed: int, code: Path | None, add: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.who_did_it_scale", "--child", str(n), "--seed", str(seed),
           "--add", str(add)]
    if code is not None:
        cmd += ["--code", str(code)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.seed, args.code, args.add)))
        return
    from claimmatch.contradict.who_did_it import fast_bf16

    rows = []
    for n in args.frames:
        row = {"frames": n}
        if args.baseline is not None and n <= args.baseline_max_frames:
            log(f"baseline, {n} frames")
            row["baseline"] = run_child(n, args.seed, args.baseline, args.add)
        log(f"this, {n} frames")
        row["this"] = run_child(n, args.seed, None, args.add)
        if "baseline" in row:
            row["same_pairs"] = row["baseline"]["pairs_sha256"] == row["this"]["pairs_sha256"]
            row["speedup_cpu"] = round(row["baseline"]["cpu_seconds"] / max(row["this"]["cpu_seconds"], 1e-9), 1)
        rows.append(row)
        log(json.dumps(row))
    load = os.getloadavg()  # over the last 1, 5 and 15 minutes, at the end
    results.emit({"benchmark": "who_did_it_scale", "machine": results.machine(), "load_average": [round(x, 2) for x in load],
                  "bf16_prepass": fast_bf16(), "seed": args.seed, "baseline": str(args.baseline) if args.baseline else None,
                  "rows": rows}, args.out)


if __name__ == "__main__":
    main()
