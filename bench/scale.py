#!/usr/bin/python3
"""WsServer worker threads: the same echo workload against wskit-echoserver with --threads 1
and --threads 2, interleaved, server and load generator free to use both cores (this machine
has two: the load generator competes with the second worker for them, so the ideal ratio here
is below 2). Prints one JSON line per run and a summary; writes build/bench-net/scale.json.

    bench/scale.py [--build-dir build] [--rounds 3] [--duration 4]
"""
import argparse, json, os, statistics, subprocess

from netbench import start_listening


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=4)
    a = ap.parse_args()
    out = os.path.join(a.build_dir, "bench-net")
    os.makedirs(out, exist_ok=True)
    server = os.path.join(a.build_dir, "examples", "echoserver", "wskit-echoserver")
    loadgen = os.path.join(a.build_dir, "bench", "wskit-loadgen")
    workloads = {
        "echo32_inflight16": ["--conns", "100", "--size", "32", "--inflight", "16"],
        "echo16k": ["--conns", "10", "--size", "16384", "--inflight", "1", "--binary"],
    }
    results = []
    for r in range(a.rounds):
        for name, extra in workloads.items():
            order = [1, 2] if r % 2 == 0 else [2, 1]
            for threads in order:
                p, port = start_listening([server, "--port", "0", "--quiet", "--threads", str(threads)],
                                          os.path.join(out, "scale-server.out"), 30, "scale: wskit-echoserver")
                try:
                    cmd = [loadgen, "--port", str(port), "--mode", "echo", "--duration", str(a.duration),
                           "--warmup", "1"] + extra
                    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                    line = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else {"error": res.stderr.strip()}
                finally:
                    p.terminate()
                    p.wait(timeout=30)
                line.update({"workload": name, "threads": threads, "round": r})
                print(json.dumps(line), flush=True)
                results.append(line)
    summary = {}
    for name in workloads:
        med = {}
        for t in (1, 2):
            vals = [x["msg_per_s"] for x in results if x["workload"] == name and x["threads"] == t and "msg_per_s" in x]
            med[t] = statistics.median(vals) if vals else None
        ratio = med[2] / med[1] if med[1] and med[2] else None
        summary[name] = {"threads1_msg_per_s": med[1], "threads2_msg_per_s": med[2], "ratio": ratio}
        print(f"{name}: 1 thread {med[1]:,.0f} msg/s, 2 threads {med[2]:,.0f} msg/s, ratio {ratio:.2f}")
    json.dump({"runs": results, "summary": summary}, open(os.path.join(out, "scale.json"), "w"), indent=1)

if __name__ == "__main__":
    main()
