"""Offline schema validation of Kubernetes manifests (what kubeconform does).

Public entry: `kdocs.schema.api` (re-exported here lazily, so importing
`kdocs.schema.yaml_events` from `kdocs.manifest` does not pull the whole engine).
"""
