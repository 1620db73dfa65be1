#!/usr/bin/python3
"""Network benchmarks: WsKit vs QtWebSockets vs raw TCP, interleaved (run by bench/net.sh).

Every run starts a fresh server pinned to CPU 0 and runs bench/wskit-loadgen pinned to CPU 1.
A round runs every server once per workload, in a shuffled order; the summary keeps the median
over rounds of each figure and the median of the per-round ratios (WsKit/raw, QtWS/raw,
WsKit/QtWS), so a slow phase of the machine hits both sides of a ratio.

    bench/netbench.py --build-dir build [--quick] [--rounds N] [--only w1,w2] [--no-callgrind]
    bench/netbench.py --build-dir build --profile echo32_1 [--profiler callgrind|perf]
"""

import argparse
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import time

SERVERS = ["wskit", "qtws", "raw"]
LABELS = {"wskit": "WsKit", "qtws": "QtWebSockets", "raw": "raw TCP"}
MIB = 1024 * 1024
MAX_MESSAGE = 64 * MIB


def echo(conns, size, inflight, binary, metric, title):
    return {"kind": "echo", "conns": conns, "size": size, "inflight": inflight, "binary": binary,
            "metric": metric, "title": title}


# Throughput workloads: (name, spec). metric is the figure the ratio is taken on.
WORKLOADS = [
    ("echo32_1", echo(100, 32, 1, False, "msg_per_s", "100 conns x 32 B text, 1 in flight")),
    ("echo32_16", echo(100, 32, 16, False, "msg_per_s", "100 conns x 32 B text, 16 in flight")),
    ("echo16k", echo(10, 16384, 1, True, "mb_per_s", "10 conns x 16 KiB binary, 1 in flight")),
    ("echo1m", echo(4, MIB, 1, True, "mb_per_s", "4 conns x 1 MiB binary, 1 in flight")),
    ("echo16m", echo(2, 16 * MIB, 1, True, "mb_per_s", "2 conns x 16 MiB binary, 1 in flight")),
    ("connrate", {"kind": "connrate", "total": 2000, "concurrency": 50, "metric": "conns_per_s",
                  "title": "2000 connections, 50 at a time: handshake + 1 echo (32 B) + close"}),
    ("idle", {"kind": "idle", "conns": 5000, "warm": 100, "metric": "kib_per_conn",
              "title": "5000 idle connections: server RSS delta / connection"}),
]

CALLGRIND = [
    ("cg32", {"conns": 10, "size": 32, "messages": 20000, "binary": False,
              "title": "20,000 echoes of 32 B text on 10 connections, 1 in flight"}),
    ("cg1m", {"conns": 2, "size": MIB, "messages": 200, "binary": True,
              "title": "200 echoes of 1 MiB binary on 2 connections, 1 in flight"}),
]


class LoadgenError(Exception):
    pass


def cpu_busy():
    """Per-CPU busy jiffies (everything but idle and iowait) and totals, from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out[line.split()[0]] = (sum(v) - v[3] - v[4], sum(v))
    return out


def start_listening(cmd, log_path, timeout=60, name="server"):
    """Starts an echo server (its output goes to log_path) and waits until it prints the
    port it listens on. Returns (process, port); exits if it does not come up in time."""
    with open(log_path, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(log_path) as r:
            m = re.search(r"listening on \w+://[^\s]*:(\d+)", r.read())
        if m:
            return p, int(m.group(1))
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    sys.exit(f"{name} did not start; see {log_path}")


class Bench:
    def __init__(self, args):
        self.args = args
        b = args.build_dir
        self.loadgen = os.path.join(b, "bench", "wskit-loadgen")
        self.cmds = {
            "wskit": [os.path.join(b, "examples", "echoserver", "wskit-echoserver"), "--port", "0", "--quiet",
                      "--max-message", str(MAX_MESSAGE)],
            "qtws": [os.path.join(b, "bench", "bench-qtwsecho"), "--port", "0", "--max-message", str(MAX_MESSAGE)],
            "raw": [os.path.join(b, "bench", "bench-rawecho"), "--port", "0"],
        }
        for c in [self.loadgen] + [v[0] for v in self.cmds.values()]:
            if not os.access(c, os.X_OK):
                sys.exit(f"netbench: missing {c} (build it first, see bench/net.sh)")
        # The WsKit server in its default set-up (--threads 0: every connection in the main
        # thread, like the two references); WSKIT_THREADS=N measures N worker threads instead.
        # Scaling over both cores is bench/scale.py's business.
        help_text = subprocess.run(self.cmds["wskit"][:1] + ["--help"], capture_output=True, text=True).stdout
        self.wskit_threads = "--threads" in help_text
        if self.wskit_threads:
            self.cmds["wskit"] += ["--threads", os.environ.get("WSKIT_THREADS", "0")]
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.log = open(os.path.join(self.out, "runs.log"), "a")

    # ---- processes -------------------------------------------------------------------------
    def start_server(self, server, wrapper=(), timeout=60):
        cmd = ["taskset", "-c", self.args.server_cpu] + list(wrapper) + self.cmds[server]
        return start_listening(cmd, os.path.join(self.out, f"server-{server}.out"), timeout, server)

    def stop_server(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    @staticmethod
    def cpu_ticks(pid):
        """(utime + stime, stime) of a process, in clock ticks."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12]), int(fields[12])
        except OSError:
            return 0, 0

    @staticmethod
    def rss_kib(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def loadgen_cmd(self, port, raw, extra):
        return (["taskset", "-c", self.args.loadgen_cpu, self.loadgen, "--port", str(port)]
                + (["--raw"] if raw else []) + [str(x) for x in extra])

    def run_loadgen(self, port, raw, extra, timeout=600):
        cmd = self.loadgen_cmd(port, raw, extra)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        self.log.write(" ".join(cmd[3:]) + "\n" + r.stdout + r.stderr)
        self.log.flush()
        if r.returncode != 0:
            raise LoadgenError(f"load generator failed ({' '.join(cmd[3:])}): {r.stderr.strip()}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    # ---- workloads -------------------------------------------------------------------------
    def echo_args(self, w):
        a = ["--mode", "echo", "--conns", w["conns"], "--size", w["size"], "--inflight", w["inflight"],
             "--duration", self.args.duration, "--warmup", self.args.warmup]
        return a + (["--binary"] if w["binary"] else [])

    def run_one(self, name, w, server):
        raw = server == "raw"
        p, port = self.start_server(server)
        hz = os.sysconf("SC_CLK_TCK")
        try:
            t0, c0, b0 = time.time(), self.cpu_ticks(p.pid), cpu_busy()
            if w["kind"] == "echo":
                res = self.run_loadgen(port, raw, self.echo_args(w))
            elif w["kind"] == "connrate":
                res = self.run_loadgen(port, raw, ["--mode", "connrate", "--total", w["total"],
                                                   "--concurrency", w["concurrency"]])
            else:
                res = self.run_idle(p, port, raw, w)
            elapsed = time.time() - t0
            c1 = self.cpu_ticks(p.pid)
            res["server_cpu"] = round((c1[0] - c0[0]) / hz / elapsed, 3)
            res["server_sys"] = round((c1[1] - c0[1]) / hz / elapsed, 3)  # kernel part of server_cpu
            b1 = cpu_busy()
            for key, cpu in (("cpu_busy_server", self.args.server_cpu), ("cpu_busy_loadgen", self.args.loadgen_cpu)):
                c = "cpu" + cpu
                if c in b0 and c in b1 and b1[c][1] > b0[c][1]:
                    res[key] = round((b1[c][0] - b0[c][0]) / (b1[c][1] - b0[c][1]), 3)
        except LoadgenError as e:
            res = {"error": str(e)}
            print(f"  FAILED: {e}", flush=True)
        finally:
            self.stop_server(p)
        res.update({"workload": name, "server": server})
        return res

    def run_idle(self, p, port, raw, w):
        cmd = self.loadgen_cmd(port, raw, ["--mode", "idle", "--conns", w["conns"], "--warm", w["warm"],
                                           "--concurrency", 100, "--timeout", 60])
        outp = os.path.join(self.out, "idle-loadgen.out")
        with open(outp, "w") as f:
            lg = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)

        def wait_event(ev):
            deadline = time.time() + 120
            while time.time() < deadline:
                with open(outp) as r:
                    if f'"event":"{ev}"' in r.read():
                        return
                if lg.poll() is not None:
                    break
                time.sleep(0.05)
            lg.kill()
            raise LoadgenError(f"idle load generator failed: {open(outp).read().strip()}")

        wait_event("warm")
        time.sleep(0.5)
        rss_warm = self.rss_kib(p.pid)
        lg.send_signal(signal.SIGUSR1)
        wait_event("ready")
        time.sleep(1.0)  # let the server finish whatever the last handshakes started
        rss_ready = self.rss_kib(p.pid)
        lg.send_signal(signal.SIGUSR1)
        if lg.wait(timeout=120) != 0:
            raise LoadgenError(f"idle load generator failed: {open(outp).read().strip()}")
        with open(outp) as r:
            res = json.loads(r.read().strip().splitlines()[-1])
        n = w["conns"] - w["warm"]
        res.update({"rss_warm_kib": rss_warm, "rss_ready_kib": rss_ready,
                    "kib_per_conn": round((rss_ready - rss_warm) / n, 3)})
        self.log.write(json.dumps(res) + "\n")
        return res

    def callgrind_total(self, server, loadgen_args, tag):
        out = os.path.join(self.out, f"callgrind.{server}.{tag}.out")
        if os.path.exists(out):
            os.remove(out)
        p, port = self.start_server(server, ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out], 120)
        try:
            res = self.run_loadgen(port, server == "raw", loadgen_args + ["--timeout", 120], timeout=1800)
        finally:
            self.stop_server(p)
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1]), res
        sys.exit(f"netbench: no total in {out}")

    def run_callgrind(self, server, name, c):
        base_args = ["--mode", "idle", "--conns", c["conns"], "--hold", 0.2]
        msgs = max(1, int(c["messages"] * self.args.callgrind_scale))
        full_args = ["--mode", "echo", "--conns", c["conns"], "--size", c["size"], "--inflight", 1,
                     "--messages", msgs] + (["--binary"] if c["binary"] else [])
        base, _ = self.callgrind_total(server, base_args, name + "-baseline")
        full, _ = self.callgrind_total(server, full_args, name)
        per_msg = (full - base) / msgs
        return {"workload": name, "server": server, "messages": msgs, "size": c["size"],
                "baseline_instr": base, "total_instr": full, "instr_per_msg": round(per_msg, 1),
                "instr_per_byte": round(per_msg / c["size"], 4)}

    # ---- driver ----------------------------------------------------------------------------
    def run(self):
        a = self.args
        only = set(a.only.split(",")) if a.only else None
        workloads = [(n, dict(w)) for n, w in WORKLOADS if not only or n in only]
        for n, w in workloads:
            if a.quick and n == "connrate":
                w["total"] = 500
            if a.quick and n == "idle":
                w["conns"] = 1000
        runs = []
        t_start = time.time()
        for rnd in range(a.rounds):
            for name, w in workloads:
                order = SERVERS[:]
                random.shuffle(order)
                for server in order:
                    res = self.run_one(name, w, server)
                    res["round"] = rnd
                    runs.append(res)
                    with open(os.path.join(self.out, "runs.json"), "w") as f:
                        json.dump(runs, f, indent=1)
                    metric = res.get(w["metric"])
                    print(f"  round {rnd + 1}/{a.rounds} {name:9s} {server:5s} {w['metric']}={metric}"
                          f"  loadgen_cpu={res.get('loadgen_cpu', '-')} server_cpu={res.get('server_cpu', '-')}"
                          f" (sys {res.get('server_sys', '-')})"
                          f"  busy cpu{a.server_cpu}/cpu{a.loadgen_cpu}={res.get('cpu_busy_server', '-')}/"
                          f"{res.get('cpu_busy_loadgen', '-')}", flush=True)
        cg = []
        if not a.no_callgrind:
            for name, c in CALLGRIND:
                if only and name not in only and "callgrind" not in only:
                    continue
                for server in SERVERS:
                    try:
                        r = self.run_callgrind(server, name, c)
                    except LoadgenError as e:
                        print(f"  FAILED: {e}", flush=True)
                        cg.append({"workload": name, "server": server, "error": str(e)})
                        continue
                    cg.append(r)
                    print(f"  callgrind {name} {server:5s} instr/msg={r['instr_per_msg']} "
                          f"instr/byte={r['instr_per_byte']}", flush=True)
        results = {"meta": self.meta(time.time() - t_start), "workloads": {n: w for n, w in workloads},
                   "callgrind_workloads": dict(CALLGRIND), "runs": runs, "callgrind": cg,
                   "summary": summarize(workloads, runs, cg)}
        path = os.path.join(self.out, "results.json")
        with open(path, "w") as f:
            json.dump(results, f, indent=1)
        print(f"results: {path}")

    def meta(self, seconds):
        def first_line(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
            except (OSError, IndexError):
                return ""
        cpu = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        return {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": self.args.quick, "rounds": self.args.rounds,
                "duration_s": self.args.duration, "warmup_s": self.args.warmup, "seconds": round(seconds, 1),
                "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
                "compiler": first_line(["c++", "--version"]),
                "qt": first_line(["dpkg-query", "-W", "-f", "${Version}", "libqt6websockets6"]),
                "server_cpu": self.args.server_cpu, "loadgen_cpu": self.args.loadgen_cpu,
                "wskit_threads_option": self.wskit_threads,
                "callgrind_scale": self.args.callgrind_scale}

    # ---- profile ---------------------------------------------------------------------------
    def profile(self):
        a = self.args
        name = a.profile
        cgw = dict(CALLGRIND)
        ww = dict(WORKLOADS)
        if name in cgw:
            c = cgw[name]
            args = ["--mode", "echo", "--conns", c["conns"], "--size", c["size"], "--inflight", 1,
                    "--messages", c["messages"]] + (["--binary"] if c["binary"] else [])
        elif name in ww and ww[name]["kind"] == "echo":
            w = ww[name]
            args = self.echo_args(w)
        else:
            sys.exit(f"netbench: --profile takes one of {', '.join(list(cgw) + [n for n, w in WORKLOADS if w['kind'] == 'echo'])}")
        server = a.profile_server
        if a.profiler == "perf":
            out = os.path.join(self.out, f"perf.{server}.{name}.data")
            wrapper = ["perf", "record", "-e", "cpu-clock", "-g", "-o", out, "--"]
            p, port = self.start_server(server, wrapper)
            try:
                print(json.dumps(self.run_loadgen(port, server == "raw", args, timeout=1800)))
            finally:
                self.stop_server(p, signal.SIGINT)
            print(f"profile: {out}\nread it with: perf report -i {out} --no-children")
        else:
            out = os.path.join(self.out, f"callgrind.{server}.{name}.profile.out")
            wrapper = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
            p, port = self.start_server(server, wrapper, 120)
            try:
                print(json.dumps(self.run_loadgen(port, server == "raw", args + ["--timeout", 120], timeout=1800)))
            finally:
                self.stop_server(p)
            top = subprocess.run(["callgrind_annotate", "--inclusive=no", out], capture_output=True, text=True).stdout
            print("\n".join(top.splitlines()[:45]))
            print(f"profile: {out}\nread it with: callgrind_annotate {out} | less   "
                  f"(or --inclusive=yes, or kcachegrind)")


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(workloads, runs, cg):
    summary = {}
    for name, w in workloads:
        m = w["metric"]
        rs = [r for r in runs if r["workload"] == name]
        rounds = sorted({r["round"] for r in rs})
        by = {(r["round"], r["server"]): r for r in rs}
        s = {"metric": m, "title": w["title"], "median": {}, "values": {}, "ratio": {}}
        for key in ("p50_us", "p99_us", "loadgen_cpu", "server_cpu", "server_sys", "cpu_busy_server",
                    "cpu_busy_loadgen"):
            s[key] = {}
        for srv in SERVERS:
            vals = [by[(k, srv)].get(m) for k in rounds if (k, srv) in by]
            s["values"][srv] = vals
            s["median"][srv] = median(vals)
            s["failures"] = s.get("failures", {})
            s["failures"][srv] = [by[(k, srv)]["error"] for k in rounds if (k, srv) in by and "error" in by[(k, srv)]]
            for key in ("p50_us", "p99_us", "loadgen_cpu", "server_cpu", "server_sys", "cpu_busy_server",
                        "cpu_busy_loadgen"):
                s[key][srv] = median([by[(k, srv)].get(key) for k in rounds if (k, srv) in by])
        for num, den in (("wskit", "raw"), ("qtws", "raw"), ("wskit", "qtws")):
            per_round = []
            for k in rounds:
                if (k, num) in by and (k, den) in by and by[(k, den)].get(m) and by[(k, num)].get(m) is not None:
                    per_round.append(by[(k, num)][m] / by[(k, den)][m])
            s["ratio"][f"{num}/{den}"] = median(per_round)
        summary[name] = s
    for r in cg:
        if "error" in r:
            continue
        s = summary.setdefault(r["workload"], {"metric": "instr_per_msg", "instr_per_msg": {}, "instr_per_byte": {}})
        s["instr_per_msg"][r["server"]] = r["instr_per_msg"]
        s["instr_per_byte"][r["server"]] = r["instr_per_byte"]
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--out", default=None, help="output directory (default BUILD/bench-net)")
    ap.add_argument("--quick", action="store_true", help="2 rounds, short runs: a ~3 minute smoke run")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--duration", type=float, default=None, help="seconds measured per echo run")
    ap.add_argument("--warmup", type=float, default=None)
    ap.add_argument("--only", default="", help="comma-separated workloads (echo32_1,...,idle,cg32,cg1m)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--callgrind-scale", type=float, default=None, help="scale the callgrind message counts")
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--loadgen-cpu", default="1")
    ap.add_argument("--profile", default=None, help="profile the WsKit server on one workload instead")
    ap.add_argument("--profile-server", default="wskit", choices=SERVERS)
    ap.add_argument("--profiler", default="callgrind", choices=["callgrind", "perf"])
    a = ap.parse_args()
    if a.rounds is None:
        a.rounds = 2 if a.quick else 5
    if a.duration is None:
        a.duration = 1.5 if a.quick else 4.0
    if a.warmup is None:
        a.warmup = 0.5 if a.quick else 1.0
    if a.callgrind_scale is None:
        a.callgrind_scale = 0.25 if a.quick else 1.0
    if a.out is None:
        a.out = os.path.join(a.build_dir, "bench-net")
    b = Bench(a)
    if a.profile:
        b.profile()
    else:
        b.run()


if __name__ == "__main__":
    main()
