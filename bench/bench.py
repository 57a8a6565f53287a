#!/usr/bin/env python3
"""The secstat benchmark driver (bench/run.sh builds, then calls this).

Starts every server of a comparison in the same run (secstatd, the gRPC
C++ baseline, the raw nng echo ceiling), drives them with the load
generators in interleaved rounds, and writes results.json, results.md
(every table of docs/performance.md), the gnuplot charts and one summary
line per comparison on stdout. With --update-docs it rewrites the marked
blocks of docs/performance.md and the charts under docs/perf/.

Every server it starts is its own child, stopped by pid on exit.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

METHODS = ["IPsecGetStatistics1", "IkeextGetStatistics1"]
SHORT = {"IPsecGetStatistics1": "ipsec", "IkeextGetStatistics1": "ikeext"}
KS = [1, 16, 64]
TARGETS = ["secstat", "grpc", "raw"]
TARGET_LABEL = {"secstat": "secstatd", "grpc": "gRPC C++", "raw": "raw nng echo"}

CHILDREN = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)


def start(argv, logpath):
    f = open(logpath, "ab")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    CHILDREN.append(p)
    return p


def stop(p, timeout=10):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in CHILDREN:
        CHILDREN.remove(p)


def stop_all():
    for p in list(CHILDREN):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.time() + 15
    for p in list(CHILDREN):
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    CHILDREN.clear()


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_tcp(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_path(path, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def parse_kv(line):
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def proc_mem(pid):
    """VmRSS, VmHWM and Pss of a process, in KiB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["Pss"] = int(line.split()[1])
    except OSError:
        pass
    return out


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=0):
    if x is None:
        return "n/a"
    if nd == 0:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


class Bench:
    def __init__(self, args):
        self.a = args
        self.bin = os.path.join(args.build_dir, "bench")
        self.secstatd = os.path.join(args.build_dir, "agent", "secstatd")
        self.out = args.out
        self.tmp = os.path.join(self.out, "run")
        os.makedirs(self.tmp, exist_ok=True)
        self.res = {"machine": {}, "params": vars(args), "rpc": {},
                    "ratios": [], "fleet": [], "rss": {}, "pending": [],
                    "profile": {}}
        self.port = args.port_base
        self.summary = []

    def next_port(self):
        """The next free port above --port-base. The default bases sit
        below the kernel's ephemeral range (32768-60999), where client
        connections would otherwise take the ports away."""
        self.port += 1
        while not port_free(self.port):
            self.port += 1
        return self.port

    # ---------------------------------------------------------------- env
    def machine(self):
        m = self.res["machine"]
        lscpu = sh("lscpu").stdout
        keep = ("Architecture", "Model name", "CPU(s)", "Thread(s) per core",
                "Core(s) per socket", "Socket(s)", "CPU MHz", "L1d cache",
                "L2 cache", "L3 cache", "Hypervisor vendor",
                "Virtualization type")
        m["lscpu"] = [l.strip() for l in lscpu.splitlines()
                      if l.split(":")[0].strip() in keep]
        m["kernel"] = sh("uname -srm").stdout.strip()
        m["os"] = sh(". /etc/os-release && echo $PRETTY_NAME").stdout.strip()
        m["memory"] = sh("free -h | awk '/Mem:/ {print $2}'").stdout.strip()
        pk = ("libnng1 libnng-dev libprotobuf-c1 libgrpc++1.51 libprotobuf32 "
              "libmbedtls14 libssl3 gcc g++")
        m["packages"] = sh("dpkg-query -W -f='${Package} ${Version}\\n' "
                           + pk + " 2>/dev/null").stdout.split("\n")
        m["packages"] = [p for p in m["packages"] if p]
        m["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
        m["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        rev = sh(f"git -C {self.a.source_dir} rev-parse --short HEAD")
        m["commit"] = rev.stdout.strip()

    def certs(self):
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        self.certkey = os.path.join(self.tmp, "certkey.pem")
        r = sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
               f"-nodes -keyout {self.key} -out {self.cert} -days 2 "
               "-subj /CN=localhost "
               "-addext subjectAltName=DNS:localhost,IP:127.0.0.1")
        if r.returncode != 0:
            raise SystemExit("openssl: " + r.stderr)
        with open(self.certkey, "w") as o:
            o.write(open(self.cert).read() + open(self.key).read())

    # ------------------------------------------------------------ servers
    def agent_access(self):
        """Options that let the benchmark's loopback clients in, on an
        agent with the security issue's access control: plain tcp from
        loopback, and (in the ACL) TLS callers from loopback without a
        per-client token, authenticated by their certificate alone."""
        if hasattr(self, "_access"):
            return self._access
        h = sh(f"{self.secstatd} --help")
        h = h.stdout + h.stderr
        self._access = []
        if "--allow-loopback-insecure" in h:
            self._access.append("--allow-loopback-insecure")
        if "--acl" in h:
            acl = os.path.join(self.tmp, "bench.acl")
            with open(acl, "w") as f:
                f.write("# Benchmark only: TLS callers from loopback, by "
                        "certificate.\n[tls]\nnetworks = 127.0.0.0/8\n"
                        "rights = all\n")
            self._access += ["--acl", acl]
        return self._access

    def secstatd_tls_supported(self):
        """The security issue's options: --tls-cert/--tls-key/--tls-ca,
        mutual authentication on by default."""
        h = sh(f"{self.secstatd} --help")
        return "--tls-cert" in h.stdout + h.stderr

    def start_servers(self):
        """Every server of the RPC comparison, started once for the run."""
        self.ep = {}  # (target, method, transport) -> dict(url|target, pid, ...)
        if not os.access(self.secstatd, os.X_OK):
            raise SystemExit(f"{self.secstatd} missing: build the agent first")
        tcp = self.next_port()
        ipc = os.path.join(self.tmp, "secstatd.sock")
        argv = [self.secstatd, "--provider", "sim", "--hostname", "bench-agent",
                "--listen", f"tcp://127.0.0.1:{tcp}", "--listen", f"ipc://{ipc}"]
        argv += self.agent_access()
        self.secstat_tls = self.secstatd_tls_supported()
        if self.secstat_tls:
            tls = self.next_port()
            # The self-signed certificate is its own CA: it signs the
            # agent's identity and the load generator's client identity.
            argv += ["--listen", f"tls+tcp://127.0.0.1:{tls}",
                     "--tls-cert", self.cert, "--tls-key", self.key,
                     "--tls-ca", self.cert]
        p = start(argv, os.path.join(self.tmp, "secstatd.log"))
        if not wait_tcp(tcp):
            raise SystemExit("secstatd did not start: see "
                             + os.path.join(self.tmp, "secstatd.log"))
        self.secstatd_proc = p
        self.payload = {}
        for m in METHODS:
            path = os.path.join(self.tmp, f"reply-{SHORT[m]}.bin")
            for _ in range(50):
                r = sh(f"{self.bin}/secstat-bench-load --url tcp://127.0.0.1:{tcp} "
                       f"--method {m} --save-reply {path}")
                if r.returncode == 0:
                    break
                time.sleep(0.1)
            else:
                raise SystemExit(f"secstatd: {m}: {r.stderr.strip()}")
            self.payload[m] = os.path.getsize(path)
            self.ep[("secstat", m, "tcp")] = {"url": f"tcp://127.0.0.1:{tcp}", "pid": p.pid}
            self.ep[("secstat", m, "ipc")] = {"url": f"ipc://{ipc}", "pid": p.pid}
            if self.secstat_tls:
                chk = os.path.join(self.tmp, f"reply-{SHORT[m]}-tls.bin")
                r = sh(f"{self.bin}/secstat-bench-load --url tls+tcp://127.0.0.1:{tls} "
                       f"--tls-ca {self.cert} --tls-cert-key {self.certkey} "
                       f"--method {m} --save-reply {chk}")
                if r.returncode == 0:
                    self.ep[("secstat", m, "tls")] = {
                        "url": f"tls+tcp://127.0.0.1:{tls}", "pid": p.pid}
                else:
                    self.res["pending"].append(
                        f"secstat over tls+tcp ({m}): secstatd's TLS listener "
                        f"did not answer the benchmark: {r.stderr.strip()[:300]}")
        self.res["payload_bytes"] = {SHORT[m]: self.payload[m] for m in METHODS}
        if not self.secstat_tls:
            self.res["pending"].append(
                "secstat over tls+tcp: secstatd has no TLS listener yet (the "
                "security issue adds tls+tcp:// with certificates); the raw "
                "nng echo and gRPC are measured over TLS meanwhile.")

        for m in METHODS:
            reply = os.path.join(self.tmp, f"reply-{SHORT[m]}.bin")
            t, tl = self.next_port(), self.next_port()
            eipc = os.path.join(self.tmp, f"echo-{SHORT[m]}.sock")
            p = start([f"{self.bin}/secstat-bench-echo", "--reply", reply,
                       "--listen", f"tcp://127.0.0.1:{t}",
                       "--listen", f"ipc://{eipc}",
                       "--listen", f"tls+tcp://127.0.0.1:{tl}",
                       "--tls-cert-key", self.certkey],
                      os.path.join(self.tmp, f"echo-{SHORT[m]}.log"))
            if not wait_tcp(t) or not wait_path(eipc):
                raise SystemExit("echo server did not start")
            self.ep[("raw", m, "tcp")] = {"url": f"tcp://127.0.0.1:{t}", "pid": p.pid}
            self.ep[("raw", m, "ipc")] = {"url": f"ipc://{eipc}", "pid": p.pid}
            self.ep[("raw", m, "tls")] = {"url": f"tls+tcp://127.0.0.1:{tl}",
                                          "pid": p.pid}
            for tr in ("tcp", "tls"):
                gp = self.next_port()
                argv = [f"{self.bin}/secstat-bench-grpc-server",
                        "--listen", f"127.0.0.1:{gp}", "--reply", reply]
                if tr == "tls":
                    argv += ["--tls-cert", self.cert, "--tls-key", self.key]
                p = start(argv, os.path.join(self.tmp, f"grpc-{SHORT[m]}-{tr}.log"))
                if not wait_tcp(gp):
                    raise SystemExit("gRPC server did not start")
                self.ep[("grpc", m, tr)] = {"target": f"127.0.0.1:{gp}",
                                            "pid": p.pid}

    # ---------------------------------------------------------------- rpc
    def load_cmd(self, target, m, tr, k):
        e = self.ep[(target, m, tr)]
        common = (f"--inflight {k} --duration {self.a.duration} "
                  f"--warmup {self.a.warmup} --server-pid {e['pid']} "
                  f"--method {m}")
        if target == "grpc":
            cmd = f"{self.bin}/secstat-bench-grpc-load --target {e['target']} {common}"
            if tr == "tls":
                cmd += f" --tls-ca {self.cert} --tls-server-name localhost"
            return cmd
        cmd = f"{self.bin}/secstat-bench-load --url {e['url']} {common}"
        if tr == "tls":
            cmd += (f" --tls-ca {self.cert} --tls-server-name localhost"
                    f" --tls-cert-key {self.certkey}")
        return cmd

    def rpc(self):
        configs = [(t, m, tr, k) for m in self.a.methods for tr in ("tcp", "ipc", "tls")
                   for t in TARGETS for k in KS if (t, m, tr) in self.ep]
        samples = {c: [] for c in configs}
        total = len(configs) * self.a.runs
        n = 0
        for r in range(self.a.runs):
            for c in configs:
                n += 1
                cmd = self.load_cmd(*c)
                res = sh(cmd, timeout=self.a.duration + self.a.warmup + 30)
                kv = parse_kv(res.stdout)
                if res.returncode != 0 or "rps" not in kv:
                    log(f"  {c}: failed: {res.stderr.strip()[:200]}")
                    kv = None
                samples[c].append(kv)
                if kv:
                    log(f"  [{n}/{total}] run {r + 1} {c[0]:7s} {SHORT[c[1]]:6s} "
                        f"{c[2]} k={c[3]:<2d} {kv['rps']:9.0f} req/s "
                        f"p50 {kv['p50_us']:8.1f} us")
        self.rpc_samples = samples
        out = self.res["rpc"]
        for c, runs in samples.items():
            ok = [x for x in runs if x]
            key = "/".join([c[0], SHORT[c[1]], c[2], str(c[3])])
            out[key] = {
                "target": c[0], "method": c[1], "transport": c[2], "k": c[3],
                "runs": len(ok),
                "rps": median([x["rps"] for x in ok]),
                "p50_us": median([x["p50_us"] for x in ok]),
                "p99_us": median([x["p99_us"] for x in ok]),
                "server_cpu_us": median([x["server_cpu_us"] for x in ok
                                         if x["server_cpu_us"] >= 0]),
                "client_cpu_us": median([x["client_cpu_us"] for x in ok]),
                "server_cores": median([x["server_cores"] for x in ok]),
                "errors": sum(x["errors"] for x in ok),
                "rps_all": [x["rps"] if x else None for x in runs],
            }
        self.ratios()

    def paired(self, a, b, field, k):
        """Median over rounds of a[field]/b[field]: each round measured
        both sides back to back, so slow drifts of a shared machine
        cancel."""
        ra, rb = self.rpc_samples.get(a), self.rpc_samples.get(b)
        if not ra or not rb:
            return None
        rs = [x[field] / y[field] for x, y in zip(ra, rb)
              if x and y and x[field] >= 0 and y[field] > 0]
        return median(rs)

    def ratios(self):
        targets = {("rps", "grpc", 16, "tcp"): 2.5, ("rps", "raw", 16, "tcp"): 0.95,
                   ("p50", "raw", 1, "tcp"): 1.05, ("rps", "grpc", 16, "tls"): 1.0}
        for m in self.a.methods:
            for tr in ("tcp", "ipc", "tls"):
                for k in KS:
                    for other in ("grpc", "raw"):
                        a, b = ("secstat", m, tr, k), (other, m, tr, k)
                        if a not in self.rpc_samples or b not in self.rpc_samples:
                            continue
                        v = self.paired(a, b, "rps", k)
                        self.add_ratio("rpc", m, tr, k, f"secstat/{other}", v,
                                       targets.get(("rps", other, k, tr)), True)
                        v = self.paired(b, a, "server_cpu_us", k)
                        self.add_ratio("cpu", m, tr, k, f"{other}/secstat", v,
                                       None, True)
                        if k == 1:
                            v = self.paired(a, b, "p50_us", k)
                            self.add_ratio("p50", m, tr, k, f"secstat/{other}", v,
                                           targets.get(("p50", other, k, tr)), False)
            # TLS: until secstatd speaks TLS, the nng/mbedTLS transport
            # itself against gRPC over TLS.
            for k in KS:
                a, b = ("raw", m, "tls", k), ("grpc", m, "tls", k)
                if ("secstat", m, "tls", k) not in self.rpc_samples and \
                        a in self.rpc_samples and b in self.rpc_samples:
                    self.add_ratio("rpc", m, "tls", k, "raw/grpc",
                                   self.paired(a, b, "rps", k),
                                   1.0 if k == 16 else None, True)

    def add_ratio(self, kind, m, tr, k, name, v, target, higher_better):
        ok = None
        if target is not None and v is not None:
            ok = v >= target if higher_better else v <= target
        self.res["ratios"].append({"kind": kind, "method": m, "transport": tr,
                                   "k": k, "name": name, "value": v,
                                   "target": target, "met": ok})
        label = kind
        line = f"{label} {tr} k={k} {SHORT[m]} {name} = {fmt(v, 2)}"
        if target is not None and v is not None:
            cmp = ">=" if higher_better else "<="
            line += f"  (target {cmp} {target}: {'met' if ok else 'MISSED'})"
        self.summary.append(line)
        print(line, flush=True)

    # -------------------------------------------------------------- fleet
    def fleet(self):
        for n in self.a.fleet:
            log(f"fleet: starting {n} agents")
            procs, urls = [], []
            ports = []
            port = self.a.fleet_port_base
            for i in range(n):
                while not port_free(port):
                    port += 1
                ports.append(port)
                port += 1
            for i, port in enumerate(ports):
                argv = [self.secstatd, "--provider", "sim",
                        "--hostname", f"fleet-{i:05d}", "--sim-seed", str(i + 1),
                        "--collect-interval", str(self.a.fleet_interval_ms),
                        "--listen", f"tcp://127.0.0.1:{port}"] + self.agent_access()
                procs.append(start(argv, os.path.join(self.tmp, "fleet.log")))
                urls.append(f"tcp://127.0.0.1:{port}")
            t0 = time.time()
            up = sum(1 for p in ports if wait_tcp(p, 30))
            started_s = time.time() - t0
            time.sleep(1.0)
            mem = [proc_mem(p.pid) for p in procs]
            urlf = os.path.join(self.tmp, f"fleet-{n}.urls")
            with open(urlf, "w") as f:
                f.write("\n".join(urls) + "\n")
            row = {"agents": n, "up": up, "start_s": started_s,
                   "rss_kib_median": median([m.get("VmRSS") for m in mem]),
                   "pss_kib_total": sum(m.get("Pss", 0) for m in mem),
                   "loadavg": open("/proc/loadavg").read().split()[:3]}
            # Passes interleave the modes, so a burst of load from the
            # rest of the machine hits all of them alike; each figure is
            # the median over the passes of each pass's median round, and
            # the fleet/raw ratio the median of the per-pass ratios.
            fleet_bin = f"{self.bin}/secstat-bench-fleet"
            modes = [("parallel", f"{self.bin}/secstat-bench-fanout --mode parallel",
                      self.a.fleet_rounds),
                     ("parallel+decode", f"{self.bin}/secstat-bench-fanout --mode parallel "
                      "--decode", self.a.fleet_rounds),
                     ("sequential", f"{self.bin}/secstat-bench-fanout --mode sequential",
                      max(1, self.a.fleet_rounds // 2))]
            if os.access(fleet_bin, os.X_OK):
                modes.append(("fleet-api", fleet_bin, self.a.fleet_rounds))
            passes = {name: [] for name, _, _ in modes}
            for _ in range(self.a.fleet_passes):
                for name, cmd, rounds in modes:
                    r = sh(f"{cmd} --urls {urlf} --rounds {rounds} --timeout-ms 5000",
                           timeout=600)
                    kv = parse_kv(r.stdout)
                    if r.returncode != 0:
                        log(f"  {name}: {r.stdout.strip()} {r.stderr.strip()[:200]}")
                    passes[name].append(kv)
                    log(f"  {n} agents {name}: {r.stdout.strip()}")
            for name, kvs in passes.items():
                row[name] = {
                    "median_ms": median([k.get("median_ms") for k in kvs]),
                    "cold_ms": kvs[0].get("cold_ms") if kvs else None,
                    "errors": sum(k.get("errors", 0) for k in kvs),
                    "passes": [k.get("median_ms") for k in kvs]}
            if "fleet-api" in passes:
                row["api_over_raw"] = median(
                    [a["median_ms"] / b["median_ms"]
                     for a, b in zip(passes["fleet-api"], passes["parallel"])
                     if a.get("median_ms") and b.get("median_ms")])
            self.res["fleet"].append(row)
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                stop(p)
            par = row["parallel"].get("median_ms")
            seq = row["sequential"].get("median_ms")
            api = row.get("fleet-api", {}).get("median_ms")
            line = (f"fleet n={n} raw-fanout = {fmt(par, 2)} ms, sequential = "
                    f"{fmt(seq, 2)} ms, fleet-api = "
                    + (f"{fmt(api, 2)} ms" if api else "pending"))
            self.summary.append(line)
            print(line, flush=True)
            ratio = row.get("api_over_raw")
            if ratio is not None:
                line = f"fleet n={n} fleet-api/raw-fanout = {fmt(ratio, 2)}"
                if n == 1000:
                    line += f"  (target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})"
                self.summary.append(line)
                print(line, flush=True)
        if not any(f.get("fleet-api", {}).get("median_ms") for f in self.res["fleet"]):
            self.res["pending"].append(
                "fleet API column: secstat-bench-fleet (libsecstat's fleet "
                "query) was not built or did not answer.")

    # ---------------------------------------------------------- streaming
    def streaming(self):
        """One agent publishing at 1 Hz (full snapshots every --full-every
        messages, deltas between) to N subscribers in one process: agent
        CPU, delivered rate, sequence gaps."""
        h = sh(f"{self.secstatd} --help")
        sub = f"{self.bin}/secstat-bench-sub"
        if "--publish" not in h.stdout + h.stderr or not os.access(sub, os.X_OK):
            self.res["pending"].append(
                "streaming: secstatd has no --publish or secstat-bench-sub "
                "was not built.")
            return
        rows = []
        for n in self.a.subscribers:
            port = self.next_port()
            p = start([self.secstatd, "--provider", "sim", "--hostname", "stream",
                       "--publish", f"tcp://127.0.0.1:{port}",
                       "--publish-interval", "1000"] + self.agent_access(),
                      os.path.join(self.tmp, f"stream-{n}.log"))
            wait_tcp(port)
            r = sh(f"{sub} --url tcp://127.0.0.1:{port} --subscribers {n} "
                   f"--duration {self.a.stream_s} --warmup 3 --agent-pid {p.pid}",
                   timeout=self.a.stream_s + 120)
            mem = proc_mem(p.pid)
            stop(p)
            kv = parse_kv(r.stdout)
            if r.returncode != 0:
                log(f"  stream {n}: {r.stdout.strip()} {r.stderr.strip()[:200]}")
            kv["VmRSS"] = mem.get("VmRSS")
            rows.append(kv)
            cpu = kv.get("agent_cpu_pct")
            line = (f"stream subs={n} agent cpu = {fmt(cpu, 2)} % of one core, "
                    f"{fmt(kv.get('per_sub_per_s'), 2)} msg/s per subscriber, "
                    f"gaps = {fmt(kv.get('gaps'))}")
            if n == 1000 and cpu is not None:
                line += f"  (target <= 5 %: {'met' if 0 <= cpu <= 5 else 'MISSED'})"
            self.summary.append(line)
            print(line, flush=True)
        self.res["streaming"] = rows

    # --------------------------------------------------------- collection
    def collection(self):
        """Snapshot build time and agent memory with N simulated SAs. Needs
        the sim provider's SA-count option; the build time comes from the
        collector's debug log line ("snapshot N built in X ms")."""
        h = sh(f"{self.secstatd} --help")
        if "--sim-sas" not in h.stdout + h.stderr:
            self.res["pending"].append(
                "collection (snapshot build time and memory with 1k/10k/100k "
                "SAs): the sim provider has no option for the number of SAs "
                "(--sim-sas N) yet.")
            return
        rows = []
        for n in self.a.sas:
            port = self.next_port()
            logf = os.path.join(self.tmp, f"sas-{n}.log")
            p = start([self.secstatd, "--provider", "sim", "--sim-sas", str(n),
                       "--hostname", "sas", "--log-level", "debug",
                       "--collect-interval", "1000",
                       "--listen", f"tcp://127.0.0.1:{port}"] + self.agent_access(), logf)
            wait_tcp(port, 60)
            time.sleep(self.a.sas_wait_s)
            mem = proc_mem(p.pid)
            stop(p, timeout=30)
            ms = [int(x) for x in re.findall(r"snapshot \d+ built(?: on demand)? in (\d+) ms",
                                             open(logf, errors="replace").read())]
            row = {"sas": n, "builds": len(ms), "build_ms_median": median(ms),
                   "build_ms_max": max(ms) if ms else None, **mem}
            rows.append(row)
            line = (f"collection sas={n} build = {fmt(row['build_ms_median'])} ms, "
                    f"rss = {fmt(mem.get('VmRSS', 0) / 1024, 1)} MiB")
            if n == 100000:
                ok = (row["build_ms_median"] is not None and row["build_ms_median"] <= 100
                      and mem.get("VmHWM", 1 << 30) <= 64 * 1024)
                line += f"  (target <= 100 ms and <= 64 MB: {'met' if ok else 'MISSED'})"
            self.summary.append(line)
            print(line, flush=True)
        self.res["collection"] = rows

    # ---------------------------------------------------------------- rss
    def rss(self):
        port = self.next_port()
        p = start([self.secstatd, "--provider", "sim", "--hostname", "rss-agent",
                   "--listen", f"tcp://127.0.0.1:{port}"] + self.agent_access(),
                  os.path.join(self.tmp, "rss.log"))
        wait_tcp(port)
        time.sleep(self.a.idle_s)
        idle = proc_mem(p.pid)
        r = sh(f"{self.bin}/secstat-bench-load --url tcp://127.0.0.1:{port} "
               f"--inflight 64 --duration 1 --warmup 0.2")
        loaded = proc_mem(p.pid)
        stop(p)
        self.res["rss"] = {"idle": idle, "after_load": loaded,
                           "threads_note": ""}
        v = idle.get("VmRSS")
        line = (f"agent rss idle = {fmt(v / 1024 if v else None, 2)} MiB "
                f"(target <= 8 MiB: {'met' if v and v <= 8192 else 'MISSED'})")
        self.summary.append(line)
        print(line, flush=True)

    # ------------------------------------------------------------ profile
    def profile(self):
        """Where secstatd spends its cycles at 16 in flight over tcp:
        callgrind (instructions, user space) when hardware counters are
        absent, plus perf sampling on the cpu-clock software event."""
        prof = self.res["profile"]
        m = self.a.methods[0]
        if shutil.which("valgrind"):
            self.profile_echo(m)
            port = self.next_port()
            cg = os.path.join(self.tmp, "callgrind.out")
            p = start(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                       self.secstatd, "--provider", "sim", "--hostname", "prof",
                       "--listen", f"tcp://127.0.0.1:{port}"] + self.agent_access(),
                      os.path.join(self.tmp, "callgrind.log"))
            served = 0
            if wait_tcp(port, 60):
                r = sh(f"{self.bin}/secstat-bench-load --url tcp://127.0.0.1:{port} "
                       f"--method {m} --inflight 16 --duration 60 --warmup 1 "
                       f"--requests {self.a.profile_requests}", timeout=120)
                served = parse_kv(r.stdout).get("ok", 0)
            stop(p, timeout=60)
            if os.path.exists(cg):
                # Drop callgrind_annotate's header; keep the totals and
                # the functions.
                def table(opts, keep=None, n=18):
                    out = sh(f"callgrind_annotate {opts} {cg}").stdout.splitlines()
                    rows = [l for l in out if re.match(r"^\s*[\d,]+ \(", l)]
                    if keep:
                        rows = [l for l in rows if keep in l or "PROGRAM TOTALS" in l]
                    return "\n".join(rows[:n])
                prof["callgrind_self"] = table("--inclusive=no")
                prof["callgrind_secstatd"] = table("--inclusive=yes", "secstatd]")
                tot = re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS",
                                sh(f"callgrind_annotate {cg}").stdout)
                if tot and served:
                    ir = int(tot.group(1).replace(",", ""))
                    prof["callgrind_requests"] = served
                    prof["callgrind_ir_per_request"] = ir / served
        if sh("perf record -e cpu-clock -o /dev/null -- true").returncode == 0:
            port = self.next_port()
            p = start([self.secstatd, "--provider", "sim", "--hostname", "prof",
                       "--listen", f"tcp://127.0.0.1:{port}"] + self.agent_access(),
                      os.path.join(self.tmp, "perf-agent.log"))
            wait_tcp(port)
            pd = os.path.join(self.tmp, "perf.data")
            rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "2000",
                                    "-o", pd, "-p", str(p.pid)],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            sh(f"{self.bin}/secstat-bench-load --url tcp://127.0.0.1:{port} "
               f"--method {m} --inflight 16 --duration 3 --warmup 0.2")
            rec.send_signal(signal.SIGINT)
            rec.wait(30)
            stop(p)
            r = sh(f"perf report -i {pd} --stdio --no-children --sort dso,symbol "
                   f"2>/dev/null | grep -v '^#' | grep '%' | head -25")
            prof["perf_self"] = "\n".join(re.sub(r"(\s+-)+\s*$", "", l)
                                           for l in r.stdout.splitlines())
            r = sh(f"perf report -i {pd} --stdio --no-children --sort dso "
                   f"2>/dev/null | grep -v '^#' | grep '%' | head -12")
            prof["perf_dso"] = r.stdout

    def profile_echo(self, m):
        """The same callgrind measurement of the raw echo: the difference
        in instructions per request is what secstatd adds to nng."""
        prof = self.res["profile"]
        reply = os.path.join(self.tmp, f"reply-{SHORT[m]}.bin")
        if not os.path.exists(reply):
            port = self.next_port()
            p = start([self.secstatd, "--provider", "sim", "--listen",
                       f"tcp://127.0.0.1:{port}"] + self.agent_access(),
                      os.path.join(self.tmp, "reply.log"))
            wait_tcp(port)
            for _ in range(50):
                if sh(f"{self.bin}/secstat-bench-load --url tcp://127.0.0.1:{port} "
                      f"--method {m} --save-reply {reply}").returncode == 0:
                    break
                time.sleep(0.1)
            stop(p)
        port = self.next_port()
        cg = os.path.join(self.tmp, "callgrind-echo.out")
        p = start(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                   f"{self.bin}/secstat-bench-echo", "--reply", reply,
                   "--listen", f"tcp://127.0.0.1:{port}"],
                  os.path.join(self.tmp, "callgrind-echo.log"))
        served = 0
        if wait_tcp(port, 60):
            r = sh(f"{self.bin}/secstat-bench-load --url tcp://127.0.0.1:{port} "
                   f"--method {m} --inflight 16 --duration 60 --warmup 1 "
                   f"--requests {self.a.profile_requests}", timeout=120)
            served = parse_kv(r.stdout).get("ok", 0)
        stop(p, timeout=60)
        tot = re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS",
                        sh(f"callgrind_annotate {cg}").stdout) if os.path.exists(cg) else None
        if tot and served:
            prof["echo_requests"] = served
            prof["echo_ir_per_request"] = int(tot.group(1).replace(",", "")) / served

    # -------------------------------------------------------------- write
    def write(self):
        self.res["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        self.res["summary"] = self.summary
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.res, f, indent=1, default=str)
        blocks = self.tables()
        with open(os.path.join(self.out, "results.md"), "w") as f:
            for name, text in blocks.items():
                f.write(f"<!-- {name} -->\n{text}\n\n")
        self.charts()
        if self.a.update_docs:
            self.update_docs(blocks)

    def tables(self):
        b = {}
        m = self.res["machine"]
        lines = [f"- Date: {m.get('date')}, commit {m.get('commit')}",
                 f"- OS: {m.get('os')}, kernel `{m.get('kernel')}`, memory {m.get('memory')}"]
        lines += [f"- {l}" for l in m.get("lscpu", [])]
        lines.append("- Packages: " + ", ".join(f"`{p}`" for p in m.get("packages", [])))
        lines.append(f"- Load average at start / end: {' '.join(m.get('loadavg_start', []))}"
                     f" / {' '.join(m.get('loadavg_end', []))}")
        p = self.a
        lines.append(f"- Parameters: {p.runs} rounds x {p.duration} s (+{p.warmup} s "
                     f"warm-up) per figure; payload bytes "
                     + ", ".join(f"{k} {v}" for k, v in self.res.get("payload_bytes", {}).items()))
        b["bench:machine"] = "\n".join(lines)

        for m_ in self.a.methods:
            rows = ["| transport | k | server | req/s | p50 µs | p99 µs | server CPU µs/req | server cores |",
                    "|---|---:|---|---:|---:|---:|---:|---:|"]
            for tr in ("tcp", "ipc", "tls"):
                for k in KS:
                    for t in TARGETS:
                        key = f"{t}/{SHORT[m_]}/{tr}/{k}"
                        r = self.res["rpc"].get(key)
                        if r is None:
                            if t == "secstat" and tr == "tls":
                                rows.append(f"| {tr} | {k} | {TARGET_LABEL[t]} | pending | | | | |")
                            continue
                        rows.append(f"| {tr} | {k} | {TARGET_LABEL[t]} | {fmt(r['rps'])} | "
                                    f"{fmt(r['p50_us'], 1)} | {fmt(r['p99_us'], 1)} | "
                                    f"{fmt(r['server_cpu_us'], 2)} | {fmt(r['server_cores'], 2)} |")
            b[f"bench:rpc-{SHORT[m_]}"] = "\n".join(rows)

        rows = ["| comparison | value | target | |", "|---|---:|---:|---|"]
        for r in self.res["ratios"]:
            lab = {"rpc": "req/s", "p50": "p50 latency",
                   "cpu": "server CPU per request"}[r["kind"]]
            tgt = "" if r["target"] is None else (
                (">= " if r["kind"] == "rpc" else "<= ") + str(r["target"]))
            met = "" if r["met"] is None else ("met" if r["met"] else "**missed**")
            rows.append(f"| {SHORT[r['method']]} {r['transport']} k={r['k']} {lab} "
                        f"{r['name']} | {fmt(r['value'], 2)} | {tgt} | {met} |")
        b["bench:ratios"] = "\n".join(rows)

        rows = ["| agents (up) | raw fan-out (ms) | raw fan-out + decode (ms) | cold, dial included (ms) "
                "| sequential (ms) | fleet API + aggregate (ms) | fleet API / raw "
                "| agent RSS (median KiB) | total PSS (MiB) |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for f in self.res["fleet"]:
            par, dec, seq = f.get("parallel", {}), f.get("parallel+decode", {}), f.get("sequential", {})
            rows.append(f"| {f['agents']} ({f['up']}) | {fmt(par.get('median_ms'), 2)} | "
                        f"{fmt(dec.get('median_ms'), 2)} | {fmt(par.get('cold_ms'), 2)} | "
                        f"{fmt(seq.get('median_ms'), 2)} | "
                        f"{fmt(f.get('fleet-api', {}).get('median_ms'), 2)} | "
                        f"{fmt(f.get('api_over_raw'), 2)} | "
                        f"{fmt(f.get('rss_kib_median'))} | {fmt(f['pss_kib_total'] / 1024, 1)} |")
        b["bench:fleet"] = "\n".join(rows)

        srows = ["| subscribers | agent CPU (% of one core) | messages/s per subscriber "
                 "| full | delta | heartbeat | gaps | bytes/message | agent VmRSS KiB |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in self.res.get("streaming", []):
            srows.append(f"| {fmt(r.get('subscribers'))} | {fmt(r.get('agent_cpu_pct'), 2)} | "
                         f"{fmt(r.get('per_sub_per_s'), 2)} | {fmt(r.get('full'))} | "
                         f"{fmt(r.get('delta'))} | {fmt(r.get('heartbeat'))} | "
                         f"{fmt(r.get('gaps'))} | {fmt(r.get('bytes_per_msg'))} | "
                         f"{fmt(r.get('VmRSS'))} |")
        if not self.res.get("streaming"):
            srows.append("| pending | | | | | | | | |")
        b["bench:streaming"] = "\n".join(srows)

        rows = ["| SAs | snapshot builds seen | build time median (ms) | max (ms) "
                "| VmRSS KiB | VmHWM KiB |", "|---:|---:|---:|---:|---:|---:|"]
        for c in self.res.get("collection", []):
            rows.append(f"| {c['sas']:,} | {c['builds']} | {fmt(c['build_ms_median'])} | "
                        f"{fmt(c['build_ms_max'])} | {fmt(c.get('VmRSS'))} | "
                        f"{fmt(c.get('VmHWM'))} |")
        if not self.res.get("collection"):
            rows.append("| pending | | | | | |")
        b["bench:collection"] = "\n".join(rows)

        r = self.res.get("rss", {})
        rows = ["| state | VmRSS KiB | VmHWM KiB | PSS KiB |", "|---|---:|---:|---:|"]
        for st in ("idle", "after_load"):
            v = r.get(st, {})
            rows.append(f"| {st.replace('_', ' ')} | {fmt(v.get('VmRSS'))} | "
                        f"{fmt(v.get('VmHWM'))} | {fmt(v.get('Pss'))} |")
        b["bench:rss"] = "\n".join(rows)

        prof = self.res.get("profile", {})
        txt = []
        if prof.get("callgrind_ir_per_request"):
            txt.append(f"callgrind: {fmt(prof['callgrind_requests'])} requests (k=16, tcp), "
                       f"{fmt(prof['callgrind_ir_per_request'])} instructions per request "
                       "for the whole agent process (collection included).")
        if prof.get("echo_ir_per_request"):
            txt.append(f"callgrind, same load on the raw nng echo: "
                       f"{fmt(prof['echo_ir_per_request'])} instructions per request; "
                       f"secstatd adds "
                       f"{fmt(prof.get('callgrind_ir_per_request', 0) - prof['echo_ir_per_request'])} "
                       f"({fmt(100 * (prof.get('callgrind_ir_per_request', 0) / prof['echo_ir_per_request'] - 1), 1)} %).")
        titles = {"callgrind_self": "callgrind, self cost (instructions), top functions",
                  "callgrind_secstatd": "callgrind, inclusive cost of secstatd's own functions",
                  "perf_dso": "perf (cpu-clock sampling), by object",
                  "perf_self": "perf (cpu-clock sampling), self time, top symbols"}
        for k in ("callgrind_self", "callgrind_secstatd", "perf_dso", "perf_self"):
            if prof.get(k):
                txt.append(f"{titles[k]}:\n```\n{prof[k].rstrip()}\n```")
        b["bench:profile"] = "\n\n".join(txt) if txt else "(no profile taken in this run)"
        b["bench:summary"] = "```\n" + "\n".join(self.summary) + "\n```"
        b["bench:pending"] = "\n".join(f"- {p}" for p in self.res["pending"]) or "- none"
        return b

    def charts(self):
        if not shutil.which("gnuplot") or not self.res["rpc"]:
            return
        d = self.out
        series = []
        for m in self.a.methods:
            for t in TARGETS:
                for tr in ("tcp", "ipc", "tls"):
                    pts = [self.res["rpc"].get(f"{t}/{SHORT[m]}/{tr}/{k}") for k in KS]
                    if not any(pts):
                        continue
                    fn = os.path.join(d, f"{SHORT[m]}-{t}-{tr}.dat")
                    with open(fn, "w") as f:
                        for k, p in zip(KS, pts):
                            if p and p["rps"]:
                                f.write(f"{k} {p['rps']} {p['p50_us']} {p['p99_us']}\n")
                    series.append((m, t, tr, fn))
        color = {"secstat": "#1b7837", "grpc": "#c51b7d", "raw": "#2166ac"}
        dash = {"tcp": 1, "ipc": 2, "tls": 3}

        def plots(m, col, extra=""):
            ps = []
            for (mm, t, tr, fn) in series:
                if mm != m:
                    continue
                ps.append(f"'{fn}' using 1:{col} with linespoints lw 2 pt 7 "
                          f"lc rgb '{color[t]}' dt {dash[tr]} "
                          f"title '{TARGET_LABEL[t]} {tr}{extra}'")
            return ", ".join(ps)

        gp = [f"set terminal pngcairo size 1400,560 font 'DejaVu Sans,10'"
              if "pngcairo" in sh("gnuplot -e 'set terminal' 2>&1").stdout
              + sh("gnuplot -e 'set terminal' 2>&1").stderr
              else "set terminal png size 1400,560",
              "set logscale x 2", "set xtics (1, 16, 64)", "set xrange [0.8:80]",
              "set grid",
              "set key outside right top vertical", "set xlabel 'requests in flight'"]
        thr = gp + [f"set output '{d}/rpc-throughput.png'",
                    "set multiplot layout 1,2 title 'Throughput vs requests in flight "
                    "(median of rounds; client and server share 2 cores)'",
                    "set ylabel 'requests/s'", "set yrange [0:*]"]
        for m in self.a.methods:
            thr += [f"set title '{m}'", "plot " + plots(m, 2)]
        thr.append("unset multiplot")
        lat = [l.replace("1400,560", "1400,1000") for l in gp] + [
            f"set output '{d}/rpc-latency.png'", "set logscale y",
            "set multiplot layout 2,2 title 'Latency vs requests in flight "
            "(median of rounds)'", "set ylabel 'microseconds'"]
        for col, q in ((3, "p50"), (4, "p99")):
            for m in self.a.methods:
                lat += [f"set title '{m}: {q}'", "plot " + plots(m, col)]
        lat.append("unset multiplot")
        for name, script in (("throughput", thr), ("latency", lat)):
            fn = os.path.join(d, f"rpc-{name}.gp")
            with open(fn, "w") as f:
                f.write("\n".join(script) + "\n")
            r = sh(f"gnuplot {fn}")
            if r.returncode != 0:
                log(f"gnuplot {name}: {r.stderr.strip()[:300]}")

    def update_docs(self, blocks):
        doc = os.path.join(self.a.source_dir, "docs", "performance.md")
        text = open(doc).read()
        for name, body in blocks.items():
            pat = re.compile(rf"(<!-- BEGIN {re.escape(name)} -->\n).*?(<!-- END {re.escape(name)} -->)",
                             re.S)
            text, n = pat.subn(lambda mo: mo.group(1) + body + "\n" + mo.group(2), text)
            if n == 0:
                log(f"docs: no block {name} in {doc}")
        with open(doc, "w") as f:
            f.write(text)
        pd = os.path.join(self.a.source_dir, "docs", "perf")
        os.makedirs(pd, exist_ok=True)
        for png in ("rpc-throughput.png", "rpc-latency.png"):
            src = os.path.join(self.out, png)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(pd, png))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--warmup", type=float, default=0.25)
    ap.add_argument("--quick", action="store_true",
                    help="1 round of 0.5 s, fleet of 10 and 100, no profile")
    ap.add_argument("--only", default="rpc,fleet,streaming,collection,rss,profile",
                    help="comma-separated subset of "
                    "rpc,fleet,streaming,collection,rss,profile")
    ap.add_argument("--subscribers", default="1,100,1000")
    ap.add_argument("--stream-s", type=float, default=10.0,
                    help="measured seconds of each streaming run")
    ap.add_argument("--sas", default="1000,10000,100000",
                    help="SA counts of the collection benchmark")
    ap.add_argument("--sas-wait-s", type=float, default=4.0,
                    help="seconds each collection agent runs (about one build a second)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--fleet", default="10,100,1000")
    ap.add_argument("--fleet-rounds", type=int, default=5)
    ap.add_argument("--fleet-passes", type=int, default=3)
    ap.add_argument("--fleet-interval-ms", type=int, default=10000,
                    help="collection interval of the fleet's agents")
    ap.add_argument("--idle-s", type=float, default=3.0)
    ap.add_argument("--profile-requests", type=int, default=20000)
    ap.add_argument("--port-base", type=int, default=21100)
    ap.add_argument("--fleet-port-base", type=int, default=22000)
    ap.add_argument("--update-docs", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.duration, a.warmup = 1, 0.5, 0.2
        a.fleet, a.fleet_rounds, a.idle_s = "10,100", 3, 1.0
        a.fleet_passes = 1
        a.subscribers, a.stream_s = "1,100", 3.0
        a.only = ",".join(x for x in a.only.split(",") if x != "profile")
    a.methods = [m for m in a.methods.split(",") if m]
    a.fleet = [int(x) for x in a.fleet.split(",") if x]
    a.sas = [int(x) for x in a.sas.split(",") if x]
    a.subscribers = [int(x) for x in a.subscribers.split(",") if x]
    a.only = set(a.only.split(","))
    a.build_dir = os.path.abspath(a.build_dir)
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)

    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    t0 = time.time()
    try:
        b.machine()
        b.certs()
        if "rpc" in a.only:
            b.start_servers()
            b.rpc()
            stop_all()
        if "fleet" in a.only:
            b.fleet()
        if "streaming" in a.only:
            b.streaming()
        if "collection" in a.only:
            b.collection()
        if "rss" in a.only:
            b.rss()
        if "profile" in a.only:
            b.profile()
    finally:
        stop_all()
    b.res["elapsed_s"] = time.time() - t0
    b.write()
    log(f"results: {a.out}/results.md ({b.res['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
