"""JUnit XML: a test suite per file, a test case per resource, for CI test reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from kdocs.schema.api import Report


class JunitOutput:
    def write(self, report: Report, stream: TextIO) -> None:
        suites = ET.Element("testsuites", name="kdocs validate")
        total = failures = errors = 0
        for error in report.errors:
            suite = ET.SubElement(suites, "testsuite", name="kdocs", tests="1", errors="1")
            case = ET.SubElement(suite, "testcase", name="input", classname="kdocs")
            ET.SubElement(case, "error", message=error.reason).text = str(error)
            total, errors = total + 1, errors + 1
        for file in report.files:
            suite = ET.SubElement(suites, "testsuite", name=file.path)
            n_fail = n_err = 0
            for error in file.errors:
                case = ET.SubElement(suite, "testcase", name="read", classname=file.path)
                ET.SubElement(case, "error", message=error.reason).text = str(error)
                n_err += 1
            for result in file.documents:
                doc = result.document
                label = f"{doc.kind}/{doc.name or '?'} (document {doc.index + 1})"
                case = ET.SubElement(suite, "testcase", name=label, classname=file.path)
                if result.problems:
                    n_fail += 1
                    text = "\n".join(p.text() for p in result.problems)
                    ET.SubElement(case, "failure", message=result.problems[0].reason).text = text
            tests = len(file.errors) + len(file.documents)
            suite.set("tests", str(tests))
            suite.set("failures", str(n_fail))
            suite.set("errors", str(n_err))
            total, failures, errors = total + tests, failures + n_fail, errors + n_err
        suites.set("tests", str(total))
        suites.set("failures", str(failures))
        suites.set("errors", str(errors))
        ET.indent(suites)
        stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        stream.write(ET.tostring(suites, encoding="unicode") + "\n")
