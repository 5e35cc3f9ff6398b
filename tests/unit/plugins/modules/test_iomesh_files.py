"""iomesh_files, run in this process: a file is written only when its content or mode differs, the picture is drawn
only when its source changed or it is missing, a picture of an older source never stays, check mode touches nothing,
and bad arguments fail naming the option."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.iomesh.multicluster.plugins.modules import iomesh_files

# A stand-in for Graphviz: prints its input upper-cased, and counts its runs in a file beside it.
DRAWER = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); p.write_text(str(int(p.read_text() or 0) + 1) "
          "if p.exists() else '1'); print(sys.stdin.read().upper())")


@pytest.fixture
def module(capsys):
    def call(args: dict, check_mode: bool = False) -> dict:
        capsys.readouterr()
        args = {**args, "_ansible_check_mode": check_mode}
        with patch_module_args(args), pytest.raises(SystemExit):
            iomesh_files.main()
        return json.loads(capsys.readouterr().out)
    return call


@pytest.fixture
def drawer(tmp_path):
    counter = tmp_path / "runs"

    class Drawer:
        argv = [sys.executable, "-c", DRAWER, str(counter)]

        @staticmethod
        def runs() -> int:
            return int(counter.read_text()) if counter.exists() else 0
    return Drawer


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_missing_files_into_a_new_directory(module, tmp_path):
    out = tmp_path / "reports" / "east"
    result = module({"path": str(out), "files": [{"name": "a.md", "content": "# a\n"},
                                                 {"name": "b.dot", "content": "digraph {}\n", "mode": "0600"}]})
    assert result["changed"] is True and result["written"] == ["a.md", "b.dot"] and result["removed"] == []
    assert (out / "a.md").read_text() == "# a\n" and (out / "b.dot").read_text() == "digraph {}\n"
    assert mode_of(out / "a.md") == 0o644 and mode_of(out / "b.dot") == 0o600 and mode_of(out) == 0o755
    # No temporary file is left beside them.
    assert sorted(p.name for p in out.iterdir()) == ["a.md", "b.dot"]
    assert [d["after"] for d in result["diff"]] == ["# a\n", "digraph {}\n"]
    assert [d["before"] for d in result["diff"]] == ["", ""]


def test_same_content_and_mode_is_left_alone(module, tmp_path):
    files = [{"name": "report.md", "content": "same\n"}, {"name": "other.md", "content": "x"}]
    module({"path": str(tmp_path), "files": files})
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    os.utime(tmp_path / "report.md", ns=(1, 1))
    result = module({"path": str(tmp_path), "files": files})
    assert result["changed"] is False and result["written"] == [] and "diff" not in result
    assert (tmp_path / "report.md").stat().st_mtime_ns == 1
    assert (tmp_path / "other.md").stat().st_mtime_ns == before["other.md"]


def test_only_the_file_that_differs_is_written_with_its_difference(module, tmp_path):
    (tmp_path / "a.md").write_text("old\n")
    (tmp_path / "b.md").write_text("kept\n")
    os.chmod(tmp_path / "a.md", 0o644)
    os.chmod(tmp_path / "b.md", 0o644)
    result = module({"path": str(tmp_path), "files": [{"name": "a.md", "content": "new\n"},
                                                      {"name": "b.md", "content": "kept\n"}]})
    assert result["written"] == ["a.md"] and (tmp_path / "a.md").read_text() == "new\n"
    assert result["diff"] == [{"before_header": str(tmp_path / "a.md"), "after_header": str(tmp_path / "a.md"),
                               "before": "old\n", "after": "new\n"}]


def test_a_file_whose_difference_is_not_shown(module, tmp_path):
    result = module({"path": str(tmp_path), "files": [{"name": "big.svg", "content": "<svg/>", "diff": False}]})
    assert result["written"] == ["big.svg"] and "diff" not in result


def test_a_wrong_mode_alone_is_corrected(module, tmp_path):
    (tmp_path / "a.md").write_text("same\n")
    os.chmod(tmp_path / "a.md", 0o600)
    result = module({"path": str(tmp_path), "files": [{"name": "a.md", "content": "same\n"}]})
    assert result["changed"] is True and result["written"] == ["a.md"] and mode_of(tmp_path / "a.md") == 0o644


def test_draws_the_picture_of_a_new_source_then_not_again(module, tmp_path, drawer):
    args = {"path": str(tmp_path), "files": [{"name": "t.dot", "content": "graph\n"}],
            "draw": {"source": "t.dot", "target": "t.svg", "argv": drawer.argv}}
    first = module(args)
    assert first["written"] == ["t.dot", "t.svg"] and first["drawn"] is True and first["draw_rc"] == 0
    # What the command printed, with one newline at the end; the command was given the source on its input.
    assert (tmp_path / "t.svg").read_text() == "GRAPH\n" and mode_of(tmp_path / "t.svg") == 0o644
    assert drawer.runs() == 1
    # Not part of the difference shown.
    assert [d["after_header"] for d in first["diff"]] == [str(tmp_path / "t.dot")]

    again = module(args)
    assert again["changed"] is False and again["drawn"] is True and again["draw_rc"] is None
    assert drawer.runs() == 1

    # A missing picture is drawn again although its source did not change.
    (tmp_path / "t.svg").unlink()
    redrawn = module(args)
    assert redrawn["written"] == ["t.svg"] and drawer.runs() == 2 and (tmp_path / "t.svg").exists()

    # A new source: drawn again.
    changed = module({**args, "files": [{"name": "t.dot", "content": "graph 2\n"}]})
    assert changed["written"] == ["t.dot", "t.svg"] and (tmp_path / "t.svg").read_text() == "GRAPH 2\n"
    assert drawer.runs() == 3


def test_a_source_whose_mode_alone_changed_is_not_drawn_again(module, tmp_path, drawer):
    args = {"path": str(tmp_path), "files": [{"name": "t.dot", "content": "graph\n"}],
            "draw": {"source": "t.dot", "target": "t.svg", "argv": drawer.argv}}
    module(args)
    os.chmod(tmp_path / "t.dot", 0o600)
    result = module(args)
    assert result["written"] == ["t.dot"] and result["drawn"] is True and drawer.runs() == 1


@pytest.mark.parametrize("argv, rc, error", [
    (["/nonexistent/graphviz/dot", "-Tsvg"], 2, "No such file or directory"),
    ([sys.executable, "-c", "import sys; sys.stderr.write('syntax error in line 1\\n'); sys.exit(1)"], 1,
     "syntax error in line 1"),
    ([sys.executable, "-c", "pass"], 0, ""),
], ids=["missing", "fails", "prints-nothing"])
def test_a_command_that_does_not_draw_removes_the_older_picture(module, tmp_path, argv, rc, error):
    (tmp_path / "t.svg").write_text("<svg>an older state</svg>\n")
    result = module({"path": str(tmp_path), "files": [{"name": "t.dot", "content": "graph\n"}],
                     "draw": {"source": "t.dot", "target": "t.svg", "argv": argv}})
    assert result["drawn"] is False and result["draw_rc"] == rc and error in result["draw_error"]
    assert result["written"] == ["t.dot"] and result["removed"] == ["t.svg"] and result["changed"] is True
    assert not (tmp_path / "t.svg").exists()


def test_drawing_off_removes_the_picture_even_of_an_unchanged_source(module, tmp_path, drawer):
    args = {"path": str(tmp_path), "files": [{"name": "t.dot", "content": "graph\n"}],
            "draw": {"source": "t.dot", "target": "t.svg", "argv": drawer.argv}}
    module(args)
    result = module({**args, "draw": {"source": "t.dot", "target": "t.svg", "argv": []}})
    assert result == {**result, "changed": True, "written": [], "removed": ["t.svg"], "drawn": False, "draw_rc": None}
    assert not (tmp_path / "t.svg").exists()
    off = module({**args, "draw": {"source": "t.dot", "target": "t.svg", "argv": []}})
    assert off["changed"] is False and off["removed"] == []


def test_check_mode_touches_nothing_and_says_what_would_change(module, tmp_path, drawer):
    out = tmp_path / "not-yet"
    args = {"path": str(out), "files": [{"name": "t.dot", "content": "graph\n"}, {"name": "r.md", "content": "r\n"}],
            "draw": {"source": "t.dot", "target": "t.svg", "argv": drawer.argv}}
    result = module(args, check_mode=True)
    assert result["changed"] is True and result["written"] == ["t.dot", "r.md", "t.svg"] and result["drawn"] is True
    assert not out.exists() and drawer.runs() == 0
    assert [d["after"] for d in result["diff"]] == ["graph\n", "r\n"]

    module(args)
    (out / "r.md").write_text("edited\n")
    stale = module({**args, "draw": {**args["draw"], "argv": []}}, check_mode=True)
    assert stale["written"] == ["r.md"] and stale["removed"] == ["t.svg"] and stale["drawn"] is False
    assert (out / "t.svg").exists() and (out / "r.md").read_text() == "edited\n" and drawer.runs() == 1


@pytest.mark.parametrize("args, message", [
    ({"path": "relative/dir", "files": []}, "path must be an absolute directory path, got 'relative/dir'"),
    ({"files": [{"name": "sub/a.md", "content": ""}]}, "'sub/a.md' is not a file name"),
    ({"files": [{"name": "..", "content": ""}]}, "'..' is not a file name"),
    ({"files": [{"name": "a", "content": ""}, {"name": "a", "content": ""}]}, "each file is named once"),
    ({"files": [{"name": "a", "content": ""}], "draw": {"source": "a", "target": "a"}}, "each file is named once"),
    ({"files": [{"name": "a", "content": ""}], "draw": {"source": "b", "target": "c"}},
     "draw.source 'b' is none of files[].name"),
    ({"files": [{"name": "a", "content": "", "mode": "rw-r--r--"}]},
     "the mode of a must be octal permissions such as '0644', got 'rw-r--r--'"),
    ({"files": [{"name": "a", "content": "", "mode": "17777"}]}, "got '17777'"),
], ids=["relative", "slash", "dotdot", "twice", "picture-twice", "source", "mode", "mode-range"])
def test_bad_arguments_fail_naming_them_and_write_nothing(module, tmp_path, args, message):
    result = module({"path": str(tmp_path), **args})
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert list(tmp_path.iterdir()) == []


def test_a_path_that_is_a_file_fails(module, tmp_path):
    (tmp_path / "report").write_text("")
    result = module({"path": str(tmp_path / "report"), "files": [{"name": "a.md", "content": ""}]})
    assert result["failed"] is True and "exists and is not a directory" in result["msg"]


def test_a_directory_that_cannot_be_written_fails_naming_it(module, tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(iomesh_files.tempfile, "mkstemp", refuse)
    result = module({"path": str(tmp_path), "files": [{"name": "a.md", "content": "x"}]})
    assert result["failed"] is True
    assert result["msg"] == f"iomesh_files: could not write in {tmp_path}: [Errno 13] Permission denied"
