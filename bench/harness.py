#!/usr/bin/env python3
"""Harness benchmarks against the embedded endpoint, on loopback only.

Scenarios (each starts its own `bedrock-eval serve` and a synthetic suite in a temporary folder):
  cpu      10,000 requests at 0 ms endpoint latency: harness CPU time per request and peak memory (RSS).
  latency  requests at 200 ms endpoint latency, concurrency 64: wall time against the ideal
           (requests x latency / concurrency).
  quota    the endpoint enforces 600 requests per minute; the harness is told 600 RPM: 429s seen (expect 0) and the
           rate sustained as a share of the quota (expect >= 95%).
  scale    a five-config suite at 0 ms endpoint latency, concurrency 64, at each size given by --sizes (requests:
           10k, 100k, 1m by default): peak RSS, CPU and wall time of `run` (and of its calls alone, before it
           writes its reports), a resume of the run with its last 1% of records removed (and how long it took to
           send its first request), `report`, a second run against a degraded endpoint, and `compare` of the two;
           and the endpoint's own peak RSS. Not part of `all`. SCALE_TMP names where the runs go (1m: ~3 GB).
           With --references, each example also has a reference of 3-160 words, and the rubric adds `token_f1`
           and `rouge_l` against it: scores nearly all distinct, and held-out texts about 4x larger.

Usage: python3 bench/harness.py [cpu|latency|quota|scale|all] [--quick] [--sizes 10k,100k,1m] [--references]
                                [--binary PATH]
Results are printed as a Markdown table; docs/benchmarks.md quotes them.
"""

import argparse
import collections
import json
import os
import random
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


Phase = collections.namedtuple("Phase", "wall cpu rss exit calls_rss calls_cpu first_request")


def vm_hwm_mib(pid):
    """A live process's peak resident memory so far (VmHWM), in MiB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """A live process's CPU time so far (user + system), in seconds; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_status(run_dir):
    try:
        return json.loads((run_dir / "run.json").read_text()).get("status")
    except (OSError, ValueError):
        return None


def phase(*args, stdout=subprocess.DEVNULL, run_dir=None, server=None):
    """Runs the binary with `args` and measures it: wall seconds, CPU seconds and peak RSS in MiB (rusage from wait4
    on this one child, so each phase is measured on its own), exit status. With `run_dir`, also the peak RSS and the
    CPU time while that run's run.json said `running` (the calls, before `run` writes its reports; polled every
    20 ms); with `server`, the seconds until the endpoint received the first request of this phase."""
    before = server.stats()["total_requests"] if server else None
    start = time.monotonic()
    process = subprocess.Popen([str(BINARY), *map(str, args)], stdout=stdout, stderr=subprocess.DEVNULL,
                               env=clean_env())
    calls_rss = calls_cpu = first_request = None
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if run_dir is not None and run_status(run_dir) == "running":
            calls_rss = vm_hwm_mib(process.pid) or calls_rss
            calls_cpu = cpu_seconds(process.pid) or calls_cpu
        if server is not None and first_request is None and server.stats()["total_requests"] > before:
            first_request = time.monotonic() - start
        time.sleep(0.02)
    wall = time.monotonic() - start
    return Phase(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status),
                 calls_rss, calls_cpu, first_request)


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

    def peak_rss_mib(self):
        """The endpoint's peak resident memory so far (VmHWM), in MiB."""
        return vm_hwm_mib(self.process.pid) or float("nan")

    def stop(self):
        self.process.kill()
        self.process.wait()


def run_harness(suite: Path, url: str, results: Path):
    """Runs the harness; returns (wall seconds, cpu seconds, peak RSS in MiB, exit status)."""
    return phase("run", suite, "--endpoint-url", url, "--results", results, "--run-id", "bench")[:4]


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


SCALE_MODELS = ["amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"]
# Words the --references scale suite draws its references from: some the simulated replies use, some they do not.
REFERENCE_WORDS = (
    "please try restarting the device and check your connection internet working contact us again thank you for "
    "ticket kestrel lock cam hub thermostat doorbell support calibrate reset firmware update wifi router battery "
    "replace settings app account night evening door ring temperature"
).split()
SCALE_PROMPTS = [
    "You are a support agent for Kestrel Home. Reply to the customer's ticket.",
    'You are a support agent for Kestrel Home. Give the fix as numbered steps and sign off with "— Kestrel Support".',
    'You are a support agent for Kestrel Home. Greet the customer ("Hi there,"), give the fix as numbered steps, '
    'and sign off with "— Kestrel Support".',
    'You are a support agent for Kestrel Home. Name the product, give the fix as numbered steps, and never write '
    '"I apologize for any inconvenience".',
    'You are a support agent for Kestrel Home. Greet the customer ("Hi there,"), name the product, give the fix as '
    'numbered steps, and sign off with "— Kestrel Support".',
]


def write_scale_suite(folder: Path, examples: int, configs: int = 5, references: bool = False):
    """A five-config suite of support tickets over `examples` held-out examples, scored by deterministic criteria;
    with `references`, each example's reference is 3-160 seeded random words (with its number) and the rubric also
    scores `token_f1` and `rouge_l` against it, so nearly every reply's list of scores is its own."""
    products = ["Kestrel Lock", "Kestrel Cam", "Kestrel Hub", "Kestrel Thermostat", "Kestrel Doorbell"]
    problems = ["jams halfway when locking at night", "drops off the Wi-Fi every evening",
                "shows the wrong temperature after an update", "does not ring when someone is at the door"]
    rng = random.Random(7)
    with open(folder / "held-out.jsonl", "w") as f:
        for i in range(examples):
            product = products[i % len(products)]
            ticket = f"Ticket {i}: my {product} number {i % 97} {problems[i % len(problems)]}. Thanks, Sam"
            completion = "Calibrate it."
            if references:
                words = [rng.choice(REFERENCE_WORDS) for _ in range(rng.randint(3, 160))] + [str(i), str(i % 97)]
                rng.shuffle(words)
                completion = " ".join(words)
            f.write(json.dumps({"id": f"s{i:07d}", "prompt": ticket, "completion": completion,
                                "products": [product]}) + "\n")
    reference_criteria = """  - id: overlap
    kind: reference
    method: token_f1
  - id: order
    kind: reference
    method: rouge_l
""" if references else ""
    (folder / "rubric.yaml").write_text(
        """pass_threshold: 0.6
criteria:
  - id: names_product
    kind: contains_all
    terms_from: products
    weight: 2
  - id: numbered_steps
    kind: regex
    pattern: '(?m)^1\\. .+\\n2\\. '
  - id: sign_off
    kind: regex
    pattern: '— Kestrel Support\\s*$'
  - id: short
    kind: length
    unit: words
    max: 150
  - id: no_boilerplate
    kind: not_contains
    terms: ["I apologize for any inconvenience", "valued customer"]
    gate: true
""" + reference_criteria
    )
    config_text = "".join(
        f"""  - name: c{c}
    kind: prompt
    model: {SCALE_MODELS[c % len(SCALE_MODELS)]}
    system: {json.dumps(SCALE_PROMPTS[c % len(SCALE_PROMPTS)])}
    inference: {{max_tokens: 300, temperature: 0}}
"""
        for c in range(configs)
    )
    (folder / "suite.yaml").write_text(
        f"""name: scale
dataset:
  held_out: held-out.jsonl
rubric: rubric.yaml
configs:
{config_text}baseline: c0
concurrency: 64
retry: {{max_attempts: 8, base_delay_ms: 200, max_delay_ms: 5000, timeout_ms: 30000}}
"""
    )
    return folder / "suite.yaml"


def size_label(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def parse_size(text):
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def resume_phase(server, suite, results, run_id):
    """Resumes the run with its last 1% of records removed; returns the phase and how many records were removed."""
    records = results / "scale" / run_id / "records.jsonl"
    total, _ = count_lines(records)
    cut = max(1, total // 100)
    keep = total - cut
    # Truncated in place, a line at a time, so the harness's own memory stays flat too.
    with open(records, "r+b") as f:
        for _ in range(keep):
            f.readline()
        f.truncate(f.tell())
    resumed = phase("run", suite, "--endpoint-url", server.url, "--results", results, "--run-id", run_id, "--resume",
                    run_dir=results / "scale" / run_id, server=server)
    return resumed, cut


def scale_row(size, name, outcome, measured):
    return ("scale", f"{size} requests: {name}", outcome, measured)


def measured(result, per_request=None):
    text = ""
    if result.calls_rss is not None:
        text += f"calls: peak RSS {result.calls_rss:.0f} MiB, CPU {result.calls_cpu:.1f} s"
        if per_request:
            text += f" ({result.calls_cpu / per_request * 1e6:.0f} µs per request)"
        text += "; with the reports: "
    text += f"peak RSS {result.rss:.0f} MiB, CPU {result.cpu:.1f} s"
    if per_request and result.calls_rss is None:
        text += f" ({result.cpu / per_request * 1e6:.0f} µs per request)"
    if result.first_request is not None:
        text += f"; first request after {result.first_request:.2f} s"
    return text + f"; wall {result.wall:.1f} s"


def scenario_scale(quick, sizes=None, references=False):
    sizes = sizes or ([10_000] if quick else [10_000, 100_000, 1_000_000])
    rows = []
    for n in sizes:
        configs = 5
        examples = n // configs
        label = size_label(examples * configs) + (", references" if references else "")
        print(f"  scale {label}: {examples} examples x {configs} configs", file=sys.stderr)
        with tempfile.TemporaryDirectory(dir=os.environ.get("SCALE_TMP")) as tmp:
            folder = Path(tmp)
            suite = write_scale_suite(folder, examples, configs, references)
            results = folder / "results"
            base = results / "scale" / "base"
            server = Server("--latency-ms", "0")
            try:
                run = phase("run", suite, "--endpoint-url", server.url, "--results", results, "--run-id", "base",
                            "--concurrency", "64", run_dir=base)
                records, ok = count_lines(base / "records.jsonl")
                rows.append(scale_row(label, "run", f"exit {run.exit}, {ok}/{records} ok", measured(run, n)))
                resumed, cut = resume_phase(server, suite, results, "base")
                rows.append(scale_row(label, f"resume ({cut} requests left)", f"exit {resumed.exit}",
                                      measured(resumed, cut)))
                serve_rss = server.peak_rss_mib()
                answered = server.stats()["total_requests"]
            finally:
                server.stop()
            report = phase("report", base)
            rows.append(scale_row(label, "report", f"exit {report.exit}", measured(report)))
            degraded = Server("--latency-ms", "0", "--degrade", f"{SCALE_MODELS[1]}=0.3")
            try:
                second = phase("run", suite, "--endpoint-url", degraded.url, "--results", results, "--run-id",
                               "new", "--concurrency", "64", run_dir=results / "scale" / "new")
                rows.append(scale_row(label, "second run (degraded endpoint)", f"exit {second.exit}",
                                      measured(second, n)))
            finally:
                degraded.stop()
            compare = phase("compare", base, results / "scale" / "new", "--out", folder)
            rows.append(scale_row(label, "compare", f"exit {compare.exit} (1: a regression found)",
                                  measured(compare)))
            sizes_mib = {name: (base / name).stat().st_size / 2**20
                         for name in ["records.jsonl", "examples.csv", "scores.jsonl", "differences.svg"]
                         if (base / name).exists()}
            rows.append(scale_row(label, "endpoint and files",
                                  f"endpoint answered {answered} calls, peak RSS {serve_rss:.0f} MiB",
                                  "; ".join(f"{k} {v:.1f} MiB" for k, v in sizes_mib.items())))
            print("\n".join("| " + " | ".join(row) + " |" for row in rows[-7:]), file=sys.stderr)
    return rows


def count_lines(records: Path):
    total = ok = 0
    with open(records) as f:
        for line in f:
            total += 1
            ok += '"status":"ok"' in line
    return total, ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", default="all", choices=["cpu", "latency", "quota", "scale", "all"])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke check")
    parser.add_argument("--sizes", help="scale: requests per size, comma-separated (default 10k,100k,1m)")
    parser.add_argument("--references", action="store_true",
                        help="scale: references per example, and token_f1 and rouge_l in the rubric")
    parser.add_argument("--binary", help="measure this binary instead of building target/release/bedrock-eval")
    args = parser.parse_args()
    global BINARY
    if args.binary:
        BINARY = Path(args.binary).resolve()
    else:
        build()
    scenarios = {"cpu": scenario_cpu, "latency": scenario_latency, "quota": scenario_quota}
    if args.scenario == "scale":
        sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else None
        scenarios = {"scale": lambda quick: scenario_scale(quick, sizes, args.references)}
    chosen = scenarios if args.scenario in ("all", "scale") else {args.scenario: scenarios[args.scenario]}
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
