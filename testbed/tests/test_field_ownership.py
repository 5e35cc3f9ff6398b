"""Server-side apply field ownership as kube-apiserver models it (structured-merge-diff + fieldmanager):
managedFields per (manager, operation, subresource) in FieldsV1, 409 Conflict with FieldManagerConflict
causes when an apply changes a field another manager owns, `force` taking it over, shared ownership of
equal values, pruning of fields an applier stops specifying, Update entries of ordinary writes. Checked over
raw HTTP, with the real kubectl (`apply --server-side`, `--force-conflicts`, `edit`) and with
kubernetes.core.k8s (`server_side_apply.force_conflicts`) through ansible-playbook."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import Emulator, tool

pytestmark = pytest.mark.xdist_group("field-ownership")

APPLY = "application/apply-patch+yaml"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"


def ns(emu: Emulator, name: str) -> str:
    code, body, _ = emu.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                               "metadata": {"name": name}})
    assert code in (201, 409), body
    return name


def cm_path(n: str, name: str) -> str:
    return f"/api/v1/namespaces/{n}/configmaps/{name}"


def dep_path(n: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{n}/deployments/{name}"


def cm_cfg(name: str, data: dict, labels: dict | None = None) -> str:
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = labels
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})


def dep_cfg(name: str, replicas: int = 1, image: str = "registry.invalid/web:1") -> str:
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "web", "image": image}]}}}})


def apply(emu: Emulator, path: str, cfg: str, manager: str, *query: str) -> tuple[int, dict]:
    q = "&".join((f"fieldManager={manager}",) + query)
    code, body, _ = emu.request("PATCH", f"{path}?{q}", cfg, APPLY)
    return code, body


def managers(obj: dict) -> dict[tuple[str, str], dict]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"].get("managedFields") or []}


@pytest.fixture(scope="module")
def emu(start_emulator) -> Emulator:
    return start_emulator()


def test_edit_then_reapply_conflicts_and_force_takes_over(emu):
    n = ns(emu, "own-force")
    path = dep_path(n, "web")
    code, body = apply(emu, path, dep_cfg("web"), "mgr-a")
    assert code == 201, body
    assert managers(body)[("mgr-a", "Apply")]["f:spec"]["f:replicas"] == {}
    # what `kubectl edit` sends: a strategic merge patch under its own field manager
    code, body, _ = emu.request("PATCH", path + "?fieldManager=kubectl-edit", {"spec": {"replicas": 3}}, SMP)
    assert code == 200 and body["spec"]["replicas"] == 3
    owners = managers(body)
    assert owners[("kubectl-edit", "Update")] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners[("mgr-a", "Apply")]["f:spec"]  # an update takes the field away
    edit_entry = next(e for e in body["metadata"]["managedFields"] if e["manager"] == "kubectl-edit")
    assert edit_entry["apiVersion"] == "apps/v1" and edit_entry["fieldsType"] == "FieldsV1" and edit_entry["time"]

    code, body = apply(emu, path, dep_cfg("web"), "mgr-a", "force=false")
    assert code == 409, body
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["reason"] == "Conflict"
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: '
                               '.spec.replicas')
    assert body["details"] == {"causes": [{"reason": "FieldManagerConflict", "field": ".spec.replicas",
                                           "message": 'conflict with "kubectl-edit" using apps/v1'}]}
    live = emu.get(path)  # unchanged (its status moves on: the deployment controller scales to 3)
    assert live["spec"]["replicas"] == 3 and managers(live)[("kubectl-edit", "Update")] == owners[
        ("kubectl-edit", "Update")]
    # a dry run reports the same conflict
    code, body = apply(emu, path, dep_cfg("web"), "mgr-a", "dryRun=All")
    assert code == 409 and body["reason"] == "Conflict"

    code, body = apply(emu, path, dep_cfg("web"), "mgr-a", "force=true")
    assert code == 200, body
    assert body["spec"]["replicas"] == 1
    owners = managers(body)
    assert owners[("mgr-a", "Apply")]["f:spec"]["f:replicas"] == {}
    assert ("kubectl-edit", "Update") not in owners  # it owned nothing else: its entry is gone
    # re-applying now changes nothing (managedFields included)
    code, again = apply(emu, path, dep_cfg("web"), "mgr-a")
    assert code == 200 and again["spec"] == body["spec"]
    assert managers(again)[("mgr-a", "Apply")] == owners[("mgr-a", "Apply")]


def test_conflict_paths_of_list_items_and_several_fields(emu):
    n = ns(emu, "own-paths")
    path = dep_path(n, "web")
    assert apply(emu, path, dep_cfg("web"), "mgr-a")[0] == 201
    patch = {"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "web", "image": "registry.invalid/web:2"}]}}}}
    code, body, _ = emu.request("PATCH", path + "?fieldManager=kubectl-edit", patch, SMP)
    assert code == 200
    containers = managers(body)[("kubectl-edit", "Update")]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert containers == {'k:{"name":"web"}': {"f:image": {}}}
    code, body = apply(emu, path, dep_cfg("web"), "mgr-a")
    assert code == 409
    assert body["message"] == ('Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n'
                               '- .spec.replicas\n'
                               '- .spec.template.spec.containers[name="web"].image')
    assert [c["field"] for c in body["details"]["causes"]] == [
        ".spec.replicas", '.spec.template.spec.containers[name="web"].image']
    # an apply that agrees with the edit is no conflict
    code, body = apply(emu, path, dep_cfg("web", 2, "registry.invalid/web:2"), "mgr-a")
    assert code == 200, body


def test_conflict_with_another_applier_and_shared_ownership(emu):
    n = ns(emu, "own-shared")
    path = cm_path(n, "shared")
    assert apply(emu, path, cm_cfg("shared", {"a": "1", "b": "2"}), "mgr-a")[0] == 201
    # the same value under another manager: shared, no conflict, the object does not change
    rv = emu.get(path)["metadata"]["resourceVersion"]
    code, body = apply(emu, path, cm_cfg("shared", {"a": "1"}), "mgr-b")
    assert code == 200, body
    owners = managers(body)
    assert owners[("mgr-a", "Apply")] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert owners[("mgr-b", "Apply")] == {"f:data": {"f:a": {}}}
    assert body["data"] == {"a": "1", "b": "2"}
    assert body["metadata"]["resourceVersion"] != rv  # managedFields changed: a real write
    # a different value now conflicts with the other applier (no "using": appliers are not versioned)
    code, body = apply(emu, path, cm_cfg("shared", {"a": "9"}), "mgr-b")
    assert code == 409
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "mgr-a": .data.a'
    # forced, mgr-b owns a alone; mgr-a keeps b
    code, body = apply(emu, path, cm_cfg("shared", {"a": "9"}), "mgr-b", "force=true")
    assert code == 200 and body["data"] == {"a": "9", "b": "2"}
    owners = managers(body)
    assert owners[("mgr-a", "Apply")] == {"f:data": {"f:b": {}}}
    assert owners[("mgr-b", "Apply")] == {"f:data": {"f:a": {}}}


def test_omitted_fields_are_removed_unless_someone_else_owns_them(emu):
    n = ns(emu, "own-prune")
    path = cm_path(n, "prune")
    cfg = cm_cfg("prune", {"a": "1", "b": "2", "c": "3"}, {"app": "x", "tier": "t"})
    assert apply(emu, path, cfg, "mgr-a")[0] == 201
    assert apply(emu, path, cm_cfg("prune", {"b": "2"}), "mgr-b")[0] == 200  # shares b
    code, body, _ = emu.request("PATCH", path + "?fieldManager=kubectl-edit", {"data": {"c": "3"}}, MERGE)
    assert code == 200  # same value: nothing changes, so no Update entry either
    assert ("kubectl-edit", "Update") not in managers(body)
    code, body, _ = emu.request("PATCH", path + "?fieldManager=kubectl-label",
                                {"metadata": {"labels": {"tier": "u"}}}, MERGE)
    assert managers(body)[("kubectl-label", "Update")] == {"f:metadata": {"f:labels": {"f:tier": {}}}}
    # mgr-a stops specifying b, c and both labels: b (mgr-b) and tier (kubectl-label) stay, c and app go
    code, body = apply(emu, path, cm_cfg("prune", {"a": "1"}), "mgr-a")
    assert code == 200, body
    assert body["data"] == {"a": "1", "b": "2"}
    assert body["metadata"]["labels"] == {"tier": "u"}
    assert managers(body)[("mgr-a", "Apply")] == {"f:data": {"f:a": {}}}


def test_an_item_whose_key_changes_is_replaced_not_left_keyless(emu):
    """A port applied with another containerPort (its protocol left to defaulting) replaces the old item: the
    applier owned the whole old item, key fields included (a chart upgrade that moves a metrics port)."""
    n = ns(emu, "own-rekey")
    path = dep_path(n, "ported")

    def cfg(port: int) -> str:
        body = yaml.safe_load(dep_cfg("ported"))
        body["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "metrics", "containerPort": port}]
        return yaml.safe_dump(body)

    assert apply(emu, path, cfg(3268), "helm")[0] == 201
    code, body = apply(emu, path, cfg(3269), "helm")
    assert code == 200, body
    assert body["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"name": "metrics", "containerPort": 3269, "protocol": "TCP"}]


def test_update_entries_use_the_user_agent_manager_and_map_members(emu):
    n = ns(emu, "own-update")
    base = f"/api/v1/namespaces/{n}/configmaps"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ua", "labels": {"app": "x"}},
            "data": {"a": "1"}}
    code, created, _ = emu.request("POST", base, body, headers={"User-Agent": "OpenAPI-Generator/31.0.0/python"})
    assert code == 201
    assert managers(created) == {("OpenAPI-Generator", "Update"): {
        "f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}
    rv = created["metadata"]["resourceVersion"]
    # an update that changes nothing is a no-op: resourceVersion and managedFields kept
    code, same, _ = emu.request("PATCH", base + "/ua?fieldManager=other", {"data": {"a": "1"}}, MERGE)
    assert code == 200 and same["metadata"]["resourceVersion"] == rv
    assert same["metadata"]["managedFields"] == created["metadata"]["managedFields"]
    # a deployment created by an update owns its list items ('.') and what defaulting filled in
    dep = yaml.safe_load(dep_cfg("web"))
    code, d, _ = emu.request("POST", f"/apis/apps/v1/namespaces/{n}/deployments?fieldManager=helm", dep)
    assert code == 201
    fields = managers(d)[("helm", "Update")]
    item = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert item["."] == {} and item["f:image"] == {} and "f:imagePullPolicy" in item
    assert fields["f:spec"]["f:selector"] == {}  # an atomic map is one field


# --- kubectl --------------------------------------------------------------------------------------

def _editor(tmp: Path, old: str, new: str) -> str:
    script = tmp / "editor.sh"
    script.write_text(f"#!/bin/sh\nsed -i 's/{old}/{new}/' \"$1\"\n")
    os.chmod(script, 0o755)
    return str(script)


def test_kubectl_server_side_conflict_and_force_conflicts(emu, tmp_path):
    n = ns(emu, "own-kubectl")
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                                        "metadata": {"name": "cm", "namespace": n}, "data": {"a": "1"}}))
    res = emu.kubectl("apply", "--server-side", "-f", str(manifest), check=True)
    assert "serverside-applied" in res.stdout
    res = emu.kubectl("-n", n, "edit", "configmap", "cm", check=True,
                      extra_env={"KUBE_EDITOR": _editor(tmp_path, 'a: "1"', 'a: "7"')})
    assert "edited" in res.stdout
    live = emu.get(cm_path(n, "cm"))
    assert live["data"] == {"a": "7"} and managers(live)[("kubectl-edit", "Update")] == {"f:data": {"f:a": {}}}

    res = emu.kubectl("apply", "--server-side", "-f", str(manifest))
    assert res.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.a' in res.stderr
    assert "--force-conflicts" in res.stderr  # kubectl's own advice on the conflict
    assert emu.get(cm_path(n, "cm"))["data"] == {"a": "7"}

    res = emu.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(manifest), check=True)
    assert "serverside-applied" in res.stdout
    live = emu.get(cm_path(n, "cm"))
    assert live["data"] == {"a": "1"}
    assert managers(live) == {("kubectl", "Apply"): {"f:data": {"f:a": {}}}}
    forced = [r for r in emu.requests_logged() if r["method"] == "PATCH" and "force=true" in r["query"]]
    assert forced and forced[-1]["contentType"] == APPLY


# --- kubernetes.core ------------------------------------------------------------------------------

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: apply
      kubernetes.core.k8s:
        state: present
        apply: true
        server_side_apply:
          field_manager: iomesh-test
          force_conflicts: "{{ force | default(false) | bool }}"
        definition:
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: cm-ssa, namespace: own-ansible}
          data: {a: "1", b: "2"}
"""


def run_play(emu: Emulator, play: Path, **extra_vars) -> tuple[int, dict]:
    cmd = [tool("ansible-playbook"), "-i", "localhost,", str(play)]
    for k, v in extra_vars.items():
        cmd += ["-e", f"{k}={v}"]
    res = emu.run(*cmd, extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}, timeout=180)
    try:
        out = json.loads(res.stdout)
    except ValueError:
        raise AssertionError(f"rc={res.returncode}\n{res.stdout}\n{res.stderr}")
    return res.returncode, out["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_kubernetes_core_server_side_apply_conflict(emu, tmp_path):
    ns(emu, "own-ansible")
    play = tmp_path / "ssa.yml"
    play.write_text(PLAY)
    rc, first = run_play(emu, play)
    assert rc == 0 and first["changed"], first
    rc, again = run_play(emu, play)
    assert rc == 0 and not again["changed"], again
    path = cm_path("own-ansible", "cm-ssa")
    code, body, _ = emu.request("PATCH", path + "?fieldManager=kubectl-edit", {"data": {"a": "9"}}, SMP)
    assert code == 200

    rc, failed = run_play(emu, play)
    assert rc == 2 and failed.get("failed"), failed
    assert failed["msg"].startswith("Failed to apply object: ")
    assert 'Apply failed with 1 conflict: conflict with \\"kubectl-edit\\" using v1: .data.a' in failed["msg"]
    assert emu.get(path)["data"] == {"a": "9", "b": "2"}

    rc, forced = run_play(emu, play, force="true")
    assert rc == 0 and forced["changed"], forced
    live = emu.get(path)
    assert live["data"] == {"a": "1", "b": "2"}
    assert managers(live) == {("iomesh-test", "Apply"): {"f:data": {"f:a": {}, "f:b": {}}}}
    rc, again = run_play(emu, play)
    assert rc == 0 and not again["changed"], again


CR_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: apply
      kubernetes.core.k8s:
        state: present
        apply: true
        server_side_apply:
          field_manager: iomesh-test
          force_conflicts: "{{ force | default(false) | bool }}"
        definition:
          apiVersion: example.com/v1
          kind: Widget
          metadata: {name: w, namespace: own-cr}
          spec: {size: 1}
"""


def test_custom_resource_edit_check_mode_and_force(emu, tmp_path):
    """The roles' case: a custom resource applied by kubernetes.core, edited with kubectl (a JSON merge patch:
    custom resources take no strategic merge patch), then applied again, in check mode and for real."""
    crd = yaml.safe_load((Path(__file__).resolve().parents[1] / "fixtures/charts/demo/crds/widgets.yaml").read_text())
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    code, out, _ = emu.request("POST", crd_path, crd)
    assert code in (201, 409), out
    emu.wait_for(lambda: any(c["type"] == "Established" and c["status"] == "True" for c in
                             emu.get(f"{crd_path}/widgets.example.com").get("status", {}).get("conditions", [])))
    n = ns(emu, "own-cr")
    play = tmp_path / "cr.yml"
    play.write_text(CR_PLAY)
    rc, first = run_play(emu, play)
    assert rc == 0 and first["changed"], first
    path = f"/apis/example.com/v1/namespaces/{n}/widgets/w"
    assert managers(emu.get(path)) == {("iomesh-test", "Apply"): {"f:spec": {"f:size": {}}}}
    res = emu.kubectl("-n", n, "edit", "widget", "w", check=True,
                      extra_env={"KUBE_EDITOR": _editor(tmp_path, "size: 1", "size: 5")})
    assert "edited" in res.stdout
    edits = [r for r in emu.requests_logged() if r["method"] == "PATCH" and "kubectl-edit" in r["query"]]
    assert edits[-1]["contentType"] == MERGE

    cmd_check = [tool("ansible-playbook"), "-i", "localhost,", "--check", str(play)]
    res = emu.run(*cmd_check, extra_env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}, timeout=180)
    checked = json.loads(res.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert res.returncode == 2 and checked.get("failed"), checked  # the dry run (dryRun=All) conflicts too
    assert ('conflict with \\"kubectl-edit\\" using example.com/v1: .spec.size' in checked["msg"])

    rc, failed = run_play(emu, play)
    assert rc == 2 and 'Apply failed with 1 conflict: conflict with \\"kubectl-edit\\" using example.com/v1: ' \
        '.spec.size' in failed["msg"]
    assert emu.get(path)["spec"]["size"] == 5
    rc, forced = run_play(emu, play, force="true")
    assert rc == 0 and forced["changed"]
    live = emu.get(path)
    assert live["spec"]["size"] == 1 and managers(live) == {("iomesh-test", "Apply"): {"f:spec": {"f:size": {}}}}
