"""Published snippet files reused across builds: the tree is what a fresh write gives."""

from __future__ import annotations

import os
from pathlib import Path

from kdocs.site import publish
from tests.site.conftest import CONFIGMAP, Project


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def test_a_kept_folder_ends_exactly_as_a_fresh_write(tmp_path: Path) -> None:
    site = tmp_path / "site"
    published = site / "snippets"
    publish.publish(published, {"a/one.yaml": b"1\n", "a/two.yaml": b"2\n", "b/gone.yaml": b"g"})
    elsewhere = tmp_path / "user-file.yaml"
    elsewhere.write_bytes(b"the user's own file\n")
    (published / "a" / "stray.yaml").write_bytes(b"not published any more")
    (published / "c").symlink_to(tmp_path)  # a folder link in the way: removed, never followed
    (published / "a" / "two.yaml").unlink()
    (published / "a" / "two.yaml").symlink_to(elsewhere)  # never written through
    os.link(elsewhere, published / "a" / "linked.yaml")  # a hard link: never written through
    (published / "d.yaml").mkdir()  # a folder where a file must go

    publish.keep(published)
    assert not published.exists() and (site / publish.KEPT).is_dir()
    wanted = {"a/one.yaml": b"1 changed\n", "a/two.yaml": b"2\n", "a/linked.yaml": b"new\n",
              "c/x.yaml": b"x", "d.yaml": b"d"}  # fmt: skip
    publish.publish(published, wanted)

    assert tree(published) == wanted
    assert not (published / "a" / "two.yaml").is_symlink()
    assert elsewhere.read_bytes() == b"the user's own file\n"
    assert not (site / publish.KEPT).exists()
    publish.publish(tmp_path / "fresh" / "snippets", wanted)
    assert tree(tmp_path / "fresh" / "snippets") == tree(published)


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    published = tmp_path / "site" / "snippets"
    publish.publish(published, {"a.yaml": b"same\n", "b.yaml": b"old\n"})
    same = os.stat(published / "a.yaml").st_ino
    publish.keep(published)
    publish.publish(published, {"a.yaml": b"same\n", "b.yaml": b"new\n"})
    assert os.stat(published / "a.yaml").st_ino == same  # kept, not created again
    assert (published / "b.yaml").read_bytes() == b"new\n"


def test_rebuilds_publish_what_the_pages_use_and_leave_nothing_hidden(project: Project) -> None:
    project.snippet("ok.yaml", CONFIGMAP)
    project.snippet("other.yaml", CONFIGMAP.replace("name: ok", "name: other"))
    project.page("p.md", '# P\n\n{{ snippet("ok.yaml") }}\n\n{{ snippet("other.yaml") }}\n')
    assert project.build().returncode == 0
    site = project.root / "site"
    assert sorted(tree(site / "snippets")) == ["ok.yaml", "other.yaml"]

    changed = CONFIGMAP.replace("a: b", "a: c") if "a: b" in CONFIGMAP else CONFIGMAP + "# c\n"
    project.snippet("ok.yaml", changed)
    project.page("p.md", '# P\n\n{{ snippet("ok.yaml") }}\n')
    done = project.build()
    assert done.returncode == 0, done.stderr
    assert tree(site / "snippets") == {"ok.yaml": changed.encode()}
    assert not (site / publish.KEPT).exists()

    project.page("q.md", "# Q\n\n{{ undefined_macro() }}\n")  # fails while pages render
    done = project.build()
    assert done.returncode == 1
    assert "undefined_macro" in done.stderr
    assert not (site / publish.KEPT).exists()
