#!/usr/bin/env python3
"""Harness benchmarks against the embedded endpoint, on loopback only.

Scenarios (each starts its own `bedrock-eval serve` and a synthetic suite in a temporary folder):
  cpu      10,000 requests at 0 ms endpoint latency: harness CPU time per request and peak memory (RSS).
  latency  requests at 200 ms endpoint latency, concurrency 64: wall time against the ideal
           (requests x latency / concurrency).
  quota    the endpoint enforces 600 requests per minute; the harness is told 600 RPM: 429s seen (expect 0) and the
           rate sustained as a share of the quota (expect >= 95%).

Usage: python3 bench/harness.py [cpu|latency|quota|all] [--quick]
Results are printed as a Markdown table; docs/benchmarks.md quotes them.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "bedrock-eval"
MODEL = "amazon.nova-micro-v1:0"


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
    )
    return env


def write_suite(folder: Path, examples: int, concurrency: int, rpm=None, repeats=1):
    with open(folder / "held-out.jsonl", "w") as f:
        for i in range(examples):
            ticket = f"Ticket {i}: my Kestrel Lock number {i % 97} jams halfway when locking at night."
            f.write(json.dumps({"id": f"b{i:06d}", "prompt": ticket, "completion": "Calibrate it."}) + "\n")
    (folder / "rubric.yaml").write_text(
        "pass_threshold: 0.5\ncriteria:\n  - id: lock\n    kind: contains_any\n    terms: [Lock]\n"
    )
    limits = f"limits:\n  {MODEL}:\n    requests_per_minute: {rpm}\n" if rpm else ""
    (folder / "suite.yaml").write_text(
        f"""name: bench
dataset:
  held_out: held-out.jsonl
rubric: rubric.yaml
configs:
  - name: base
    kind: prompt
    model: {MODEL}
    inference: {{max_tokens: 200, temperature: 0}}
baseline: base
repeats: {repeats}
concurrency: {concurrency}
retry: {{max_attempts: 8, base_delay_ms: 200, max_delay_ms: 5000, timeout_ms: 30000}}
{limits}"""
    )
    return folder / "suite.yaml"


class Server:
    def __init__(self, *args):
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--bind", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
            text=True,
        )
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url

    def stats(self):
        with urllib.request.urlopen(self.url + "/_local/stats", timeout=10) as response:
            return json.load(response)

    def stop(self):
        self.process.kill()
        self.process.wait()


def run_harness(suite: Path, url: str, results: Path):
    """Runs the harness; returns (wall seconds, cpu seconds, peak RSS in MiB, exit status)."""
    start = time.monotonic()
    process = subprocess.Popen(
        [str(BINARY), "run", str(suite), "--endpoint-url", url, "--results", str(results), "--run-id", "bench"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean_env(),
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def count_records(results: Path):
    lines = (results / "bench" / "bench" / "records.jsonl").read_text().splitlines()
    ok = sum(1 for line in lines if json.loads(line)["status"] == "ok")
    return len(lines), ok


def scenario_cpu(quick):
    n = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        suite = write_suite(folder, n, concurrency=64)
        server = Server()
        try:
            wall, cpu, rss, code = run_harness(suite, server.url, folder / "results")
        finally:
            server.stop()
        records, ok = count_records(folder / "results")
    return [
        ("cpu", f"{n} requests, 0 ms latency, concurrency 64", f"exit {code}, {ok}/{records} ok",
         f"{cpu / n * 1e6:.0f} µs CPU per request; peak RSS {rss:.0f} MiB; wall {wall:.1f} s ({n / wall:.0f} req/s)")
    ]


def scenario_latency(quick):
    n = 640 if quick else 3_200
    concurrency, latency_s = 64, 0.2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        suite = write_suite(folder, n, concurrency=concurrency)
        server = Server("--latency-ms", "200")
        try:
            wall, _, _, code = run_harness(suite, server.url, folder / "results")
        finally:
            server.stop()
        records, ok = count_records(folder / "results")
    ideal = n * latency_s / concurrency
    return [
        ("latency", f"{n} requests, 200 ms latency, concurrency {concurrency}", f"exit {code}, {ok}/{records} ok",
         f"wall {wall:.2f} s vs ideal {ideal:.2f} s ({wall / ideal:.3f}x)")
    ]


def scenario_quota(quick):
    n = 300 if quick else 1_200
    quota = 600
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        suite = write_suite(folder, n, concurrency=16, rpm=quota)
        server = Server("--quota-rpm", str(quota))
        try:
            wall, _, _, code = run_harness(suite, server.url, folder / "results")
            stats = server.stats()
        finally:
            server.stop()
        records, ok = count_records(folder / "results")
    # `throttled` counts every 429 ThrottlingException, those refused by the quota included.
    throttled = sum(model["throttled"] for model in stats["models"].values())
    rate = ok / (wall / 60)
    return [
        ("quota", f"{n} requests, endpoint quota {quota} RPM, harness limit {quota} RPM",
         f"exit {code}, {ok}/{records} ok, {throttled} throttled (429)",
         f"{rate:.0f} RPM sustained = {rate / quota:.1%} of the quota")
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", default="all", choices=["cpu", "latency", "quota", "all"])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke check")
    args = parser.parse_args()
    build()
    scenarios = {"cpu": scenario_cpu, "latency": scenario_latency, "quota": scenario_quota}
    chosen = scenarios if args.scenario == "all" else {args.scenario: scenarios[args.scenario]}
    rows = []
    for name, scenario in chosen.items():
        print(f"running {name} …", file=sys.stderr)
        rows.extend(scenario(args.quick))
    print("| scenario | setup | outcome | measured |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
