"""Scenario files: the claims of a guide, as ordered steps run against a real cluster.

A `NAME.scenario.yaml` lives next to the snippets it uses:

    name: daemonset-placement          # defaults to NAME
    description: what the guide claims
    exclusive: false                   # true: needs the nodes to itself (stages contention)
    requires: [karpenter]              # components the claim needs (else: not provable there)
    timeout: 60s                       # default for steps that give none
    steps:
      - apply: daemonset.yaml                                   # a snippet, as is
      - apply: {file: daemonset.yaml, patch: {spec: ...}}       # RFC 7386 merge patch per document
      - apply: {file: x.yaml, patch: ..., rejected: "reason"}   # the API server must refuse it
      - apply: {object: {apiVersion: v1, kind: Pod, ...}}       # an inline fixture
      - assert: {object: <partial object>, timeout: 30s}        # must match within the timeout
      - assert: {object: <partial, selected by labels>, count: 3}   # or match: any|all
      - assert: {object: ..., count: 2, during: 20s}   # holds (within timeout), then for 20s
      - error: {object: <partial object>, for: 10s}             # must NOT appear for 10s
      - delete: {apiVersion: apps/v1, kind: DaemonSet, name: x} # or delete: FILE

Objects are found by apiVersion/kind and `metadata.name`, or, without a name,
by `metadata.labels` (none: every object of the kind), and then `count: N`
(exactly N match), `match: any` (at least one) or `match: all` (at least one
selected and every one matches). Cluster-scoped kinds (Node, NodeClaim,
NodePool) are selected cluster-wide. Strings may use the variables of
`variables.py`: `${namespace}` (the scenario's namespace), `${node:NAME}` (the
real name of the topology node NAME, for providers that name nodes
themselves), `${node:KEY=VALUE}` (the one node labelled KEY=VALUE now, such as
a node Karpenter launched: `${node:karpenter.sh/nodepool=stable}`) and
`${pod:KEY=VALUE}` (the one pod of the scenario labelled so now).

Paths are relative to the scenario file and may not leave snippets/ (or, for
a scenario outside snippets/, its own folder). A malformed scenario is one
line naming file:line and exit code 2: it is a broken test, not a failed claim.

Scenario files and the manifests they apply are read by the one reader
(`kdocs.resource`), so an inline object's scalars are what kubectl would read,
and an apply step sends a file's own bytes unless a patch or an embed changes
them (`kdocs.cluster.payload`).

`model.py` holds the types (a leaf), `parse.py` reads files into them, `variables.py`
lists the variables (the runner substitutes them, `lint.py` checks them).
"""
