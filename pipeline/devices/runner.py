"""edgeprune's on-device latency runner. Standalone: standard library + numpy + the runtime.

It is copied as-is to the target (uploaded once per SSH session, or started locally in a
process of its own) and speaks JSON lines: one request per line on stdin, one answer per line
on stdout. Nothing is pickled. Python 3.8+ (Jetson images ship older Pythons than ours).

    python runner.py --cores 2,3            # serve requests until stdin closes
    request:  {"op": "facts"} | {"op": "measure", "path": ..., "input_shape": [...], ...}
              | {"op": "predict", "path": ..., "inputs_path": ....npy}  (logits, to check a file)
    answer:   {"ok": true, ...} | {"ok": false, "error": "one line", "kind": "model|runtime|..."}

The runner dispatches on file extension (.onnx -> onnxruntime, .tflite -> ai-edge-litert),
returns every timed sample and computes no statistics: that is the host's pure function.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

MAX_RUNS = 100_000  # a guard for a near-empty model with a long min_time_s


class RunnerError(Exception):
    def __init__(self, message, kind):
        super().__init__(message)
        self.kind = kind


def timed_loop(run_once, min_runs, min_time_s, clock=time.perf_counter, max_runs=MAX_RUNS):
    """Run until at least `min_runs` runs AND `min_time_s` seconds; return each run's ms.

    Every call of run_once is timed and returned: the caller decides what is warm-up.
    """
    samples_ms = []
    start = clock()
    while len(samples_ms) < max_runs and (
            len(samples_ms) < min_runs or clock() - start < min_time_s):
        t0 = clock()
        run_once()
        samples_ms.append((clock() - t0) * 1000.0)
    return samples_ms


def _import_runtime(name):
    try:
        if name == "onnxruntime":
            import onnxruntime
            return onnxruntime, onnxruntime.__version__
        try:
            from ai_edge_litert import interpreter
            from importlib import metadata
            return interpreter, metadata.version("ai-edge-litert")
        except ImportError:
            # Older boards: tflite-runtime is ai-edge-litert's predecessor, same Interpreter.
            from tflite_runtime import interpreter
            import tflite_runtime
            return interpreter, "tflite-runtime " + tflite_runtime.__version__
    except ImportError as exc:
        package = "onnxruntime" if name == "onnxruntime" else "ai-edge-litert"
        raise RunnerError(
            f"{name} is not importable with {sys.executable} ({exc}); "
            f"install it on the device: {sys.executable} -m pip install {package}", "runtime")


def runtime_for(path):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".onnx":
        return "onnxruntime"
    if ext == ".tflite":
        return "tflite"
    raise RunnerError(f"{path}: unknown model format {ext!r}; use .onnx or .tflite", "model")


def _random_input(np, rng, shape, dtype, quant=None):
    x = rng.standard_normal(shape).astype(np.float32)
    if quant and quant[0]:  # int8/uint8 tensors: quantise with the tensor's scale/zero point
        scale, zero_point = quant
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 2, size=shape).astype(dtype)
    return x.astype(dtype)


def _load_onnx(np, path, input_shape, threads, rng):
    ort, _ = _import_runtime("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise RunnerError(f"{path}: onnxruntime cannot load it: {_first_line(exc)}", "model")
    dtypes = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
              "tensor(double)": np.float64, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8,
              "tensor(int32)": np.int32, "tensor(int64)": np.int64}
    feeds = {}
    for i, inp in enumerate(session.get_inputs()):
        shape = list(input_shape) if i == 0 else [d if isinstance(d, int) else 1 for d in inp.shape]
        feeds[inp.name] = _random_input(np, rng, shape, dtypes.get(inp.type, np.float32))
    return lambda: session.run(None, feeds)


def _load_tflite(np, path, input_shape, threads, rng):
    interpreter_module, _ = _import_runtime("tflite")
    try:
        interp = interpreter_module.Interpreter(model_path=path, num_threads=threads)
        first = interp.get_input_details()[0]
        if list(first["shape"]) != list(input_shape):
            interp.resize_tensor_input(first["index"], list(input_shape))
        interp.allocate_tensors()
    except Exception as exc:
        raise RunnerError(f"{path}: LiteRT cannot load it: {_first_line(exc)}", "model")
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], _random_input(
            np, rng, list(detail["shape"]), detail["dtype"], detail.get("quantization")))
    return interp.invoke


def _predict_onnx(np, path, x, threads):
    ort, _ = _import_runtime("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    batch = inp.shape[0] if isinstance(inp.shape[0], int) else len(x)
    return np.concatenate([session.run(None, {inp.name: x[i:i + batch]})[0]
                           for i in range(0, len(x), batch)])


def _predict_tflite(np, path, x, threads):
    interpreter_module, _ = _import_runtime("tflite")
    interp = interpreter_module.Interpreter(model_path=path, num_threads=threads)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    batch = int(inp["shape"][0])
    results = []
    for i in range(0, len(x), batch):
        xi = x[i:i + batch]
        if inp["dtype"] != np.float32:
            scale, zero_point = inp["quantization"]
            info = np.iinfo(inp["dtype"])
            xi = np.clip(np.round(xi / scale + zero_point), info.min, info.max)
        interp.set_tensor(inp["index"], np.ascontiguousarray(xi, dtype=inp["dtype"]))
        interp.invoke()
        y = interp.get_tensor(out["index"]).astype(np.float32)
        if out["dtype"] != np.float32:
            scale, zero_point = out["quantization"]
            y = (y - zero_point) * scale
        results.append(y)
    return np.concatenate(results)


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_throttled(command):
    """Raspberry Pi throttle bits (`vcgencmd get_throttled` -> 'throttled=0x50000'), or None."""
    if not command:
        return None
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=5).stdout
        return int(out.strip().split("=")[-1], 16)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def read_temperature_c():
    try:
        with open("/sys/class/thermal/thermal_zone0/temp") as f:
            return int(f.read().strip()) / 1000.0
    except (OSError, ValueError):
        return None


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().replace(b"\0", b"").decode(errors="replace").strip()
    except OSError:
        return None


def cpu_flags():
    """The CPU's feature flags ('flags' on x86, 'Features' on ARM), e.g. to tell VNNI apart."""
    text = _read_text("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.split(":")[0].strip() in ("flags", "Features"):
            return sorted(set(line.split(":", 1)[1].split()))
    return []


def cpu_name():
    text = _read_text("/proc/cpuinfo") or ""
    for key in ("model name", "Model", "Hardware"):
        for line in text.splitlines():
            if line.split(":")[0].strip() == key:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


class Runner:
    def __init__(self, cores):
        self.cores = cores
        self.loaded = {}  # path -> run_once, for models measured again (drift reference)
        self.np = None

    def numpy(self):
        if self.np is None:
            try:
                import numpy
            except ImportError as exc:
                raise RunnerError(f"numpy is not importable with {sys.executable} ({exc}); "
                                  f"install it on the device: {sys.executable} -m pip install "
                                  "numpy", "runtime")
            self.np = numpy
        return self.np

    def facts(self, request):
        runtimes, problems = {}, {}
        for name in ("onnxruntime", "tflite"):
            try:
                runtimes[name] = _import_runtime(name)[1]
            except RunnerError as exc:
                runtimes[name], problems[name] = None, str(exc)
        try:
            numpy_version = self.numpy().__version__
        except RunnerError as exc:
            numpy_version, problems["numpy"] = None, str(exc)
        first_core = self.cores[0] if self.cores else 0
        governor = _read_text(f"/sys/devices/system/cpu/cpu{first_core}/cpufreq/scaling_governor")
        return {"cpu": cpu_name(), "cpu_flags": cpu_flags(), "board": _read_text("/proc/device-tree/model"),
                "machine": platform.machine(), "system": platform.platform(),
                "python": sys.executable, "python_version": platform.python_version(),
                "numpy": numpy_version, "runtimes": runtimes, "problems": problems,
                "cpu_count": os.cpu_count(), "cores": self.cores, "governor": governor,
                "temperature_c": read_temperature_c(),
                "throttled": read_throttled(request.get("throttle_command"))}

    def measure(self, request):
        np = self.numpy()
        path, shape = request["path"], [int(d) for d in request["input_shape"]]
        threads = int(request.get("threads", 1))
        runtime = runtime_for(path)
        if not os.path.isfile(path):
            raise RunnerError(f"{path}: no such model file on the device", "model")
        key = (path, tuple(shape), threads)
        t_load = time.perf_counter()
        run_once = self.loaded.get(key)
        if run_once is None:
            rng = np.random.default_rng(int(request.get("seed", 0)))
            loader = _load_onnx if runtime == "onnxruntime" else _load_tflite
            run_once = loader(np, path, shape, threads, rng)
            if request.get("keep_loaded"):
                self.loaded[key] = run_once
        throttled_before = read_throttled(request.get("throttle_command"))
        temperature_before = read_temperature_c()
        t_warm = time.perf_counter()
        try:
            warmup = timed_loop(run_once, int(request["warmup_runs"]),
                                float(request["warmup_min_s"]))
            t_timed = time.perf_counter()
            samples_ms = timed_loop(run_once, int(request["runs"]), float(request["min_time_s"]))
        except Exception as exc:
            raise RunnerError(f"{path}: inference failed: {_first_line(exc)}", "model")
        t_end = time.perf_counter()
        if request.get("delete_after"):
            os.remove(path)
        return {"samples_ms": samples_ms, "warmup_runs_done": len(warmup),
                "runtime": runtime, "runtime_version": _import_runtime(runtime)[1],
                "threads": threads, "cores": self.cores,
                "throttled_before": throttled_before,
                "throttled_after": read_throttled(request.get("throttle_command")),
                "temperature_c_before": temperature_before,
                "temperature_c_after": read_temperature_c(),
                "load_s": t_warm - t_load, "warmup_s": t_timed - t_warm,
                "timed_s": t_end - t_timed}

    def predict(self, request):
        """Logits of a model for the samples of an .npy file: is the file right ON the device?

        Quantised input/output tensors are (de)quantised with their scale and zero point, as
        the bundle's predict.py does. The .npy is read without pickle.
        """
        np = self.numpy()
        path = request["path"]
        runtime = runtime_for(path)
        x = np.load(request["inputs_path"], allow_pickle=False).astype(np.float32)
        threads = int(request.get("threads", 1))
        try:
            if runtime == "onnxruntime":
                logits = _predict_onnx(np, path, x, threads)
            else:
                logits = _predict_tflite(np, path, x, threads)
        except RunnerError:
            raise
        except Exception as exc:
            raise RunnerError(f"{path}: inference failed: {_first_line(exc)}", "model")
        for key in ("path", "inputs_path"):
            if request.get("delete_after"):
                os.remove(request[key])
        return {"logits": logits.astype(float).tolist(), "runtime": runtime,
                "runtime_version": _import_runtime(runtime)[1]}

    def handle(self, request):
        try:
            op = request.get("op")
            if op == "facts":
                return {"ok": True, "facts": self.facts(request)}
            if op == "measure":
                return dict(self.measure(request), ok=True)
            if op == "predict":
                return dict(self.predict(request), ok=True)
            if op == "forget":
                self.loaded.clear()
                return {"ok": True}
            raise RunnerError(f"unknown op {op!r}", "protocol")
        except RunnerError as exc:
            return {"ok": False, "error": str(exc), "kind": exc.kind}
        except Exception as exc:  # an answer, never a dead runner with a half-written line
            return {"ok": False, "error": f"{type(exc).__name__}: {_first_line(exc)}",
                    "kind": "internal"}


def pin(cores_text):
    """Pin this process (and the runtime threads it starts later) to the listed cores.

    Negative numbers count from the last available core, so a profile can say "-1".
    """
    if not cores_text:
        return []
    available = sorted(os.sched_getaffinity(0))
    cores = []
    for item in cores_text.split(","):
        index = int(item)
        if index < 0:
            if -index > len(available):
                raise RunnerError(f"core {index} asked for, only {len(available)} available",
                                  "setup")
            index = available[index]
        if index not in available:
            raise RunnerError(f"core {index} is not available on this device "
                              f"(available: {available}); edit `cores` in the profile", "setup")
        cores.append(index)
    os.sched_setaffinity(0, cores)
    return cores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="", help="comma-separated cores to pin to")
    args = parser.parse_args(argv)
    # The protocol owns the real stdout; anything a runtime prints from C goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    try:
        runner = Runner(pin(args.cores))
    except RunnerError as exc:
        protocol.write(json.dumps({"ok": False, "error": str(exc), "kind": exc.kind}) + "\n")
        return 3
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            answer = {"ok": False, "error": f"bad request: {exc}", "kind": "protocol"}
        else:
            answer = runner.handle(request)
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
