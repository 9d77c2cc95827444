#!/usr/bin/env bash
# Prove the binaries from build-binaries.sh bring up a working kwokctl cluster
# with no network access: create the cluster (binary runtime, every component
# from the local cache), add a fake node, run a Deployment until its pods are
# Ready on that node, check /version, then delete the cluster. Prints timings
# and the RSS of the control-plane processes to stderr.
#
# Usage: probe-kwok.sh [cluster-name]        (default: kdocs-probe)
# Env:   KWOK_WORKDIR  kwokctl state root (default ~/.kwok; the cluster lives in
#                      $KWOK_WORKDIR/clusters/<name>)
#        KEEP=1        leave the cluster running (delete it with
#                      "$BIN/kwokctl delete cluster --name <name>")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=${1:-kdocs-probe}
log() { printf 'probe-kwok: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

t0=$(now)
BIN=$("$HERE/build-binaries.sh" | tail -n 1)
log "binaries: $BIN (build-binaries.sh took $(since "$t0")s)"
K8S_VERSION=$(sed -n 's/^# versions: kubernetes \([^,]*\),.*/\1/p' "$BIN/MANIFEST")
ETCD_VERSION=$(sed -n 's/^# versions: .*etcd \([^,]*\),.*/\1/p' "$BIN/MANIFEST")

export KWOK_WORKDIR=${KWOK_WORKDIR:-$HOME/.kwok}
# kwokctl has no --kubectl-binary flag; it reads KWOK_KUBECTL_BINARY (used by
# `kwokctl kubectl` and for the cluster's own kubectl calls).
export KWOK_KUBECTL_BINARY=$BIN/kubectl
# No --kube-version flag either; kwokctl derives component flags from the
# Kubernetes version (build-binaries.sh already sets its default to ours).
export KWOK_KUBE_VERSION=$K8S_VERSION
export KWOK_ETCD_VERSION=${ETCD_VERSION#v}   # selects etcd flags; nothing is fetched
CLUSTER_DIR=$KWOK_WORKDIR/clusters/$NAME
KUBECONFIG_FILE=$CLUSTER_DIR/kubeconfig.yaml
kctl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

if [[ -d $CLUSTER_DIR ]]; then
  log "removing leftover cluster $NAME"
  "$BIN/kwokctl" delete cluster --name "$NAME" >&2 || true
fi

cleanup() {
  rm -f "${CONFIG:-}"
  if [[ ${KEEP:-0} != 1 && -d $CLUSTER_DIR ]]; then
    log "cleanup: deleting cluster $NAME"
    "$BIN/kwokctl" delete cluster --name "$NAME" >&2 || true
  fi
}
trap cleanup EXIT

# Options that have no create-cluster flag go in a KwokctlConfiguration:
# bindAddress (default 0.0.0.0: every component would listen on all
# interfaces) and kubectlBinary. Passing --config also keeps kwokctl from
# reading a stray $KWOK_WORKDIR/kwok.yaml.
CONFIG=$(mktemp /tmp/kwokctl-config.XXXXXX.yaml)
cat >"$CONFIG" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  kubectlBinary: $BIN/kubectl
EOF

t_create=$(now)
# --kubeconfig '': do not touch ~/.kube/config; the cluster's kubeconfig is
# $CLUSTER_DIR/kubeconfig.yaml. Ports are picked at random by kwokctl.
"$BIN/kwokctl" --config "$CONFIG" create cluster \
  --name "$NAME" \
  --runtime binary \
  --etcd-binary "$BIN/etcd" \
  --kube-apiserver-binary "$BIN/kube-apiserver" \
  --kube-controller-manager-binary "$BIN/kube-controller-manager" \
  --kube-scheduler-binary "$BIN/kube-scheduler" \
  --kwok-controller-binary "$BIN/kwok" \
  --kubeconfig '' \
  --wait 2m \
  >&2
log "kwokctl create cluster returned after $(since "$t_create")s"
# Nothing may have been fetched: kwokctl's download cache stays empty and the
# cluster's bin/ only links to our binaries.
if [[ -n $(find "$KWOK_WORKDIR/cache" -type f 2>/dev/null | head -1) ]]; then
  log "FAIL: kwokctl downloaded something into $KWOK_WORKDIR/cache"; exit 1
fi
for f in "$CLUSTER_DIR"/bin/*; do
  [[ $(readlink -f "$f") == "$BIN"/* ]] || { log "FAIL: $f is not one of $BIN"; exit 1; }
done

kctl apply -f - >&2 <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  nodeInfo:
    architecture: amd64
    kubeProxyVersion: fake
    kubeletVersion: fake
    operatingSystem: linux
  phase: Running
EOF
kctl wait --for=condition=Ready node/kwok-node-0 --timeout=60s >&2

kctl create deployment probe --image=registry.invalid/probe:1 --replicas=3 >&2
kctl rollout status deployment/probe --timeout=120s >&2
kctl wait --for=condition=Ready pod -l app=probe --timeout=60s >&2
kctl get pods -o wide >&2
log "cluster ready (node Ready, 3/3 pods Ready) $(since "$t_create")s after create started"

version=$(kctl get --raw /version)
log "/version: $(tr -d '\n ' <<<"$version")"
grep -Eq "\"gitVersion\": ?\"$K8S_VERSION\"" <<<"$version" || { log "FAIL: /version is not $K8S_VERSION"; exit 1; }

log "RSS of cluster processes (MiB):"
total=0
for pidfile in "$CLUSTER_DIR"/pids/*.pid; do
  pid=$(<"$pidfile")
  rss=$(awk '/^VmRSS:/{print int($2/1024)}' "/proc/$pid/status" 2>/dev/null || echo 0)
  total=$((total + rss))
  printf '  %-26s %5s\n' "$(basename "$pidfile" .pid)" "$rss" >&2
done
printf '  %-26s %5s\n' total "$total" >&2

if [[ ${KEEP:-0} == 1 ]]; then
  log "KEEP=1: leaving cluster $NAME running (kubeconfig: $KUBECONFIG_FILE)"
  trap - EXIT
  rm -f "$CONFIG"
  exit 0
fi
t_del=$(now)
"$BIN/kwokctl" delete cluster --name "$NAME" >&2
log "kwokctl delete cluster took $(since "$t_del")s"
trap - EXIT
rm -f "$CONFIG"
log "OK"
