#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# One module run for a directory's files instead of a stat and a copy per file (each a module run of its own):
# docs/architecture.md, "The no-change path".

from __future__ import annotations

DOCUMENTATION = r"""
module: iomesh_files
short_description: Write the files of one directory where their content differs, and draw a picture of one of them
version_added: 0.7.0
description:
  - Writes each of O(files) into O(path) only where the file is missing, its content differs or its mode differs,
    each write atomic (a temporary file in O(path), then renamed). A file whose content and mode are already right
    is left alone, its modification time too.
  - Creates O(path) (mode C(0755)) when something is to be written there and it is missing.
  - With O(draw), runs a command (Graphviz C(dot -Tsvg) in this collection) on the content of one of O(files) and
    writes what it prints into another file, only when that source changed or the picture is missing. When the
    command is off, cannot be run or prints nothing, a picture left from an earlier source is removed, since it
    would show another state; RV(drawn) says whether the picture of this source is there.
  - In check mode nothing is written, created, removed or run; the result says what would be.
author: iomesh.multicluster contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Says what would be written or removed; runs no command.
  diff_mode:
    support: full
    description: The difference of every file written (per file, unless its O(files[].diff) is false).
  platform:
    support: full
    platforms: posix
    description: Writes where the task runs.
options:
  path:
    description: The directory of the files, absolute.
    type: path
    required: true
  files:
    description: The files to write, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The file's name in O(path) (no C(/)).
        type: str
        required: true
      content:
        description: Its whole content.
        type: str
        required: true
      mode:
        description: Its permissions, octal.
        type: str
        default: "0644"
      diff:
        description: Whether its difference is shown with C(--diff).
        type: bool
        default: true
  draw:
    description: A picture drawn from one of O(files).
    type: dict
    suboptions:
      source:
        description: The name of the file of O(files) the picture is drawn from; its content goes to the command's input.
        type: str
        required: true
      target:
        description: The picture's file name in O(path); written with mode C(0644), no difference shown.
        type: str
        required: true
      argv:
        description: The command and its arguments; empty when no picture is drawn (an earlier one is then removed).
        type: list
        elements: str
        default: []
"""

EXAMPLES = r"""
- name: Write the diagram source and draw its picture
  iomesh.multicluster.iomesh_files:
    path: /srv/report
    files:
      - name: topology.dot
        content: "digraph { a -> b }\n"
    draw:
      source: topology.dot
      target: topology.svg
      argv: [dot, -Tsvg]
  register: diagram
"""

RETURN = r"""
written:
  description: The names of the files written (or that would be, in check mode), in the order of O(files), the picture last.
  returned: always
  type: list
  elements: str
  sample: ["topology.dot", "topology.svg"]
removed:
  description: The picture removed because it showed an earlier source (or that would be), or nothing.
  returned: always
  type: list
  elements: str
  sample: []
drawn:
  description:
    - Whether the picture of the current source is there after the task (drawn now, or left because its source did not
      change). False without O(draw) or when the command is off, failed or printed nothing. In check mode, whether it
      would be, assuming the command works.
  returned: always
  type: bool
draw_rc:
  description: The command's exit status (an C(errno) when it could not be started); V(null) when it did not run.
  returned: always
  type: int
draw_error:
  description: What the command said on its standard error, or why it could not be started; empty when it did not run.
  returned: always
  type: str
  sample: "[Errno 2] No such file or directory: 'dot'"
"""

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

DIRECTORY_MODE = 0o755
PICTURE_MODE = 0o644


def _read(path):
    """A file's bytes and permission bits, or (None, None) when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read(), stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        return None, None


def _write(directory, name, data, mode):
    """Write data to directory/name atomically: a temporary file beside it, renamed over it."""
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, os.path.join(directory, name))
    except BaseException:
        os.unlink(temporary)
        raise


def _mode(module, text, where):
    try:
        mode = int(text, 8)
    except ValueError:
        module.fail_json(msg=f"iomesh_files: {where} must be octal permissions such as '0644', got {text!r}.")
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg=f"iomesh_files: {where} must be octal permissions such as '0644', got {text!r}.")
    return mode


def main():
    module = _module()
    try:
        _run(module)
    except OSError as exc:
        module.fail_json(msg=f"iomesh_files: could not write in {module.params['path']}: {exc}")


def _module():
    return AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "content": {"type": "str", "required": True},
                "mode": {"type": "str", "default": "0644"},
                "diff": {"type": "bool", "default": True},
            }},
            "draw": {"type": "dict", "options": {
                "source": {"type": "str", "required": True},
                "target": {"type": "str", "required": True},
                "argv": {"type": "list", "elements": "str", "default": []},
            }},
        },
        supports_check_mode=True,
    )


def _run(module):
    directory, files, draw = module.params["path"], module.params["files"], module.params["draw"]
    if not os.path.isabs(directory):
        module.fail_json(msg=f"iomesh_files: path must be an absolute directory path, got {directory!r}.")
    names = [entry["name"] for entry in files] + ([draw["target"]] if draw else [])
    for name in names:
        if not name or "/" in name or name in (".", ".."):
            module.fail_json(msg=f"iomesh_files: {name!r} is not a file name (files[].name and draw.target name a "
                                 f"file in path, without '/').")
    if len(set(names)) != len(names):
        module.fail_json(msg=f"iomesh_files: each file is named once; got {names}.")
    if draw and draw["source"] not in [entry["name"] for entry in files]:
        module.fail_json(msg=f"iomesh_files: draw.source {draw['source']!r} is none of files[].name.")
    if os.path.exists(directory) and not os.path.isdir(directory):
        module.fail_json(msg=f"iomesh_files: path {directory} exists and is not a directory.")

    result = {"changed": False, "written": [], "removed": [], "drawn": False, "draw_rc": None, "draw_error": ""}
    diffs = []
    changed_names = set()

    def ensure_directory():
        if not os.path.isdir(directory) and not module.check_mode:
            os.makedirs(directory, exist_ok=True)
            os.chmod(directory, DIRECTORY_MODE)

    for entry in files:
        data = entry["content"].encode("utf-8")
        mode = _mode(module, entry["mode"], f"the mode of {entry['name']}")
        target = os.path.join(directory, entry["name"])
        before, before_mode = _read(target)
        if before == data and before_mode == mode:
            continue
        if before != data:
            changed_names.add(entry["name"])
        result["written"].append(entry["name"])
        if entry["diff"]:
            diffs.append({"before_header": target, "after_header": target,
                          "before": "" if before is None else before.decode("utf-8", "replace"),
                          "after": entry["content"]})
        if not module.check_mode:
            ensure_directory()
            _write(directory, entry["name"], data, mode)

    if draw:
        picture = os.path.join(directory, draw["target"])
        exists = os.path.exists(picture)
        redraw = draw["source"] in changed_names or not exists
        if draw["argv"] and not redraw:
            result["drawn"] = True
        elif draw["argv"] and module.check_mode:
            result["drawn"] = True
            result["written"].append(draw["target"])
        elif draw["argv"]:
            source = next(entry["content"] for entry in files if entry["name"] == draw["source"])
            try:
                rc, out, err = module.run_command(draw["argv"], data=source, handle_exceptions=False)
            except OSError as exc:
                rc, out, err = exc.errno or 1, "", str(exc)
            result["draw_rc"], result["draw_error"] = rc, err.strip()
            if rc == 0 and out.strip():
                result["drawn"] = True
                result["written"].append(draw["target"])
                ensure_directory()
                _write(directory, draw["target"], (out.rstrip("\n") + "\n").encode("utf-8"), PICTURE_MODE)
        if not result["drawn"] and exists:
            result["removed"].append(draw["target"])
            if not module.check_mode:
                os.unlink(picture)

    result["changed"] = bool(result["written"] or result["removed"])
    # Shown by Ansible only with --diff.
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
