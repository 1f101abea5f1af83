"""The training-time reference: the ground truth the Java converter/runtime and the CUDA kernels
are checked against (DESIGN.md section 2).

  * sketch_linear   - a SketchTune-style sketch of one weight: per-(row, group) 2^bits-entry LUT
                      (1-D k-means initialised at quantiles) and 4-bit-nibble codes.
  * gather_weight   - the training-time gather W[n, k] = quant_grid[n, k // (K/G), code(n, k)].
  * write_*_pickle  - pickles written with plain pickle.dump of torch tensors, as SketchTune does.
  * load_training_time_model / greedy - the HF model evaluated the way SketchTune evaluates.

Callers import the part as one name: `from sketchrt_ref import training_time as ref`.
"""

from .codes import as_3d, gather_weight, pack_codes, unpack_codes
from .model import forward_logits, greedy, load_training_time_model
from .pickles import cpu_clone, dump_pickle, read_pickle_trusted, write_sketch_pickle, write_tuned_pickle
from .sketching import sketch_linear

__all__ = [
    "sketch_linear",
    "pack_codes",
    "unpack_codes",
    "as_3d",
    "gather_weight",
    "cpu_clone",
    "write_sketch_pickle",
    "write_tuned_pickle",
    "read_pickle_trusted",
    "dump_pickle",
    "load_training_time_model",
    "greedy",
    "forward_logits",
]
