#!/usr/bin/env python3
"""Whole-process benchmarks of okscript: wall time (median of N runs after a warm-up) and
peak memory (max RSS of each run, read with wait4), printed as a table and as JSON.

    python3 bench/run.py              # builds the release binary, 30 rounds
    python3 bench/run.py --smoke      # one round each, for CI
    python3 bench/run.py --binary target/debug/okscript --rounds 10

Cases:
  empty          `okscript run` of an empty script (process start-up, engine set-up)
  grant-N        one grant_role into an aws-auth manifest of N entries (N = 100, 1000, 5000),
                 the whole process: read, parse, stage, render, verify, write atomically
  whoami         scripts/whoami.rhai against a local moto server, side by side (alternating)
                 with the runbook's `aws sts get-caller-identity` against the same server

Wall time includes GNU time's own fork and exec (about 1 ms) when it measures memory.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def manifest(entries: int) -> str:
    lines = [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: aws-auth",
        "  namespace: kube-system",
        "data:",
        "  mapRoles: |",
        "    - rolearn: arn:aws:iam::123456789012:role/eksctl-nodegroup-NodeInstanceRole-1",
        "      username: system:node:{{EC2PrivateDNSName}}",
        "      groups:",
        "      - system:bootstrappers",
        "      - system:nodes",
    ]
    for i in range(entries - 1):
        lines += [
            f"    - rolearn: arn:aws:iam::123456789012:role/team-{i:05d}-developers",
            f"      username: team-{i:05d}:{{{{SessionName}}}}",
            "      groups:",
            f"      - team-{i:05d}",
            "      - viewers",
        ]
    return "\n".join(lines) + "\n"


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def measure(cmd, setup=None, rounds=30, warmup=3, env=None):
    """Runs cmd `warmup + rounds` times; returns (median seconds, max RSS in MiB or None).

    Peak memory comes from GNU time (`/usr/bin/time -f %M`): a child that Python spawns
    itself would report Python's own RSS as its peak (exec keeps the old high-water mark)."""
    times, peaks = [], []
    for i in range(warmup + rounds):
        if setup:
            setup()
        with tempfile.NamedTemporaryFile(mode="r") as rss:
            full = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME else cmd
            start = time.perf_counter()
            proc = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.decode()}")
            kib = rss.read().strip().splitlines()[-1] if GNU_TIME else ""
        if i >= warmup:
            times.append(elapsed)
            if kib.isdigit():
                peaks.append(int(kib) / 1024)
    return statistics.median(times), (max(peaks) if peaks else None)


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Moto:
    """A moto server on a free loopback port, stopped on exit."""

    def __enter__(self):
        import urllib.request

        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return self
            except Exception:
                time.sleep(0.05)
        raise SystemExit("moto did not start: pip install 'moto[server]'")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()


def whoami_rows(binary, rounds, warmup):
    """okscript whoami.rhai vs `aws sts get-caller-identity`, alternating, against moto."""
    rows = []
    try:
        import boto3
    except ImportError:
        return [("whoami", "needs boto3 (pip install 'moto[server]')", None, None)]
    with Moto() as moto:
        iam = boto3.client("iam", endpoint_url=moto.url, region_name="eu-west-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        iam.create_user(UserName="bench")
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        home = tempfile.mkdtemp(prefix="okscript-bench-home-")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        ok_cmd = [binary, "run", os.path.join(ROOT, "scripts", "whoami.rhai"), "-a", "access-key"]
        aws = shutil.which("aws")
        aws_cmd = [aws, "sts", "get-caller-identity", "--endpoint-url", moto.url] if aws else None
        ok_t, ok_m, aws_t, aws_m = [], [], [], []
        # Alternate the two, one round each at a time, so drift hits both alike.
        for i in range(warmup + rounds):
            t, m = measure(ok_cmd, rounds=1, warmup=0, env=env)
            if i >= warmup:
                ok_t.append(t)
                ok_m.append(m)
            if aws_cmd:
                t, m = measure(aws_cmd, rounds=1, warmup=0, env=env)
                if i >= warmup:
                    aws_t.append(t)
                    aws_m.append(m)
        shutil.rmtree(home)
        peak = lambda ms: max(ms) if all(x is not None for x in ms) else None
        rows.append(("whoami", "okscript run scripts/whoami.rhai (moto)", statistics.median(ok_t), peak(ok_m)))
        if aws_cmd:
            rows.append(("aws-whoami", "aws sts get-caller-identity (moto)", statistics.median(aws_t), peak(aws_m)))
        else:
            rows.append(("aws-whoami", "aws CLI not installed: peer not measured", None, None))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", help="okscript binary (default: build target/release/okscript)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--smoke", action="store_true", help="one round, no warm-up (CI)")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--no-aws", action="store_true", help="skip the cases that need moto")
    args = ap.parse_args()
    binary = args.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "okscript")
    rounds, warmup = (1, 0) if args.smoke else (args.rounds, 3)

    work = tempfile.mkdtemp(prefix="okscript-bench-")
    try:
        empty = os.path.join(work, "empty.rhai")
        open(empty, "w").close()
        grant = os.path.join(work, "grant.rhai")
        with open(grant, "w") as f:
            f.write('grant_role("arn:aws:iam::123456789012:role/new-team", ["new-team"]);\n')
        rows = []
        t, m = measure([binary, "run", empty], rounds=rounds, warmup=warmup)
        rows.append(("empty", "okscript run empty.rhai", t, m))
        for n in (100, 1000, 5000):
            text = manifest(n)
            path = os.path.join(work, f"aws-auth-{n}.yaml")

            def reset(path=path, text=text):
                with open(path, "w") as f:
                    f.write(text)

            t, m = measure([binary, "run", grant, "--target", f"file:{path}"], setup=reset, rounds=rounds, warmup=warmup)
            rows.append((f"grant-{n}", f"one grant into {n} entries ({len(text) // 1024} KiB)", t, m))
    finally:
        shutil.rmtree(work)
    if not args.no_aws:
        rows += whoami_rows(binary, rounds, warmup)

    print(f"{'case':<12} {'what':<42} {'median ms':>10} {'peak MiB':>9}")
    for name, what, t, m in rows:
        peak = f"{m:>9.1f}" if m is not None else f"{'n/a':>9}"
        ms = f"{t * 1000:>10.2f}" if t is not None else f"{'n/a':>10}"
        print(f"{name:<12} {what:<42} {ms} {peak}")
    times = {name: t for name, _, t, _ in rows}
    if times.get("whoami") and times.get("aws-whoami"):
        print(f"whoami: okscript is {times['aws-whoami'] / times['whoami']:.1f}x faster than the AWS CLI")
    if GNU_TIME is None:
        print("peak memory needs GNU time (/usr/bin/time; Debian package `time`)")
    result = {
        "binary": binary,
        "rounds": rounds,
        "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())},
        "cases": [{"case": n, "what": w, "median_ms": None if t is None else round(t * 1000, 3), "peak_mib": None if m is None else round(m, 2)} for n, w, t, m in rows],
    }
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
