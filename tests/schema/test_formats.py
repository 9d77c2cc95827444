"""format: byte is checked offline as the API server checks it (kdocs.schema.formats)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kdocs.schema.api import validate_paths
from kdocs.schema.formats import is_base64
from tests.crd_fixture import crd

CRD = crd(
    "example.com", "Cert",
    {"type": "object", "properties": {"caBundle": {"type": "string", "format": "byte"},
                                      "when": {"type": "string", "format": "date-time"}}},
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "ok"),
    [("aGVsbG8=", True), ("", True), ("aGVs\nbG8=\n", True), ("YR==", True), ("aGVsbG8", False),
     ("aGVsbG8==", False), ("REPLACE_WITH_BASE64_CERT", False), ("-_8=", False), ("a===", False)],
)  # fmt: skip
def test_base64_as_go_decodes_it(text: str, ok: bool) -> None:
    assert is_base64(text) is ok


def test_placeholders_in_byte_fields_are_refused_with_path_and_reason(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "cert.yaml").write_text(CRD)
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  ok: aGk=\n"
        "  tls.crt: REPLACE_WITH_BASE64_CERT\n---\n"
        "apiVersion: example.com/v1\nkind: Cert\nmetadata: {name: c}\n"
        "spec: {caBundle: not base64!, when: not a date}\n"
    )
    report = validate_paths([tmp_path / "s.yaml"], ["1.36"], [tmp_path / "crds"])
    lines = list(report.lines())
    assert len(lines) == 2, lines
    assert lines[0].startswith(f'{tmp_path / "s.yaml"}:6:12: data["tls.crt"]: string ')
    assert "is not base64 (format: byte)" in lines[0] and "stringData" in lines[0]
    assert ":11:18: spec.caBundle: string 'not base64!' is not base64" in lines[1]
    assert report.exit_code == 1  # and `when` (date-time) is deliberately not checked
