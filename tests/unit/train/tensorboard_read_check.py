"""Reads finch's event files with TensorBoard's own reader (EventAccumulator).

tensorboard_events_writer (C++) wrote them; this checks that TensorBoard sees
every tag, step and value. Values are float32 in the file (simple_value), so
the expectation is the float64 formula rounded to float32, compared exactly.
"""
import sys
import time

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def expected():
    tags = {"train/loss": [], "train/learning_rate": [], "eval/loss": []}
    for step in range(10):
        tags["train/loss"].append((step, 1.0 / (step + 1) + 1e-9 * step))
        tags["train/learning_rate"].append((step, 3e-4 * step / 7))
        if step % 3 == 0:
            tags["eval/loss"].append((step, -2.5 * step - 1e30 * (step == 9)))
    return tags


def main(log_dir):
    acc = EventAccumulator(log_dir, size_guidance={"scalars": 0})
    acc.Reload()
    want = expected()
    got_tags = sorted(acc.Tags()["scalars"])
    assert got_tags == sorted(want), f"tags {got_tags}"
    now = time.time()
    for tag, points in want.items():
        events = acc.Scalars(tag)
        got = [(e.step, e.value) for e in events]
        want_f32 = [(s, float(np.float32(v))) for s, v in points]
        assert got == want_f32, f"{tag}: {got} != {want_f32}"
        for e in events:
            assert now - 600 < e.wall_time <= now + 1, f"{tag}: wall_time {e.wall_time}"
    print(f"ok: {sum(len(p) for p in want.values())} scalars in {len(want)} tags")


if __name__ == "__main__":
    main(sys.argv[1])
