"""topology: the inventory contract. Bad input that preflight must reject before anything changes (one test
each, asserting the message), the settings' defaults and the seed inventory normalised."""

from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iomesh.multicluster.plugins.filter import iomesh as f
from ansible_collections.iomesh.multicluster.plugins.plugin_utils import topology as topology_module


def problems(inv):
    report = f.iomesh_topology_report(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    return report["errors"]


def only_problem(inv, *fragments):
    errors = problems(inv)
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def test_valid_synthetic_inventory_has_no_problem(inv):
    assert problems(inv) == []


def test_host_in_two_clusters(inv):
    inv.groups["g1"] = ["w2", "w4", "w5"]
    inv.groups["g0"] = ["w0", "w1", "w2"]
    inv.groups["g1"].append("w3")
    message = only_problem(inv, "host w2", "iomesh", "iomesh-cluster-1", "only one IOMesh cluster")
    assert "w3" not in message


@pytest.mark.parametrize("flags", [(False, False), (True, True)], ids=["none", "two"])
def test_management_cluster_count(inv, flags):
    inv.clusters[0]["management"], inv.clusters[1]["management"] = flags
    inv.clusters[1]["namespace"] = "iomesh-cluster-1"
    expected = "found 0: none" if not any(flags) else "found 2: iomesh, iomesh-cluster-1"
    only_problem(inv, "exactly one cluster must have management: true", expected)


def test_duplicate_cluster_names(inv):
    inv.clusters[1]["name"] = "iomesh"
    inv.clusters[1]["storage_class"] = {"name": "other"}
    inv.clusters[1]["namespace"] = "other"
    only_problem(inv, "name 'iomesh' is used by more than one cluster", "iomesh_clusters[0]", "iomesh_clusters[1]")


def test_duplicate_namespaces(inv):
    inv.clusters[1]["namespace"] = "iomesh-system"
    only_problem(inv, "namespace 'iomesh-system' is used by more than one cluster")


@pytest.mark.parametrize(
    "name",
    ["IOMesh-1", "iomesh_cluster1", "IOMesh_Cluster1", "1cluster", "a" * 41, "cluster-", "-cluster"],
    ids=["uppercase", "underscore", "both", "leading-digit", "41-chars", "trailing-dash", "leading-dash"],
)
def test_invalid_cluster_name(inv, name):
    inv.clusters[1]["name"] = name
    only_problem(inv, f"iomesh_clusters[1] ({name}).name", "DNS-1035", "at most 40 characters", "Example: iomesh-cluster-1")


def test_forty_character_name_is_accepted(inv):
    inv.clusters[1]["name"] = "a" * 40
    assert problems(inv) == []


@pytest.mark.parametrize("namespace", ["Iomesh", "iomesh_ns", "n" * 64, "kube-system", "kube-storage", "kube-iomesh"])
def test_invalid_namespace(inv, namespace):
    inv.clusters[1]["namespace"] = namespace
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).namespace", repr(namespace))


def test_fewer_than_three_nodes(inv):
    inv.groups["g1"] = ["w3", "w4"]
    message = only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).hosts_group", "has 2 node(s)", "at least 3")
    assert "meta_replicas" not in message


def test_hosts_group_missing(inv):
    inv.clusters[1]["hosts_group"] = "nope"
    only_problem(inv, "group 'nope' is not in the inventory")


def test_hosts_group_empty(inv):
    inv.groups["g1"] = []
    only_problem(inv, "group 'g1' has no hosts")


@pytest.mark.parametrize("value", [1, 2, 4, 6])
def test_meta_replicas_not_three_or_five(inv, value):
    inv.clusters[0]["meta_replicas"] = value
    only_problem(inv, "iomesh_clusters[0] (iomesh).meta_replicas", f"is {value}", "3 or 5")


def test_meta_replicas_more_than_nodes(inv):
    inv.settings["iomesh_edition"] = "enterprise"
    inv.clusters[0]["meta_replicas"] = 5
    only_problem(inv, "meta_replicas", "is 5 but the cluster has 3 nodes")


@pytest.mark.parametrize("value", [1, 2, 4])
def test_zookeeper_replicas_not_an_odd_ensemble_of_three_or_more(inv, value):
    inv.clusters[1]["zookeeper_replicas"] = value
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).zookeeper_replicas",
                 f"is {value}; ZooKeeper needs an odd ensemble of at least 3.")


def test_zookeeper_replicas_more_than_nodes(inv):
    inv.clusters[1]["zookeeper_replicas"] = 5
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).zookeeper_replicas", "is 5 but the cluster has 3 nodes")


def test_zookeeper_replicas_three_is_accepted(inv):
    inv.clusters[1]["zookeeper_replicas"] = 3
    assert problems(inv) == []


def test_chunk_replicas_more_than_nodes(inv):
    inv.clusters[1]["chunk_replicas"] = 4
    inv.settings["iomesh_edition"] = "enterprise"
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).chunk_replicas", "is 4 but the cluster has 3 nodes")


def test_community_edition_chunk_limit():
    from ..conftest import Inventory

    inv = Inventory(sizes=(3, 5))
    inv.clusters[1]["chunk_replicas"] = 5
    only_problem(inv, "chunk_replicas", "community edition is limited to 3", "iomesh_edition: enterprise")
    inv.settings["iomesh_edition"] = "enterprise"
    assert problems(inv) == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.300/24", "not-a-cidr", "10.234.1.0"])
def test_invalid_cidr(inv, cidr):
    inv.clusters[0]["data_cidr"] = cidr
    only_problem(inv, "iomesh_clusters[0] (iomesh).data_cidr", repr(cidr))


def test_ipv6_cidr_is_rejected(inv):
    inv.clusters[0]["data_cidr"] = "fd00::/64"
    only_problem(inv, "data_cidr", "IPv6")


def test_node_without_address_in_data_cidr(inv):
    inv.clusters[1]["data_cidr"] = "192.168.50.0/24"
    for host in ("w3", "w4", "w5"):   # gathered facts: every address of the host is known
        inv.hostvars[host]["ansible_all_ipv4_addresses"] = [inv.hostvars[host]["ansible_host"]]
    errors = problems(inv)
    assert len(errors) == 3  # w3, w4 and w5 all lie outside 192.168.50.0/24
    assert any(e.startswith("host w4:") and "10.234.1.14" in e and "192.168.50.0/24" in e for e in errors)


def test_an_ssh_network_apart_from_the_storage_network_is_accepted(inv):
    """ansible_host on a management network, iomesh_data_ip on the storage network: the normal layout."""
    for index, host in enumerate(sorted(inv.hostvars)):
        inv.hostvars[host]["ansible_host"] = f"172.16.0.{10 + index}"
        inv.hostvars[host]["iomesh_data_ip"] = f"10.234.1.{10 + index}"
    assert problems(inv) == []
    assert not [w for w in warnings(inv) if "outside" in w]


def test_a_storage_address_outside_data_cidr_is_refused_naming_the_host(inv):
    inv.hostvars["w4"]["ansible_host"] = "172.16.0.14"
    inv.hostvars["w4"]["iomesh_data_ip"] = "10.99.0.14"
    only_problem(inv, "host w4.iomesh_data_ip", "10.99.0.14 is outside iomesh_clusters[1] (iomesh-cluster-1).data_cidr")
    inv.hostvars["w4"]["iomesh_data_ip"] = "10.234.1.300"
    only_problem(inv, "host w4.iomesh_data_ip", "'10.234.1.300' is not an IPv4 address")


def test_an_ssh_address_alone_outside_data_cidr_is_only_a_warning(inv):
    inv.hostvars["w4"]["ansible_host"] = "172.16.0.14"
    assert problems(inv) == []
    assert any(w.startswith("host w4:") and "ansible_host 172.16.0.14 is outside" in w and "iomesh_data_ip" in w
               for w in warnings(inv))


def test_gathered_addresses_count_as_known(inv):
    inv.clusters[1]["data_cidr"] = "192.168.50.0/24"
    for host in ("w3", "w4", "w5"):
        inv.hostvars[host]["ansible_all_ipv4_addresses"] = ["10.234.1.99", f"192.168.50.{host[1:]}"]
    assert problems(inv) == []


def test_hosts_without_known_addresses_are_not_judged(inv):
    for host in ("w3", "w4", "w5"):
        inv.hostvars[host] = {"ansible_host": host + ".example.org"}
    inv.clusters[1]["data_cidr"] = "192.168.50.0/24"
    assert problems(inv) == []


def test_invalid_disk_deployment_mode(inv):
    inv.clusters[0]["disk_deployment_mode"] = "hybrid"
    only_problem(inv, "disk_deployment_mode", "'hybrid'", "hybridFlash", "allFlash")


def _disks(inv, hosts, disks):
    for host in hosts:
        inv.hostvars[host]["iomesh_disks"] = disks


def test_journal_disk_in_hybrid_flash(inv):
    _disks(inv, ["w0"], [{"serial": "S1", "mount_type": "cacheWithJournal"}, {"serial": "S2", "mount_type": "dataStore"},
                         {"serial": "S3", "mount_type": "dataStoreWithJournal"}])
    only_problem(inv, "host w0.iomesh_disks[2]", "dataStoreWithJournal is rejected in hybridFlash")


@pytest.mark.parametrize("mount_type", ["cacheWithJournal", "rawCache"])
def test_cache_disk_in_all_flash(inv, mount_type):
    inv.clusters[1]["disk_deployment_mode"] = "allFlash"
    _disks(inv, ["w3"], [{"by_id": "nvme-A", "mount_type": "dataStoreWithJournal"}, {"by_id": "nvme-B", "mount_type": mount_type}])
    only_problem(inv, "host w3.iomesh_disks[1]", f"{mount_type} is rejected in allFlash")


def test_hybrid_node_needs_both_tiers(inv):
    _disks(inv, ["w0"], [{"serial": "S1", "mount_type": "dataStore"}])
    only_problem(inv, "host w0.iomesh_disks", "at least one cacheWithJournal")


@pytest.mark.parametrize(
    "disk, fragment",
    [
        ({"mount_type": "dataStore"}, "exactly one of serial, by_id or path"),
        ({"serial": "A", "path": "/dev/sdb", "mount_type": "dataStore"}, "got serial, path"),
        ({"path": "/dev/dm-0", "mount_type": "dataStore"}, "never reports"),
        ({"path": "sdb", "mount_type": "dataStore"}, "under /dev/"),
        ({"serial": "A", "mount_type": "capacity"}, "not an IOMesh mount type"),
        ({"serial": "A", "mount_type": "dataStore", "wipe": True}, "unknown key(s) wipe"),
    ],
    ids=["no-id", "two-ids", "dm-device", "relative-path", "bad-type", "unknown-key"],
)
def test_bad_disk_entries(inv, disk, fragment):
    _disks(inv, ["w1"], [{"serial": "C", "mount_type": "cacheWithJournal"}, {"serial": "D", "mount_type": "dataStore"}, disk])
    assert any("host w1.iomesh_disks[2]" in e and fragment in e for e in problems(inv)), problems(inv)


def test_duplicate_disk(inv):
    _disks(inv, ["w1"], [{"serial": "C", "mount_type": "cacheWithJournal"}, {"serial": "D", "mount_type": "dataStore"},
                         {"serial": "D", "mount_type": "dataStore"}])
    only_problem(inv, "host w1.iomesh_disks[2]", "listed twice")


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("fstype", "zfs", "ext2, ext3, ext4, xfs"),
        ("replica_factor", "1", 'use "2" or "3"'),
        ("replica_factor", 4, 'use "2" or "3"'),
        ("thin_provision", "maybe", '"true" (thin) or "false" (thick)'),
        ("reclaim_policy", "Recycle", "Delete or Retain"),
        ("volume_binding_mode", "Later", "Immediate or WaitForFirstConsumer"),
        ("allow_volume_expansion", "sometimes", "true or false"),
        ("provisioner", "x", "unknown key(s) provisioner"),
    ],
)
def test_invalid_storage_class(inv, field, value, fragment):
    inv.clusters[1]["storage_class"] = {field: value}
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).storage_class", fragment)


@pytest.mark.parametrize("name", ["iomesh-csi-driver", "hostpath", "iomesh-localpv-manager-device"])
def test_reserved_storage_class_name(inv, name):
    inv.clusters[1]["storage_class"] = {"name": name}
    only_problem(inv, "storage_class.name", f"'{name}' is a StorageClass the IOMesh chart creates itself")


def test_storage_class_name_of_another_cluster(inv):
    inv.clusters[1]["storage_class"] = {"name": "iomesh"}
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1).storage_class.name", "already the StorageClass of iomesh_clusters[0]")


def test_storage_class_values_are_normalised(inv):
    inv.clusters[1]["storage_class"] = {"replica_factor": 3, "thin_provision": False, "allow_volume_expansion": "no"}
    sc = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)[1]["storage_class"]
    assert (sc["replica_factor"], sc["thin_provision"], sc["allow_volume_expansion"]) == ("3", "false", False)


@pytest.mark.parametrize(
    "variable, value, fragment",
    [
        ("iomesh_edition", "premium", "'community' or 'enterprise'"),
        ("iomesh_platform", "arm64", "'hygon_x86_64'"),
        ("iomesh_k8s_cluster_id", "", "non-empty string"),
        ("iomesh_k8s_cluster_id", "my cluster", "without spaces"),
        ("iomesh_chart_version", "1.0.1", "leading 'v'"),
        ("iomesh_chart_version", "v9.9.9", "set iomesh_app_version"),
        ("iomesh_node_label_key", "bad key!", "label key"),
        ("iomesh_cluster_domain", "Cluster_Local", "DNS domain"),
        ("iomesh_request_timeout", 4, "4 must be a whole number of seconds, at least 5 (default 60)."),
        ("iomesh_request_timeout", "1m", "'1m' must be a whole number of seconds"),
        ("iomesh_request_timeout", True, "True must be a whole number of seconds"),
    ],
)
def test_invalid_collection_settings(inv, variable, value, fragment):
    inv.settings[variable] = value
    only_problem(inv, f"{variable}:", fragment)


def test_request_timeout_from_the_command_line_is_a_number(inv):
    inv.settings["iomesh_request_timeout"] = "30"
    assert f.iomesh_settings(inv.settings)["iomesh_request_timeout"] == 30
    assert f.iomesh_settings({})["iomesh_request_timeout"] == 60


def test_unknown_cluster_key_is_reported(inv):
    inv.clusters[0]["meta_replica"] = 5
    only_problem(inv, "unknown key(s) meta_replica")


def test_two_hosts_with_one_node_name(inv):
    inv.hostvars["w4"]["iomesh_node_name"] = "w3"
    message = only_problem(inv, "iomesh_node_name 'w3' is also the node name of host w3")
    assert message.startswith("host w4")


def test_empty_cluster_list():
    errors = f.iomesh_topology_report([], {"all": []}, {})["errors"]
    assert errors and "non-empty list" in errors[0]


def test_all_problems_are_reported_at_once(inv):
    inv.clusters[0]["meta_replicas"] = 4
    inv.clusters[1]["name"] = "Bad_Name"
    inv.clusters[1]["data_cidr"] = "10.0.0.0/33"
    inv.settings["iomesh_edition"] = "gold"
    with pytest.raises(AnsibleFilterError) as err:
        f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    text = str(err.value)
    assert "found 4 problem(s)" in text
    for fragment in ("meta_replicas", "Bad_Name", "10.0.0.0/33", "iomesh_edition"):
        assert fragment in text


def test_warnings(inv):
    inv.clusters[0]["data_cidr"] = "10.234.1.7/24"
    inv.settings["iomesh_editon"] = "enterprise"
    report = f.iomesh_topology_report(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    assert report["errors"] == []
    assert report["clusters"][0]["data_cidr"] == "10.234.1.0/24"
    assert any("host bits" in w for w in report["warnings"])
    assert any(w.startswith("iomesh_editon:") and "did you mean iomesh_edition?" in w for w in report["warnings"])
    assert any("no host declares iomesh_disks" in w for w in report["warnings"])
    assert not any(w.startswith("iomesh_preflight_") for w in report["warnings"])


def test_management_cluster_comes_first_and_namespaces_default(inv):
    inv.clusters.reverse()
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars)
    assert [c["name"] for c in clusters] == ["iomesh", "iomesh-cluster-1"]
    assert [c["namespace"] for c in clusters] == ["iomesh-system", "iomesh-cluster-1"]


def test_settings_filter_defaults():
    settings = f.iomesh_settings({})
    assert settings["iomesh_chart_version"] == "v1.0.1"
    assert settings["iomesh_app_version"] == "v5.3.0-rc13"
    assert settings["iomesh_edition"] == "community"
    assert settings["iomesh_k8s_cluster_id"] == "k8s-cluster"
    with pytest.raises(AnsibleFilterError, match="iomesh_platform"):
        f.iomesh_settings({"iomesh_platform": "arm"})


def test_seed_topology_is_normalised(seed_inventory):
    report = f.iomesh_topology_report(
        seed_inventory["clusters"], seed_inventory["groups"], seed_inventory["hostvars"], seed_inventory["settings"]
    )
    assert report["errors"] == []
    mgmt, second = report["clusters"]
    assert (mgmt["name"], mgmt["namespace"], mgmt["management"]) == ("iomesh", "iomesh-system", True)
    assert mgmt["nodes"] == ["k8s-woker-0", "k8s-woker-1", "k8s-woker-2"]
    assert (second["name"], second["namespace"], second["management"]) == ("iomesh-cluster-1", "iomesh-cluster-1", False)
    assert second["nodes"] == ["k8s-woker-3", "k8s-woker-4", "k8s-woker-5"]
    assert second["block_device_namespace"] == "iomesh-system"
    assert second["zookeeper_name"] == "iomesh-cluster-1-zookeeper"
    assert second["meta_addr"] == "iomesh-cluster-1-meta-client.iomesh-cluster-1.svc.cluster.local:10100"
    assert mgmt["storage_class"] == {
        "name": "iomesh", "fstype": "ext4", "replica_factor": "2", "thin_provision": "true",
        "reclaim_policy": "Delete", "volume_binding_mode": "Immediate", "allow_volume_expansion": True,
    }
    assert report["settings"]["iomesh_app_version"] == "v5.3.0-rc13"


# --- Real-cluster fidelity: names the real chart makes from the management cluster's name (docs/pitfalls.md P23).
# The chart render facts (v1.0.1, v1.1.0, v1.2.0) name a Job <R>-zookeeper-operator-post-install-upgrade: 23 + 40 = 63.


def test_management_name_of_23_characters_is_accepted(inv):
    inv.clusters[0]["name"] = "m" * 23
    assert problems(inv) == []


def test_management_name_of_24_characters_is_refused_naming_the_chart_made_name(inv):
    inv.clusters[0]["name"] = "m" * 24
    only_problem(inv, "iomesh_clusters[0] (" + "m" * 24 + ").name", "24 characters", "at most 23",
                 "Job " + "m" * 24 + "-zookeeper-operator-post-install-upgrade", "64 characters",
                 "helm install", "docs/pitfalls.md P23")


def test_management_name_over_26_characters_names_the_longest_chart_made_name(inv):
    # It also breaks <R>-openebs-ndm-cluster-exporter-service (27 + 37 = 64); the message names the longest.
    inv.clusters[0]["name"] = "m" * 27
    only_problem(inv, "at most 23", "Job " + "m" * 27 + "-zookeeper-operator-post-install-upgrade (67 characters)")


def test_additional_cluster_keeps_its_own_limit_of_40(inv):
    inv.clusters[1]["name"] = "a" * 40
    assert problems(inv) == []
    inv.clusters[1]["name"] = "a" * 24
    assert problems(inv) == []


# --- Real-cluster fidelity: disks declared on nodes that run no chunk pod can never be claimed.


def _hybrid(inv, hosts):
    for host in hosts:
        inv.hostvars[host]["iomesh_disks"] = [{"serial": f"SSD-{host}", "mount_type": "cacheWithJournal"},
                                              {"serial": f"HDD-{host}", "mount_type": "dataStore"}]


def test_community_disks_on_more_nodes_than_chunk_pods_are_refused():
    from ..conftest import Inventory

    inv = Inventory(sizes=(3, 4))
    _hybrid(inv, ["w3", "w4", "w5", "w6"])
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1)", "w3, w4, w5, w6", "4 nodes", "3 chunk pods",
                 "community edition", "at most 3", "iomesh_edition: enterprise", "declare iomesh_disks on at most 3")


def test_enterprise_disks_on_more_nodes_than_chunk_replicas_are_refused():
    from ..conftest import Inventory

    inv = Inventory(sizes=(3, 5))
    inv.settings["iomesh_edition"] = "enterprise"
    inv.clusters[1]["chunk_replicas"] = 4
    _hybrid(inv, ["w3", "w4", "w5", "w6", "w7"])
    only_problem(inv, "iomesh_clusters[1] (iomesh-cluster-1)", "w3, w4, w5, w6, w7", "5 nodes", "4 chunk pods",
                 "chunk_replicas: 5")


def test_disks_on_as_many_nodes_as_chunk_pods_pass():
    from ..conftest import Inventory

    inv = Inventory(sizes=(3, 4))
    _hybrid(inv, ["w3", "w4", "w5"])
    assert problems(inv) == []


@pytest.mark.parametrize(("edition", "nodes", "expected"), [
    ("community", 3, 3), ("community", 5, 3), ("enterprise", 3, 3), ("enterprise", 5, 5), ("enterprise", 7, 7),
])
def test_default_chunk_replicas_follow_the_nodes_within_the_edition(edition, nodes, expected):
    from ..conftest import Inventory

    inv = Inventory(sizes=(3, nodes))
    inv.settings["iomesh_edition"] = edition
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    assert clusters[1]["chunk_replicas"] == expected
    assert clusters[1]["meta_replicas"] == 3


def test_enterprise_disks_on_every_node_pass_with_the_default_chunk_replicas():
    from ..conftest import Inventory

    inv = Inventory(sizes=(3, 5))
    inv.settings["iomesh_edition"] = "enterprise"
    _hybrid(inv, ["w3", "w4", "w5", "w6", "w7"])
    assert problems(inv) == []


# --- wrong YAML types name the key, the cluster and the type expected (no "is missing", no exception) ----------

@pytest.mark.parametrize(("key", "value", "expected"), [
    ("name", 5, "iomesh_clusters[1].name: must be a string, got a number 5"),
    ("name", ["a"], "iomesh_clusters[1].name: must be a string, got a list"),
    ("hosts_group", ["g1"], "hosts_group: must be the name of one inventory group (a string), got a list"),
    ("hosts_group", {"g": 1}, "hosts_group: must be the name of one inventory group (a string), got a dictionary"),
    ("namespace", ["ops"], "namespace: ['ops'] is not a valid namespace"),
])
def test_wrong_type_of_a_cluster_key(inv, key, value, expected):
    inv.clusters[1][key] = value
    found = problems(inv)
    assert any(expected in p for p in found), found
    assert not any("is missing" in p for p in found), found


@pytest.mark.parametrize("item", [None, "iomesh", 3])
def test_a_cluster_item_that_is_not_a_dictionary_is_named_by_index(inv, item):
    inv.clusters.append(item)
    found = problems(inv)
    assert any(p.startswith("iomesh_clusters[2]: must be a dictionary describing one IOMesh cluster") for p in found), found


@pytest.mark.parametrize(("key", "value"), [
    ("iomesh_app_version", ["v5"]),
    ("iomesh_app_version", "v5 rc"),
    ("iomesh_chart_ref", {"path": "x"}),
    ("iomesh_chart_repo_url", "iomesh.com/charts"),
    ("iomesh_chart_repo_url", "ftp://iomesh.com/charts"),
    ("iomesh_chart_repo_url", 5),
    ("iomesh_zookeeper_image_tag", ["3.5.9"]),
    ("iomesh_kubeconfig", ["~/.kube/config"]),
    ("iomesh_kube_context", 5),
    ("iomesh_helm_binary", {"path": "helm"}),
])
def test_collection_variables_are_validated(inv, key, value):
    inv.settings[key] = value
    found = problems(inv)
    assert found and all(p.startswith(key) for p in found), found


@pytest.mark.parametrize("url", ["http://iomesh.com/charts", "https://charts.example.internal:8443/iomesh",
                                 "oci://registry.example.internal/charts"])
def test_helm_repository_urls_are_accepted(inv, url):
    inv.settings["iomesh_chart_repo_url"] = url
    assert problems(inv) == []


@pytest.mark.parametrize("ident", [{"serial": "ZA1"}, {"by_id": "wwn-0x5000c500a1b2c3d4"}])
def test_a_disk_declared_on_two_hosts_is_refused(inv, ident):
    _disks(inv, ["w1"], [{"serial": "C1", "mount_type": "cacheWithJournal"}, {**ident, "mount_type": "dataStore"}])
    _disks(inv, ["w4"], [{"serial": "C4", "mount_type": "cacheWithJournal"}, {**ident, "mount_type": "dataStore"}])
    key, value = next(iter(ident.items()))
    shown = value if key == "serial" else f"/dev/disk/by-id/{value}"
    only_problem(inv, "host w4", f"iomesh_disks {key} {shown!r} is also declared by host w1")


def test_the_same_path_on_every_host_is_fine(inv):
    _disks(inv, ["w0", "w1", "w2"], [{"path": "/dev/sdb", "mount_type": "cacheWithJournal"},
                                     {"path": "/dev/sdc", "mount_type": "dataStore"}])
    assert problems(inv) == []


# --- misspelt variables get a warning with the closest known name ------------------------------------------------

def warnings(inv):
    return f.iomesh_topology_report(inv.clusters, inv.groups, inv.hostvars, inv.settings)["warnings"]


@pytest.mark.parametrize(("key", "hint"), [
    ("iomesh_mgmt_wait_timout", "iomesh_mgmt_wait_timeout"),
    ("iomesh_cluster_webhook_timout", "iomesh_cluster_webhook_timeout"),
    ("iomesh_csi_field_manger", "iomesh_csi_field_manager"),
    ("iomesh_editon", "iomesh_edition"),
])
def test_a_misspelt_variable_is_warned_with_the_closest_name(inv, key, hint):
    inv.settings[key] = 1
    found = warnings(inv)
    assert any(w.startswith(key) and f"did you mean {hint}?" in w for w in found), found


def test_every_role_variable_is_known(inv):
    roles = topology_module.role_variables()
    assert {"iomesh_mgmt_webhook_timeout", "iomesh_cluster_field_manager", "iomesh_verify_wait_delay"} <= roles
    before = warnings(inv)
    inv.settings.update({name: None for name in roles})
    assert warnings(inv) == before


@pytest.mark.parametrize(("key", "hint"), [("iomesh_disk", "iomesh_disks"), ("iomesh_nodename", "iomesh_node_name")])
def test_a_misspelt_host_variable_is_warned_naming_the_host(inv, key, hint):
    inv.hostvars["w4"][key] = []
    found = warnings(inv)
    assert any(w.startswith("host w4") and key in w and f"did you mean {hint}?" in w for w in found), found


# --- Exact messages and whole results: what a user reads for each refusal, on an inventory with names of its own ----
# (management cluster edge-mgmt in namespace storage-ops, then archive; a message is the contract, word for word).

def report_of(inv):
    return f.iomesh_topology_report(inv.clusters, inv.groups, inv.hostvars, inv.settings)


def renamed(inv):
    inv.clusters[0].update(name="edge-mgmt", namespace="storage-ops")
    inv.clusters[1]["name"] = "archive"
    return inv


MGMT = "iomesh_clusters[0] (edge-mgmt)"
ARCHIVE = "iomesh_clusters[1] (archive)"
NO_DISKS = "no host declares iomesh_disks; the disk stage will mount nothing for this cluster."
NAMESPACE_RULE = "is not a valid namespace (DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)."


def test_a_valid_inventory_with_disks_everywhere_has_neither_problem_nor_warning(inv):
    renamed(inv)
    _hybrid(inv, ["w0", "w1", "w2", "w3", "w4", "w5"])
    assert (problems(inv), warnings(inv)) == ([], [])


def test_the_normalised_cluster_is_complete(inv):
    renamed(inv)
    inv.settings["iomesh_cluster_domain"] = "k8s.internal"
    inv.clusters[1].update(disk_deployment_mode="allFlash", storage_class={"name": "archive-xfs", "fstype": "xfs"})
    for number in (3, 4, 5):
        inv.hostvars[f"w{number}"]["iomesh_node_name"] = f"arc-{number}"
        inv.hostvars[f"w{number}"]["iomesh_disks"] = [{"by_id": f"nvme-ARC{number}", "mount_type": "dataStoreWithJournal"}]
    inv.hostvars["w5"]["iomesh_disks"].append({"by_id": "/dev/disk/by-id/wwn-0x55", "mount_type": "dataStore"})
    report = report_of(inv)
    assert (report["errors"], report["warnings"]) == ([], [f"{MGMT}: {NO_DISKS}"])
    assert report["clusters"][1] == {
        "name": "archive",
        "namespace": "archive",
        "management": False,
        "hosts_group": "g1",
        "hosts": ["w3", "w4", "w5"],
        "host_nodes": {"w3": "arc-3", "w4": "arc-4", "w5": "arc-5"},
        "nodes": ["arc-3", "arc-4", "arc-5"],
        "data_cidr": "10.234.1.0/24",
        "disk_deployment_mode": "allFlash",
        "meta_replicas": 3,
        "chunk_replicas": 3,
        "zookeeper_replicas": 3,
        "storage_class": {"name": "archive-xfs", "fstype": "xfs", "replica_factor": "2", "thin_provision": "true",
                          "reclaim_policy": "Delete", "volume_binding_mode": "Immediate", "allow_volume_expansion": True},
        "license": None,
        "disks": {
            "arc-3": [{"id_key": "by_id", "id": "/dev/disk/by-id/nvme-ARC3", "mount_type": "dataStoreWithJournal"}],
            "arc-4": [{"id_key": "by_id", "id": "/dev/disk/by-id/nvme-ARC4", "mount_type": "dataStoreWithJournal"}],
            "arc-5": [{"id_key": "by_id", "id": "/dev/disk/by-id/wwn-0x55", "mount_type": "dataStore"},
                      {"id_key": "by_id", "id": "/dev/disk/by-id/nvme-ARC5", "mount_type": "dataStoreWithJournal"}],
        },
        "mount_types": ["dataStore", "dataStoreWithJournal"],
        "zookeeper_name": "archive-zookeeper",
        "meta_client_service": "archive-meta-client",
        "csi_configmap_name": "archive-csi-configmap",
        "meta_addr": "archive-meta-client.archive.svc.k8s.internal:10100",
        "cluster_connection": "archive/archive-csi-configmap",
        "iomesh_cluster_ref": "archive/archive",
        "where": ARCHIVE,
        "block_device_namespace": "storage-ops",
    }


@pytest.mark.parametrize(("spelling", "thin", "expansion"), [
    ("yes", "true", True), ("On", "true", True), ("1", "true", True), ("TRUE", "true", True),
    ("no", "false", False), ("OFF", "false", False), ("0", "false", False), ("False", "false", False),
])
def test_every_yaml_spelling_of_a_boolean_is_understood(inv, spelling, thin, expansion):
    renamed(inv)
    inv.clusters[1]["storage_class"] = {"thin_provision": spelling, "allow_volume_expansion": spelling}
    inv.clusters[0]["management"] = "yes"
    clusters = f.iomesh_topology(inv.clusters, inv.groups, inv.hostvars, inv.settings)
    assert clusters[0]["management"] is True
    assert clusters[1]["storage_class"] == {
        "name": "archive", "fstype": "ext4", "replica_factor": "2", "thin_provision": thin, "reclaim_policy": "Delete",
        "volume_binding_mode": "Immediate", "allow_volume_expansion": expansion,
    }


def test_a_management_flag_that_is_not_a_boolean_is_refused_alone(inv):
    renamed(inv)
    inv.clusters[1]["management"] = "maybe"
    assert problems(inv) == [f"{ARCHIVE}.management: 'maybe' is not a boolean; use true or false."]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"meta_replicas": "3", "chunk_replicas": 3.0, "zookeeper_replicas": True},
     [f"{ARCHIVE}.meta_replicas: '3' is not a whole number.", f"{ARCHIVE}.chunk_replicas: 3.0 is not a whole number.",
      f"{ARCHIVE}.zookeeper_replicas: True is not a whole number."]),
    ({"meta_replicas": 4}, [f"{ARCHIVE}.meta_replicas: is 4; IOMesh meta runs 3 or 5 replicas."]),
    ({"meta_replicas": 5, "chunk_replicas": 5},
     [f"{ARCHIVE}.{key}: is 5; the community edition is limited to 3 nodes per cluster (3 chunk and 3 meta pods). Use 3, "
      "or set iomesh_edition: enterprise with a licence that allows more." for key in ("chunk_replicas", "meta_replicas")]),
], ids=["not-numbers", "meta-4", "community-5"])
def test_replica_counts_are_refused_word_for_word(changes, expected):
    from ..conftest import Inventory

    inv = renamed(Inventory(sizes=(3, 5)))
    inv.clusters[1].update(changes)
    assert problems(inv) == expected


def test_fewer_than_three_chunk_pods_is_the_one_problem_even_with_disks_on_more_nodes(inv):
    renamed(inv)
    inv.clusters[1]["chunk_replicas"] = 2
    _hybrid(inv, ["w3", "w4", "w5"])
    assert problems(inv) == [f"{ARCHIVE}.chunk_replicas: is 2; IOMesh needs at least 3 chunk pods."]


def test_a_serial_on_two_hosts_names_the_hosts_not_their_node_names(inv):
    """Each host also has a /dev path disk, listed before the serial: a path on two hosts is not a conflict."""
    renamed(inv)
    inv.hostvars["w1"]["iomesh_node_name"] = "rack1-n1"
    inv.hostvars["w4"]["iomesh_node_name"] = "rack2-n4"
    _disks(inv, ["w1", "w4"], [{"path": "/dev/sdb", "mount_type": "cacheWithJournal"}, {"serial": "ZA1", "mount_type": "dataStore"}])
    assert problems(inv) == ["host w4: iomesh_disks serial 'ZA1' is also declared by host w1; a disk sits in one node "
                             "only. Remove it from the host it is not in."]


def test_misspelt_host_variables_are_warned_once_per_variable_and_the_play_s_own_once(inv):
    renamed(inv)
    _hybrid(inv, ["w3", "w4", "w5"])
    inv.settings["iomesh_editon"] = "enterprise"
    for host in inv.hostvars.values():  # Ansible gives every host the play's variables too
        host["iomesh_editon"] = "enterprise"
    inv.hostvars["w4"]["iomesh_disk"] = inv.hostvars["w5"]["iomesh_disk"] = []
    inv.hostvars["w1"]["iomesh_nodename"] = "w1"
    assert warnings(inv) == [
        "iomesh_editon: is not a variable of iomesh.multicluster and is ignored; did you mean iomesh_edition?",
        f"{MGMT}: {NO_DISKS}",
        "hosts w4, w5: iomesh_disk is not a variable of iomesh.multicluster and is ignored; did you mean iomesh_disks?",
        "host w1: iomesh_nodename is not a variable of iomesh.multicluster and is ignored; did you mean iomesh_node_name?",
    ]


def test_storage_addresses_outside_data_cidr_are_refused_naming_host_addresses_and_network(inv):
    renamed(inv)
    inv.hostvars["w3"]["iomesh_data_ip"] = "10.99.0.13"
    inv.hostvars["w4"]["ansible_all_ipv4_addresses"] = ["192.168.7.4", "172.16.0.4"]
    inv.hostvars["w5"]["ansible_default_ipv4"] = {"address": "192.168.7.5", "interface": "eth1"}
    assert problems(inv) == [
        f"host w3.iomesh_data_ip: 10.99.0.13 is outside {ARCHIVE}.data_cidr 10.234.1.0/24; fix data_cidr or "
        "iomesh_data_ip (the host's address on the storage network).",
        f"host w4: none of its addresses (192.168.7.4, 172.16.0.4) is inside {ARCHIVE}.data_cidr 10.234.1.0/24; fix "
        "data_cidr or give the node an address on the storage network.",
        f"host w5: none of its addresses (192.168.7.5) is inside {ARCHIVE}.data_cidr 10.234.1.0/24; fix data_cidr or "
        "give the node an address on the storage network.",
    ]


def test_storage_address_warnings(inv):
    """Two storage addresses: which one is meant is unclear. One address known twice is one address."""
    renamed(inv)
    _hybrid(inv, ["w0", "w1", "w2", "w3", "w4", "w5"])
    inv.hostvars["w0"]["ansible_all_ipv4_addresses"] = ["10.234.1.10", "10.234.1.110", "fd00::10"]
    inv.hostvars["w0"]["ansible_default_ipv4"] = {"address": "10.234.1.10"}
    inv.hostvars["w1"]["ansible_all_ipv4_addresses"] = ["10.234.1.11"]
    inv.hostvars["w1"]["ansible_default_ipv4"] = {"address": "10.234.1.11"}
    inv.hostvars["w2"]["ansible_host"] = "172.16.0.12"
    assert problems(inv) == []
    assert warnings(inv) == [
        "host w0: has several addresses in 10.234.1.0/24 (10.234.1.10, 10.234.1.110); set iomesh_data_ip.",
        f"host w2: ansible_host 172.16.0.12 is outside {MGMT}.data_cidr 10.234.1.0/24: taken for its SSH address; set "
        "iomesh_data_ip to its storage address to have that checked.",
    ]


def test_duplicate_names_and_storage_classes_word_for_word(inv):
    renamed(inv)
    inv.clusters[1].update(name="edge-mgmt", namespace="archive", storage_class={"name": "archive"})
    assert problems(inv) == [f"iomesh_clusters: name 'edge-mgmt' is used by more than one cluster ({MGMT} and "
                             "iomesh_clusters[1] (edge-mgmt)); each IOMesh cluster needs its own name."]
    inv.clusters[1].update(name="archive", storage_class={"name": "edge-mgmt"})
    assert problems(inv) == [f"{ARCHIVE}.storage_class.name: 'edge-mgmt' is already the StorageClass of {MGMT}; each "
                             "IOMesh cluster needs its own StorageClass."]


@pytest.mark.parametrize(("node", "shown"), [(5, "5"), ("n" * 64, repr("n" * 64)), ("rack 4", "'rack 4'")])
def test_a_node_name_that_is_no_label_value_is_refused(inv, node, shown):
    renamed(inv)
    inv.hostvars["w4"]["iomesh_node_name"] = node
    assert problems(inv) == [f"host w4.iomesh_node_name: {shown} is not a valid label value; set it to the value of the "
                             "node's iomesh_node_label_key label (kubernetes.io/hostname by default)."]


def test_a_node_name_of_63_characters_is_accepted(inv):
    inv.hostvars["w4"]["iomesh_node_name"] = "n" * 63
    assert problems(inv) == []


def test_data_cidr_missing_and_host_bits_word_for_word(inv):
    renamed(inv)
    del inv.clusters[1]["data_cidr"]
    inv.clusters[0]["data_cidr"] = "10.234.1.7/24"
    _hybrid(inv, ["w0", "w3"])
    report = report_of(inv)
    assert report["errors"] == [f"{ARCHIVE}.data_cidr: is missing; set the IPv4 storage network in CIDR form, e.g. "
                                "10.234.1.0/24."]
    assert report["warnings"] == [f"{MGMT}.data_cidr: 10.234.1.7/24 has host bits set; using the network 10.234.1.0/24."]


def test_unknown_cluster_keys_are_listed_with_the_allowed_ones(inv):
    renamed(inv)
    inv.clusters[1].update(zone="b", meta_replica=5)
    assert problems(inv) == [
        f"{ARCHIVE}: unknown key(s) meta_replica, zone; allowed: name, namespace, hosts_group, management, data_cidr, "
        "disk_deployment_mode, meta_replicas, chunk_replicas, zookeeper_replicas, storage_class, license_code, license_file."
    ]


@pytest.mark.parametrize("name", [None, ""], ids=["absent", "empty"])
def test_clusters_without_a_name_are_refused_once_each(inv, name):
    """Two unnamed clusters: the names, namespaces and StorageClasses made up for them are not reported as duplicates."""
    for cluster in inv.clusters:
        cluster.pop("name")
        if name is not None:
            cluster["name"] = name
    assert problems(inv) == [
        f"iomesh_clusters[{index}]: name is missing; give every cluster a name (it prefixes all its Kubernetes objects)."
        for index in (0, 1)
    ]


def test_clusters_with_names_that_are_not_strings_are_refused_once_each(inv):
    inv.clusters[0]["name"] = 5
    inv.clusters[1]["name"] = True
    assert problems(inv) == ["iomesh_clusters[0].name: must be a string, got a number 5; quote it in YAML.",
                             "iomesh_clusters[1].name: must be a string, got a boolean True; quote it in YAML."]


def test_a_management_name_too_long_for_the_release_word_for_word(inv):
    renamed(inv)
    inv.clusters[0]["name"] = "storage-management-east"  # 23 characters: the longest a release name can be
    assert problems(inv) == []
    inv.clusters[0]["name"] = "storage-management-east1"
    assert problems(inv) == [
        "iomesh_clusters[0] (storage-management-east1).name: 'storage-management-east1' (24 characters) is too long "
        "for the management cluster: it is also the Helm release name, and the chart names objects after it, the "
        "longest Job storage-management-east1-zookeeper-operator-post-install-upgrade (64 characters), over "
        "Kubernetes' 63-character limit, so helm install fails. Use at most 23 characters (docs/pitfalls.md P23), "
        "e.g. iomesh."
    ]


def test_namespaces_word_for_word(inv):
    renamed(inv)
    inv.clusters[1]["namespace"] = "a" * 63
    assert problems(inv) == []
    inv.clusters[1]["namespace"] = "Archive"
    assert problems(inv) == [f"{ARCHIVE}.namespace: 'Archive' {NAMESPACE_RULE}"]


def test_two_different_unusable_namespaces_are_not_called_one_namespace(inv):
    renamed(inv)
    inv.clusters[0]["namespace"] = ["ops"]
    inv.clusters[1]["namespace"] = 5
    assert problems(inv) == [f"{MGMT}.namespace: ['ops'] {NAMESPACE_RULE}", f"{ARCHIVE}.namespace: 5 {NAMESPACE_RULE}"]


def test_a_cluster_named_like_a_reserved_namespace_is_refused_for_its_default_namespace(inv):
    inv.clusters[1]["name"] = "kube-store"
    assert problems(inv) == ["iomesh_clusters[1] (kube-store).namespace: 'kube-store' is reserved for Kubernetes "
                             "(kube-*); use a namespace of its own."]


def test_a_cluster_named_like_a_chart_storage_class_is_refused_for_its_default_storage_class(inv):
    inv.clusters[1]["name"] = "hostpath"
    assert problems(inv) == [
        "iomesh_clusters[1] (hostpath).storage_class.name: 'hostpath' is a StorageClass the IOMesh chart creates itself "
        "(iomesh-csi-driver, hostpath, iomesh-localpv-manager-*); a multi-cluster StorageClass needs its own name, "
        "e.g. the cluster name."
    ]


def test_a_bad_name_does_not_hide_a_bad_namespace_or_storage_class_set_explicitly(inv):
    inv.clusters[1].update(name="Archive", namespace="Ops_NS", storage_class={"name": "Fast_SC"})
    assert problems(inv) == [
        "iomesh_clusters[1] (Archive).name: 'Archive' is not a valid IOMesh cluster name: it must be a DNS-1035 label "
        "(lowercase letters, digits and '-', starting with a letter, ending with a letter or digit) of at most 40 "
        "characters, because it prefixes Services such as <name>-zookeeper-admin-server. Example: iomesh-cluster-1.",
        f"iomesh_clusters[1] (Archive).namespace: 'Ops_NS' {NAMESPACE_RULE}",
        "iomesh_clusters[1] (Archive).storage_class.name: 'Fast_SC' is not a valid StorageClass name (lowercase DNS "
        "subdomain, at most 253 characters).",
    ]


@pytest.mark.parametrize(("hosts_group", "groups", "expected"), [
    (None, {}, "is missing; name the inventory group whose hosts are this cluster's nodes."),
    ("", {}, "is missing; name the inventory group whose hosts are this cluster's nodes."),
    ("archive-nodes", {}, "group 'archive-nodes' is not in the inventory; add it with this cluster's nodes or fix the name."),
    ("archive-nodes", {"archive-nodes": []}, "group 'archive-nodes' has no hosts; put this cluster's nodes in it."),
], ids=["absent", "empty", "unknown", "no-hosts"])
def test_hosts_group_refusals_word_for_word(inv, hosts_group, groups, expected):
    renamed(inv)
    inv.clusters[1].pop("hosts_group")
    if hosts_group is not None:
        inv.clusters[1]["hosts_group"] = hosts_group
    inv.groups.update(groups)
    assert problems(inv) == [f"{ARCHIVE}.hosts_group: {expected}"]


# --- disks, word for word

BASE_DISKS = [{"serial": "C", "mount_type": "cacheWithJournal"}, {"serial": "D", "mount_type": "dataStore"}]


@pytest.mark.parametrize(("disk", "expected"), [
    ("sdb", "must be a dictionary with one of serial, by_id, path and a mount_type; got 'sdb'."),
    ({"serial": "A", "mount_type": "dataStore", "wipe": True, "size": "1T"},
     "unknown key(s) size, wipe; allowed: serial, by_id, path, mount_type."),
    ({"mount_type": "dataStore"}, "name the disk by exactly one of serial, by_id or path (serial or by_id survive "
                                  "reboots; /dev/sdX names do not); got none."),
    ({"by_id": "/dev/sdb", "mount_type": "dataStore"}, "by_id '/dev/sdb' must be a /dev/disk/by-id/ link or its bare name."),
    ({"path": "sdb", "mount_type": "dataStore"}, "path 'sdb' must be a device path under /dev/."),
    ({"path": "/dev/loop3", "mount_type": "dataStore"},
     "path '/dev/loop3' is a device node-disk-manager never reports (device-mapper, md RAID, loop, floppy, CD-ROM, "
     "ramdisk); IOMesh can only use whole physical disks."),
    ({"serial": "A", "mount_type": "capacity"},
     "mount_type 'capacity' is not an IOMesh mount type; use one of cacheWithJournal, rawCache, dataStore, "
     "dataStoreWithJournal."),
], ids=["not-a-dict", "unknown-keys", "no-id", "by-id-elsewhere", "relative-path", "loop-device", "bad-type"])
def test_a_bad_disk_entry_is_refused_word_for_word(inv, disk, expected):
    renamed(inv)
    _disks(inv, ["w1"], [*BASE_DISKS, disk])
    assert problems(inv) == [f"host w1.iomesh_disks[2]: {expected}"]


@pytest.mark.parametrize("value", ["/dev/sdb", {"serial": "C", "mount_type": "dataStore"}], ids=["string", "dict"])
def test_iomesh_disks_that_is_not_a_list_is_refused(inv, value):
    renamed(inv)
    inv.hostvars["w1"]["iomesh_disks"] = value
    assert problems(inv) == [f"host w1.iomesh_disks: must be a list of disks, got {value!r}."]


def test_every_disk_entry_is_checked_after_a_bad_one(inv):
    renamed(inv)
    _disks(inv, ["w1"], ["sdb", *BASE_DISKS, {"serial": "E", "mount_type": "dataStoreWithJournal"}])
    assert problems(inv) == [
        "host w1.iomesh_disks[0]: must be a dictionary with one of serial, by_id, path and a mount_type; got 'sdb'.",
        f"host w1.iomesh_disks[3]: mount_type dataStoreWithJournal is rejected in hybridFlash mode ({MGMT}); use "
        "cacheWithJournal or rawCache or dataStore, or change the cluster's disk_deployment_mode.",
    ]


def test_a_disk_listed_twice_is_refused_and_the_others_still_count(inv):
    renamed(inv)
    _disks(inv, ["w1"], [BASE_DISKS[0], BASE_DISKS[0], BASE_DISKS[1]])
    assert problems(inv) == ["host w1.iomesh_disks[1]: serial 'C' is listed twice."]


def test_cache_disks_in_all_flash_word_for_word(inv):
    renamed(inv)
    inv.clusters[1]["disk_deployment_mode"] = "allFlash"
    _disks(inv, ["w3"], [{"serial": "N1", "mount_type": "dataStoreWithJournal"}, {"serial": "N2", "mount_type": "rawCache"}])
    assert problems(inv) == [f"host w3.iomesh_disks[1]: mount_type rawCache is rejected in allFlash mode ({ARCHIVE}); use "
                             "dataStore or dataStoreWithJournal, or change the cluster's disk_deployment_mode."]


def test_an_all_flash_node_without_a_journal_disk_is_refused(inv):
    renamed(inv)
    inv.clusters[1]["disk_deployment_mode"] = "allFlash"
    _disks(inv, ["w3"], [{"serial": "N1", "mount_type": "dataStore"}])
    assert problems(inv) == ["host w3.iomesh_disks: allFlash needs at least one dataStoreWithJournal disk on every node."]


def test_a_hybrid_node_without_both_tiers_names_what_it_has(inv):
    renamed(inv)
    _disks(inv, ["w0"], [{"serial": "S1", "mount_type": "cacheWithJournal"}, {"serial": "S2", "mount_type": "rawCache"}])
    assert problems(inv) == ["host w0.iomesh_disks: hybridFlash needs at least one cacheWithJournal (SSD) and one "
                             "dataStore (HDD) disk on every node that declares disks; this host has cacheWithJournal, "
                             "rawCache."]


def test_an_unknown_disk_mode_is_the_one_problem_of_hosts_with_disks(inv):
    renamed(inv)
    inv.clusters[0]["disk_deployment_mode"] = "hybrid"
    _disks(inv, ["w0"], BASE_DISKS)
    assert problems(inv) == [f"{MGMT}.disk_deployment_mode: 'hybrid' is not a disk deployment mode; use hybridFlash "
                             "(SSD cache + HDD) or allFlash (SSD only)."]


# --- the StorageClass, word for word

SC_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


@pytest.mark.parametrize(("storage_class", "expected"), [
    ("fast", "storage_class: must be a dictionary, got 'fast'."),
    ({"provisioner": "x", "iops": 5}, "storage_class: unknown key(s) iops, provisioner; allowed: name, fstype, "
                                      "replica_factor, thin_provision, reclaim_policy, volume_binding_mode, "
                                      "allow_volume_expansion."),
    ({"name": 5}, "storage_class.name: 5 is not a valid StorageClass name (lowercase DNS subdomain, at most 253 "
                  "characters)."),
    ({"name": SC_253 + "d"}, f"storage_class.name: '{SC_253}d' is not a valid StorageClass name (lowercase DNS "
                             "subdomain, at most 253 characters)."),
    ({"fstype": "zfs"}, "storage_class.fstype: 'zfs' is not supported; use one of ext2, ext3, ext4, xfs."),
    ({"replica_factor": True}, "storage_class.replica_factor: True is not supported; use \"2\" or \"3\" (a quoted string)."),
    ({"thin_provision": "maybe"}, "storage_class.thin_provision: 'maybe' is not a boolean; use \"true\" (thin) or "
                                  "\"false\" (thick)."),
    ({"reclaim_policy": "Recycle"}, "storage_class.reclaim_policy: 'Recycle' is not a reclaim policy; use Delete or Retain."),
    ({"volume_binding_mode": "Later"}, "storage_class.volume_binding_mode: 'Later' is not a binding mode; use Immediate "
                                       "or WaitForFirstConsumer."),
    ({"allow_volume_expansion": "sometimes"}, "storage_class.allow_volume_expansion: 'sometimes' is not a boolean; use "
                                              "true or false."),
], ids=["not-a-dict", "unknown-keys", "name-number", "name-254", "fstype", "replica-bool", "thin", "reclaim", "binding",
        "expansion"])
def test_storage_class_refusals_word_for_word(inv, storage_class, expected):
    renamed(inv)
    inv.clusters[1]["storage_class"] = storage_class
    assert problems(inv) == [f"{ARCHIVE}.{expected}"]


def test_a_storage_class_name_of_253_characters_is_accepted(inv):
    inv.clusters[1]["storage_class"] = {"name": SC_253}
    assert problems(inv) == []


# --- the cluster list and the collection-wide settings, word for word

@pytest.mark.parametrize("clusters", ["iomesh", {"name": "iomesh"}, []], ids=["string", "dict", "empty"])
def test_a_cluster_list_that_is_not_a_list_is_refused_word_for_word(inv, clusters):
    assert f.iomesh_topology_report(clusters, inv.groups, inv.hostvars)["errors"] == [
        "iomesh_clusters: must be a non-empty list of clusters (see the README's inventory contract and "
        "inventories/seed-example)."
    ]


@pytest.mark.parametrize(("item", "described"), [
    (None, "null None"), ("archive", "a string 'archive'"), (3, "a number 3"), (True, "a boolean True"),
    (["archive"], "a list ['archive']"),
])
def test_a_cluster_item_that_is_not_a_dictionary_is_described_by_its_yaml_type(inv, item, described):
    """First in the list: the clusters after it are still read."""
    renamed(inv)
    inv.clusters.insert(0, item)
    assert problems(inv) == [f"iomesh_clusters[0]: must be a dictionary describing one IOMesh cluster, got {described}."]


@pytest.mark.parametrize(("group", "expected"), [
    (["w2", "w3", "w4", "w5"], "host w2: in two IOMesh clusters, edge-mgmt and archive; a node can serve only one IOMesh "
                               "cluster. Remove it from one of the two hosts_group groups."),
    (["w1", "w2", "w3"], "hosts w1, w2: in two IOMesh clusters, edge-mgmt and archive; a node can serve only one IOMesh "
                         "cluster. Remove them from one of the two hosts_group groups."),
], ids=["one", "two"])
def test_hosts_in_two_clusters_word_for_word(inv, group, expected):
    renamed(inv)
    inv.groups["g1"] = group
    assert problems(inv) == [expected]


def test_two_hosts_with_one_node_name_word_for_word(inv):
    renamed(inv)
    inv.hostvars["w4"]["iomesh_node_name"] = "w3"
    assert problems(inv) == ["host w4: iomesh_node_name 'w3' is also the node name of host w3 (archive); every host must "
                             "map to its own Kubernetes node."]


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("iomesh_zookeeper_image_tag", datetime.date(2026, 1, 5),
     "datetime.date(2026, 1, 5) must be a string without spaces, got a date."),
    ("iomesh_app_version", "v5 rc", "'v5 rc' must be a string without spaces, got a string."),
    ("iomesh_chart_ref", ["x"], "['x'] must be a string without spaces, got a list."),
    ("iomesh_kube_context", 5, "must be a string (a path or a name), got a number 5."),
    ("iomesh_helm_binary", {"path": "helm"}, "must be a string (a path or a name), got a dictionary {'path': 'helm'}."),
    ("iomesh_kubeconfig", False, "must be a string (a path or a name), got a boolean False."),
    ("iomesh_chart_name", "", "must name the chart in the repository (default 'iomesh')."),
    ("iomesh_chart_repo_url", "iomesh.com/charts", "'iomesh.com/charts' is not a Helm repository URL (http://, https:// "
                                                   "or oci://), e.g. http://iomesh.com/charts; for a local chart set "
                                                   "iomesh_chart_ref."),
    ("iomesh_k8s_cluster_id", "east 1", "'east 1' must be a non-empty string without spaces; every CSI ConfigMap carries "
                                        "it as data.clusterId (e.g. 'k8s-cluster')."),
    ("iomesh_chart_version", "v9.9.9", "chart v9.9.9 is not in the built-in version table (v1.0.0, v1.0.1, v1.1.0, "
                                       "v1.2.0); set iomesh_app_version to the chart's appVersion (the zbs image tag "
                                       "stem, e.g. 'v5.3.0-rc13')."),
    ("iomesh_node_label_key", "bad key!", "'bad key!' is not a Kubernetes label key; use the node label whose value is "
                                          "each node's name, normally 'kubernetes.io/hostname'."),
])
def test_collection_settings_are_refused_word_for_word(inv, variable, value, expected):
    inv.settings[variable] = value
    assert problems(inv) == [f"{variable}: {expected}"]


LABEL_PREFIX_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


@pytest.mark.parametrize(("key", "valid"), [
    ("topology.example.com/node", True),
    (LABEL_PREFIX_253 + "/node", True),
    (LABEL_PREFIX_253 + "d/node", False),
    ("Example.com/node", False),
    ("example.com/" + "n" * 63, True),
    ("example.com/" + "n" * 64, False),
    ("n" * 63, True),
    ("example.com/", False),
])
def test_node_label_keys(inv, key, valid):
    inv.settings["iomesh_node_label_key"] = key
    expected = [] if valid else [f"iomesh_node_label_key: {key!r} is not a Kubernetes label key; use the node label whose "
                                 "value is each node's name, normally 'kubernetes.io/hostname'."]
    assert problems(inv) == expected


def test_the_shortest_request_timeout_is_accepted(inv):
    inv.settings["iomesh_request_timeout"] = 5
    assert problems(inv) == []


def test_the_collection_s_own_variables_are_not_warned(inv):
    inv.settings.update(iomesh_confirm_data_loss=True, iomesh_wipe_disks=False, iomesh_allow_downgrade=False,
                        iomesh_allow_single_cluster_conversion=False, iomesh_clusters=inv.clusters)
    _hybrid(inv, ["w0", "w1", "w2", "w3", "w4", "w5"])
    inv.hostvars["w3"]["iomesh_data_ip"] = "10.234.1.13"
    assert (problems(inv), warnings(inv)) == ([], [])


@pytest.mark.parametrize(("key", "expected"), [
    ("iomesh_data_cidr", "is not a variable of iomesh.multicluster and is ignored; data_cidr is a key of an item of "
                         "iomesh_clusters: set it there, in the cluster it belongs to."),
    ("iomesh_mgnt_wait_timeout", "is not a variable of iomesh.multicluster and is ignored; did you mean "
                                 "iomesh_mgmt_wait_timeout?"),
    ("iomesh_cluster_domian", "is not a variable of iomesh.multicluster and is ignored; did you mean "
                              "iomesh_cluster_domain?"),
    ("iomesh_preflight_confirm_data_loss", "is not a variable of iomesh.multicluster and is ignored; did you mean "
                                           "iomesh_confirm_data_loss?"),
    ("iomesh_qqqqqqqqqqqq", "is not a variable of iomesh.multicluster and is ignored"),
], ids=["cluster-key", "misspelt-role-prefix", "setting-behind-a-role-prefix", "guard-behind-a-role-prefix",
        "nothing-close"])
def test_unknown_variables_are_warned_word_for_word(inv, key, expected):
    _hybrid(inv, ["w0", "w1", "w2", "w3", "w4", "w5"])
    inv.settings[key] = "x"
    assert warnings(inv) == [f"{key}: {expected}"]


@pytest.mark.parametrize(("cidr", "expected"), [
    ("10.234.1.7", "'10.234.1.7' has no prefix length; write the storage network with its prefix length, e.g. "
                   "10.234.1.0/24 for a 255.255.255.0 network."),
    ("10.0.0.0/33", "'10.0.0.0/33' is not a valid IPv4 CIDR (four octets 0-255 and a prefix length 0-32, e.g. "
                    "10.234.1.0/24)."),
], ids=["no-prefix", "prefix-33"])
def test_a_data_cidr_that_is_no_network_is_refused_word_for_word(inv, cidr, expected):
    renamed(inv)
    inv.clusters[1]["data_cidr"] = cidr
    assert problems(inv) == [f"{ARCHIVE}.data_cidr: {expected}"]
