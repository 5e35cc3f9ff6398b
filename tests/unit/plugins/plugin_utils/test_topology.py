"""topology: the inventory contract. Bad input that preflight must reject before anything changes (one test
each, asserting the message), the settings' defaults and the seed inventory normalised."""

from __future__ import annotations

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
