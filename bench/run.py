#!/usr/bin/env python3
"""Whole-process benchmarks of okscript, side by side with the runbook's commands: wall time
(median of N rounds after a warm-up, okscript and its peer alternating round by round) and
peak memory (max RSS, from GNU time), printed as a table with peer/okscript ratios and as
JSON.

    python3 bench/run.py              # builds the release binaries, 30 rounds
    python3 bench/run.py --smoke      # one round each, small N, for CI
    python3 bench/run.py --binary target/debug/okscript --rounds 10 --json bench.json
    python3 bench/run.py --smoke --show-requests   # also print the fake's request logs
    python3 bench/run.py --only verify,fleet-20   # only the cases whose names start so

It starts the local servers itself: one moto (STS, IAM, EKS) and fake Kubernetes API servers
(examples/fake_apiserver.rs, the tests' crate crates/fake-kube-api) that check EKS tokens
against moto and map them through aws-auth, as EKS does; for entries-N, one of them also
serves the fake EKS control plane (access entries, checked against moto's IAM).

Cases (okscript vs its peer):
  empty          `okscript run` of an empty script vs `kubectl version --client` (start-up)
  grant-into-N   one grant_role into an aws-auth manifest file of N entries (N = 100, 1000,
                 5000): read, parse, stage, render, verify, write atomically (no peer)
  mappings-5000  a script reading every mapping of a 5,000-entry manifest (no peer)
  dry-run-5000   one grant into 5,000 entries under --dry-run: the diff is printed (no peer)
  whoami         scripts/whoami.rhai vs `aws sts get-caller-identity`, against moto
  verify         scripts/verify.rhai (AWS identity, cluster identity, can list pods, pods)
                 vs `aws sts get-caller-identity` + `kubectl get pods` through a kubeconfig
                 whose user runs the `aws eks get-token` exec plugin
  grant-N        one script granting N roles in the cluster's aws-auth (N = 1, 50, 500;
                 smoke: 1, 5) vs N rounds of the eksctl-style shell loop: `kubectl get cm
                 aws-auth -o jsonpath={.data.mapRoles}` then `kubectl patch --type merge`
                 appending one entry (static-token kubeconfig); aws-auth is reset between
                 runs, and the API requests of each side come from the fake's request log
  entries-N      the same N principals on a cluster in authenticationMode API (access
                 entries), each with its groups, username and the View access policy: one
                 script (grant_role + grant_policy per principal) vs N x (`aws eks
                 create-access-entry` + `aws eks associate-access-policy`) (N = 50; smoke:
                 5). The cluster is seeded again between runs with one ClusterAdmin entry
                 for the caller; the EKS calls of each side come from the fake's log
  fleet-N        one grant on N clusters (N = 20; smoke: 3) whose authenticationModes take
                 turns (CONFIG_MAP, API_AND_CONFIG_MAP, API), each with its own apiserver:
                 one fleet run (`--cluster` N times, --parallel 8) vs N sequential
                 `okscript run --cluster NAME` processes

A peer that is not installed gets a row saying so; the rest still runs. A peer made of
several processes counts the sum of their wall times and the largest of their peaks. Wall
time includes GNU time's own fork and exec (about 1 ms per process). grant-N with N >= 50
runs at most 5 rounds after one warm-up (500 kubectl round trips take about a minute).
Connected with --cluster, okscript also looks each granted role up in IAM (moto) to warn
about typos; those calls are in its time but not in the apiserver request counts.
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
ACCOUNT = "123456789012"
REGION = "eu-west-1"
CLUSTER = "bench-cluster"
ADMIN_TOKEN = "bench-static-admin"


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
SHOW_REQUESTS = False  # --show-requests: print the fake's request log of each last round
ONLY = None  # --only: the case name prefixes to run (None: all)


def wanted(case):
    """Whether --only selects `case`."""
    return ONLY is None or any(case.startswith(p) for p in ONLY)


class Failed(Exception):
    """A measured command exited non-zero or printed something unexpected."""


def timed(cmd, env=None, capture=False):
    """Runs cmd once; returns (seconds, peak RSS in KiB or None, stdout text or None).

    Peak memory comes from GNU time (`/usr/bin/time -f %M`): a child that Python spawns
    itself would report Python's own RSS as its peak (exec keeps the old high-water mark)."""
    with tempfile.NamedTemporaryFile(mode="r") as rss:
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME else list(cmd)
        start = time.perf_counter()
        proc = subprocess.run(
            full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            out = proc.stdout.decode(errors="replace") if capture else ""
            raise Failed(f"{' '.join(cmd)[:300]} exited {proc.returncode}:\n{out}{proc.stderr.decode(errors='replace')}")
        lines = rss.read().strip().splitlines() if GNU_TIME else []
        kib = int(lines[-1]) if lines and lines[-1].isdigit() else None
    return elapsed, kib, (proc.stdout.decode(errors="replace") if capture else None)


def measure(cmd, setup=None, rounds=30, warmup=3, env=None):
    """Runs cmd `warmup + rounds` times; returns (median seconds, max RSS in MiB or None)."""
    times, peaks = [], []
    for i in range(warmup + rounds):
        if setup:
            setup()
        try:
            elapsed, kib, _ = timed(cmd, env=env)
        except Failed as e:
            sys.exit(str(e))
        if i >= warmup:
            times.append(elapsed)
            if kib is not None:
                peaks.append(kib / 1024)
    return statistics.median(times), (max(peaks) if peaks else None)


class Side:
    """One side of a pair: what it runs, or why it is absent.

    `run()` does one timed round and returns (seconds, peak KiB or None); `check(outputs)`
    may raise Failed when the round did not do what it should."""

    def __init__(self, what, run=None, absent=None):
        self.what, self.run, self.absent = what, run, absent


def steps(cmds, env, check=None):
    """A round made of processes run one after the other: the sum of their wall times, the
    largest of their peaks; `check` gets their outputs."""

    def run():
        total, peak, outs = 0.0, None, []
        for cmd in cmds:
            t, kib, out = timed(cmd, env=env, capture=True)
            total += t
            outs.append(out)
            if kib is not None:
                peak = kib if peak is None else max(peak, kib)
        if check:
            check(outs)
        return total, peak

    return run


def expect(*needles):
    """A check that the joined outputs contain every needle."""

    def check(outs):
        text = "\n".join(outs)
        missing = [n for n in needles if n not in text]
        if missing:
            raise Failed(f"output lacks {missing}:\n{text[-2000:]}")

    return check


def run_pair(case, ok, peer, rounds, warmup, fake=None, reset=None, after=None):
    """Alternates the two sides round by round (okscript first), warm-up rounds first.

    With `fake`, the request log is cleared before each run and read after it; `reset`
    runs (untimed) before each run, `after(side_name)` (untimed) after it. Returns rows."""
    if not wanted(case):
        return []
    samples = {"okscript": ([], [], None), "peer": ([], [], None)}
    errors = {}
    sides = [("okscript", ok), ("peer", peer)]
    for i in range(warmup + rounds):
        for name, side in sides:
            if side.absent or name in errors:
                continue
            try:
                if reset:
                    reset()
                if fake:
                    fake.command("clear")
                t, kib = side.run()
                requests = fake.command("requests") if fake else None
                if fake and SHOW_REQUESTS and i == warmup + rounds - 1:
                    log = fake.command("log")["requests"]
                    print(f"== {case} {name}: {len(log)} requests", file=sys.stderr)
                    for line in log[:12]:
                        print(f"   {line}", file=sys.stderr)
                    if len(log) > 12:
                        print(f"   ... {len(log) - 12} more", file=sys.stderr)
                if after:
                    after(name)
            except Failed as e:
                errors[name] = str(e)
                continue
            if i >= warmup:
                times, peaks, _ = samples[name]
                times.append(t)
                peaks.append(kib)
                samples[name] = (times, peaks, requests)
    rows = []
    for name, side in sides:
        row = {"case": case, "side": name, "what": side.what, "rounds": rounds}
        times, peaks, requests = samples[name]
        if side.absent:
            row["absent"] = side.absent
        elif name in errors:
            row["failed"] = errors[name]
        else:
            row["median_ms"] = round(statistics.median(times) * 1000, 3)
            known = [p for p in peaks if p is not None]
            row["peak_mib"] = round(max(known) / 1024, 2) if known and len(known) == len(peaks) else None
            if requests is not None:
                row["requests"] = requests
        rows.append(row)
    return rows


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
        for _ in range(400):
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return self
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.__exit__()
        raise SystemExit("moto did not start: pip install 'moto[server]'")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()


class FakeApiServer:
    """examples/fake_apiserver.rs: started with moto as its STS, driven through its stdin."""

    def __init__(self, binary, moto_url, key, secret, admin_arn, work, cluster=CLUSTER, eks_mode=None, fleet=0):
        self.binary = binary
        self.ready = os.path.join(work, f"{cluster}-ready.json")
        self.kubeconfig = os.path.join(work, f"{cluster}-static.kubeconfig")
        self.args = [
            binary, "--cluster", cluster, "--sts", moto_url,
            "--access-key-id", key, "--secret", secret,
            "--admin-token", ADMIN_TOKEN, "--admin-arn", admin_arn,
            "--ready-file", self.ready, "--kubeconfig-out", self.kubeconfig,
        ]
        if eks_mode:
            self.args += ["--eks-mode", eks_mode, "--region", REGION]
        if fleet:
            self.args += ["--fleet", str(fleet)]
        self.stderr = tempfile.TemporaryFile()

    def __enter__(self):
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stderr.seek(0)
                why = self.stderr.read().decode()
                self.__exit__()
                raise SystemExit(f"the fake apiserver did not start:\n{why}")
            time.sleep(0.02)
        with open(self.ready) as f:
            ready = json.load(f)
        self.url, self.ca_file, self.eks_url = ready["url"], ready["ca_file"], ready.get("eks_url")
        self.fleet = ready.get("fleet") or []
        return self

    def command(self, line):
        """One line of the stdin protocol; returns its JSON answer."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise SystemExit(f"the fake apiserver exited (code {self.proc.poll()})")
        return json.loads(answer)

    def __exit__(self, *exc):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()  # the fake stops when its stdin closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
        self.stderr.close()


def resolve(name, override):
    """The peer program: --aws/--kubectl, else PATH. A pyenv shim is resolved to the real
    program (the shim is a bash script that costs tens of ms per call)."""
    path = override or shutil.which(name)
    if path and os.sep + "shims" + os.sep in path and shutil.which("pyenv"):
        real = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
        if real.returncode == 0 and real.stdout.strip():
            path = real.stdout.strip()
    return path


def version_of(cmd):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr).strip() else None


def fake_apiserver_binary(args):
    """--fake-apiserver, else the example built by cargo (debug in smoke mode)."""
    if args.fake_apiserver:
        return args.fake_apiserver
    if args.smoke:
        path = os.path.join(ROOT, "target", "debug", "examples", "fake_apiserver")
        if not os.path.exists(path):  # `cargo test --all-targets` builds it; else build it here
            subprocess.run(["cargo", "build", "--quiet", "--example", "fake_apiserver"], cwd=ROOT, check=True)
        return path
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "fake_apiserver"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "examples", "fake_apiserver")


def kubeconfig_exec(path, url, ca_file, aws):
    """A kubeconfig whose user runs `aws eks get-token`, as `aws eks update-kubeconfig` writes."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER, "cluster": {"server": url, "certificate-authority": ca_file}}],
        "users": [{"name": CLUSTER, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": aws,
            "args": ["--region", REGION, "eks", "get-token", "--cluster-name", CLUSTER],
            "interactiveMode": "Never",
        }}}],
        "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": CLUSTER}}],
        "current-context": CLUSTER,
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def empty_rows(binary, kubectl, empty, rounds, warmup, home):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home}
    ok = Side("okscript run empty.rhai", steps([[binary, "run", empty]], env))
    peer = (Side("kubectl version --client", steps([[kubectl, "version", "--client"]], env))
            if kubectl else Side("kubectl version --client", absent="kubectl not installed: peer not measured"))
    return run_pair("empty", ok, peer, rounds, warmup)


def file_grant_rows(binary, work, rounds, warmup):
    grant = os.path.join(work, "grant.rhai")
    with open(grant, "w") as f:
        f.write('grant_role("arn:aws:iam::123456789012:role/new-team", ["new-team"]);\n')
    rows = []
    for n in (100, 1000, 5000):
        if not wanted(f"grant-into-{n}"):
            continue
        text = manifest(n)
        path = os.path.join(work, f"aws-auth-{n}.yaml")

        def reset(path=path, text=text):
            with open(path, "w") as f:
                f.write(text)

        t, m = measure([binary, "run", grant, "--target", f"file:{path}"], setup=reset, rounds=rounds, warmup=warmup)
        rows.append({"case": f"grant-into-{n}", "side": "okscript", "rounds": rounds,
                     "what": f"one grant into {n} entries ({len(text) // 1024} KiB)",
                     "median_ms": round(t * 1000, 3), "peak_mib": None if m is None else round(m, 2)})
        rows.append({"case": f"grant-into-{n}", "side": "peer", "what": "(no peer: okscript alone)", "rounds": rounds,
                     "absent": "no peer for a file target"})
    # Reading alone (every mapping through the script API) and a dry run (the diff) at 5,000.
    read = os.path.join(work, "read.rhai")
    with open(read, "w") as f:
        f.write('let n = 0;\nfor m in mappings() { n += m.groups.len(); }\nprint(n);\n')
    text = manifest(5000)
    path = os.path.join(work, "aws-auth-5000.yaml")
    with open(path, "w") as f:
        f.write(text)
    for case, what, cmd in [
        ("mappings-5000", "`for m in mappings()` over 5000 entries",
         [binary, "run", read, "--target", f"file:{path}"]),
        ("dry-run-5000", "one grant into 5000 entries with --dry-run (diff printed)",
         [binary, "run", grant, "--dry-run", "--target", f"file:{path}"]),
    ]:
        if not wanted(case):
            continue
        t, m = measure(cmd, rounds=rounds, warmup=warmup)
        rows.append({"case": case, "side": "okscript", "rounds": rounds, "what": what,
                     "median_ms": round(t * 1000, 3), "peak_mib": None if m is None else round(m, 2)})
        rows.append({"case": case, "side": "peer", "what": "(no peer: okscript alone)", "rounds": rounds,
                     "absent": "no peer for a file target"})
    return rows


def cluster_rows(args, binary, aws, kubectl, rounds, warmup, work):
    """whoami, verify and grant-N against one moto and one fake apiserver."""
    try:
        import boto3
    except ImportError:
        reason = "needs boto3 and moto (pip install 'moto[server]')"
        return [{"case": c, "side": s, "what": "", "rounds": 0, "absent": reason}
                for c in ["whoami", "verify"] + [f"grant-{n}" for n in grant_sizes(args)]
                + [f"entries-{5 if args.smoke else 50}", f"fleet-{3 if args.smoke else 20}"]
                for s in ("okscript", "peer")]
    fake_binary = fake_apiserver_binary(args)
    rows = []
    with Moto() as moto:
        admin = dict(endpoint_url=moto.url, region_name=REGION,
                     aws_access_key_id="testing", aws_secret_access_key="testing")
        iam = boto3.client("iam", **admin)
        user = iam.create_user(UserName="bench")["User"]
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        boto3.client("eks", **admin).create_cluster(
            name=CLUSTER,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
            resourcesVpcConfig={"subnetIds": ["subnet-1"]},
            version="1.31",
        )
        home = os.path.join(work, "home")
        os.makedirs(home, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "OKSCRIPT_AWS_CREDENTIALS_TYPE": "access-key",
            "OKSCRIPT_BACKUP_DIR": os.path.join(work, "backups"),
        }

        # whoami: AWS only.
        ok = Side("okscript run scripts/whoami.rhai (moto)", steps(
            [[binary, "run", os.path.join(ROOT, "scripts", "whoami.rhai"), "-a", "access-key"]], env,
            expect(user["Arn"])))
        peer = (Side("aws sts get-caller-identity (moto)",
                     steps([[aws, "sts", "get-caller-identity"]], env, expect(user["Arn"])))
                if aws else Side("aws sts get-caller-identity", absent="aws CLI not installed: peer not measured"))
        rows += run_pair("whoami", ok, peer, rounds, warmup)

        with FakeApiServer(fake_binary, moto.url, key["AccessKeyId"], key["SecretAccessKey"], user["Arn"], work) as fake:
            connect = ["--cluster", CLUSTER, "--server", fake.url, "--certificate-authority", fake.ca_file]
            if kubectl:
                # kubectl keeps discovery in ~/.kube/cache, as on an admin's machine: fill it
                # once, untimed, so smoke runs (no warm-up) count the same requests as full ones.
                try:
                    timed([kubectl, "--kubeconfig", fake.kubeconfig, "get", "cm", "aws-auth", "-n", "kube-system"], env=env)
                except Failed as e:
                    print(f"warning: priming kubectl's discovery cache failed: {e}", file=sys.stderr)

            # verify: AWS identity, cluster identity, can list pods, the pods.
            ok = Side("okscript run scripts/verify.rhai", steps(
                [[binary, "run", os.path.join(ROOT, "scripts", "verify.rhai"), *connect, "-a", "access-key"]], env,
                expect("web-1", "you have access as bench with groups system:masters")))
            what = "aws sts get-caller-identity + kubectl get pods (aws eks get-token)"
            if aws and kubectl:
                exec_config = os.path.join(work, "exec.kubeconfig")
                kubeconfig_exec(exec_config, fake.url, fake.ca_file, aws)
                peer = Side(what, steps(
                    [[aws, "sts", "get-caller-identity"], [kubectl, "--kubeconfig", exec_config, "get", "pods"]],
                    env, expect(user["Arn"], "web-1")))
            else:
                missing = " and ".join(p for p, path in (("aws CLI", aws), ("kubectl", kubectl)) if not path)
                peer = Side(what, absent=f"{missing} not installed: peer not measured")
            rows += run_pair("verify", ok, peer, rounds, warmup, fake=fake)

            # grant-N: one script vs N get+patch round trips of kubectl.
            for n in grant_sizes(args):
                script = os.path.join(work, f"grant-{n}.rhai")
                with open(script, "w") as f:
                    f.write(f"for i in 0..{n} {{ grant_role(`arn:aws:iam::{ACCOUNT}:role/team-${{i}}`, "
                            f"[`team-${{i}}`], `team-${{i}}`); }}\n")
                ok = Side(f"okscript run grant-{n}.rhai --target cluster",
                          steps([[binary, "run", script, "--target", "cluster", *connect]], env,
                                expect(f"{n} added")))
                what = f"{n} x (kubectl get cm aws-auth + kubectl patch --type merge)"
                peer = Side(what, patch_loop(kubectl, fake.kubeconfig, n, env)) if kubectl else \
                    Side(what, absent="kubectl not installed: peer not measured")

                def check_entries(_side, n=n):
                    roles = fake.command("aws-auth")["data"]["mapRoles"]
                    if roles.count("rolearn:") != n + 1:
                        raise Failed(f"aws-auth has {roles.count('rolearn:')} roles, expected {n + 1}:\n{roles[-2000:]}")

                r, w = (rounds, warmup) if n < 50 else (min(rounds, 5), min(warmup, 1))
                rows += run_pair(f"grant-{n}", ok, peer, r, w, fake=fake,
                                 reset=lambda: fake.command("reset"), after=check_entries)

        rows += entries_rows(args, binary, aws, rounds, warmup, work, env, admin, iam, user, key, fake_binary, moto)
        rows += fleet_rows(args, binary, rounds, warmup, work, env, admin, iam, user, key, fake_binary, moto)
    return rows


def fleet_rows(args, binary, rounds, warmup, work, env, admin, iam, user, key, fake_binary, moto):
    """fleet-N: one grant on N clusters in turns of the three modes, as one fleet run or N runs."""
    import boto3

    n = 3 if args.smoke else 20
    if not wanted(f"fleet-{n}"):
        return []
    role = iam.create_role(RoleName="fleet-team", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    with FakeApiServer(fake_binary, moto.url, key["AccessKeyId"], key["SecretAccessKey"], user["Arn"], work,
                       cluster="bench-fleet", eks_mode="CONFIG_MAP", fleet=n) as fake:
        eks = boto3.client("eks", **{**admin, "endpoint_url": fake.eks_url})
        env = {**env, "AWS_ENDPOINT_URL_EKS": fake.eks_url}
        names = [c["name"] for c in fake.fleet]

        def reset():
            # Fresh clusters; on API ones the caller's cluster-admin entry, as the creator's.
            fake.command("reset")
            for c in fake.fleet:
                if c["mode"] == "API":
                    eks.create_access_entry(clusterName=c["name"], principalArn=user["Arn"])
                    eks.associate_access_policy(
                        clusterName=c["name"], principalArn=user["Arn"],
                        policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                        accessScope={"type": "cluster"})

        script = os.path.join(work, "fleet.rhai")
        with open(script, "w") as f:
            f.write(f'grant_role("{role}", ["fleet-team"]);\n')
        clusters = [a for name in names for a in ("--cluster", name)]
        ok = Side(f"okscript run fleet.rhai --cluster x{n} --parallel 8",
                  steps([[binary, "run", script, *clusters, "--parallel", "8"]], env,
                        expect(f"{n} succeeded")))
        peer = Side(f"{n} x okscript run fleet.rhai --cluster NAME (one after another)",
                    steps([[binary, "run", script, "--cluster", name] for name in names], env,
                          expect("1 added")))
        r, w = (rounds, warmup) if args.smoke else (min(rounds, 3), min(warmup, 1))
        return run_pair(f"fleet-{n}", ok, peer, r, w, fake=fake, reset=reset)


def entries_rows(args, binary, aws, rounds, warmup, work, env, admin, iam, user, key, fake_binary, moto):
    """entries-N: N principals with groups, username and the View policy on an API-mode cluster."""
    import boto3

    cluster = "bench-entries"
    n = 5 if args.smoke else 50
    if not wanted(f"entries-{n}"):
        return []
    arns = [iam.create_role(RoleName=f"entries-team-{i}", Path="/teams/",
                            AssumeRolePolicyDocument="{}")["Role"]["Arn"] for i in range(n)]
    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    with FakeApiServer(fake_binary, moto.url, key["AccessKeyId"], key["SecretAccessKey"], user["Arn"], work,
                       cluster=cluster, eks_mode="API") as fake:
        eks = boto3.client("eks", **{**admin, "endpoint_url": fake.eks_url})
        env = {**env, "AWS_ENDPOINT_URL_EKS": fake.eks_url}

        def reset():
            # A fresh cluster whose only entry makes the caller a cluster admin, as the
            # cluster creator's entry does.
            fake.command("reset")
            eks.create_access_entry(clusterName=cluster, principalArn=user["Arn"])
            eks.associate_access_policy(
                clusterName=cluster, principalArn=user["Arn"],
                policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                accessScope={"type": "cluster"})

        script = os.path.join(work, f"entries-{n}.rhai")
        with open(script, "w") as f:
            # The path-less form, as people copy it from aws-auth; okscript finds the path in IAM.
            f.write(f"for i in 0..{n} {{\n"
                    f"    let arn = `arn:aws:iam::{ACCOUNT}:role/entries-team-${{i}}`;\n"
                    f"    grant_role(arn, [`team-${{i}}`], `team-${{i}}`);\n"
                    f"    grant_policy(arn, \"View\", \"cluster\");\n"
                    f"}}\n")
        ok = Side(f"okscript run entries-{n}.rhai --cluster (access entries)",
                  steps([[binary, "run", script, "--cluster", cluster]], env, expect(f"{n} added")))
        what = f"{n} x (aws eks create-access-entry + associate-access-policy)"
        if aws:
            cmds = []
            for i, arn in enumerate(arns):
                base = [aws, "eks", "--region", REGION]
                cmds.append([*base, "create-access-entry", "--cluster-name", cluster, "--principal-arn", arn,
                             "--kubernetes-groups", f"team-{i}", "--username", f"team-{i}"])
                cmds.append([*base, "associate-access-policy", "--cluster-name", cluster, "--principal-arn", arn,
                             "--policy-arn", view, "--access-scope", "type=cluster"])
            peer = Side(what, steps(cmds, env))
        else:
            peer = Side(what, absent="aws CLI not installed: peer not measured")

        def check_entries(_side):
            entries = eks.list_access_entries(clusterName=cluster)["accessEntries"]
            views = sum(1 for arn in arns if any(
                p["policyArn"] == view for p in
                eks.list_associated_access_policies(clusterName=cluster, principalArn=arn)["associatedAccessPolicies"]))
            if len(entries) != n + 1 or views != n:
                raise Failed(f"{len(entries)} entries and {views} View associations, expected {n + 1} and {n}")

        r, w = (rounds, warmup) if n < 50 else (min(rounds, 5), min(warmup, 1))
        return run_pair(f"entries-{n}", ok, peer, r, w, fake=fake, reset=reset, after=check_entries)


def patch_loop(kubectl, kubeconfig, n, env):
    """The eksctl-style loop, one principal per iteration: read mapRoles, append, patch."""
    base = [kubectl, "--kubeconfig", kubeconfig, "-n", "kube-system"]

    def run():
        total, peak = 0.0, None
        for i in range(n):
            t, kib, roles = timed([*base, "get", "cm", "aws-auth", "-o", "jsonpath={.data.mapRoles}"],
                                  env=env, capture=True)
            total += t
            peak = kib if peak is None or (kib is not None and kib > peak) else peak
            if roles and not roles.endswith("\n"):
                roles += "\n"
            roles += (f"- groups:\n  - team-{i}\n  rolearn: arn:aws:iam::{ACCOUNT}:role/team-{i}\n"
                      f"  username: team-{i}\n")
            patch = json.dumps({"data": {"mapRoles": roles}})
            t, kib, _ = timed([*base, "patch", "configmap", "aws-auth", "--type", "merge", "-p", patch], env=env)
            total += t
            peak = kib if peak is None or (kib is not None and kib > peak) else peak
        return total, peak

    return run


def grant_sizes(args):
    return (1, 5) if args.smoke else (1, 50, 500)


def fmt_requests(req):
    if not req:
        return ""
    if req.get("eks") and req["eks"]["total"]:
        e = req["eks"]
        writes = sum(v for k, v in e["operations"].items() if not k.startswith(("List", "Describe")))
        failed = f" [{e['failed']} failed]" if e.get("failed") else ""
        return f"{e['total']} EKS ({writes} writes) + {req['total']} apiserver{failed}"
    a = req["aws_auth"]
    failed = f" [{req['failed']} failed]" if req.get("failed") else ""
    return f"{req['total']} ({a['GET']}/{a['PUT']}/{a['PATCH']}){failed}"


def print_table(rows, ratios):
    print(f"{'case':<15} {'side':<8} {'command':<64} {'median ms':>10} {'peak MiB':>9} {'rounds':>6}  {'API requests (aws-auth GET/PUT/PATCH)'}")
    for row in rows:
        ms = f"{row['median_ms']:>10.2f}" if row.get("median_ms") is not None else f"{'n/a':>10}"
        peak = f"{row['peak_mib']:>9.1f}" if row.get("peak_mib") is not None else f"{'n/a':>9}"
        what = row["what"] if len(row["what"]) <= 64 else row["what"][:61] + "..."
        line = f"{row['case']:<15} {row['side']:<8} {what:<64} {ms} {peak} {row['rounds']:>6}  {fmt_requests(row.get('requests'))}"
        if row.get("absent") and row["side"] == "peer" and row["case"].startswith("grant-into"):
            continue
        if row.get("absent"):
            line = f"{row['case']:<15} {row['side']:<8} {what:<64} {row['absent']}"
        if row.get("failed"):
            line = f"{row['case']:<15} {row['side']:<8} {what:<64} FAILED: {row['failed'].splitlines()[0]}"
        print(line.rstrip())
        if row["side"] == "peer" and row["case"] in ratios:
            r = ratios[row["case"]]
            mem = f"{r['memory']:.1f}x" if r.get("memory") else "n/a"
            print(f"{row['case']:<15} {'ratio':<8} {'peer / okscript':<64} {r['time']:>9.1f}x {mem:>9}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", help="okscript binary (default: build target/release/okscript)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--smoke", action="store_true", help="one round, no warm-up, small N (CI)")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--no-aws", action="store_true", help="skip the cases that need moto (whoami, verify, grant-N)")
    ap.add_argument("--fake-apiserver", metavar="PATH",
                    help="the fake apiserver (default: build examples/fake_apiserver.rs; "
                         "smoke: target/debug/examples/fake_apiserver)")
    ap.add_argument("--kubectl", metavar="PATH", help="the kubectl to compare with (default: PATH)")
    ap.add_argument("--aws", metavar="PATH", help="the AWS CLI to compare with (default: PATH)")
    ap.add_argument("--only", metavar="CASES",
                    help="comma-separated case name prefixes to run (e.g. verify,grant-into-5000,fleet)")
    ap.add_argument("--show-requests", action="store_true",
                    help="print the fake apiserver's request log of each side's last round (stderr)")
    args = ap.parse_args()
    global SHOW_REQUESTS, ONLY
    SHOW_REQUESTS = args.show_requests
    ONLY = args.only.split(",") if args.only else None
    binary = args.binary
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "okscript")
    binary = os.path.abspath(binary)
    rounds, warmup = (1, 0) if args.smoke else (args.rounds, 3)
    kubectl = resolve("kubectl", args.kubectl)
    aws = resolve("aws", args.aws)
    kubectl_version = kubectl and version_of([kubectl, "version", "--client"])
    aws_version = aws and version_of([aws, "--version"])
    notes = []
    if kubectl_version and "dispatcher" in kubectl_version:
        notes.append(f"{kubectl} is gcloud's kubectl version dispatcher: each call also asks the server's "
                     "/version and runs a versioned kubectl; --kubectl PATH compares with a plain kubectl")
    if aws and args.aws is None and aws != shutil.which("aws"):
        notes.append(f"aws: the pyenv shim on PATH resolved to {aws}")

    work = tempfile.mkdtemp(prefix="okscript-bench-")
    try:
        empty = os.path.join(work, "empty.rhai")
        open(empty, "w").close()
        home = os.path.join(work, "home")
        os.makedirs(home)
        rows = empty_rows(binary, kubectl, empty, rounds, warmup, home)
        rows += file_grant_rows(binary, work, rounds, warmup)
        if not args.no_aws:
            rows += cluster_rows(args, binary, aws, kubectl, rounds, warmup, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratios = {}
    for case in dict.fromkeys(r["case"] for r in rows):
        ok = next((r for r in rows if r["case"] == case and r["side"] == "okscript"), None)
        peer = next((r for r in rows if r["case"] == case and r["side"] == "peer"), None)
        if ok and peer and ok.get("median_ms") and peer.get("median_ms"):
            ratios[case] = {"time": round(peer["median_ms"] / ok["median_ms"], 2),
                            "memory": round(peer["peak_mib"] / ok["peak_mib"], 2)
                            if ok.get("peak_mib") and peer.get("peak_mib") else None}
    print_table(rows, ratios)
    for note in notes:
        print(f"note: {note}")
    if GNU_TIME is None:
        print("peak memory needs GNU time (/usr/bin/time; Debian package `time`)")
    result = {
        "binary": binary,
        "smoke": args.smoke,
        "rounds": rounds,
        "warmup": warmup,
        "peers": {
            "kubectl": kubectl and {"path": kubectl, "version": kubectl_version},
            "aws": aws and {"path": aws, "version": aws_version},
        },
        "notes": notes,
        "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())},
        "cases": rows,
        "ratios": ratios,
    }
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    failed = [f"{r['case']}/{r['side']}" for r in rows if r.get("failed")]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
