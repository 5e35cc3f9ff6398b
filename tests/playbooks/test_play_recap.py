"""play_recap, the one reader of ansible-playbook's PLAY RECAP, on literal outputs of the default callback (no
testbed, no ansible-playbook run). The callback pads each count with spaces, the last one too; the texts here leave
that padding off at the ends of lines (COLOURED keeps it)."""

from __future__ import annotations

import subprocess

import pytest

from . import play_recap
from .conftest import PlaybookRun

SEVERAL_HOSTS = """\
TASK [Say what changed] ********************************************************
changed: [node10] => {
    "msg": "node1 : changed=0 failed=0"
}
ok: [node1] => {
    "msg": "node1 : changed=0 failed=0"
}

PLAY RECAP *********************************************************************
a-very-long-host-name-of-thirty-chars : ok=1    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
localhost                  : ok=7    changed=3    unreachable=0    failed=1    skipped=2    rescued=0    ignored=1
node10                     : ok=4    changed=10   unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
node1                      : ok=2    changed=1    unreachable=1    failed=0    skipped=0    rescued=1    ignored=0

"""

TWO_RECAPS = """\
PLAY [First run] ***************************************************************

PLAY RECAP *********************************************************************
localhost                  : ok=5    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0


PLAY [Second run] **************************************************************

TASK [Fail] ********************************************************************
fatal: [localhost]: FAILED! => {"changed": false, "msg": "localhost : changed=0 failed=0"}

PLAY RECAP *********************************************************************
localhost                  : ok=2    changed=1    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0

"""

# ANSIBLE_FORCE_COLOR: the host and the non-zero counts are coloured.
COLOURED = ("PLAY RECAP *********************************************************************\n"
            "\x1b[0;33mnode1\x1b[0m                      : \x1b[0;32mok=1   \x1b[0m \x1b[0;33mchanged=1   \x1b[0m "
            "unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   \n\n")

NO_RECAP = """\
PLAY [localhost] ***************************************************************
[ERROR]: YAML parsing failed: Tabs are usually invalid in YAML.
"""

# A line after the recap's blank line is not part of it (here: stderr appended to stdout).
AFTER_THE_RECAP = """\
PLAY RECAP *********************************************************************
node1                      : ok=1    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0

localhost                  : ok=1    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
"""


def counts(ok=0, changed=0, unreachable=0, failed=0, skipped=0, rescued=0, ignored=0) -> dict[str, int]:
    return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed, "skipped": skipped,
            "rescued": rescued, "ignored": ignored}


def test_each_host_reads_its_own_line():
    assert play_recap.counts(SEVERAL_HOSTS) == counts(ok=7, changed=3, failed=1, skipped=2, ignored=1)
    assert play_recap.counts(SEVERAL_HOSTS, "localhost") == play_recap.counts(SEVERAL_HOSTS)
    assert play_recap.counts(SEVERAL_HOSTS, "a-very-long-host-name-of-thirty-chars") == counts(ok=1)


def test_a_host_whose_name_starts_another_hosts_name_reads_only_its_own_line():
    # node10 comes first in the recap (sorted), and the task messages mention node1 with changed=0 failed=0.
    assert play_recap.counts(SEVERAL_HOSTS, "node1") == counts(ok=2, changed=1, unreachable=1, rescued=1)
    assert play_recap.counts(SEVERAL_HOSTS, "node10") == counts(ok=4, changed=10)


def test_ten_changes_are_not_one():
    assert play_recap.counts(SEVERAL_HOSTS, "node10")["changed"] == 10
    assert play_recap.counts(SEVERAL_HOSTS, "node1")["changed"] == 1


def test_only_the_last_recap_counts():
    assert play_recap.counts(TWO_RECAPS) == counts(ok=2, changed=1, failed=1)


def test_colours_are_ignored():
    assert play_recap.counts(COLOURED, "node1") == counts(ok=1, changed=1)


def test_the_recap_ends_at_its_blank_line():
    assert play_recap.find(AFTER_THE_RECAP, "localhost") is None
    assert play_recap.find(AFTER_THE_RECAP, "node1") == counts(ok=1)


@pytest.mark.parametrize("output, host, message", [
    (NO_RECAP, "localhost", "no PLAY RECAP; the output ends with:\nPLAY [localhost]"),
    ("", "localhost", "no PLAY RECAP"),
    (SEVERAL_HOSTS, "node", "no line for host 'node' in the last PLAY RECAP; the output ends with:\nTASK [Say"),
    (SEVERAL_HOSTS, "node100", "no line for host 'node100' in the last PLAY RECAP"),
    # localhost is in the first recap only.
    (TWO_RECAPS.replace("localhost                  : ok=2", "node1                      : ok=2"), "localhost",
     "no line for host 'localhost' in the last PLAY RECAP"),
])
def test_a_missing_recap_or_host_fails_with_the_output(output, host, message):
    assert play_recap.find(output, host) is None
    with pytest.raises(AssertionError) as failure:
        play_recap.counts(output, host)
    assert str(failure.value).startswith(message)


def test_a_line_without_every_count_fails():
    output = "PLAY RECAP ***\nlocalhost                  : ok=1    changed=0    unreachable=0    failed=0   \n"
    with pytest.raises(AssertionError, match="the PLAY RECAP line of 'localhost' has no skipped, rescued, ignored"):
        play_recap.find(output)


def test_a_playbook_run_reads_the_recap_of_its_output():
    proc = subprocess.CompletedProcess([], 2, stdout=TWO_RECAPS, stderr="")
    assert PlaybookRun(proc).recap() == counts(ok=2, changed=1, failed=1)
    assert PlaybookRun(proc).recap("localhost")["failed"] == 1


CHANGES = """\
TASK [iomesh.multicluster.iomesh_mgmt : Compare the Helm release with the inventory] ***
--- before: Helm release a/b
changed: [localhost]

TASK [iomesh.multicluster.iomesh_mgmt : Apply the chart's CRDs before the upgrade] ***
ok: [localhost] => (item=blockdevices.openebs.io)
changed: [localhost] => (item=iomeshclusters.iomesh.com)
changed: [node1] => (item=other)

TASK [Say something] ***********************************************************
ok: [localhost] => {
    "msg": "changed: [localhost]"
}
"""


def test_changed_tasks_name_each_task_and_item_of_the_host():
    assert play_recap.changed_tasks(CHANGES) == [
        "iomesh.multicluster.iomesh_mgmt : Compare the Helm release with the inventory",
        "iomesh.multicluster.iomesh_mgmt : Apply the chart's CRDs before the upgrade (item=iomeshclusters.iomesh.com)"]
    assert play_recap.changed_tasks(CHANGES, "node1") == [
        "iomesh.multicluster.iomesh_mgmt : Apply the chart's CRDs before the upgrade (item=other)"]
