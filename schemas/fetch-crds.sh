#!/usr/bin/env bash
# Fetch the CRDs that custom-resource snippets are validated against, from pinned
# Go modules, so no schema in schemas/crds/ is ever written by hand.
#
#   schemas/fetch-crds.sh [OUT_DIR]     (default: schemas/crds next to this script)
#
# Reproducible: each module is pinned by version AND by its go.sum hash ("h1:"),
# which `go mod download` checks the downloaded module against; the file is then
# copied byte for byte. tests/schema/test_crds.py re-runs this script and compares.
# Go's own module cache is used; nothing but the `go` command touches the network.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/crds}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# module  version  go.sum hash  file inside the module
# Karpenter v1.14.1: the newest release whose go.mod the pinned Go 1.26.8 toolchain
# accepts (v1.14.3 and v1.15.0 require go >= 1.26.9).
CRDS=(
  "sigs.k8s.io/karpenter v1.14.1 h1:GjqvOHLjl2+OXM0ti5VEZSQuvcitB0pETd8zdChXEtI= pkg/apis/crds/karpenter.sh_nodepools.yaml"
  # The rest of what the Karpenter component (clusters/build/build-component.sh
  # karpenter, same release) watches: without its CRDs it never becomes ready.
  "sigs.k8s.io/karpenter v1.14.1 h1:GjqvOHLjl2+OXM0ti5VEZSQuvcitB0pETd8zdChXEtI= pkg/apis/crds/karpenter.sh_nodeclaims.yaml"
  "sigs.k8s.io/karpenter v1.14.1 h1:GjqvOHLjl2+OXM0ti5VEZSQuvcitB0pETd8zdChXEtI= pkg/apis/crds/karpenter.sh_nodeoverlays.yaml"
  "sigs.k8s.io/karpenter v1.14.1 h1:GjqvOHLjl2+OXM0ti5VEZSQuvcitB0pETd8zdChXEtI= pkg/apis/crds/autoscaling.x-k8s.io_capacitybuffers.yaml"
  "sigs.k8s.io/karpenter v1.14.1 h1:GjqvOHLjl2+OXM0ti5VEZSQuvcitB0pETd8zdChXEtI= kwok/apis/crds/karpenter.kwok.sh_kwoknodeclasses.yaml"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"  # outside any go.mod, so `go mod download` fetches exactly what is named
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on GOFLAGS=-mod=mod

for entry in "${CRDS[@]}"; do
  read -r module version sum file <<<"$entry"
  go mod download -json "$module@$version" >"$work/info.json" || true
  dir="$(python3 - "$work/info.json" "$sum" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
if info.get("Error"):
    sys.exit(f"fetch-crds: {info['Path']}@{info['Version']}: {info['Error']}")
if info.get("Sum") != sys.argv[2]:
    sys.exit(f"fetch-crds: {info['Path']}@{info['Version']} hash {info.get('Sum')} != pinned {sys.argv[2]}")
print(info["Dir"])
PY
)"
  install -m 0644 "$dir/$file" "$out/$(basename "$file")"
  echo "fetch-crds: $module@$version $file -> $out/$(basename "$file")"
done
