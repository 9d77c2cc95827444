"""The resident validator: `kdocs validate --server` answered by a warm process.

A one-file validate is mostly Python starting and importing yaml and jsonschema_rs
(benchmarks/README.md, "One file"); a process that stays up pays that once. Modules:
    address   where a checkout's server listens (per user, per checkout and code)
    client    the fast path `kdocs.cli.main` takes first: os, _socket and sys only
    daemon    the server: one request at a time, never with old code, settings or CRDs
"""
