"""The PLAY RECAP of ansible-playbook's default output, read per host: the one parser every test of the tree uses
(tests/playbooks, tests/faults, tests/artifact), so that a count of one host is never read from another host's line
or from a task's message that happens to contain `changed=0`."""

from __future__ import annotations

import re

# The default callback's counts, in the order it prints them.
COUNTS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
HEADER = re.compile(r"^PLAY RECAP \*")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COUNT = re.compile(r"(\w+)=(\d+)")


def find(output: str, host: str = "localhost") -> dict[str, int] | None:
    """The counts of `host` in the last PLAY RECAP of `output`, or None when the output has no PLAY RECAP or that recap
    has no line of `host`. The recap is the block of lines after its header, up to the first blank line; a host's line
    is its exact name, padding and a colon (so `node1` never reads the line of `node10`)."""
    lines = ANSI.sub("", output).splitlines()
    headers = [i for i, line in enumerate(lines) if HEADER.match(line)]
    if not headers:
        return None
    host_line = re.compile(rf"^{re.escape(host)}\s+:\s")
    for line in lines[headers[-1] + 1:]:
        if not line.strip():
            break
        match = host_line.match(line)
        if match:
            found = {key: int(value) for key, value in COUNT.findall(line[match.end():])}
            missing = [key for key in COUNTS if key not in found]
            if missing:
                raise AssertionError(f"the PLAY RECAP line of {host!r} has no {', '.join(missing)}: {line!r}")
            return found
    return None


def counts(output: str, host: str = "localhost") -> dict[str, int]:
    """The counts of `host` in the last PLAY RECAP of `output` (ok, changed, unreachable, failed, skipped, rescued,
    ignored); fails the test, showing the output's end, when there is no recap or no line of that host."""
    found = find(output, host)
    if found is None:
        has_header = any(HEADER.match(line) for line in ANSI.sub("", output).splitlines())
        what = f"no line for host {host!r} in the last PLAY RECAP" if has_header else "no PLAY RECAP"
        raise AssertionError(f"{what}; the output ends with:\n{output[-4000:]}")
    return found


TASK = re.compile(r"^TASK \[(.+?)\] \*+$")
CHANGED = re.compile(r"^changed: \[([^\]]+)\](?: => \(item=(.*)\))?")


def changed_tasks(output: str, host: str = "localhost") -> list[str]:
    """The tasks that reported a change for `host`, in order, each as `role : name` (with ` (item=...)` per loop item),
    from the default callback's output: what a --check run and the real run can be compared by."""
    found: list[str] = []
    task = None
    for line in ANSI.sub("", output).splitlines():
        header = TASK.match(line)
        if header:
            task = header.group(1)
            continue
        change = CHANGED.match(line)
        if change and change.group(1) == host and task is not None:
            found.append(task + (f" (item={change.group(2)})" if change.group(2) is not None else ""))
    return found
