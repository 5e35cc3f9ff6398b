"""One connection for every Kubernetes task: the action group iomesh.multicluster.kubernetes (meta/runtime.yml) takes
kubernetes.core's connection options once, through module_defaults, for the collection's plugins and kubernetes.core's
modules alike; a kubeconfig is only one of those options."""

from __future__ import annotations

import yaml

PLAYBOOK = """---
- name: Every Kubernetes plugin of the collection, connected by the group's module_defaults only
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  module_defaults:
    group/iomesh.multicluster.kubernetes: {connection}
  tasks:
    - name: Probe the API
      iomesh.multicluster.iomesh_api_probe: {{}}
      register: probe

    - name: List the Nodes (kubernetes.core, by the group's extension)
      kubernetes.core.k8s_info:
        kind: Node
      register: nodes

    - name: Take the deployment lock in namespace lock-ns
      iomesh.multicluster.iomesh_lock:
        namespace: lock-ns
        create_namespace: true

    - name: Create a Service to wait for
      kubernetes.core.k8s:
        definition:
          apiVersion: v1
          kind: Service
          metadata: {{name: conn-svc, namespace: lock-ns}}
          spec: {{ports: [{{port: 8443}}]}}

    - name: Wait for it
      iomesh.multicluster.iomesh_wait:
        timeout: 30
        waits:
          - {{label: the Service, api_version: v1, kind: Service, namespace: lock-ns, name: conn-svc, check: service,
              args: {{name: conn-svc, port: 8443}}}}
      register: waited

    - name: Read the Nodes and the lock's namespace in one task
      iomesh.multicluster.iomesh_read:
        reads:
          - {{key: nodes, kind: Node}}
          - {{key: lock namespace, kind: Namespace, name: lock-ns}}
      register: read

    - name: Read a Helm release that does not exist (helm, given the group's options as its variables)
      iomesh.multicluster.iomesh_helm:
        release_name: conn-none
        release_namespace: lock-ns
      register: release

    - name: Release the deployment lock
      iomesh.multicluster.iomesh_lock:
        namespace: lock-ns
        state: absent

    - name: Say what was read
      ansible.builtin.debug:
        msg: >-
          reachable={{{{ probe.reachable }}}} nodes={{{{ nodes.resources | length }}}} waited={{{{ waited.waits | length }}}}
          read={{{{ read.objects.nodes | length }}}}/{{{{ read.objects['lock namespace'] | length }}}}
          release={{{{ release.status is defined }}}}
"""


def test_host_and_api_key_of_the_group_reach_every_plugin(testbed, run_playbook, tmp_path):
    """No kubeconfig anywhere (the test's own HOME, no KUBECONFIG): the API server's address and a token given once
    to the group connect the probe, the lock, the wait, the read, helm and kubernetes.core's modules."""
    config = yaml.safe_load(testbed.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    token = (config["users"][0]["user"] or {}).get("token") or "any-token"
    playbook = tmp_path / "connect.yml"
    playbook.write_text(PLAYBOOK.format(connection=yaml.safe_dump(
        {"host": server, "api_key": token, "validate_certs": False}, default_flow_style=True).strip()))
    since = len(testbed.requests())
    run = run_playbook(str(playbook), "localhost,", None, env=testbed.env)
    assert run.rc == 0, run.output[-3000:]
    assert '"msg": "reachable=True nodes=6 waited=1 read=6/1 release=False"' in run.output, run
    # helm reached the API server (a release that does not exist is no failure; an unreachable server is).
    assert any(e["path"] == "/api/v1/namespaces/lock-ns/secrets" and e["method"] == "GET"
               for e in testbed.requests()[since:]), testbed.requests()[since:]
    lease = [(e["method"], e["path"]) for e in testbed.requests()[since:] if "/leases" in e["path"]]
    assert ("POST", "/apis/coordination.k8s.io/v1/namespaces/lock-ns/leases") in lease, lease
    assert lease[-1] == ("DELETE", "/apis/coordination.k8s.io/v1/namespaces/lock-ns/leases/iomesh-multicluster-lock")

    # The same playbook without the group's options has nothing to connect with: the environment is really empty.
    playbook.write_text(PLAYBOOK.format(connection="{}"))
    run = run_playbook(str(playbook), "localhost,", None, env=testbed.env)
    assert run.rc != 0 and "reachable=True" not in run.output, run
