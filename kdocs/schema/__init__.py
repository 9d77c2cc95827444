"""Offline schema validation of Kubernetes manifests (what kubeconform does).

The public entry is `kdocs.schema.api` (``validate_paths`` -> ``Report``, with
``Report.exit_code``). Files are read by `kdocs.resource`, the one reader every
stage shares.

Modules, one job each: `registry` (where schemas are, compiled once), `crd`
(CRD -> JSON schema), `validator` (documents x versions -> problems), `api`,
`cli` (``kdocs validate``), `snippet` (the site pipeline's snippet checks), `apart`
(those checks in a child process: for the site build's memory, and beside MkDocs on a
second CPU), `engine` (jsonschema_rs, imported without what it loads for its build date).
"""
