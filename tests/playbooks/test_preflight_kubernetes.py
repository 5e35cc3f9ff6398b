"""playbooks/preflight.yml against the API emulator with the IOMesh twin: the Kubernetes stage reads the
cluster, refuses what it must with every problem listed at once, and never writes anything."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
import yaml

from .conftest import CHART, ROOT, SEED_NODES

SEED = ROOT / "inventories" / "seed-example"
PLAYBOOK = "playbooks/preflight.yml"
HEADER = "The target Kubernetes cluster has {n} problem(s); nothing was changed. Fix each of them:"

if str(ROOT / ".venv" / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".venv" / "collections"))


def preflight(run_playbook, testbed, *args: str, extra: dict | None = None):
    """Run the preflight playbook on the seed inventory against `testbed`; return the run and the
    requests it sent that would have changed something."""
    since = len(testbed.requests())
    run = run_playbook(PLAYBOOK, SEED, {"iomesh_kubeconfig": str(testbed.kubeconfig), **(extra or {})}, *args,
                       env=testbed.env)
    return run, testbed.write_requests(since)


def assert_refused(run, writes, before, after, *messages: str, problems: int = 1):
    assert run.rc == 2, run
    assert HEADER.format(n=problems) in run.output, run
    for message in messages:
        assert message in run.output, run
    assert "Fail on Kubernetes problems" in run.output
    assert run.recap()["changed"] == 0 and run.recap()["failed"] == 1, run
    assert writes == [], writes
    assert after == before


def test_seed_inventory_passes_against_the_cluster(run_playbook, testbed):
    before = testbed.state()
    run, writes = preflight(run_playbook, testbed)
    assert run.rc == 0, run
    assert run.recap()["changed"] == 0 and run.recap()["failed"] == 0, run
    assert f"Kubernetes v1.25.16 at {testbed.url}: 6 node(s); Helm release iomesh: none yet;" in run.output, run
    assert "IOMeshClusters: none yet." in run.output
    assert "Report Kubernetes warnings" in run.output and "belong to no IOMesh cluster" not in run.output
    assert writes == [] and testbed.state() == before
    # The requests really were the ones a preflight needs: the version, the Nodes, the Helm release Secrets.
    paths = {r["path"] for r in testbed.requests()}
    assert {"/version", "/api/v1/nodes", "/api/v1/namespaces/iomesh-system/secrets"} <= paths


def test_check_mode_runs_the_whole_stage_with_kubeconfig_from_the_environment(run_playbook, testbed):
    # iomesh_kubeconfig empty: kubernetes.core and helm fall back to KUBECONFIG.
    before = testbed.state()
    since = len(testbed.requests())
    run = run_playbook(PLAYBOOK, SEED, None, "--check", env={**testbed.env, "KUBECONFIG": str(testbed.kubeconfig)})
    assert run.rc == 0, run
    assert run.recap()["changed"] == 0, run
    assert f"Kubernetes v1.25.16 at {testbed.url}: 6 node(s)" in run.output, run
    assert testbed.write_requests(since) == [] and testbed.state() == before
    assert any(r["path"] == "/api/v1/nodes" for r in testbed.requests()[since:])


def test_missing_nodes_are_all_listed(run_playbook, start_testbed):
    testbed = start_testbed(nodes=SEED_NODES[:4])
    before = testbed.state()
    run, writes = preflight(run_playbook, testbed)
    assert_refused(run, writes, before, testbed.state(),
                   "cluster iomesh-cluster-1: no Kubernetes node has label kubernetes.io/hostname equal to "
                   "k8s-woker-4, k8s-woker-5")


def test_not_ready_and_cordoned_nodes_are_refused_together(run_playbook, start_testbed):
    nodes = [dict(n) for n in SEED_NODES]
    nodes[2]["ready"] = False
    nodes[5]["unschedulable"] = True
    testbed = start_testbed(nodes=nodes)
    before = testbed.state()
    run, writes = preflight(run_playbook, testbed)
    assert_refused(run, writes, before, testbed.state(),
                   "cluster iomesh: node(s) k8s-woker-2 are not Ready",
                   "cluster iomesh-cluster-1: node(s) k8s-woker-5 are cordoned", problems=2)


def closed_kubeconfig(path: Path, sock: socket.socket) -> str:
    """A kubeconfig whose server is a bound socket that never listens: connections to it are refused, and no other
    test can take the port while `sock` is open. Returns the server URL."""
    sock.bind(("127.0.0.1", 0))
    server = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "closed",
        "clusters": [{"name": "closed", "cluster": {"server": server}}],
        "contexts": [{"name": "closed", "context": {"cluster": "closed", "user": "closed"}}],
        "users": [{"name": "closed", "user": {"token": "closed"}}],
    }))
    return server


def assert_one_clear_message(run):
    """The run stopped at the probe with our message alone: no client dump, no read after it."""
    assert run.rc == 2, run
    assert run.output.count("[ERROR]") == 1 and run.output.count("fatal:") == 1, run
    assert "Traceback" not in run.output and "ConnectionPool" not in run.output and "Max retries" not in run.output
    assert "Fail when the Kubernetes API cannot be reached" in run.output
    assert "List the Kubernetes nodes" not in run.output


def test_unreachable_api_gives_one_clear_message(run_playbook, tmp_path, client):
    kubeconfig = tmp_path / "closed.kubeconfig"
    with socket.socket() as sock:
        server = closed_kubeconfig(kubeconfig, sock)
        run = run_playbook(PLAYBOOK, SEED, {"iomesh_kubeconfig": str(kubeconfig)}, env=client)
    assert (f"The target Kubernetes API cannot be reached with kubeconfig {kubeconfig}; nothing was changed. "
            f"The API server {server} could not be used; the Kubernetes client says: Failed to establish a new "
            "connection: [Errno 111] Connection refused. Check iomesh_kubeconfig and iomesh_kube_context (or "
            f"KUBECONFIG) and that `kubectl --kubeconfig {kubeconfig} version` works.") in run.output, run
    assert_one_clear_message(run)


def test_tls_to_a_plain_http_api_gives_the_tls_error(run_playbook, testbed, tmp_path):
    """A kubeconfig that says https:// for a server that speaks plain HTTP (the emulator): a real TLS failure."""
    config = yaml.safe_load(testbed.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"].replace("http://", "https://")
    config["clusters"][0]["cluster"]["server"] = server
    kubeconfig = tmp_path / "tls.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    since = len(testbed.requests())
    run = run_playbook(PLAYBOOK, SEED, {"iomesh_kubeconfig": str(kubeconfig)}, env=testbed.env)
    # The TLS alert's wording is OpenSSL's (WRONG_VERSION_NUMBER, or "record layer failure" in OpenSSL 3.2+).
    assert (f"The API server {server} could not be used; the Kubernetes client says: TLS error: [SSL: ") in run.output, run
    assert_one_clear_message(run)
    assert testbed.write_requests(since) == []


def test_refused_credentials_give_the_servers_answer(run_playbook, testbed, tmp_path):
    config = yaml.safe_load(testbed.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": "not-the-token"}
    kubeconfig = tmp_path / "wrong-token.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    run = run_playbook(PLAYBOOK, SEED, {"iomesh_kubeconfig": str(kubeconfig)}, env=testbed.env)
    if run.rc == 0:
        pytest.skip("the API emulator (testbed/kubeemu) accepts any credentials, so a refused token cannot be shown "
                    "against it; the reason of a 401 answer is covered by tests/unit/plugins/plugin_utils/"
                    "test_api_errors.py")
    assert (f"The API server {testbed.url} could not be used; the Kubernetes client says: 401 Unauthorized. "
            "Check iomesh_kubeconfig") in run.output, run
    assert_one_clear_message(run)


def test_unknown_context_names_the_kubeconfig_and_the_client_error(run_playbook, testbed):
    run, writes = preflight(run_playbook, testbed, extra={"iomesh_kube_context": "nope"})
    assert run.rc == 2, run
    assert (f"cannot be reached with kubeconfig {testbed.kubeconfig}, context nope; nothing was changed. "
            "The Kubernetes client says: Could not create API client: Invalid kube-config file. Expected object "
            f"with name nope in {testbed.kubeconfig}/contexts list.") in run.output, run
    assert f"kubectl --kubeconfig {testbed.kubeconfig} --context nope version" in run.output
    assert writes == []


def test_existing_single_cluster_is_refused_unless_allowed(run_playbook, testbed):
    """Scenario 18: `helm install iomesh` without node affinity, then the multi-cluster preflight."""
    install = testbed.helm("install", "iomesh", str(CHART), "-n", "iomesh-system", "--create-namespace",
                           "--set", "iomesh.chunk.dataCIDR=10.234.1.0/24")
    assert install.returncode == 0, install.stdout + install.stderr
    before = testbed.state()
    assert before["helm_releases"] == ["iomesh-system/sh.helm.release.v1.iomesh.v1"]
    assert before["iomesh_clusters"] == ["iomesh-system/iomesh"]
    run, writes = preflight(run_playbook, testbed)
    assert_refused(run, writes, before, testbed.state(),
                   "Helm release iomesh in namespace iomesh-system is an IOMesh installation without node affinity "
                   "(a single-cluster install)", "(docs/pitfalls.md P2)",
                   "set iomesh_allow_single_cluster_conversion: true")

    # As a user types it on the command line (a string), to make sure it is read as a boolean.
    run, writes = preflight(run_playbook, testbed, "-e", "iomesh_allow_single_cluster_conversion=true")
    assert run.rc == 0, run
    assert "Converting anyway: iomesh_allow_single_cluster_conversion is true." in run.output
    assert "Helm release iomesh: iomesh-v1.0.1, revision 1, deployed; IOMeshClusters: iomesh-system/iomesh." in run.output
    assert writes == [] and testbed.state() == before


def test_unsupported_kubernetes_is_refused_unless_allowed(run_playbook, start_testbed):
    testbed = start_testbed(server_version="v1.27.3")
    before = testbed.state()
    run, writes = preflight(run_playbook, testbed)
    assert_refused(run, writes, before, testbed.state(),
                   "Kubernetes 1.27 is outside the range IOMesh chart v1.0.1 supports (1.17 to 1.25)",
                   "Set iomesh_preflight_allow_unsupported_kubernetes: true")
    run, writes = preflight(run_playbook, testbed, "-e", "iomesh_preflight_allow_unsupported_kubernetes=true")
    assert run.rc == 0, run
    assert "Continuing: iomesh_preflight_allow_unsupported_kubernetes is true." in run.output
    assert writes == []


def test_warnings_can_be_made_fatal(run_playbook, start_testbed):
    # A seventh worker in no IOMesh cluster: its CSI node plugin would crash-loop (docs/pitfalls.md P4), a warning.
    testbed = start_testbed(nodes=SEED_NODES + [{"name": "k8s-woker-6", "internalIP": "10.234.1.16"}])
    run, writes = preflight(run_playbook, testbed)
    assert run.rc == 0, run
    assert "node(s) k8s-woker-6 belong to no IOMesh cluster" in run.output
    # Every host declares disks, so that the inventory stage has no warning of its own to stop at.
    disks = [{"path": "/dev/sdb", "mount_type": "cacheWithJournal"}, {"path": "/dev/sdc", "mount_type": "dataStore"}]
    run, writes = preflight(run_playbook, testbed, extra={"iomesh_preflight_fail_on_warnings": True, "iomesh_disks": disks})
    assert run.rc == 2, run
    assert ("The target Kubernetes cluster has 1 problem(s) (warnings count as problems: "
            "iomesh_preflight_fail_on_warnings is true); nothing was changed.") in run.output, run
    assert "  - node(s) k8s-woker-6 belong to no IOMesh cluster" in run.output
    assert writes == []


def _converged(testbed) -> dict:
    """Leave the testbed as a previous run of the collection would: the management release installed with the
    values iomesh_mgmt_values renders, and iomesh-cluster-1's CRs from iomesh_cluster_manifests."""
    from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as filters

    hosts = yaml.safe_load((SEED / "hosts.yml").read_text())["all"]["children"]
    group_vars = yaml.safe_load((SEED / "group_vars" / "all" / "iomesh.yml").read_text())
    groups = {group: list(spec["hosts"]) for group, spec in hosts.items()}
    hostvars = {host: dict(hv) for spec in hosts.values() for host, hv in spec["hosts"].items()}
    raw = {k: v for k, v in group_vars.items() if k.startswith("iomesh_") and k != "iomesh_clusters"}
    mgmt, cluster1 = filters.iomesh_topology(group_vars["iomesh_clusters"], groups, hostvars, raw)
    settings = filters.iomesh_settings(raw)
    values = testbed.workdir / "values.yaml"
    values.write_text(yaml.safe_dump(filters.iomesh_mgmt_values(mgmt, settings)))
    install = testbed.helm("install", "iomesh", str(CHART), "-n", "iomesh-system", "--create-namespace", "-f", str(values))
    assert install.returncode == 0, install.stdout + install.stderr
    assert testbed.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": "iomesh-cluster-1"}})[0] == 201
    zookeeper, iomesh_cluster = filters.iomesh_cluster_manifests(cluster1, settings)
    code, body = testbed.post("/apis/zookeeper.pravega.io/v1beta1/namespaces/iomesh-cluster-1/zookeeperclusters",
                              zookeeper)
    assert code == 201, body
    # The operator's webhook admits IOMeshClusters once the operator runs (docs/pitfalls.md P10): bounded retries.
    for _attempt in range(60):
        code, body = testbed.post("/apis/iomesh.com/v1alpha1/namespaces/iomesh-cluster-1/iomeshclusters",
                                  iomesh_cluster)
        if code != 500:
            break
        time.sleep(1)
    assert code == 201, body
    return iomesh_cluster


def test_a_converged_deployment_passes_again(run_playbook, testbed):
    """A re-run of site.yml starts with preflight: our own release and IOMeshClusters must pass it."""
    _converged(testbed)
    before = testbed.state()
    assert before["iomesh_clusters"] == ["iomesh-cluster-1/iomesh-cluster-1", "iomesh-system/iomesh"]
    run, writes = preflight(run_playbook, testbed, "--check")
    assert run.rc == 0, run
    assert "Converting anyway" not in run.output and "not in iomesh_clusters" not in run.output
    assert ("Helm release iomesh: iomesh-v1.0.1, revision 1, deployed; "
            "IOMeshClusters: iomesh-cluster-1/iomesh-cluster-1, iomesh-system/iomesh.") in run.output, run
    assert writes == [] and testbed.state() == before


def test_a_second_cluster_in_a_target_namespace_is_refused(run_playbook, testbed):
    ours = _converged(testbed)
    # An IOMeshCluster "legacy" already in iomesh-cluster-1, and another one outside the inventory.
    assert testbed.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": "team-a"}})[0] == 201
    for namespace, name in (("iomesh-cluster-1", "legacy"), ("team-a", "store")):
        cr = {**ours, "metadata": {"name": name, "namespace": namespace}}
        code, body = testbed.post(f"/apis/iomesh.com/v1alpha1/namespaces/{namespace}/iomeshclusters", cr)
        assert code == 201, body
    before = testbed.state()
    run, writes = preflight(run_playbook, testbed)
    assert_refused(run, writes, before, testbed.state(),
                   "IOMeshCluster iomesh-cluster-1/legacy already exists in namespace iomesh-cluster-1, where the "
                   "inventory puts cluster iomesh-cluster-1")
    assert "IOMeshCluster(s) team-a/store exist but are not in iomesh_clusters" in run.output


@pytest.mark.parametrize("value", ["false", "no"])
def test_kubernetes_stage_can_be_switched_off(run_playbook, client, value):
    # No cluster at all and no kubeconfig: the inventory stage alone runs.
    run = run_playbook(PLAYBOOK, SEED, None, "-e", f"iomesh_preflight_kubernetes={value}",
                       env=client)
    assert run.rc == 0, run
    assert "Probe the Kubernetes API" not in run.output
    assert run.recap()["changed"] == 0, run


LATER_PLAYS = ("PLAY [Prepare the IOMesh hosts", "PLAY [Install or upgrade the management IOMesh cluster",
               "PLAY [Deploy every additional IOMesh cluster")


@pytest.mark.parametrize("case", ["missing-nodes", "single-cluster-release"])
def test_site_stops_in_preflight_and_creates_nothing(run_playbook, start_testbed, case):
    """The whole chain (site.yml, host stage included) ends in preflight: no later play starts, no write is sent."""
    testbed = start_testbed(nodes=SEED_NODES[:4] if case == "missing-nodes" else SEED_NODES)
    if case == "single-cluster-release":
        install = testbed.helm("install", "iomesh", str(CHART), "-n", "iomesh-system", "--create-namespace",
                               "--set", "iomesh.chunk.dataCIDR=10.234.1.0/24")
        assert install.returncode == 0, install.stdout + install.stderr
    before = testbed.state()
    since = len(testbed.requests())
    run = run_playbook("site.yml", SEED, {"iomesh_kubeconfig": str(testbed.kubeconfig)}, env=testbed.env)
    assert run.rc == 2, run
    assert HEADER.format(n=1) in run.output, run
    expected = {"missing-nodes": "no Kubernetes node has label kubernetes.io/hostname equal to k8s-woker-4, k8s-woker-5",
                "single-cluster-release": "(a single-cluster install)"}[case]
    assert expected in run.output, run
    for play in LATER_PLAYS:
        assert play not in run.output, f"{play} started after a failed preflight"
    assert testbed.write_requests(since) == [] and testbed.state() == before


@pytest.mark.parametrize("playbook", ["playbooks/mgmt.yml", "playbooks/cluster.yml", "playbooks/csi.yml"])
def test_check_mode_never_takes_an_unreadable_api_for_a_fresh_cluster(run_playbook, tmp_path, client, playbook):
    """Without preflight (a stage's own playbook), --check against an API that does not answer fails; it does not
    report what it would create as if nothing were installed."""
    kubeconfig = tmp_path / "closed.kubeconfig"
    with socket.socket() as sock:
        closed_kubeconfig(kubeconfig, sock)
        run = run_playbook(playbook, SEED, {"iomesh_kubeconfig": str(kubeconfig)}, "--check", env=client)
    assert run.rc == 2, run
    assert "would create" not in run.output.lower() and "does not exist yet" not in run.output, run
    assert "Traceback" not in run.output
