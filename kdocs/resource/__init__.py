"""The one way from bytes to objects, for every stage (like kubeconform's ``pkg/resource``).

Nothing here imports a stage; the schema stage, the cluster stage and the site
all read YAML through these modules, so what was validated is what is applied.

In the order data flows: `limits` (what a file may cost), `scalars` (plain
scalars as kubectl reads them), `positions` (node -> line:col), `events` (libyaml
events -> values + positions), `quick` (plain YAML -> values, positions read only
when asked for; its loop in C, `_quickc.c`, where the install could build it),
`manifest` (files -> Kubernetes documents), `embed` (fragments merged into their
host manifest), `crds` (the one CRD finder); `text` (bytes to text, with the line
and column of a byte that is not UTF-8).
"""
