"""References for finch's NumPy generator and its `datasets`-exact split.

For several seeds (0, 1, 42, 2**32 - 1, 2**32, 2**32 + 5, 2**63 - 1, 2**64 - 1:
one- and two-word SeedSequence entropy) this writes, from numpy itself:
1. the SeedSequence's generate_state(8) (uint32) and generate_state(4, uint64),
   PCG64's state and increment after seeding, and the first 1000 raw outputs
   (bit_generator.random_raw), then 1000 buffered 32-bit draws
   (random_raw reads next_raw; 32-bit draws are read through
   Generator.integers(0, 2**32, dtype=uint32), whose full-range path returns
   next_uint32 unmasked);
2. `np.random.default_rng(seed).permutation(n)` for n in 0, 1, 2, 7, 1000,
   100003, and 2**20 + 3 for three seeds (the mask shrinks as i falls);
3. the first draws of random_interval(i) for i = 2**32 + 2 down to 2**32 - 3,
   where numpy switches from 64-bit to 32-bit draws: a permutation that long
   is too slow, so Generator.shuffle runs on a Sequence of 2**32 + 3 virtual
   items that records each swap and aborts after six;
4. the train/validation/test split that `datasets` gives for
   ds = Dataset.from_dict({"idx": range(n)}):
       first = ds.train_test_split(test_size=1 - train, seed=seed)
       second = first["test"].train_test_split(test_size=val_test, seed=seed)
   as the `idx` values of first["train"], second["train"], second["test"], or
   the ValueError `datasets` raises (a split would be empty), for many sizes
   and ratio pairs, including ones where 1 - train is not exact in floating
   point (1 - 0.7 = 0.30000000000000004, so 10 rows hold out 4).

Why the references are right: they are numpy's and datasets' own outputs.
Files: cases.json (everything but the permutations) and perm_<seed>_<n>.u32
(each permutation as little-endian uint32).

Usage: make_split_cases.py OUT_DIR
"""
import json
import os
import sys
from collections.abc import Sequence

import numpy as np
from datasets import Dataset
from datasets.utils.logging import disable_progress_bar

SEEDS = [0, 1, 42, 2**32 - 1, 2**32, 2**32 + 5, 2**63 - 1, 2**64 - 1]
PERMUTATION_SIZES = [0, 1, 2, 7, 1000, 100003]
LARGE_PERMUTATION, LARGE_PERMUTATION_SEEDS = 2**20 + 3, [0, 42, 2**63 - 1]
SPLIT_SEEDS = [0, 42, 2**32 + 5, 2**63 - 1]
SPLIT_SIZES = [1, 2, 3, 4, 7, 10, 19, 20, 21, 100, 1000, 1001]
RATIO_PAIRS = [(0.9, 0.5), (0.8, 0.5), (0.95, 0.5), (0.9, 0.3), (0.7, 0.5), (0.7, 0.25),
               (0.6, 0.9), (0.3, 0.5), (0.99, 0.1), (0.5, 0.01)]
LARGE_SPLITS = [(100003, 0.9, 0.5, 42), (100003, 0.8, 0.3, 2**63 - 1)]


class _Abort(Exception):
    pass


class SwapRecorder(Sequence):
    """A Sequence of n virtual items: Generator.shuffle's generic path swaps
    x[i] and x[j] with j = random_interval(i), reading x[j] first. Records the
    (i, j) pairs and aborts the shuffle after `draws` of them."""

    def __init__(self, n, draws):
        self.n, self.draws, self.reads, self.pairs = n, draws, [], []

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        self.reads.append(index)
        if len(self.reads) == 2:  # x[j], then x[i]
            j, i = self.reads
            self.pairs.append([i, j])
            self.reads = []
            if len(self.pairs) == self.draws:
                raise _Abort()
        return index

    def __setitem__(self, index, value):
        pass


def interval_draws(seed, n, draws):
    recorder = SwapRecorder(n, draws)
    try:
        np.random.default_rng(seed).shuffle(recorder)
    except _Abort:
        pass
    return recorder.pairs


def generator_case(seed):
    sequence = np.random.SeedSequence(seed)
    rng = np.random.default_rng(seed)
    state = rng.bit_generator.state["state"]
    raw = rng.bit_generator.random_raw(1000)
    # integers(0, 2**32, uint32) is rng = 0xffffffff: numpy returns next_uint32 as is.
    u32 = rng.integers(0, 2**32, size=1000, dtype=np.uint32)
    return {
        "seed": seed,
        "seed_state_u32": [int(v) for v in sequence.generate_state(8)],
        "seed_state_u64": [int(v) for v in sequence.generate_state(4, np.uint64)],
        "state": f"{state['state']:032x}",
        "increment": f"{state['inc']:032x}",
        "raw": [int(v) for v in raw],
        "uint32_after_raw": [int(v) for v in u32],
    }


def split_case(n, train, val_test, seed, dataset):
    case = {"n": n, "train_split_ratio": train, "val_test_split_ratio": val_test, "seed": seed}
    try:
        first = dataset.train_test_split(test_size=1 - train, seed=seed)
        second = first["test"].train_test_split(test_size=val_test, seed=seed)
    except ValueError as error:
        case["error"] = str(error)
        return case
    case["train"] = first["train"].to_dict()["idx"]
    case["validation"] = second["train"].to_dict()["idx"]
    case["test"] = second["test"].to_dict()["idx"]
    return case


def main(out_dir):
    disable_progress_bar()
    os.makedirs(out_dir, exist_ok=True)
    cases = {"generators": [generator_case(seed) for seed in SEEDS], "permutations": []}
    sizes = {seed: PERMUTATION_SIZES + [LARGE_PERMUTATION] * (seed in LARGE_PERMUTATION_SEEDS) for seed in SEEDS}
    for seed in SEEDS:
        for n in sizes[seed]:
            name = f"perm_{seed}_{n}.u32"
            np.random.default_rng(seed).permutation(n).astype("<u4").tofile(os.path.join(out_dir, name))
            cases["permutations"].append({"seed": seed, "n": n, "file": name})
    n_big = 2**32 + 3
    cases["intervals"] = [{"seed": seed, "n": n_big, "pairs": interval_draws(seed, n_big, 6)}
                          for seed in SEEDS]
    datasets_by_size = {n: Dataset.from_dict({"idx": list(range(n))})
                        for n in SPLIT_SIZES + [n for n, *_ in LARGE_SPLITS]}
    cases["splits"] = [split_case(n, train, val_test, seed, datasets_by_size[n])
                       for seed in SPLIT_SEEDS for n in SPLIT_SIZES for train, val_test in RATIO_PAIRS]
    cases["splits"] += [split_case(n, train, val_test, seed, datasets_by_size[n])
                        for n, train, val_test, seed in LARGE_SPLITS]
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(cases, f)
    errors = sum("error" in case for case in cases["splits"])
    print(f"{len(cases['permutations'])} permutations, {len(cases['splits'])} splits ({errors} errors)")


if __name__ == "__main__":
    main(sys.argv[1])
