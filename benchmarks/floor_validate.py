"""The least a Python validator built on jsonschema_rs can take: the one-file floor.

    python floor_validate.py INPUT.json

INPUT holds ``[[schema file, document], ...]``: each document already as JSON, each
schema a kind's bundled file (the one kubeconform reads in the same turns).  This
imports sys, json and jsonschema_rs as kdocs does (`kdocs.schema.engine`, without
the email package), compiles each schema once and validates each document.  No YAML
reader, no project settings, no report: what any Python tool on this validator pays
before it does a tool's work, so `make bench` can say how close to the one-file goal
a Python process can come.  Prints the number of invalid documents; exits 0.
"""

import json
import sys

from kdocs.schema.engine import jsonschema_rs

with open(sys.argv[1], "rb") as handle:
    pairs = json.loads(handle.read())
compiled = {}
invalid = 0
for schema_path, document in pairs:
    validator = compiled.get(schema_path)
    if validator is None:
        with open(schema_path, "rb") as handle:
            schema = json.loads(handle.read())
        validator = compiled[schema_path] = jsonschema_rs.validator_for(schema)
    invalid += not validator.is_valid(document)
print(invalid)
