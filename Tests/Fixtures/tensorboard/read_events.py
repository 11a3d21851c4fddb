"""Reads a TensorBoard log directory with TensorBoard's own EventAccumulator and prints, as JSON, every scalar
series, the histogram tags and the graph's nodes with their devices. Run: python read_events.py LOGDIR."""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "histograms": 0})
accumulator.Reload()
tags = accumulator.Tags()
result = {
    "scalars": {tag: [[event.step, event.value] for event in accumulator.Scalars(tag)] for tag in tags["scalars"]},
    "histograms": {tag: [event.step for event in accumulator.Histograms(tag)] for tag in tags["histograms"]},
    "graph": [],
}
if tags.get("graph"):
    result["graph"] = [{"name": n.name, "op": n.op, "device": n.device, "inputs": list(n.input)}
                       for n in accumulator.Graph().node]
print(json.dumps(result))
