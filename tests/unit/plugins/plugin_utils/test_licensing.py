"""Licences (plugins/plugin_utils/licensing.py, the iomesh_license_* filters and the inventory keys license_code and
license_file): what the licence stage writes for each cluster, when a licence counts as activated, and the report
with its warnings. Objects are written out as the API returns them; names are not the defaults."""

from __future__ import annotations

import base64
import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh_license as lf
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import licensing

CLUSTERS = [{"name": "vault", "namespace": "vault-sys"}, {"name": "tier-2", "namespace": "tier-ns"},
            {"name": "cold", "namespace": "cold-ns"}]
LABELS = {"app.kubernetes.io/managed-by": "iomesh.multicluster"}
NOW = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.timezone.utc)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(namespace: str, code: str) -> dict:
    meta = {"name": "iomesh-authorization-code", "namespace": namespace, "uid": "s-1"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"authorizationCode": b64(code)}}


def cr(namespace: str, name: str, field: str | None = None, license_: dict | None = None) -> dict:
    obj = {"apiVersion": "iomesh.com/v1alpha1", "kind": "IOMeshCluster",
           "metadata": {"name": name, "namespace": namespace}, "spec": {"meta": {"replicas": 3}},
           "status": {"license": license_ or {"licenseType": "Trial", "serial": f"serial-{name}",
                                              "expirationDate": "2027-01-05T12:00:00Z"}}}
    if field:
        obj["spec"]["licenseSecretName"] = field
    return obj


def actions(codes, secrets, crs):
    return {s["name"]: s["action"] for s in lf.iomesh_license_steps(CLUSTERS, codes, secrets, crs, LABELS)}


def test_each_cluster_given_a_code_gets_the_step_its_secret_and_field_call_for():
    crs = [cr("vault-sys", "vault", "iomesh-authorization-code"), cr("tier-ns", "tier-2")]
    codes = {"vault": "CODE-V", "tier-2": "CODE-T", "cold": "CODE-C"}
    assert actions(codes, [], crs) == {"vault": "create", "tier-2": "create", "cold": "no_cluster"}
    # The Secret holds the code: kept when the field names it, the field set when not.
    assert actions(codes, [secret("vault-sys", "CODE-V"), secret("tier-ns", "CODE-T")], crs) == {
        "vault": "keep", "tier-2": "set_field", "cold": "no_cluster"}
    # Another code: IOMesh's update.
    assert actions(codes, [secret("vault-sys", "OLD-V")], crs)["vault"] == "replace"
    # A Secret of another name, or in another namespace, is not the cluster's.
    other = secret("vault-sys", "CODE-V")
    other["metadata"]["name"] = "blk-licence"
    assert actions(codes, [other, secret("cold-ns", "CODE-V")], crs)["vault"] == "create"
    # Clusters without a code are left out.
    assert actions({"tier-2": "CODE-T"}, [], crs) == {"tier-2": "create"}


def test_a_step_carries_the_manifests_and_the_licence_before():
    crs = [cr("tier-ns", "tier-2", "blk-old")]
    # A code read from a file keeps no surrounding whitespace.
    [step] = lf.iomesh_license_steps(CLUSTERS, {"tier-2": "CODE-T\n"}, [], crs, LABELS)
    assert step["secret"] == {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                              "metadata": {"name": "iomesh-authorization-code", "namespace": "tier-ns",
                                           "labels": LABELS},
                              "data": {"authorizationCode": b64("CODE-T")}}
    assert step["licensed"] == {"apiVersion": "iomesh.com/v1alpha1", "kind": "IOMeshCluster",
                                "metadata": {"name": "tier-2", "namespace": "tier-ns"},
                                "spec": {"licenseSecretName": "iomesh-authorization-code"}}
    assert step["unlicensed"]["spec"] == {"licenseSecretName": None}
    assert step["field_set"] is True and step["before"]["serial"] == "serial-tier-2"
    assert actions({"tier-2": "CODE-T"}, [secret("tier-ns", "CODE-T")], crs)["tier-2"] == "set_field"


@pytest.mark.parametrize("action, now, before, activated", [
    ("create", {"licenseType": "Trial", "serial": "s"}, {"licenseType": "Trial", "serial": "s"}, False),
    ("create", {"licenseType": "Subscription", "serial": "s"}, {"licenseType": "Trial", "serial": "s"}, True),
    ("set_field", {}, {}, False),
    ("replace", {"licenseType": "Subscription", "serial": "s"}, {"licenseType": "Subscription", "serial": "s"}, False),
    ("replace", {"licenseType": "Perpetual", "serial": "s"}, {"licenseType": "Subscription", "serial": "s"}, True),
], ids=["trial", "new", "none-yet", "replace-unchanged", "replace-changed"])
def test_a_licence_counts_as_activated_once_the_cluster_reports_it(action, now, before, activated):
    step = {"action": action, "before": before}
    found = {"status": {"license": now}} if now else {"status": {}}
    assert lf.iomesh_license_activated(step, found) is activated
    assert lf.iomesh_license_activated(step, None) is False


def test_the_report_names_every_licence_and_warns_about_those_ending():
    crs = [cr("vault-sys", "vault"),  # trial ending in 30 days
           cr("tier-ns", "tier-2", license_={"licenseType": "Perpetual", "serial": "p-1"}),
           cr("cold-ns", "cold", license_={
               "licenseType": "Subscription", "serial": "s-3", "expirationDate": "2026-12-01T00:00:00Z"})]
    report = lf.iomesh_license_report(CLUSTERS, crs, NOW, 30)
    assert report["licences"] == [
        "IOMeshCluster vault-sys/vault: Trial licence, serial serial-vault, expires 2027-01-05T12:00:00Z.",
        "IOMeshCluster tier-ns/tier-2: Perpetual licence, serial p-1, no expiry.",
        "IOMeshCluster cold-ns/cold: Subscription licence, serial s-3, expires 2026-12-01T00:00:00Z."]
    assert report["warnings"][0].startswith("IOMeshCluster vault-sys/vault: its Trial licence expires on "
                                            "2027-01-05T12:00:00Z, in 30 day(s) (iomesh_license_warn_days: 30)")
    assert report["warnings"][1].startswith("IOMeshCluster cold-ns/cold: its Subscription licence expired on "
                                            "2026-12-01T00:00:00Z: IOMesh rejects writes")
    assert len(report["warnings"]) == 2
    # 29 days: the trial is not warned about; a naive now (now(utc=true)) is UTC.
    assert len(lf.iomesh_license_report(CLUSTERS, crs, NOW.replace(tzinfo=None), 29)["warnings"]) == 1
    # A cluster that reports no licence yet.
    assert lf.iomesh_license_report(CLUSTERS[:1], [], NOW)["licences"] == [
        "IOMeshCluster vault-sys/vault: no licence reported yet."]


@pytest.mark.parametrize("call, message", [
    (lambda: lf.iomesh_license_steps(CLUSTERS, {"vault": 7}, [], []), "codes must map cluster names"),
    (lambda: lf.iomesh_license_report(CLUSTERS, [], "today"), "now must be a datetime"),
    (lambda: lf.iomesh_license_report(CLUSTERS, [], NOW, -1), "warn_days must be a whole number"),
    (lambda: lf.iomesh_license_activated({"action": "create"}, None), "expects a step of iomesh_license_steps"),
    (lambda: lf.iomesh_license_activated({"action": "create", "before": {}}, "x"), "expects an IOMeshCluster"),
])
def test_filter_arguments_are_checked(call, message):
    with pytest.raises(AnsibleFilterError, match=message):
        call()


def test_the_inventory_names_where_a_code_comes_from_never_the_code(inv, tmp_path):
    code_file = tmp_path / "tier.lic"
    code_file.write_text("CODE\n")
    inv.clusters[0]["license_code"] = "SECRET-CODE"
    inv.clusters[1]["license_file"] = str(code_file)
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)
    assert [c["license"] for c in clusters] == [{"source": "code"}, {"source": "file", "file": str(code_file)}]
    assert "SECRET-CODE" not in repr(clusters)


@pytest.mark.parametrize("keys, message", [
    ({"license_code": "A", "license_file": "/x"}, "license_code and license_file are both set"),
    ({"license_code": "  "}, "license_code: must be the licence code"),
    ({"license_file": "/nonexistent/licence.txt"}, "'/nonexistent/licence.txt' is not a file on the controller"),
])
def test_bad_licence_keys_are_refused_naming_the_key(inv, keys, message):
    inv.clusters[1].update(keys)
    errors = f.iomesh_topology_report(inv.clusters, inv.groups, inv.hostvars)["errors"]
    assert any(message in e for e in errors), errors


def test_no_licence_keys_no_licence(clusters):
    assert [c["license"] for c in clusters] == [None, None]
    assert licensing.steps(clusters, {}, [], [], LABELS) == []
