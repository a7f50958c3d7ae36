"""Peer benchmark: ipyparallel (IPython's parallel computing), 2 engines.

Run with Debian's python: /usr/bin/python3 bench/peers/ipyparallel_peer.py
(needs: apt-get install python3-ipyparallel). Prints one JSON object on stdout:
  {"peer":"ipyparallel","version":...,"workers":2,"noop_p50_us":...,
   "noop_p99_us":...,"tiny_tasks_per_s":...}

Latency: sequential DirectView.apply_sync of a no-op on one engine.
Throughput: tiny tasks (x+1) all submitted at once with apply_async on a
load-balanced view over both engines, then awaited.
Bulk: push and pull of an 80 MB float64 array (10,000,000 items, as
troupe's bench) to one engine, block=True, median of 3 after a warm-up;
MB here is MiB, as in bench/config.ts. With --bulk only this is measured.
The cluster (controller + engines) runs with a throw-away IPYTHONDIR and
Jupyter dirs, and is stopped before the JSON is printed.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time

WORKERS = 2
LAT_WARMUP = 50
LAT_SAMPLES = 500
TP_WARMUP = 200
TP_TASKS = 2000
BIG = 10_000_000
BULK_RUNS = 3


def noop():
    pass


def inc(x):
    return x + 1


def percentile(samples, p):
    """Nearest-rank percentile, as bench/stats.ts."""
    s = sorted(samples)
    rank = math.ceil(p / 100 * len(s)) - 1
    return s[min(len(s) - 1, max(0, rank))]


def descendants(root):
    """Pids of all live descendants of `root`, read from /proc (Linux)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def is_engine(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"ipyparallel.engine" in f.read()
    except OSError:
        return False


def wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = {p for p in pids if alive(p)}
        if not pids:
            return pids
        time.sleep(0.05)
    return {p for p in pids if alive(p)}


def bulk(dv):
    """Push and pull MiB/s of an 80 MB float64 array, medians."""
    import numpy

    big = numpy.zeros(BIG)
    mib = big.nbytes / 2**20

    def rate(fn):
        fn()
        times = []
        for _ in range(BULK_RUNS):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return round(mib / percentile(times, 50), 1)

    def pull():
        got = dv.pull("big", block=True)
        if got.shape != big.shape:
            raise RuntimeError(f"pulled {got.shape}")

    return {
        "push_mb_per_s": rate(lambda: dv.push({"big": big}, block=True)),
        "pull_mb_per_s": rate(pull),
    }


def bench(ipp):
    result = {}
    cluster = ipp.Cluster(n=WORKERS, shutdown_atexit=True)
    t0 = time.perf_counter()
    rc = cluster.start_and_connect_sync()
    procs = set()
    try:
        rc.wait_for_engines(WORKERS, timeout=60)
        result["startup_s"] = round(time.perf_counter() - t0, 2)
        # Controller, engines and the engines' nannies. The nannies detach
        # (new session, reparented to init), so they are remembered now.
        procs |= descendants(os.getpid())

        # Latency: sequential no-op round trips on one engine.
        dv = rc[rc.ids[0]]
        for _ in range(LAT_WARMUP):
            dv.apply_sync(noop)
        samples = []
        for _ in range(LAT_SAMPLES):
            t = time.perf_counter()
            dv.apply_sync(noop)
            samples.append((time.perf_counter() - t) * 1e6)

        if "--bulk" in sys.argv:
            result.update(bulk(dv))
            return result

        # Throughput: all tiny tasks submitted at once, then awaited.
        lview = rc.load_balanced_view()

        def burst(n):
            ars = [lview.apply_async(inc, i) for i in range(n)]
            out = [ar.get() for ar in ars]
            if out[-1] != n:
                raise RuntimeError(f"bad result {out[-1]}")

        burst(TP_WARMUP)
        t = time.perf_counter()
        burst(TP_TASKS)
        secs = time.perf_counter() - t

        result.update(
            noop_p50_us=round(percentile(samples, 50), 1),
            noop_p99_us=round(percentile(samples, 99), 1),
            noop_samples=LAT_SAMPLES,
            tiny_tasks=TP_TASKS,
            tiny_tasks_per_s=round(TP_TASKS / secs),
        )
    finally:
        t = time.perf_counter()
        procs |= descendants(os.getpid())
        rc.close()
        # Engines first, while the controller still listens: each engine's
        # nanny then unregisters at once and exits, instead of lingering
        # ~3 s (zmq LINGER) after the script ends.
        cluster.stop_engines_sync()
        wait_gone({p for p in procs if is_engine(p)}, 5)
        cluster.stop_controller_sync()
        left = wait_gone(procs, 10)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        result["stop_s"] = round(time.perf_counter() - t, 2)
        if left:
            result["killed_leftovers"] = len(left)
    return result


def main():
    tmp = tempfile.mkdtemp(prefix="troupe-ipp-")
    # Keep the profile, connection files and logs out of the repo and home.
    for var, sub in (
        ("IPYTHONDIR", "ipython"),
        ("JUPYTER_CONFIG_DIR", "jupyter-config"),
        ("JUPYTER_DATA_DIR", "jupyter-data"),
        ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
    ):
        os.environ[var] = os.path.join(tmp, sub)
    try:
        import ipyparallel as ipp
    except ImportError:
        shutil.rmtree(tmp, ignore_errors=True)
        print(json.dumps({"peer": "ipyparallel",
                          "missing": "apt-get install python3-ipyparallel"}))
        return 0

    # Stdout carries only the final JSON: send everything else (ipyparallel's
    # own prints, and the controller's and engines' output) to stderr.
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            t0 = time.perf_counter()
            result = bench(ipp)
            total = round(time.perf_counter() - t0, 2)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        shutil.rmtree(tmp, ignore_errors=True)

    out = {"peer": "ipyparallel", "version": ipp.__version__,
           "workers": WORKERS}
    out.update(result)
    out["total_s"] = total
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
