"""A generated corpus of realistic Kubernetes manifests, the same for every tool.

    python benchmarks/corpus.py OUT_DIR DOCS [--seed N]

Deterministic (seeded): the same DOCS and seed give byte-identical files on any
machine.  Files are bundles of 1 to 8 documents (an app folder: Deployment,
Service, ConfigMap, ...) of 19 kinds across 8 API groups.  About 5 % of the
documents carry one realistic mistake, chosen so that every strict validator must
reject it: a misspelt field, a string where a number belongs, a missing required
field.  Every document has a globally unique ``metadata.name`` so tools whose
output names documents differently can be matched; `Corpus.documents` records
each one's file, lines, kind, name and whether (and how) it was made invalid.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

INVALID_SHARE = 0.05


@dataclass(frozen=True)
class Doc:
    file: str  # relative to the corpus folder
    first_line: int  # 1-based, inclusive
    last_line: int
    kind: str
    name: str
    mistake: str  # "" when valid


@dataclass
class Corpus:
    root: Path
    documents: list[Doc]

    @property
    def files(self) -> list[Path]:
        return sorted({self.root / d.file for d in self.documents})

    @property
    def invalid(self) -> set[str]:
        return {d.name for d in self.documents if d.mistake}

    def by_line(self) -> dict[str, list[Doc]]:
        out: dict[str, list[Doc]] = {}
        for doc in self.documents:
            out.setdefault(doc.file, []).append(doc)
        return out


# --- templates: (kind, yaml with {name}, {app}, {n} placeholders) -------------------

_CONTAINER = """\
        - name: {app}
          image: registry.example.com/{app}:1.{n}.0
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
              name: http
              protocol: TCP
          env:
            - name: LOG_LEVEL
              value: info
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
"""

_POD_SPEC = (
    """\
      serviceAccountName: {app}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
"""
    + _CONTAINER
)

_META = """\
metadata:
  name: {name}
  namespace: team-{ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: shop
"""

TEMPLATES: dict[str, str] = {
    "Deployment": "apiVersion: apps/v1\nkind: Deployment\n"
    + _META
    + """\
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
"""
    + _POD_SPEC,
    "StatefulSet": "apiVersion: apps/v1\nkind: StatefulSet\n"
    + _META
    + """\
spec:
  serviceName: {app}
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
"""
    + _POD_SPEC
    + """\
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 10Gi
""",
    "DaemonSet": "apiVersion: apps/v1\nkind: DaemonSet\n"
    + _META
    + """\
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
    spec:
      tolerations:
        - key: node-role.kubernetes.io/control-plane
          operator: Exists
          effect: NoSchedule
"""
    + _POD_SPEC[_POD_SPEC.index("      containers:") :],
    "Job": "apiVersion: batch/v1\nkind: Job\n"
    + _META
    + """\
spec:
  backoffLimit: 4
  ttlSecondsAfterFinished: 3600
  template:
    spec:
      restartPolicy: OnFailure
"""
    + _POD_SPEC[_POD_SPEC.index("      containers:") :],
    "CronJob": "apiVersion: batch/v1\nkind: CronJob\n"
    + _META
    + """\
spec:
  schedule: "*/15 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: {app}
              image: registry.example.com/{app}:1.{n}.0
              args: ["--once", "--batch-size=500"]
""",
    "Service": "apiVersion: v1\nkind: Service\n"
    + _META
    + """\
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {app}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
""",
    "ConfigMap": "apiVersion: v1\nkind: ConfigMap\n"
    + _META
    + """\
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "checkout,search"
  app.properties: |
    server.port=8080
    cache.size={n}
""",
    "Secret": "apiVersion: v1\nkind: Secret\n"
    + _META
    + """\
type: Opaque
stringData:
  username: {app}
  password: not-a-real-password-{n}
""",
    "ServiceAccount": "apiVersion: v1\nkind: ServiceAccount\n"
    + _META
    + """\
automountServiceAccountToken: false
""",
    "PersistentVolumeClaim": "apiVersion: v1\nkind: PersistentVolumeClaim\n"
    + _META
    + """\
spec:
  accessModes:
    - ReadWriteOnce
  storageClassName: standard
  resources:
    requests:
      storage: 5Gi
""",
    "Namespace": """\
apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  labels:
    pod-security.kubernetes.io/enforce: restricted
""",
    "Ingress": "apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
    + _META
    + """\
spec:
  ingressClassName: nginx
  tls:
    - hosts: [{app}.example.com]
      secretName: {app}-tls
  rules:
    - host: {app}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {app}
                port:
                  number: 80
""",
    "NetworkPolicy": "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    + _META
    + """\
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {app}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress
      ports:
        - protocol: TCP
          port: 8080
""",
    "Role": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
    + _META
    + """\
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    verbs: [get, list, watch]
""",
    "RoleBinding": "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
    + _META
    + """\
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {app}
subjects:
  - kind: ServiceAccount
    name: {app}
    namespace: team-{ns}
""",
    "ClusterRole": """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {name}
rules:
  - apiGroups: [apps]
    resources: [deployments, statefulsets]
    verbs: [get, list, watch]
""",
    "HorizontalPodAutoscaler": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
    + _META
    + """\
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
""",
    "PodDisruptionBudget": "apiVersion: policy/v1\nkind: PodDisruptionBudget\n"
    + _META
    + """\
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
""",
    "PriorityClass": """\
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: {name}
value: 100000
globalDefault: false
description: workloads of the {app} team
""",
}

# How often each kind appears (workloads and their companions dominate real repos).
WEIGHTS = {
    "Deployment": 14, "Service": 12, "ConfigMap": 10, "Secret": 6, "ServiceAccount": 6,
    "StatefulSet": 4, "DaemonSet": 3, "Job": 3, "CronJob": 3, "PersistentVolumeClaim": 4,
    "Ingress": 6, "NetworkPolicy": 4, "Role": 4, "RoleBinding": 4, "ClusterRole": 2,
    "HorizontalPodAutoscaler": 5, "PodDisruptionBudget": 4, "Namespace": 2, "PriorityClass": 1,
}  # fmt: skip

# Mistakes: (name, old text, new text); the first whose old text is in the document
# applies.  Each is a real error under strict validation in every version.
MISTAKES = [
    ("misspelt field", "    imagePullPolicy: IfNotPresent", "    imagePulPolicy: IfNotPresent"),
    ("string for a number", "  replicas: 3\n", '  replicas: "three"\n'),
    ("missing required field", "            - containerPort: 8080\n              name: http\n",
     "            - name: http\n"),
    ("string for a number", "      port: 80\n", '      port: "eighty"\n'),
    ("misspelt field", "  labels:\n", "  lables:\n"),
    ("misspelt field", "rules:\n", "rule:\n"),
    ("string for a number", "value: 100000\n", "value: high\n"),
]  # fmt: skip


def _document(kind: str, n: int, rng: random.Random) -> str:
    app = rng.choice(["cart", "checkout", "search", "catalog", "payments", "auth", "mailer"])
    return TEMPLATES[kind].format(name=f"{kind.lower()}-{n:05d}", app=app, n=n, ns=n % 17)


def _break(text: str, rng: random.Random) -> tuple[str, str]:
    options = [m for m in MISTAKES if m[1] in text]
    label, old, new = rng.choice(options)
    return text.replace(old, new, 1), label


def generate(root: Path, count: int, seed: int = 5) -> Corpus:
    """Write `count` documents under `root` (created) and describe them."""
    rng = random.Random(seed)
    kinds = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in kinds]
    root.mkdir(parents=True, exist_ok=True)
    documents: list[Doc] = []
    n = 0
    file_no = 0
    while n < count:
        size = min(rng.randint(1, 8), count - n)
        rel = f"app-{file_no // 100:03d}/bundle-{file_no:05d}.yaml"
        file_no += 1
        parts: list[str] = []
        line = 1
        for _ in range(size):
            kind = rng.choices(kinds, weights)[0]
            text = _document(kind, n, rng)
            mistake = ""
            if rng.random() < INVALID_SHARE:
                text, mistake = _break(text, rng)
            if parts:
                parts.append("---\n")
                line += 1
            lines = text.count("\n")
            documents.append(
                Doc(rel, line, line + lines - 1, kind, f"{kind.lower()}-{n:05d}", mistake)
            )
            parts.append(text)
            line += lines
            n += 1
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(parts))
    return Corpus(root, documents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("docs", type=int)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    corpus = generate(args.out, args.docs, args.seed)
    index = args.out.with_name(args.out.name + "-index.json")  # outside: kubeconform reads .json
    index.write_text(json.dumps([asdict(d) for d in corpus.documents], indent=0))
    print(f"{len(corpus.documents)} documents in {len(corpus.files)} files, "
          f"{len(corpus.invalid)} invalid; index in {index}")  # fmt: skip


if __name__ == "__main__":
    main()
