"""Throughput of `kdocs validate`, whole process (startup, imports, schema compilation).

    .venv/bin/python tests/schema/bench_validate.py [DOCS ...]   (default: 1000 10000)

Writes DOCS Deployments (40 lines each, 1000 per file: the per-file document limit)
into a temporary folder, runs `python -m kdocs.schema.cli validate` on it for the
default matrix (8 Kubernetes versions) and prints documents per second.  Not a
test: timings depend on the machine, so nothing asserts on them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOC = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: default
  labels:
    app: web
    tier: frontend
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 80
              name: http
          resources:
            requests:
              cpu: 1
              memory: 128Mi
            limits:
              cpu: "2"
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /
              port: http
            initialDelaySeconds: 5
          env:
            - name: MODE
              value: production
"""


def run(count: int, folder: Path) -> float:
    for start in range(0, count, 1000):
        docs = [DOC.format(i=i) for i in range(start, min(count, start + 1000))]
        (folder / f"d{start // 1000:04d}.yaml").write_text("---\n".join(docs))
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kdocs.schema.cli", "validate", str(folder)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0 or f"{count} valid" not in done.stdout:
        sys.exit(f"unexpected result: {done.returncode} {done.stdout} {done.stderr}")
    return elapsed


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            elapsed = run(count, Path(tmp))
        print(f"{count} documents: {elapsed:.2f} s, {count / elapsed:.0f} documents/s")


if __name__ == "__main__":
    main()
