#!/usr/bin/env bash
# Build (once) and cache the binaries of a real Kubernetes control plane plus
# etcd and KWOK, from Go modules only, with pinned versions.
#
#   BIN=$(clusters/build/build-binaries.sh | tail -1)
#   "$BIN/kwokctl" create cluster --runtime binary --etcd-binary "$BIN/etcd" ...
#
# Usage: build-binaries.sh [--component NAME] [--force] [--regen] [--help]
#   (no args)  print the cache directory holding all binaries (build if needed)
#   --component karpenter
#              the same, for a cluster component instead of the control plane:
#              Karpenter's KWOK cloud provider (sigs.k8s.io/karpenter/kwok) as
#              ${KDOCS_CACHE}/bin/karpenter-<v>/karpenter, same MANIFEST rules
#   --force    rebuild even if the cache directory is valid
#   --regen    rewrite clusters/build/{k8s,etcd,kwok,karpenter}/go.mod+go.sum
#              for the pinned versions below (needs the module proxy), then exit
#
# Progress goes to stderr; the LAST stdout line is the binary directory:
#   ${KDOCS_CACHE:-$HOME/.cache/kdocs}/bin/k8s-<v>_etcd-<v>_kwok-<v>/
# holding kube-apiserver kube-controller-manager kube-scheduler kubectl etcd
# kwok kwokctl and a MANIFEST (written last) with the sha256 of each binary.
# A directory without a valid MANIFEST, or whose binaries do not match it, is
# treated as half-written/corrupt and rebuilt.
#
# Environment:
#   K8S_VERSION ETCD_VERSION KWOK_VERSION KARPENTER_VERSION  override the pins below. With the
#       pinned defaults the committed go.mod/go.sum files are used as-is
#       (-mod=readonly, reproducible); with other versions a wrapper module is
#       generated under $KDOCS_CACHE/work/ and resolved there (-mod=mod).
#   KDOCS_CACHE       cache root (default ~/.cache/kdocs)
#   KDOCS_BUILD_JOBS  go build -p (default 2: sized for 2 cores / 24 GiB)
#   KDOCS_VERIFY=1    re-hash every binary even if its stat fingerprint is unchanged
set -euo pipefail

# ---- pinned versions: the one place to change them -------------------------
K8S_VERSION=${K8S_VERSION:-v1.36.3}   # k8s.io/kubernetes (1.37 may need Go 1.27)
ETCD_VERSION=${ETCD_VERSION:-v3.6.16} # go.etcd.io/etcd/server/v3, newest v3.6
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}  # sigs.k8s.io/kwok
# sigs.k8s.io/karpenter: v1.14.3 and v1.15.0 need Go >= 1.26.10 / 1.26.9 (we pin 1.26.8).
# schemas/fetch-crds.sh pins the CRDs of the same release.
KARPENTER_VERSION=${KARPENTER_VERSION:-v1.14.1}
# ---------------------------------------------------------------------------

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${KDOCS_CACHE:-$HOME/.cache/kdocs}
JOBS=${KDOCS_BUILD_JOBS:-2}
TUPLE="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
BIN_DIR="$CACHE/bin/$TUPLE"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)
# Bump RECIPE whenever the build flags below change: a cache directory built
# with another recipe is then rebuilt even though the version tuple is equal.
RECIPE=2
MANIFEST_FORMAT="kdocs-binaries-manifest v1 recipe $RECIPE"

log() { printf 'build-binaries: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

FORCE=0 REGEN=0 COMPONENT=
while (($#)); do
  arg=$1; shift
  case "$arg" in
    --force) FORCE=1 ;;
    --regen) REGEN=1 ;;
    --component) COMPONENT=${1-}; shift || true ;;
    --component=*) COMPONENT=${arg#*=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
  esac
done
case "$COMPONENT" in
  "") ;;
  karpenter)
    [[ $KARPENTER_VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
      die "KARPENTER_VERSION must look like v1.N.M, got $KARPENTER_VERSION"
    TUPLE="karpenter-${KARPENTER_VERSION}"
    BIN_DIR="$CACHE/bin/$TUPLE"
    BINARIES=(karpenter) ;;
  *) die "unknown component: ${COMPONENT} (known: karpenter)" ;;
esac

# ---- cache validation (the warm path: must stay fast, no go invocation) ----
# MANIFEST layout:
#   kdocs-binaries-manifest v1 recipe <RECIPE>
#   tuple <TUPLE>
#   # comments (go version, build time)
#   <sha256>  <binary>        (one line per binary, sha256sum format)
#   complete
# Hashing all ~420 MB takes ~1 s on this machine, too slow for every call. So
# after a full sha256 check the script records a stat fingerprint (name, size,
# mtime in ns, inode) of the binaries and MANIFEST in .verified; while that
# fingerprint still matches, nothing was rewritten, truncated or replaced and
# the hashes are not recomputed. Any change to a file changes its fingerprint
# and forces the full sha256 check (and a rebuild if that fails).
# KDOCS_VERIFY=1 forces the full check.
manifest_valid() {
  local dir=$1 line b stamp
  local -a lines sums=()
  local -A have=()
  [[ -f $dir/MANIFEST ]] || return 1
  mapfile -t lines <"$dir/MANIFEST"
  [[ ${#lines[@]} -ge 3 && ${lines[0]} == "$MANIFEST_FORMAT" && ${lines[1]} == "tuple $TUPLE" &&
     ${lines[-1]} == complete ]] || return 1
  for line in "${lines[@]}"; do
    if [[ $line =~ ^[0-9a-f]{64}\ \ ([a-z-]+)$ ]]; then
      sums+=("$line"); have[${BASH_REMATCH[1]}]=1
    fi
  done
  for b in "${BINARIES[@]}"; do
    [[ -n ${have[$b]-} && -x $dir/$b ]] || return 1
  done
  stamp=$(cd "$dir" && stat -c '%n %s %.9Y %i' "${BINARIES[@]}" MANIFEST) || return 1
  if [[ ${KDOCS_VERIFY:-0} != 1 && -f $dir/.verified && $(<"$dir/.verified") == "$stamp" ]]; then
    return 0
  fi
  # Full check, two hashes at a time (2 cores).
  # shellcheck disable=SC2016  # $0/$1 are expanded by the inner sh
  (cd "$dir" && printf '%s\n' "${sums[@]}" | xargs -P 2 -L 1 sh -c \
     'printf "%s  %s\n" "$0" "$1" | sha256sum --check --status --strict -') || return 1
  { printf '%s\n' "$stamp" >"$dir/.verified.$$" && mv -f "$dir/.verified.$$" "$dir/.verified"; } 2>/dev/null || true
}

if [[ $REGEN == 0 && $FORCE == 0 ]] && manifest_valid "$BIN_DIR"; then
  echo "$BIN_DIR"
  exit 0
fi

# ---- cold path --------------------------------------------------------------
command -v go >/dev/null || die "go not found on PATH (need Go >= 1.26)"
export GOTOOLCHAIN=local   # never fetch another toolchain
export CGO_ENABLED=0       # static binaries, no C toolchain needed
unset GOOS GOARCH          # host binaries only
export GOFLAGS="${GOFLAGS:-}"
GOFLAGS=$(sed -E 's/(^| )-mod=[a-z]+//g' <<<"$GOFLAGS")
GOFLAGS+=" -buildvcs=false"   # the wrapper modules live in a git repo: keep its HEAD out of the binaries

# Wrapper go.mod generators. Each wrapper module requires the upstream module
# and names the commands to build with go.mod `tool` directives (Go >= 1.24),
# which keeps `go mod tidy` honest about their dependencies.
gen_k8s_mod() { # <dir> <version>
  local dir=$1 v=$2 up staging sv
  # k8s.io/kubernetes requires its staging modules (k8s.io/api, ...) at
  # v0.0.0 and replaces them with ./staging/src/... paths; replaces are
  # ignored in a dependency, so point each at the published v0.<minor>.<patch>.
  up=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$v" |
       sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -n $up && -f $up ]] || die "could not download k8s.io/kubernetes@$v"
  sv="v0.${v#v1.}"
  staging=$(awk '/^require \(/{r=1;next} r&&/^\)/{r=0} r&&$2=="v0.0.0"{print $1}' "$up" | sort |
            while read -r m; do grep -q "^[[:space:]]$m => ./staging/" "$up" && echo "$m"; done)
  [[ -n $staging ]] || die "no staging replaces found in $up"
  {
    echo "// Wrapper module: builds Kubernetes control-plane binaries from the k8s.io/kubernetes"
    echo "// Go module. k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces"
    echo "// them with ./staging paths, which do not apply to a dependency; the replace block"
    echo "// points each at the published staging release instead."
    echo "// Generated by build-binaries.sh --regen; do not edit by hand."
    echo "module kdocs.local/clusters/build/k8s"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes $v"
    echo
    echo "tool ("
    local t; for t in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      echo "	k8s.io/kubernetes/cmd/$t"; done
    echo ")"
    echo
    echo "replace ("
    local m; for m in $staging; do echo "	$m => $m $sv"; done
    echo ")"
  } >"$dir/go.mod"
}
gen_etcd_mod() {
  cat >"$1/go.mod" <<EOF
// Wrapper module: builds the etcd server from the published go.etcd.io/etcd/server/v3
// module, whose root package is the etcd main (etcdmain.Main(os.Args)). Its own replace
// lines (../api etc.) do not apply to a dependency, so the published api/client/pkg
// modules of the same release are used.
// Generated by build-binaries.sh --regen; do not edit by hand.
module kdocs.local/clusters/build/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $2

tool go.etcd.io/etcd/server/v3
EOF
}
gen_kwok_mod() {
  cat >"$1/go.mod" <<EOF
// Wrapper module: builds kwok and kwokctl from the published sigs.k8s.io/kwok module.
// Generated by build-binaries.sh --regen; do not edit by hand.
module kdocs.local/clusters/build/kwok

go 1.26.0

require sigs.k8s.io/kwok $2

tool (
	sigs.k8s.io/kwok/cmd/kwok
	sigs.k8s.io/kwok/cmd/kwokctl
)
EOF
}
gen_karpenter_mod() {
  cat >"$1/go.mod" <<EOF
// Wrapper module: builds Karpenter's KWOK cloud provider (package sigs.k8s.io/karpenter/kwok,
// the provider Karpenter's own tests run on) from the published sigs.k8s.io/karpenter module.
// Generated by build-binaries.sh --regen; do not edit by hand.
module kdocs.local/clusters/build/karpenter

go 1.26.0

require sigs.k8s.io/karpenter $2

tool sigs.k8s.io/karpenter/kwok
EOF
}

# pinned_in <dir> <module>: the version the committed go.mod requires.
pinned_in() { awk -v m="$2" '($1==m || ($1=="require" && $2==m)) && $0 !~ /=>/ {print ($1=="require") ? $3 : $2; exit}' "$1/go.mod"; }

# module_dir <name> <upstream module> <version>: set MODDIR to a directory
# holding a wrapper module for that version, and MODFLAG for building in it.
module_dir() {
  local name=$1 mod=$2 v=$3
  if [[ $(pinned_in "$HERE/$name" "$mod") == "$v" && -s $HERE/$name/go.sum ]]; then
    MODDIR=$HERE/$name MODFLAG=-mod=readonly
    return
  fi
  MODDIR="$CACHE/work/$name-$v" MODFLAG=-mod=mod
  log "$mod $v is not the committed pin; resolving a wrapper module in $MODDIR"
  mkdir -p "$MODDIR"
  "gen_${name}_mod" "$MODDIR" "$v"
  (cd "$MODDIR" && go mod tidy >&2) || die "go mod tidy failed for $mod@$v"
}

if [[ $REGEN == 1 ]]; then
  for spec in "k8s $K8S_VERSION" "etcd $ETCD_VERSION" "kwok $KWOK_VERSION" \
              "karpenter $KARPENTER_VERSION"; do
    read -r name ver <<<"$spec"
    log "regenerating $HERE/$name for $ver"
    "gen_${name}_mod" "$HERE/$name" "$ver"
    (cd "$HERE/$name" && go mod tidy >&2)
  done
  exit 0
fi

mkdir -p "$CACHE/bin"
# One builder per tuple at a time; a second caller waits, then finds it valid.
exec 9>"$CACHE/bin/.$TUPLE.lock"
if ! flock -n 9; then
  log "another build of $TUPLE is running; waiting for it"
  flock 9
fi
if [[ $FORCE == 0 ]] && manifest_valid "$BIN_DIR"; then
  echo "$BIN_DIR"
  exit 0
fi

mkdir -p "$BIN_DIR"
rm -f "$BIN_DIR/MANIFEST"   # invalid until every binary is in place again
rm -rf "$BIN_DIR"/.stage.* "$BIN_DIR"/.MANIFEST.tmp   # left by a killed build (we hold the lock)
STAGE=$(mktemp -d "$BIN_DIR/.stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# go_build <module dir> <modflag> <ldflags> <tags> <out:pkg>...
go_build() {
  local dir=$1 modflag=$2 ldflags=$3 tags=$4; shift 4
  local spec out pkg
  for spec in "$@"; do
    out=${spec%%:*} pkg=${spec#*:}
    log "building $out ($pkg)"
    local t0=$SECONDS
    (cd "$dir" && GOFLAGS="$GOFLAGS $modflag" go build -p "$JOBS" -trimpath \
        ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$STAGE/$out" "$pkg") \
      || die "go build $pkg failed"
    log "built $out in $((SECONDS - t0))s"
  done
}

t_start=$SECONDS
log "building $TUPLE into $BIN_DIR (go $(go env GOVERSION), -p $JOBS)"

if [[ $COMPONENT == karpenter ]]; then
  module_dir karpenter sigs.k8s.io/karpenter "$KARPENTER_VERSION"
  # The one change to Karpenter: its metrics and health-probe servers listen on
  # 127.0.0.1 instead of every interface (its flags take a port, not an address).
  # The wrapper module is vendored into a scratch copy (go mod vendor checks every
  # module against go.sum) and two lines of the vendored pkg/operator/operator.go
  # are edited there; the module cache and the committed wrapper stay untouched.
  VENDORED="$CACHE/work/karpenter-vendored-$KARPENTER_VERSION"
  rm -rf "$VENDORED" && mkdir -p "$VENDORED"
  cp "$MODDIR/go.mod" "$MODDIR/go.sum" "$VENDORED/"
  (cd "$VENDORED" && go mod vendor >&2) || die "go mod vendor failed"
  operator="$VENDORED/vendor/sigs.k8s.io/karpenter/pkg/operator/operator.go"
  sed -i 's/fmt\.Sprintf(":%d", /fmt.Sprintf("127.0.0.1:%d", /' "$operator"
  [[ $(grep -c 'fmt.Sprintf("127.0.0.1:%d", ' "$operator") == 2 ]] ||
    die "Karpenter $KARPENTER_VERSION: its two bind addresses were not found in pkg/operator/operator.go"
  go_build "$VENDORED" -mod=vendor "-s -w" "" karpenter:sigs.k8s.io/karpenter/kwok
  rm -rf "$VENDORED"
  VERSIONS="karpenter $KARPENTER_VERSION"
else

# Kubernetes. Version variables as set by hack/lib/version.sh, so that
# `--version`, /version and the binary-version checks report the real release
# instead of v0.0.0-master. buildDate = the release tag time (reproducible);
# gitCommit is left empty: the module proxy does not record the commit.
module_dir k8s k8s.io/kubernetes "$K8S_VERSION"; K8S_DIR=$MODDIR K8S_MOD=$MODFLAG
k8s_minor=${K8S_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
[[ $K8S_VERSION =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "K8S_VERSION must look like v1.N.M, got $K8S_VERSION"
k8s_date=$(cd "$K8S_DIR" && GOFLAGS="$GOFLAGS $K8S_MOD" go list -m \
           -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z07:00"}}' "k8s.io/kubernetes@$K8S_VERSION")
k8s_ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
  k8s_ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$k8s_date -X $p.gitCommit="
done
# Same tags as the upstream release build (hack/lib/golang.sh).
go_build "$K8S_DIR" "$K8S_MOD" "$k8s_ld" "selinux,notest,grpcnotrace" \
  kube-apiserver:k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager:k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler:k8s.io/kubernetes/cmd/kube-scheduler \
  kubectl:k8s.io/kubernetes/cmd/kubectl

# etcd: its version is a constant in go.etcd.io/etcd/api/v3/version.
module_dir etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"; ETCD_DIR=$MODDIR ETCD_MOD=$MODFLAG
go_build "$ETCD_DIR" "$ETCD_MOD" "-s -w" "" etcd:go.etcd.io/etcd/server/v3

# kwok: consts.Version is already the release in the source; KubeVersion is the
# Kubernetes version kwokctl assumes by default, so make it match ours.
module_dir kwok sigs.k8s.io/kwok "$KWOK_VERSION"; KWOK_DIR=$MODDIR KWOK_MOD=$MODFLAG
go_build "$KWOK_DIR" "$KWOK_MOD" \
  "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}" "" \
  kwok:sigs.k8s.io/kwok/cmd/kwok kwokctl:sigs.k8s.io/kwok/cmd/kwokctl
VERSIONS="kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION"
fi

# Install: each binary renamed into place (atomic on one filesystem), then the
# MANIFEST, written to a temp name and renamed last.
for b in "${BINARIES[@]}"; do
  chmod 0755 "$STAGE/$b"
  mv -f "$STAGE/$b" "$BIN_DIR/$b"
done
{
  echo "$MANIFEST_FORMAT"
  echo "tuple $TUPLE"
  echo "# go $(go env GOVERSION) CGO_ENABLED=0 -trimpath; built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - t_start))s"
  echo "# versions: $VERSIONS"
  (cd "$BIN_DIR" && sha256sum "${BINARIES[@]}")
  echo complete
} >"$BIN_DIR/.MANIFEST.tmp"
mv -f "$BIN_DIR/.MANIFEST.tmp" "$BIN_DIR/MANIFEST"
manifest_valid "$BIN_DIR" || die "freshly written $BIN_DIR failed validation"
log "done in $((SECONDS - t_start))s"
echo "$BIN_DIR"
