"""A fast sample of the fault-injection matrix (`make faults` runs the matrix, scripts/fault_matrix.py): the run
SIGKILLed inside the Helm install (scenarios.SAMPLE_IDS). To keep it short
every run of the sample covers the stages up to iomesh_cluster only (`--tags` preflight, mgmt, cluster), and the
final state is compared with a reference deployment of those stages (cached in build/ by the content of the roles,
plugins and testbed)."""

from __future__ import annotations

import pytest

from . import scenarios

ROOT = scenarios.harness.ROOT


@pytest.fixture(scope="module")
def reference() -> dict:
    return scenarios.reference(scenarios.SAMPLE_SCOPE, ROOT / "build")


@pytest.mark.parametrize("scenario", scenarios.SAMPLE_IDS)
def test_a_fault_fails_clearly_and_a_plain_re_run_converges(reference, scenario):
    sc = scenarios.select([scenario], scenarios.SAMPLE_SCOPE)[0]
    outcome = scenarios.run_scenario(sc, reference)
    print(f"{sc.id}: {outcome.cell()} ({outcome.seconds:.0f} s)")
    assert outcome.ok, "\n".join(outcome.problems + outcome.lines)


def test_the_cause_shown_is_the_first_message_no_log_did_not_hide():
    """A Helm failure is reported twice: the task's result, censored (its arguments hold the release values), then
    the rescue's message with what Helm said. The table shows the latter."""
    output = "\n".join([
        "TASK [iomesh.multicluster.iomesh_mgmt : Install or upgrade Helm release blk-core] ***",
        'fatal: [localhost]: FAILED! => {"censored": "the output has been hidden due to the fact that'
        " 'no_log: true' was specified for this result\", \"changed\": false}",
        "TASK [iomesh.multicluster.iomesh_mgmt : Fail with what Helm said] ***",
        'fatal: [localhost]: FAILED! => {"changed": false, "msg": "Helm could not install or upgrade release'
        ' ns-a/blk-core: Error: INSTALLATION FAILED: 500 Internal Server Error"}',
    ])
    run = scenarios.harness.Run(2, output, 1.0, None, {}, [])
    assert scenarios.short_cause(run) == ("Helm could not install or upgrade release ns-a/blk-core: Error: "
                                          "INSTALLATION FAILED: 500 Internal Server Error")
