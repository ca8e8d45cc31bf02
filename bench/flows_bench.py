#!/usr/bin/env python3
"""Benchmark of `moat flows` against zcat, igzip and a plain Python baseline (stdlib only).

Usage: flows_bench.py --moat PATH --gen PATH [--records N] [--flows F] [--reps R]
                      [--workdir DIR] [--smoke] [--json-out FILE] [--keep] [--reuse-data]
"""

import argparse
import collections
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE = os.path.join(HERE, "baseline_count.py")
TIME_BIN = "/usr/bin/time"  # GNU time, for peak RSS (see measure_peak_rss)
PYTHON_MAX_REPS = 3
SPLIT_FILES = 4
KEY_FIELDS = ("initiator", "responder", "port", "protocol", "action")
VALUE_FIELDS = ("records", "packets", "bytes")
GOALS = {  # thresholds of the goals (README.md explains each)
    "a_gz_vs_zcat_max_ratio": 0.45,
    "b_gz_min_records_per_s": 8e6,
    "c_plain_min_records_per_s": 10e6,
    "d_min_multi_file_speedup": 1.7,
    "e_max_peak_rss_mib": 64,
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moat", required=True, help="path to the moat binary")
    p.add_argument("--gen", required=True, help="path to the gen_flowlogs binary")
    p.add_argument("--records", type=int, help="records to generate (default 5000000)")
    p.add_argument("--flows", type=int, help="approximate distinct flows (default 50000)")
    p.add_argument("--reps", type=int, help="timed repetitions per command (default 5)")
    p.add_argument("--workdir", help="where the data goes (default: a temp dir under /tmp)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny data, one repetition, no goals; fails only on errors or wrong flows")
    p.add_argument("--json-out", help="write the raw measurements to this file")
    p.add_argument("--keep", action="store_true", help="keep the default temp workdir")
    p.add_argument("--reuse-data", action="store_true",
                   help="skip generation when the workdir holds data of the same parameters")
    args = p.parse_args(argv)
    defaults = (20000, 500, 1) if args.smoke else (5000000, 50000, 5)
    for name, default in zip(("records", "flows", "reps"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


# ---------------------------------------------------------------------------------------------
# Running commands

def run_timed(argv, stdout_path=None, log_path=None):
    """Runs argv once; returns wall seconds, CPU seconds and the exit code."""
    out = open(stdout_path or os.devnull, "wb")
    err = open(log_path or os.devnull, "wb")
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        out.close()
        err.close()
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "rc": proc.returncode}


def log_tail(path, lines=5):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


class Runner:
    """Runs commands, keeps their measurements, and remembers failures."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.failures = []

    def run(self, name, argv, stdout_path=None):
        log = os.path.join(self.workdir, "stderr-" + re.sub(r"\W+", "_", name) + ".txt")
        try:
            result = run_timed(argv, stdout_path, log)
        except OSError as e:
            result = {"wall": 0.0, "user": 0.0, "sys": 0.0, "rc": 127}
            with open(log, "w") as f:
                f.write(str(e))
        if result["rc"] != 0:
            self.failures.append(name)
            print("FAILED (exit %d): %s\n  %s" % (result["rc"], " ".join(argv),
                                                 log_tail(log).replace("\n", "\n  ")))
        return result


# ---------------------------------------------------------------------------------------------
# Data

def data_paths(workdir):
    gz = os.path.join(workdir, "flows.log.gz")
    plain = os.path.join(workdir, "flows.log")
    stem = os.path.join(workdir, "split")
    split = ["%s.%d.log.gz" % (stem, k) for k in range(SPLIT_FILES)]
    return {"gz": gz, "plain": plain, "stem": stem, "split": split}


def generate(args, paths):
    """Writes the three copies of the data (concurrently); returns the generator's report."""
    common = [args.gen, "--records", str(args.records), "--flows", str(args.flows)]
    jobs = [common + ["--level", "6", "--out", paths["gz"]],
            common + ["--plain", "--out", paths["plain"]],
            common + ["--level", "6", "--files", str(SPLIT_FILES), "--out", paths["stem"]]]
    start = time.perf_counter()
    procs = [subprocess.Popen(job, stderr=subprocess.PIPE, text=True) for job in jobs]
    reports = [proc.communicate()[1].strip() for proc in procs]
    seconds = time.perf_counter() - start
    for job, proc, report in zip(jobs, procs, reports):
        if proc.returncode != 0:
            sys.exit("flows_bench: generator failed: %s\n%s" % (" ".join(job), report))
    match = re.search(r"wrote (\d+) records \((\d+) OK, (\d+) NODATA\)", reports[0])
    if not match or any(r.split(" in ")[0] != reports[0].split(" in ")[0] for r in reports):
        sys.exit("flows_bench: unexpected generator reports:\n" + "\n".join(reports))
    return {"report": reports[0], "seconds_all_three": seconds,
            "records": int(match.group(1)), "ok": int(match.group(2)),
            "nodata": int(match.group(3))}


def prepare_data(args, paths):
    stamp_path = os.path.join(args.workdir, "data.json")
    stamp = {"records": args.records, "flows": args.flows,
             "gen": [os.path.realpath(args.gen), os.path.getmtime(args.gen)]}
    if args.reuse_data and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            saved = json.load(f)
        if saved.get("stamp") == stamp and all(
                os.path.exists(p) for p in [paths["gz"], paths["plain"]] + paths["split"]):
            print("reusing data in %s" % args.workdir)
            return saved["generation"]
    if os.path.exists(stamp_path):
        os.remove(stamp_path)  # a generation that fails half-way must not look reusable
    generation = generate(args, paths)
    with open(stamp_path, "w") as f:
        json.dump({"stamp": stamp, "generation": generation}, f)
    return generation


# ---------------------------------------------------------------------------------------------
# The commands

Row = collections.namedtuple("Row", "id label argv reps")


def moat_flows(moat, threads, files):
    return [moat, "flows", "--json", "--threads", str(threads)] + list(files)


def commands(args, paths):
    """The timed commands, in the order each round runs them; `label` is the table's."""
    short = os.path.basename
    gz, plain, split = paths["gz"], paths["plain"], paths["split"]
    split_label = "%s … %s" % (short(split[0]), short(split[-1]))
    moat = "moat flows --json --threads %d "
    rows = [Row("zcat", "zcat %s" % short(gz), ["zcat", gz], args.reps)]
    if shutil.which("igzip"):
        rows.append(Row("igzip", "igzip -d -c %s" % short(gz), ["igzip", "-d", "-c", gz],
                        args.reps))
    else:
        print("igzip not found (Debian package isal): its row is skipped")
    rows += [
        Row("python", "python3 baseline_count.py %s" % short(gz),
            [sys.executable, BASELINE, gz], min(args.reps, PYTHON_MAX_REPS)),
        Row("moat_gz", moat % 1 + short(gz), moat_flows(args.moat, 1, [gz]), args.reps),
        Row("moat_plain", moat % 1 + short(plain), moat_flows(args.moat, 1, [plain]), args.reps),
        Row("moat_split_1t", moat % 1 + split_label, moat_flows(args.moat, 1, split), args.reps),
        Row("moat_split_2t", moat % 2 + split_label, moat_flows(args.moat, 2, split), args.reps),
    ]
    return rows


def time_all(runner, rows, reps):
    """Round-robin: each repetition runs every command once, spreading machine noise evenly.

    Returns {row id: [one result per repetition]}; a failed run's result has rc != 0.
    """
    runs = {row.id: [] for row in rows}
    for rep in range(reps):
        for row in rows:
            if rep < row.reps:
                runs[row.id].append(runner.run(row.label, row.argv))
        print("  round %d/%d done" % (rep + 1, reps), file=sys.stderr)
    return runs


def measure_peak_rss(runner, argv):
    """Peak RSS in MiB of one fresh run of argv, and how it was measured.

    ru_maxrss of a child is not just the child's own peak: Linux folds the memory image the child
    had before exec (a copy of, or with vfork the very, address space of its parent) into it, and
    RUSAGE_CHILDREN is a maximum over every child ever waited for. So a child of this Python
    process never reports less than this process's own RSS. GNU time is a small C program: its
    child's floor is ~1 MiB, so `time -f %M` on a fresh run measures the command itself.
    """
    if os.access(TIME_BIN, os.X_OK):
        rss_file = os.path.join(runner.workdir, "peak_rss_kib.txt")
        result = runner.run("peak rss", [TIME_BIN, "-f", "%M", "-o", rss_file] + argv)
        if result["rc"] != 0:
            return None, "failed"
        with open(rss_file) as f:
            return int(f.read().split()[-1]) / 1024.0, "GNU time -f %M (floor ~1 MiB)"
    # Fallback: wait4 on a direct child; the floor is this runner's own peak RSS.
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        runner.failures.append("peak rss")
        return None, "failed"
    import resource
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return usage.ru_maxrss / 1024.0, "wait4 ru_maxrss (floor: runner's RSS %.1f MiB)" % floor


# ---------------------------------------------------------------------------------------------
# Correctness: moat's flows must equal the Python baseline's, as multisets.

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return None, "%s: %s" % (path, e)


def flows_by_key(flows):
    """{key: [value tuples]}; a key listed twice is itself a difference."""
    by_key = collections.defaultdict(list)
    for f in flows:
        by_key[tuple(f[k] for k in KEY_FIELDS)].append(tuple(f[k] for k in VALUE_FIELDS))
    return by_key


def flow_differences(moat_flows_list, base_flows_list, limit=5):
    moat, base = flows_by_key(moat_flows_list), flows_by_key(base_flows_list)
    diffs = []
    for key in sorted(set(moat) | set(base), key=str):
        if moat.get(key) != base.get(key):
            diffs.append("%s: moat %s, python %s" % (
                dict(zip(KEY_FIELDS, key)), moat.get(key, "absent"), base.get(key, "absent")))
    return len(diffs), diffs[:limit]


def compare(moat_doc, base_doc):
    """Returns (ok, report lines) for one moat output against the baseline's."""
    lines, ok = [], True
    try:
        totals = moat_doc["totals"]
        pairs = [("totals.records", totals["records"], base_doc["records"]),
                 ("totals.nodata", totals["nodata"], base_doc["nodata"])]
        moat_list = moat_doc["flows"]
        count, diffs = flow_differences(moat_list, base_doc["flows"])
    except (KeyError, TypeError) as e:
        return False, ["moat's JSON lacks an expected key or has a wrong type: %r" % e]
    for name, got, want in pairs:
        ok &= got == want
        lines.append("%s: moat %s, python %s%s" % (name, got, want,
                                                    "" if got == want else "  <-- differs"))
    ok &= count == 0
    lines.append("flows: moat %d, python %d, %s" % (
        len(moat_list), len(base_doc["flows"]),
        "identical (as multisets)" if count == 0 else "%d keys differ, first ones:" % count))
    lines += ["  " + d for d in diffs]
    return ok, lines


def correctness_runs(args, paths):
    """(label, argv): the run goal (f) names first, then the other input shapes moat reads."""
    return [("moat --threads 1 .gz", moat_flows(args.moat, 1, [paths["gz"]])),
            ("moat --threads 1 .log", moat_flows(args.moat, 1, [paths["plain"]])),
            ("moat --threads 2 %d x .gz" % SPLIT_FILES, moat_flows(args.moat, 2, paths["split"]))]


def check_correctness(runner, args, paths):
    """Runs the baseline once and each moat variant once (untimed); returns (ok, lines)."""
    base_out = os.path.join(args.workdir, "baseline_flows.json")
    base_run = runner.run("correctness: python", [sys.executable, BASELINE, paths["gz"]],
                          base_out)
    base_doc, base_err = load_json(base_out) if base_run["rc"] == 0 else (None, "failed")
    if base_err:
        return False, ["python baseline: " + base_err]
    gen = args.generation
    gen_ok = (base_doc["records"], base_doc["nodata"]) == (gen["ok"], gen["nodata"])
    all_ok, lines = gen_ok, ["generator said %d OK + %d NODATA records: python %s" % (
        gen["ok"], gen["nodata"], "agrees" if gen_ok else "DISAGREES")]
    for k, (label, argv) in enumerate(correctness_runs(args, paths)):
        out = os.path.join(args.workdir, "moat_flows_%d.json" % k)
        run = runner.run("correctness: " + label, argv, out)
        doc, err = load_json(out) if run["rc"] == 0 else (None, "command failed")
        ok, detail = compare(doc, base_doc) if not err else (False, [err])
        all_ok &= ok
        lines.append("%s: %s" % (label, "matches" if ok else "DIFFERS"))
        if k == 0 or not ok:
            lines += ["  " + line for line in detail]
    return all_ok, lines


# ---------------------------------------------------------------------------------------------
# Report

def median_wall(results):
    walls = [r["wall"] for r in results if r["rc"] == 0]
    return statistics.median(walls) if walls else None


def paired_ratio(runs, numerator, denominator):
    """Median over repetitions of the ratio of two commands timed in the same round."""
    pairs = [(a["wall"], b["wall"]) for a, b in zip(runs.get(numerator, []),
                                                     runs.get(denominator, []))
             if a["rc"] == 0 and b["rc"] == 0 and b["wall"] > 0]
    return statistics.median(a / b for a, b in pairs) if pairs else None


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def print_table(rows, runs, records):
    medians = {row.id: median_wall(runs[row.id]) for row in rows}
    refs = [("zcat", "t / zcat"), ("igzip", "t / igzip"), ("python", "t / python")]
    print("| command | median s | records/s | %s | runs |" % " | ".join(r[1] for r in refs))
    print("|---|---:|---:|%s---:|" % ("---:|" * len(refs)))
    for row in rows:
        t = medians[row.id]
        ratios = [t / medians[ref] if t and medians.get(ref) else None for ref, _ in refs]
        print("| `%s` | %s | %s | %s | %d/%d |" % (
            row.label, fmt(t, ".3f"), fmt(records / t if t else None, ",.0f"),
            " | ".join(fmt(r, ".3f") for r in ratios),
            sum(r["rc"] == 0 for r in runs[row.id]), len(runs[row.id])))
    return medians


def goal_results(medians, runs, records, peak_mib, correct):
    """[(label, passed or None when not measurable, measured text)]"""
    t_gz, t_plain = medians.get("moat_gz"), medians.get("moat_plain")
    ratio = paired_ratio(runs, "moat_gz", "zcat")
    speedup = paired_ratio(runs, "moat_split_1t", "moat_split_2t")
    gz_rate = records / t_gz if t_gz else None
    plain_rate = records / t_plain if t_plain else None

    def check(value, ok):
        return None if value is None else ok(value)
    return [
        ("(a) moat 1-thread .gz time <= %.2f x zcat" % GOALS["a_gz_vs_zcat_max_ratio"],
         check(ratio, lambda v: v <= GOALS["a_gz_vs_zcat_max_ratio"]),
         "median per-round ratio %s" % fmt(ratio, ".3f")),
        ("(b) stretch: >= 8M records/s from .gz",
         check(gz_rate, lambda v: v >= GOALS["b_gz_min_records_per_s"]),
         "%s records/s" % fmt(gz_rate, ",.0f")),
        ("(c) plain text >= 10M records/s",
         check(plain_rate, lambda v: v >= GOALS["c_plain_min_records_per_s"]),
         "%s records/s" % fmt(plain_rate, ",.0f")),
        ("(d) 2 threads on %d files >= %.1f x 1 thread" % (
            SPLIT_FILES, GOALS["d_min_multi_file_speedup"]),
         check(speedup, lambda v: v >= GOALS["d_min_multi_file_speedup"]),
         "median per-round speedup %s" % fmt(speedup, ".2f")),
        ("(e) peak RSS <= %d MiB on the single .gz file" % GOALS["e_max_peak_rss_mib"],
         check(peak_mib, lambda v: v <= GOALS["e_max_peak_rss_mib"]),
         "%s MiB" % fmt(peak_mib, ".1f")),
        ("(f) flows equal the Python baseline's (.gz; also .log, 4 files x 2 threads)",
         correct, ""),
    ]


def print_goals(goals):
    print("\nGoals:")
    for label, passed, measured in goals:
        verdict = "PASS" if passed else ("MISS" if passed is not None else "N/A ")
        print("  %s  %s%s" % (verdict, label, "  (%s)" % measured if measured else ""))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_header(args, paths):
    size = lambda p: os.path.getsize(p) / 2**20
    print("# moat flows benchmark\n")
    print("%d records, ~%d flows; repetitions: %d (python: %d); %s, %d CPUs" % (
        args.records, args.flows, args.reps, min(args.reps, PYTHON_MAX_REPS), cpu_model(),
        os.cpu_count() or 0))
    print("data in %s: %s %.1f MiB, %s %.1f MiB, %d x .gz %.1f MiB" % (
        args.workdir, os.path.basename(paths["gz"]), size(paths["gz"]),
        os.path.basename(paths["plain"]), size(paths["plain"]), SPLIT_FILES,
        sum(size(p) for p in paths["split"])))
    print("generator: %s (%.1f s for the three copies, concurrently)" % (
        args.generation["report"], args.generation["seconds_all_three"]))


# ---------------------------------------------------------------------------------------------

def bench(args):
    paths = data_paths(args.workdir)
    args.generation = prepare_data(args, paths)
    print_header(args, paths)
    runner = Runner(args.workdir)
    rows = commands(args, paths)
    correct, correctness_lines = check_correctness(runner, args, paths)
    runs = time_all(runner, rows, args.reps)
    peak_mib, rss_method = measure_peak_rss(runner, moat_flows(args.moat, 1, [paths["gz"]]))
    print()
    medians = print_table(rows, runs, args.records)
    speedup = paired_ratio(runs, "moat_split_1t", "moat_split_2t")
    print("\nmulti-file speedup (threads 2 vs 1, %d files): %s" % (SPLIT_FILES,
                                                                   fmt(speedup, ".2f")))
    print("peak RSS, moat --threads 1 on %s: %s MiB (%s)" % (
        os.path.basename(paths["gz"]), fmt(peak_mib, ".1f"), rss_method))
    print("\nCorrectness:\n  " + "\n  ".join(correctness_lines))
    goals = goal_results(medians, runs, args.records, peak_mib, correct)
    if args.smoke:
        print("\nsmoke run: timing goals not checked; flows %s" % (
            "match" if correct else "DO NOT MATCH"))
    else:
        print_goals(goals)
    if runner.failures:
        print("\nfailed commands: " + ", ".join(sorted(set(runner.failures))))
    if args.json_out:
        write_json(args, rows, runs, medians, peak_mib, rss_method, goals, correctness_lines)
    return 1 if runner.failures or not correct else 0


def write_json(args, rows, runs, medians, peak_mib, rss_method, goals, correctness_lines):
    doc = {
        "params": {"records": args.records, "flows": args.flows, "reps": args.reps,
                   "smoke": args.smoke, "workdir": args.workdir},
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "kernel": platform.release(),
                    "python": platform.python_version()},
        "generation": args.generation,
        "commands": [{"id": r.id, "label": r.label, "argv": r.argv, "runs": runs[r.id],
                      "median_wall": medians[r.id]} for r in rows],
        "peak_rss_mib": peak_mib, "peak_rss_method": rss_method,
        "goals": [{"goal": g, "passed": p, "measured": m} for g, p, m in goals],
        "correctness": correctness_lines,
    }
    with open(args.json_out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main(argv):
    args = parse_args(argv)
    for tool in (args.moat, args.gen):
        if not os.access(tool, os.X_OK):
            sys.exit("flows_bench: not an executable: %s" % tool)
    own_workdir = args.workdir is None
    if own_workdir:
        args.workdir = tempfile.mkdtemp(prefix="moat-bench-", dir="/tmp")
    os.makedirs(args.workdir, exist_ok=True)
    try:
        return bench(args)
    finally:
        if own_workdir and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
