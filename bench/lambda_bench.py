#!/usr/bin/env python3
"""Benchmark of `moat lambda`, the AWS Lambda custom runtime: cold start and peak memory.

Cold start: the time from starting the process to its first `GET /2018-06-01/runtime/invocation/
next`, goal <= 20 ms. A minimal Runtime API server in this script (a thread on 127.0.0.1) notes
when the first `next` arrives and holds it; moat is then stopped with SIGTERM (idle, it exits 0
at once). Measured for the build's binary, for the packaged zip as Lambda starts it (`bootstrap`,
which runs moat through the bundled dynamic loader), and, as a floor, for /bin/true (spawn to
exit). The variants run round-robin, so machine noise hits them alike.

Memory: one S3 ObjectCreated event for a ~50 MB gzip flow-log object (bench/gen_flowlogs) in
moto, handled by `moat lambda` under tests/lambda_runtime_server.py; peak RSS goal <= 128 MiB.
`moat flows FILE --threads 1` on the same file, read locally, is the baseline.

Usage: lambda_bench.py [--moat PATH] [--gen PATH] [--source-dir DIR] [--runs N] [--mem-runs M]
                       [--records R] [--flows F] [--workdir DIR] [--keep] [--json-out FILE]
                       [--smoke]
"""

import argparse
import http.server
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from loopback import REGION, BenchError, Moto, clean_env, leave_workdir, make_workdir

SAMPLE_BUNDLE = os.path.join("samples", "policy", "orders-db.bundle.json")
MOTO_SETUP = os.path.join("tests", "moto_setup.py")
RUNTIME_SERVER = os.path.join("tests", "lambda_runtime_server.py")
PACKAGER = os.path.join("scripts", "package-lambda.sh")
TIME_BIN = "/usr/bin/time"  # GNU time, for the baseline's own peak RSS
PACKAGER_TOOLS = ("ldd", "strip", "zip", "unzip", "dpkg-query")  # what the packager needs
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
BUCKET = "flow-logs"
# A key where VPC Flow Logs would write the object (moat reads keys ending in .log / .log.gz).
OBJECT_KEY = ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/"
              "123456789012_vpcflowlogs_us-east-1_fl-0bench000_20240501T0000Z_0bench00.log.gz")
FIRST_NEXT_TIMEOUT = 10.0   # seconds a started moat has to ask for its first invocation
STOP_TIMEOUT = 10.0         # seconds a SIGTERMed moat has to exit
INVOCATION_TIMEOUT = 300    # seconds the invocation may take (GET /_test/results?timeout=)
INVOCATION_DEADLINE_MS = 600000  # the invocation's deadline, well beyond INVOCATION_TIMEOUT
COMMAND_TIMEOUT = 600       # seconds for any other command
GOALS = {"cold_start_ms": 20.0, "peak_rss_mib": 128.0}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", default=os.path.dirname(HERE),
                   help="the source tree (sample bundle, tests/*.py, scripts/package-lambda.sh)")
    p.add_argument("--moat", help="path to the moat binary (default SOURCE/build/src/cli/moat)")
    p.add_argument("--gen", help="path to gen_flowlogs (default SOURCE/build/bench/gen_flowlogs)")
    p.add_argument("--runs", type=int, help="cold starts per variant (default 21)")
    p.add_argument("--mem-runs", type=int, help="invocations measured for memory (default 3)")
    p.add_argument("--records", type=int,
                   help="records in the flow-log object (default 2600000: about 50 MB gzipped)")
    p.add_argument("--flows", type=int, default=50000,
                   help="about this many distinct flows in the object (default 50000)")
    p.add_argument("--workdir", help="where data, state and logs go (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the default temp workdir")
    p.add_argument("--json-out", help="write the raw measurements to this file")
    p.add_argument("--smoke", action="store_true",
                   help="3 cold starts, one invocation on a ~2 MB object; the packaged zip is "
                        "skipped when the packager's tools are missing")
    args = p.parse_args(argv)
    if args.moat is None:
        args.moat = os.path.join(args.source_dir, "build", "src", "cli", "moat")
    if args.gen is None:
        args.gen = os.path.join(args.source_dir, "build", "bench", "gen_flowlogs")
    for name, full, smoke in (("runs", 21, 3), ("mem_runs", 3, 1), ("records", 2600000, 110000)):
        if getattr(args, name) is None:
            setattr(args, name, smoke if args.smoke else full)
        if getattr(args, name) < 1:
            p.error("--%s must be at least 1" % name.replace("_", "-"))
    return args


def log(line):
    print(line, file=sys.stderr, flush=True)


def tail(path, chars=2000):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").strip()[-chars:]
    except OSError:
        return ""


def run(label, argv, log_dir, env=None, cwd=None):
    """Runs a command to completion; returns its stdout. Raises BenchError when it fails."""
    err_path = os.path.join(log_dir, label.replace(" ", "-") + ".err.txt")
    try:
        with open(err_path, "wb") as err:
            proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=err, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError("%s: %s" % (label, e))
    if proc.returncode != 0:
        raise BenchError("%s: exit %d: %s\n  stderr: %s" % (
            label, proc.returncode, " ".join(argv), tail(err_path)))
    return proc.stdout.decode("utf-8", "replace")


def stop(proc, label, err_path, expect_rc=0):
    """SIGTERMs proc and reaps it; returns its rusage. A different exit code is a failure."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            raise BenchError("%s: still running %.0f s after SIGTERM\n  stderr: %s" % (
                label, STOP_TIMEOUT, tail(err_path)))
        time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != expect_rc:
        raise BenchError("%s: exit %d after SIGTERM (expected %d)\n  stderr: %s" % (
            label, proc.returncode, expect_rc, tail(err_path)))
    return usage


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


# ---------------------------------------------------------------------------------------------
# Cold start

class StubRuntime:
    """A minimal Runtime API on 127.0.0.1: notes (perf_counter) when the first `next` of the
    current run arrives and holds that request until the run is over; then answers it 500.
    Any other request is unexpected before the first invocation and is kept as an error."""

    def __init__(self):
        self.lock = threading.Lock()
        self.first_next = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.unexpected = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # moat is gone already

            def do_GET(self):
                now = time.perf_counter()
                if self.path != NEXT_PATH:
                    stub.note_unexpected("GET " + self.path)
                    return self.answer(404)
                with stub.lock:
                    if stub.first_next is None:
                        stub.first_next = now
                release = stub.release
                stub.arrived.set()
                release.wait(60)
                self.answer(500)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                stub.note_unexpected("POST %s %s" % (self.path, body[:300]))
                self.answer(202)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.api = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def note_unexpected(self, what):
        with self.lock:
            self.unexpected.append(what)
        self.arrived.set()

    def arm(self):
        with self.lock:
            self.first_next = None
            self.unexpected = []
            self.arrived = threading.Event()
            self.release = threading.Event()

    def finish(self):
        self.release.set()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def cold_start_once(stub, label, argv, env, err_path):
    """Milliseconds from just before Popen to the first `next`; then SIGTERM, which must end an
    idle moat with exit 0."""
    stub.arm()
    with open(err_path, "ab") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + FIRST_NEXT_TIMEOUT
        while not stub.arrived.wait(0.01):
            if proc.poll() is not None:
                raise BenchError("%s: exited %d before asking for an invocation\n  stderr: %s" % (
                    label, proc.returncode, tail(err_path)))
            if time.monotonic() > deadline:
                raise BenchError("%s: no `next` within %.0f s\n  stderr: %s" % (
                    label, FIRST_NEXT_TIMEOUT, tail(err_path)))
        with stub.lock:
            first, unexpected = stub.first_next, list(stub.unexpected)
        if unexpected or first is None:
            raise BenchError("%s: unexpected requests before the first `next`: %s\n  stderr: %s"
                             % (label, unexpected, tail(err_path)))
    except BaseException:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        stub.finish()
        raise
    try:
        stop(proc, label, err_path)
    finally:
        stub.finish()
    return (first - start) * 1000.0


def spawn_to_exit_once(argv):
    """Milliseconds from just before Popen to the reaped exit of argv, which must succeed."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    rc = proc.wait()
    ms = (time.perf_counter() - start) * 1000.0
    if rc != 0:
        raise BenchError("%s: exit %d" % (" ".join(argv), rc))
    return ms


def package(args, work):
    """Packages the binary with scripts/package-lambda.sh and unzips it; returns the directory,
    or None when --smoke and the packager's tools are missing."""
    missing = [t for t in PACKAGER_TOOLS if shutil.which(t) is None]
    if missing and args.smoke:
        log("packaged zip skipped: %s not found" % ", ".join(missing))
        return None
    zip_path = os.path.join(work, "moat.zip")
    task_root = os.path.join(work, "task")
    start = time.perf_counter()
    run("package-lambda", ["bash", os.path.join(args.source_dir, PACKAGER), args.moat, zip_path],
        work)
    shutil.rmtree(task_root, ignore_errors=True)
    run("unzip", ["unzip", "-q", zip_path, "-d", task_root], work)
    log("packaged and unzipped in %.1f s (%.1f MiB zip)" % (
        time.perf_counter() - start, os.path.getsize(zip_path) / 2**20))
    return task_root


def bench_cold_start(args):
    work = os.path.join(args.workdir, "cold")
    os.makedirs(work, exist_ok=True)
    policy = os.path.join(args.source_dir, SAMPLE_BUNDLE)
    task_root = package(args, work)
    stub = StubRuntime()
    try:
        env = clean_env(AWS_LAMBDA_RUNTIME_API=stub.api, MOAT_POLICY=policy,
                        MOAT_STATE=os.path.join(work, "state"), AWS_REGION=REGION,
                        AWS_ACCESS_KEY_ID="AKIDBENCHCOLDSTART00", AWS_SECRET_ACCESS_KEY="unused",
                        AWS_ENDPOINT_URL="http://127.0.0.1:9")
        variants = [("true", "/bin/true (spawn to exit)", None),
                    ("binary", "moat lambda, build binary", [args.moat, "lambda"])]
        if task_root:
            variants.append(("zip", "bootstrap, packaged zip", [os.path.join(task_root,
                                                                             "bootstrap")]))
        zip_env = dict(env, LAMBDA_TASK_ROOT=task_root or "")
        times = {v[0]: [] for v in variants}
        for _ in range(args.runs):
            for key, label, argv in variants:
                if argv is None:
                    times[key].append(spawn_to_exit_once(["/bin/true"]))
                else:
                    times[key].append(cold_start_once(
                        stub, label, argv, zip_env if key == "zip" else env,
                        os.path.join(work, key + ".err.txt")))
    finally:
        stub.close()
    log("cold start: %d runs of %d variants done" % (args.runs, len(variants)))
    return [{"id": key, "label": label, "ms": times[key], **summary(times[key])}
            for key, label, _ in variants]


# ---------------------------------------------------------------------------------------------
# Memory

class RuntimeServer:
    """tests/lambda_runtime_server.py: queues events (POST /_test/invoke) and collects what the
    runtime answers (GET /_test/results)."""

    def __init__(self, source_dir, work):
        port_file = os.path.join(work, "runtime.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(work, "runtime-server.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(source_dir, RUNTIME_SERVER), "--port-file", port_file],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise BenchError("lambda_runtime_server.py did not start; see %s" % self.log.name)
            time.sleep(0.02)
        with open(port_file) as f:
            self.api = "127.0.0.1:" + f.read().strip()

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://%s%s" % (self.api, path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError) as e:
            raise BenchError("runtime server %s %s: %s" % (method, path, e))

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.log.close()


def s3_event(bucket, key, size):
    """An S3 ObjectCreated notification for one object, as S3 sends it to Lambda."""
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
                         "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": bucket},
                                "object": {"key": key, "size": size}}}]}


def generate(args, work):
    """Writes the object under work/s3/<key> (the tree moto_setup.py uploads); returns its path."""
    root = os.path.join(work, "s3")
    path = os.path.join(root, OBJECT_KEY)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    start = time.perf_counter()
    run("gen_flowlogs", [args.gen, "--records", str(args.records), "--flows", str(args.flows),
                         "--level", "6", "--out", path], work)
    report = tail(os.path.join(work, "gen_flowlogs.err.txt"))  # its one-line report
    log("generated %d records, %.1f MB, in %.1f s" % (
        args.records, os.path.getsize(path) / 1e6, time.perf_counter() - start))
    return root, path, report


def vm_hwm_kib(pid):
    """The process's own peak RSS (VmHWM in /proc/PID/status), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def invoke_once(args, work, moto_url, key, n, object_size):
    """One `moat lambda` process, one S3 event; returns its measurements."""
    run_dir = os.path.join(work, "run%d" % n)
    os.makedirs(run_dir, exist_ok=True)
    runtime = RuntimeServer(args.source_dir, run_dir)
    err_path = os.path.join(run_dir, "moat.err.txt")
    proc = None
    try:
        env = clean_env(AWS_LAMBDA_RUNTIME_API=runtime.api, AWS_ENDPOINT_URL=moto_url,
                        AWS_REGION=REGION, AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1],
                        MOAT_POLICY=os.path.join(args.source_dir, SAMPLE_BUNDLE),
                        MOAT_STATE=os.path.join(run_dir, "state"), MOAT_FLOW_LOG_BUCKET=BUCKET)
        with open(os.path.join(run_dir, "moat.out.txt"), "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([args.moat, "lambda"], env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
        start = time.perf_counter()
        runtime.call("POST", "/_test/invoke", {"event": s3_event(BUCKET, OBJECT_KEY, object_size),
                                               "deadline_ms": INVOCATION_DEADLINE_MS})
        results = runtime.call("GET", "/_test/results?count=1&timeout=%d" % INVOCATION_TIMEOUT,
                               timeout=INVOCATION_TIMEOUT + 30)
        wall = time.perf_counter() - start
        hwm = vm_hwm_kib(proc.pid)
        if len(results) != 1:
            raise BenchError("moat lambda: %d results after %d s (exit %s)\n  stderr: %s" % (
                len(results), INVOCATION_TIMEOUT, proc.poll(), tail(err_path)))
        result = results[0]
        if result.get("kind") != "response":
            raise BenchError("moat lambda: the invocation ended in %s %s: %s" % (
                result.get("kind"), result.get("error_type"), result.get("body", "")[:2000]))
        try:
            body = json.loads(result["body"])
        except ValueError as e:
            raise BenchError("moat lambda: the response is not JSON (%s): %r" % (
                e, result["body"][:500]))
        done = body.get("objects", {}).get("done", [])
        if body.get("ok") is not True or done != ["s3://%s/%s" % (BUCKET, OBJECT_KEY)]:
            raise BenchError("moat lambda: the object was not read: %s" % result["body"][:2000])
        usage = stop(proc, "moat lambda", err_path)
        proc = None
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        runtime.close()
    with open(os.path.join(run_dir, "response.json"), "w") as f:
        f.write(result["body"])
    reconciled = [t.get("id") for t in (body.get("reconcile") or {}).get("targets", [])]
    log("  invocation %d: %.2f s, %d records, peak RSS %.1f MiB" % (
        n + 1, wall, body.get("records", -1), usage.ru_maxrss / 1024.0))
    return {"wall_s": wall, "records": body.get("records"), "flows": body.get("flows"),
            "reconciled": reconciled, "maxrss_kib": usage.ru_maxrss,
            "own_peak_kib": hwm, "cpu_s": usage.ru_utime + usage.ru_stime}


def flows_baseline(args, work, path):
    """Peak RSS and wall time of `moat flows PATH --threads 1`, read locally: once reaped with
    wait4 as `moat lambda` is, and once under GNU time (`-f %M`), whose own small footprint is
    the only floor (see runner_floor_mib)."""
    argv = [args.moat, "flows", path, "--threads", "1"]
    err_path = os.path.join(work, "flows.err.txt")
    with open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=clean_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError("moat flows: exit %d\n  stderr: %s" % (proc.returncode, tail(err_path)))
    own_kib = None
    if os.access(TIME_BIN, os.X_OK):
        rss_file = os.path.join(work, "flows.rss.txt")
        run("moat flows under time", [TIME_BIN, "-f", "%M", "-o", rss_file] + argv, work,
            env=clean_env())
        with open(rss_file) as f:
            own_kib = int(f.read().split()[-1])
    return {"wall_s": wall, "maxrss_kib": usage.ru_maxrss, "own_peak_kib": own_kib,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def bench_memory(args):
    work = os.path.join(args.workdir, "memory")
    os.makedirs(work, exist_ok=True)
    root, path, gen_report = generate(args, work)
    size = os.path.getsize(path)
    with Moto(args.source_dir, os.path.join(work, "moto.log"), env=clean_env()) as moto:
        start = time.perf_counter()
        setup = run("moto_setup", [sys.executable, os.path.join(args.source_dir, MOTO_SETUP),
                                   moto.url, BUCKET, root], work, env=clean_env())
        try:
            seeded = json.loads(setup)
            key = (seeded["access_key_id"], seeded["secret_access_key"])
        except (ValueError, KeyError) as e:
            raise BenchError("moto_setup.py printed no key (%s): %r" % (e, setup[:500]))
        log("moto seeded and the object uploaded in %.1f s" % (time.perf_counter() - start))
        runs = [invoke_once(args, work, moto.url, key, n, size) for n in range(args.mem_runs)]
    baseline = flows_baseline(args, work, path)
    log("moat flows --threads 1: %.2f s, peak RSS %.1f MiB" % (
        baseline["wall_s"], baseline["maxrss_kib"] / 1024.0))
    match = re.search(r"\((\d+) OK, (\d+) NODATA\)", gen_report)
    records = {r["records"] for r in runs}
    if not match or records != {int(match.group(1))}:
        raise BenchError("moat lambda read %s records; the generator wrote: %s" % (
            sorted(records), gen_report.strip()))
    return {"object_bytes": size, "generated": args.records, "gen_report": gen_report.strip(),
            "runs": runs, "baseline": baseline,
            "peak_rss_mib": summary([r["maxrss_kib"] / 1024.0 for r in runs]),
            "wall_s": summary([r["wall_s"] for r in runs])}


# ---------------------------------------------------------------------------------------------
# Report

def runner_floor_mib():
    """This runner's own peak RSS, the floor of a child's ru_maxrss: Linux counts the memory
    image the child had before exec (a copy of, or with vfork the very, address space of its
    parent) in it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def print_report(cold, memory, args):
    print("# moat lambda: cold start and peak memory\n")
    if cold:
        print("Cold start: Popen to the first `GET .../invocation/next` (/bin/true: Popen to "
              "exit), %d runs each, round-robin.\n" % args.runs)
        print("| variant | median ms | min ms | max ms |")
        print("|---|---:|---:|---:|")
        for c in cold:
            print("| %s | %.2f | %.2f | %.2f |" % (c["label"], c["median"], c["min"], c["max"]))
        print()
    if memory:
        runs, base = memory["runs"], memory["baseline"]
        print("Memory: one S3 ObjectCreated event for a %.1f MB gzip object (%d records "
              "generated, %d distinct flows read); %d invocation(s), each in a fresh "
              "`moat lambda`.\n" % (memory["object_bytes"] / 1e6, memory["generated"],
                                    runs[0]["flows"], len(runs)))
        print("| command | records read | wall s | peak RSS MiB (wait4) | own peak MiB | CPU s |")
        print("|---|---:|---:|---:|---:|---:|")
        for n, r in enumerate(runs):
            print("| moat lambda, invocation #%d | %d | %.2f | %.1f | %s | %.2f |" % (
                n + 1, r["records"], r["wall_s"], r["maxrss_kib"] / 1024.0,
                mib(r["own_peak_kib"]), r["cpu_s"]))
        print("| **moat lambda, median** | %d | %.2f | %.1f | | |" % (
            runs[0]["records"], memory["wall_s"]["median"], memory["peak_rss_mib"]["median"]))
        print("| moat flows FILE --threads 1 | | %.2f | %.1f | %s | %.2f |" % (
            base["wall_s"], base["maxrss_kib"] / 1024.0, mib(base["own_peak_kib"]),
            base["cpu_s"]))
        print("\nwall s: for moat lambda, from queueing the event to its response. peak RSS "
              "(wait4): ru_maxrss of the reaped process, which never reads below this runner's "
              "own peak RSS (%.1f MiB here: Linux counts the memory image a child had before "
              "exec). own peak: VmHWM read just before SIGTERM (moat lambda), GNU time -f %%M "
              "(moat flows).\n" % runner_floor_mib())


def mib(kib):
    return "—" if kib is None else "%.1f" % (kib / 1024.0)


def verdicts(cold, memory):
    lines = []
    if cold:
        by_id = {c["id"]: c for c in cold}
        main = by_id.get("zip") or by_id["binary"]
        ms = main["median"]
        others = ["build binary %.2f ms" % by_id["binary"]["median"]] if "zip" in by_id else []
        others.append("/bin/true %.2f ms" % by_id["true"]["median"])
        lines.append("cold start median %.1f ms (goal <= %g ms): %s — %s (%s)" % (
            ms, GOALS["cold_start_ms"], "met" if ms <= GOALS["cold_start_ms"] else "missed",
            "the packaged zip's bootstrap, as Lambda starts it" if "zip" in by_id
            else "the build's binary (packaged zip skipped)", "; ".join(others)))
    if memory:
        mib = memory["peak_rss_mib"]["median"]
        lines.append("peak RSS median %.1f MiB for a %.1f MB object (goal <= %g MiB): %s" % (
            mib, memory["object_bytes"] / 1e6, GOALS["peak_rss_mib"],
            "met" if mib <= GOALS["peak_rss_mib"] else "missed"))
    return lines


# ---------------------------------------------------------------------------------------------

def main(argv):
    args = parse_args(argv)
    for name, path in (("--moat", args.moat), ("--gen", args.gen)):
        if not os.access(path, os.X_OK):
            sys.exit("lambda_bench: %s is not an executable (%s)" % (path, name))
    args.moat = os.path.abspath(args.moat)
    args.gen = os.path.abspath(args.gen)
    args.source_dir = os.path.abspath(args.source_dir)
    temp = make_workdir(args, "moat-lambda-bench-")
    cold, memory, failure = None, None, None
    try:
        cold = bench_cold_start(args)
        memory = bench_memory(args)
    except BenchError as e:
        failure = str(e)
    print_report(cold, memory, args)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"smoke": args.smoke, "runs": args.runs, "records": args.records,
                       "flows": args.flows, "cold_start": cold,
                       "memory": memory, "goals": GOALS, "failure": failure}, f, indent=1)
    for line in verdicts(cold, memory):
        print(line)
    if failure:
        print("FAIL: " + failure)
    leave_workdir(args, temp, not failure)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
