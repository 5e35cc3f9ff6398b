"""python -m kubeemu serve --port P --kubeconfig PATH [--config testbed.yaml] [--delay S] [--plugin MODULE ...]
[--log-requests FILE] [--server-version vX.Y.Z] [--resync S]"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from .cluster import Emulator


def write_kubeconfig(path: str, server: str) -> None:
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: kubeemu
  cluster:
    server: {server}
contexts:
- name: kubeemu
  context:
    cluster: kubeemu
    user: kubeemu
    namespace: default
current-context: kubeemu
users:
- name: kubeemu
  user:
    token: kubeemu
"""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # readers never see a half-written file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubeemu")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the Kubernetes API emulator")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--kubeconfig", required=True, help="kubeconfig to write once listening")
    serve.add_argument("--config", help="testbed config YAML (nodes, ...)")
    serve.add_argument("--delay", type=float, default=0.0, help="seconds before controllers react to client writes")
    serve.add_argument("--resync", type=float, default=5.0, help="seconds between full controller resyncs")
    serve.add_argument("--plugin", action="append", default=[], help="module exposing register(options)")
    serve.add_argument("--log-requests", help="append one JSON line per request to this file")
    serve.add_argument("--server-version", help="gitVersion to report (default v1.25.16 or the config's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="kubeemu %(levelname)s %(name)s: %(message)s")
    # plugins live beside the kubeemu package (testbed)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        emu = Emulator(host=args.host, port=args.port, config_path=args.config, delay=args.delay,
                       resync=args.resync, plugins=args.plugin, log_requests=args.log_requests,
                       server_version=args.server_version)
    except ValueError as e:  # e.g. an unusable fault rule in the config
        print(f"kubeemu: {e}", file=sys.stderr, flush=True)
        return 2
    url = emu.start()
    write_kubeconfig(args.kubeconfig, url)
    print(f"kubeemu listening on {url}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
