"""TensorFlow started quietly, and one line of ours about the devices it found.

TensorFlow 2.21 logs its start-up through absl's C++ logging before any Python
code can configure it, and `TF_CPP_MIN_LOG_LEVEL` no longer reaches those lines,
so a newcomer on a machine without a GPU reads

    E0000 ... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error ...

which looks like a failure and is not one. The only place those lines can be
caught is the process's standard error file descriptor: `import_tensorflow`
points it at a temporary file while TensorFlow loads and looks for GPUs, then
passes on every line that is not known start-up noise (`NOISE`), so a real
error still shows. `device_summary` says in our words what was found.

Entry points call `start()` before importing any module that imports
TensorFlow; afterwards `import tensorflow` anywhere is the same module.

Apache Beam's local worker processes import TensorFlow too, and Beam's own
start-up lines with it; `filtered_stderr` passes the standard error of a Beam
run (the workers inherit it) through the same kind of filter (`WORKER_NOISE`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import TextIO

# Start-up lines of TensorFlow 2.21's C++ runtime that say nothing to act on: the
# CUDA stubs and cuInit on a machine without a GPU, the CPU-feature notice, the
# factory registrations, absl's note that it logs before being initialized.
NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|cuda_platform\.cc|"
    r"failed call to cuInit|cuda_executor\.cc|cuda_diagnostics\.cc|cpu_feature_guard\.cc|"
    r"To enable the following instructions|rebuild TensorFlow with the appropriate compiler|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc|TF-TRT Warning|"
    r"oneDNN custom operations are on|port\.cc:\d+\] oneDNN")

# What Apache Beam's local worker processes print on their way up and down (each
# imports TensorFlow, so `NOISE` too): logging set-up, options they were not
# meant to parse, the optional Google Cloud libraries they look for.
WORKER_NOISE = re.compile(
    NOISE.pattern + r"|apitools not found|Logging handler created|semi_persistent_directory|"
    r"Discarding unparseable args|Missing pipeline option \(runner\)|"
    r"^WARNING: All log messages before absl")

_GPUS: list | None = None


def start() -> None:
    """What every entry point does first: quiet FFmpeg's own lines about a broken
    video (our error says it in one line) and import TensorFlow quietly."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import_tensorflow()


def import_tensorflow() -> ModuleType:
    """`import tensorflow`, with its start-up noise on standard error dropped.

    Also lists the GPUs (which is when TensorFlow calls cuInit), inside the same
    quiet spell. Lines that do not match `NOISE` are written to standard error
    afterwards. Idempotent: returns the module already imported, if it is.
    """
    global _GPUS
    if "tensorflow" in sys.modules and _GPUS is not None:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            _GPUS = tf.config.list_physical_devices("GPU")
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            kept = [line for line in log.read().decode(errors="replace").splitlines()
                    if line.strip() and not NOISE.search(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()
    return tf


def device_summary() -> str:
    """One line: the TensorFlow version and the GPUs it found, or that it runs
    on the CPU only."""
    tf = import_tensorflow()
    if not _GPUS:
        return f"TensorFlow {tf.__version__} on the CPU only (no GPU found)"
    names = [tf.config.experimental.get_device_details(g).get("device_name", g.name)
             for g in _GPUS]
    return f"TensorFlow {tf.__version__} on {len(names)} GPU(s): {', '.join(names)}"


@contextlib.contextmanager
def filtered_stderr(noise: re.Pattern = WORKER_NOISE) -> Iterator[TextIO]:
    """Standard error of this process and of every process started inside the
    block (Beam's workers inherit it), passed on line by line without the lines
    `noise` matches, so that an error of ours stays the last line.

    Yields a text stream on the real standard error, for output that must not
    wait for a line's end (a progress bar redrawn with carriage returns).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    reader, writer = os.pipe()
    os.dup2(writer, 2)
    os.close(writer)
    real = open(os.dup(saved), "w", buffering=1, closefd=True)

    def relay():
        with open(reader, "rb", closefd=True) as lines:
            for line in lines:
                if not noise.search(line.decode(errors="replace")):
                    os.write(saved, line)

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    try:
        yield real
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # our end of the pipe closes; the relay ends when the workers' do
        # A worker that outlives the block keeps the pipe open: give up waiting then.
        thread.join(timeout=10)
        real.close()
        if not thread.is_alive():
            os.close(saved)
