"""Prints what NumPy reads from the .npy file given as argument: {"dtype": ..., "shape": [...], "values": [...]}."""
import json
import sys

import numpy

array = numpy.load(sys.argv[1])
print(json.dumps({"dtype": str(array.dtype), "shape": list(array.shape), "values": array.ravel().tolist()}))
