"""Checks what interrupted training runs left behind, with the reference implementations: every TensorBoard event
file is read record by record with TensorBoard's own CRC and Event proto (a record cut short or damaged is a
failure, not a warning), every safetensors file loads with Hugging Face's safetensors, and no temporary file is
left. Prints one JSON object: {RUN_DIR: {"records": N, "checkpoints": N, "problems": [...]}}.
Run: python check_outputs.py RUN_DIR..."""
import json
import os
import struct
import sys

from safetensors.numpy import load_file
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c


def read_records(path):
    """The payloads of a TFRecord file; raises ValueError on anything but whole, intact records."""
    data = open(path, "rb").read()
    position, payloads = 0, []
    while position < len(data):
        if position + 12 > len(data):
            raise ValueError(f"record header cut short at byte {position}")
        (length,) = struct.unpack("<Q", data[position:position + 8])
        if struct.unpack("<I", data[position + 8:position + 12])[0] != masked_crc32c(data[position:position + 8]):
            raise ValueError(f"length CRC mismatch at byte {position}")
        start, end = position + 12, position + 12 + length
        if end + 4 > len(data):
            raise ValueError(f"record payload cut short at byte {position}")
        if struct.unpack("<I", data[end:end + 4])[0] != masked_crc32c(data[start:end]):
            raise ValueError(f"payload CRC mismatch at byte {position}")
        payloads.append(data[start:end])
        position = end + 4
    return payloads


result = {}
for run in sys.argv[1:]:
    entry = {"records": 0, "checkpoints": 0, "problems": []}
    for root, _, files in os.walk(run):
        for name in files:
            path = os.path.join(root, name)
            try:
                if name.endswith(".tmp"):
                    entry["problems"].append(f"temporary file left: {path}")
                elif name.startswith("events.out.tfevents."):
                    for payload in read_records(path):
                        event_pb2.Event.FromString(payload)
                        entry["records"] += 1
                elif name.endswith(".safetensors"):
                    load_file(path)
                    entry["checkpoints"] += 1
            except Exception as error:  # every failure is reported, none stops the check
                entry["problems"].append(f"{path}: {error}")
    result[run] = entry
print(json.dumps(result))
