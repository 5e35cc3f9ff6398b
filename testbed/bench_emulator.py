"""Benchmark of the kubeemu emulator: prints figures, asserts nothing.

    .venv/bin/python testbed/bench_emulator.py   # make bench

Targets: start < 1 s, 500 creates < 2 s."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kubeemu-bench-"))
    kubeconfig = tmp / "kubeconfig"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "kubeemu", "serve", "--port", "0", "--kubeconfig", str(kubeconfig)],
                            env={**os.environ, "PYTHONPATH": str(HERE)}, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split("listening on", 1)[1].strip()
        host, port = url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port))
        conn.request("GET", "/version")
        conn.getresponse().read()
        start = time.monotonic() - t0
        figures = {"start (process to first /version)": start}

        def call(method: str, path: str, body=None, ctype="application/json") -> int:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": ctype})
            resp = conn.getresponse()
            resp.read()
            return resp.status

        def timed(label: str, fn) -> None:
            t = time.monotonic()
            fn()
            figures[label] = time.monotonic() - t

        call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        base = "/api/v1/namespaces/bench/configmaps"
        timed("500 creates", lambda: [call("POST", base, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": f"cm-{i}", "labels": {"i": str(i % 10)}}, "data": {"k": str(i)}}) for i in range(500)])
        timed("500 gets", lambda: [call("GET", f"{base}/cm-{i}") for i in range(500)])
        timed("100 patches (merge)", lambda: [call("PATCH", f"{base}/cm-{i}", {"data": {"k": "p"}},
                                                   "application/merge-patch+json") for i in range(100)])
        timed("100 patches (strategic, Deployment)", lambda: _deploy_patches(call))
        timed("list 500 with label selector x 20", lambda: [call("GET", f"{base}?labelSelector=i%3D3")
                                                            for _ in range(20)])
        manifest = tmp / "many.yaml"
        manifest.write_text("".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied-{i}\n  namespace: bench\n"
            f"data:\n  k: '{i}'\n" for i in range(100)))
        kubectl = str(Path(sys.executable).parent / "kubectl")
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp)}
        timed("kubectl apply of 100 objects", lambda: subprocess.run([kubectl, "apply", "-f", str(manifest)], env=env,
                                                                     check=True, capture_output=True))
        timed("kubectl apply of 100 objects (unchanged)", lambda: subprocess.run(
            [kubectl, "apply", "-f", str(manifest)], env=env, check=True, capture_output=True))
        for label, secs in figures.items():
            print(f"{label:45s} {secs * 1000:8.0f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def _deploy_patches(call) -> None:
    path = "/apis/apps/v1/namespaces/bench/deployments"
    call("POST", path, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
                                                                                "spec": {"containers": [{
                                                                                    "name": "c", "image": "x:1"}]}}}})
    for i in range(100):
        call("PATCH", f"{path}/d", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "env": [{"name": "N", "value": str(i)}]}]}}}}, "application/strategic-merge-patch+json")


if __name__ == "__main__":
    main()
