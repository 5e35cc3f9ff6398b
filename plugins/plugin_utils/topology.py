# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of the collection's inventory contract.

Everything here is pure: callers pass the cluster list, the inventory groups, the host variables and the
collection-wide settings; nothing is looked up. Every rule reports *all* its violations at once, each naming
the cluster/host/variable, the bad value and the fix (docs/architecture.md#validation-rules).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import contract, images, names
from ansible_collections.iomesh.multicluster.plugins.plugin_utils.constants import META_CLIENT_PORT

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
CHART_VERSION = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")

# Longest names every object named after them stays a 63-character label with: any cluster's (40, the operators'
# <C>-zookeeper-admin-server) and the management cluster's, which is also the Helm release name (23, the chart's
# <R>-zookeeper-operator-post-install-upgrade Job; docs/pitfalls.md P23). Derived in names.py from the suffixes.
MAX_CLUSTER_NAME = names.MAX_CLUSTER_NAME
MAX_RELEASE_NAME = names.MAX_RELEASE_NAME

EDITIONS = ("", "community", "enterprise")
PLATFORMS = ("", "hygon_x86_64")
DISK_MODES = ("hybridFlash", "allFlash")
MOUNT_TYPES = ("cacheWithJournal", "rawCache", "dataStore", "dataStoreWithJournal")
# Mount types the operator's devicemanager rejects in each deployment mode (CRD description).
MODE_FORBIDDEN_TYPES = {
    "hybridFlash": ("dataStoreWithJournal",),
    "allFlash": ("cacheWithJournal", "rawCache"),
}
FSTYPES = ("ext2", "ext3", "ext4", "xfs")
REPLICA_FACTORS = ("2", "3")
RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
# StorageClasses the chart creates itself; a per-cluster class must never take one of these names (docs/pitfalls.md P5).
RESERVED_SC_NAMES = names.CHART_STORAGE_CLASSES
RESERVED_SC_PREFIX = names.CHART_STORAGE_CLASS_PREFIX
CHART_REPO_URL = re.compile(r"^(https?|oci)://[^\s/]+\S*$")
RESERVED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
# Device paths NDM never reports, so a disk named by one of them can never be claimed.
NDM_EXCLUDED_PATHS = ("/dev/fd0", "/dev/sr0", "/dev/ram", "/dev/dm-", "/dev/md", "/dev/loop")
COMMUNITY_MAX_REPLICAS = 3
# IOMesh's upper bound of chunk pods per cluster (enterprise; the licence may allow fewer).
MAX_CHUNK_REPLICAS = 255
MANAGEMENT_NAMESPACE = "iomesh-system"

# chart version -> zbs appVersion (image tag stem of meta/chunk/redirector). Override: iomesh_app_version.
APP_VERSIONS = {
    "v1.0.0": "v5.3.0-rc13",
    "v1.0.1": "v5.3.0-rc13",
    "v1.1.0": "v5.5.0-rc27",
    "v1.2.0": "v5.6.0-rc112",
}

MIN_REQUEST_TIMEOUT = 5

# The inventory contract (types, defaults, descriptions) is declared once, in contract.py.
SETTINGS_DEFAULTS = contract.defaults(contract.SETTINGS)

# Variables of the collection that are not settings: checked so a misspelt iomesh_* variable is reported.
OTHER_VARIABLES = (
    *contract.CLUSTERS, *contract.GUARDS, "iomesh_node_name", "iomesh_disks", "iomesh_confirm_data_loss",
    "iomesh_wipe_disks",
)
ROLE_PREFIXES = tuple(
    f"iomesh_{role}_"
    for role in ("preflight", "prereq", "mgmt", "cluster", "disks", "csi", "verify", "report", "teardown", "testbed")
)

CLUSTER_KEYS = tuple(contract.CLUSTER_OPTIONS)
STORAGE_CLASS_DEFAULTS = contract.defaults(contract.STORAGE_CLASS_OPTIONS)
CLUSTER_DEFAULTS = contract.defaults(contract.CLUSTER_OPTIONS)
# The only host variables the topology reads (hostvars are lazy in Ansible: read nothing else).
HOST_KEYS = ("iomesh_node_name", "iomesh_disks", "iomesh_data_ip", "ansible_host", "ansible_all_ipv4_addresses",
             "ansible_default_ipv4")
DISK_ID_KEYS = ("serial", "by_id", "path")
BY_ID_PREFIX = "/dev/disk/by-id/"


def plain(value: object) -> object:
    """A copy built of plain dict/list/str/int/float/bool/None.

    Ansible hands filters its own subclasses (tagged strings, lazy containers); the data we return must be
    plain so that any YAML/JSON dumper renders it and nothing of the caller's templating state leaks out.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


class TopologyReport:
    """Collects problems and warnings while the inventory is normalised."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{where}: {message}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_bool(value: object) -> bool | None:
    """YAML and Jinja give booleans in several spellings; anything else is not a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.lower() in ("true", "yes", "on", "1")
    return None


def normalize_settings(settings: Mapping | None, report: TopologyReport) -> dict:
    """Apply the collection-wide defaults and validate every collection-wide variable."""
    raw = {str(k): plain(v) for k, v in (settings or {}).items()}
    out = {}
    for key, default in SETTINGS_DEFAULTS.items():
        value = raw.get(key)
        out[key] = default if value is None else value

    for key in sorted(raw):
        problem = unknown_variable(key)
        if problem:
            report.warn(key, problem)

    for key in ("iomesh_chart_name", "iomesh_zookeeper_image_repository", "iomesh_zookeeper_image_tag",
                "iomesh_app_version", "iomesh_chart_ref"):
        if not isinstance(out[key], str) or any(c.isspace() for c in out[key]):
            report.error(key, f"{out[key]!r} must be a string without spaces, got {_type_name(out[key])}.")
    for key in ("iomesh_kubeconfig", "iomesh_kube_context", "iomesh_helm_binary"):
        if not isinstance(out[key], str):
            report.error(key, f"must be a string (a path or a name), got {_type_name(out[key])} {out[key]!r}.")
    if out["iomesh_chart_name"] == "":
        report.error("iomesh_chart_name", "must name the chart in the repository (default 'iomesh').")
    repo = out["iomesh_chart_repo_url"]
    if not isinstance(repo, str) or not CHART_REPO_URL.match(repo):
        report.error("iomesh_chart_repo_url", f"{repo!r} is not a Helm repository URL (http://, https:// or oci://), "
                                              "e.g. http://iomesh.com/charts; for a local chart set iomesh_chart_ref.")

    edition = out["iomesh_edition"]
    if edition not in EDITIONS:
        report.error("iomesh_edition", f"{edition!r} is not an IOMesh edition; use 'community' or 'enterprise'.")
    elif edition == "":
        out["iomesh_edition"] = "community"
    if out["iomesh_platform"] not in PLATFORMS:
        report.error(
            "iomesh_platform",
            f"{out['iomesh_platform']!r} is not supported; use '' (Intel x86_64, Kunpeng) or 'hygon_x86_64'.",
        )
    cluster_id = out["iomesh_k8s_cluster_id"]
    if not isinstance(cluster_id, str) or not cluster_id.strip() or any(c.isspace() for c in cluster_id):
        report.error(
            "iomesh_k8s_cluster_id",
            f"{cluster_id!r} must be a non-empty string without spaces; every CSI ConfigMap carries it as "
            "data.clusterId (e.g. 'k8s-cluster').",
        )
    version = out["iomesh_chart_version"]
    if not isinstance(version, str) or not CHART_VERSION.match(version):
        report.error(
            "iomesh_chart_version",
            f"{version!r} is not a chart version; IOMesh chart versions carry a leading 'v', e.g. 'v1.0.1'.",
        )
    elif not out["iomesh_app_version"]:
        if version in APP_VERSIONS:
            out["iomesh_app_version"] = APP_VERSIONS[version]
        else:
            report.error(
                "iomesh_chart_version",
                f"chart {version} is not in the built-in version table ({', '.join(sorted(APP_VERSIONS))}); "
                "set iomesh_app_version to the chart's appVersion (the zbs image tag stem, e.g. 'v5.3.0-rc13').",
            )
    key = out["iomesh_node_label_key"]
    if not isinstance(key, str) or not _valid_label_key(key):
        report.error(
            "iomesh_node_label_key",
            f"{key!r} is not a Kubernetes label key; use the node label whose value is each node's name, "
            "normally 'kubernetes.io/hostname'.",
        )
    timeout = out["iomesh_request_timeout"]
    if isinstance(timeout, str) and timeout.strip().isdigit():
        timeout = out["iomesh_request_timeout"] = int(timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < MIN_REQUEST_TIMEOUT:
        report.error("iomesh_request_timeout", f"{timeout!r} must be a whole number of seconds, at least "
                                               f"{MIN_REQUEST_TIMEOUT} (default 60).")
    for key, problem in images.validate(out["iomesh_image_registry"], out["iomesh_image_pull_secrets"]):
        report.error(key, problem)
    domain = out["iomesh_cluster_domain"]
    if not isinstance(domain, str) or not DNS1123_SUBDOMAIN.match(domain):
        report.error("iomesh_cluster_domain", f"{domain!r} is not a DNS domain; the Kubernetes default is 'cluster.local'.")
    _monitoring_settings(out, report)
    return out


def _monitoring_settings(out: dict, report: TopologyReport) -> None:
    """iomesh_monitoring and the namespace and labels of the monitoring objects (docs/day-2.md, "Monitoring")."""
    enabled = _as_bool(out["iomesh_monitoring"])
    if enabled is None:
        report.error("iomesh_monitoring", f"{out['iomesh_monitoring']!r} must be true or false (default false).")
    else:
        out["iomesh_monitoring"] = enabled
    namespace = out["iomesh_monitoring_namespace"]
    if not isinstance(namespace, str) or (namespace and not DNS1123_LABEL.match(namespace)):
        report.error("iomesh_monitoring_namespace", f"{namespace!r} is not a namespace name (a DNS-1123 label); empty "
                                                    "puts the monitoring objects in the management cluster's namespace.")
    labels = out["iomesh_monitoring_labels"]
    if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and _valid_label_key(k) and isinstance(v, str) and LABEL_VALUE.match(v)
            for k, v in labels.items()):
        report.error("iomesh_monitoring_labels", f"{labels!r} must map label keys to label values (strings), e.g. "
                                                 "{'release': 'kube-prometheus-stack'}.")
    else:
        out["iomesh_monitoring_labels"] = {str(k): str(labels[k]) for k in sorted(labels)}


def _valid_label_key(key: str) -> bool:
    prefix, _slash, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return bool(name) and len(name) <= 63 and bool(LABEL_NAME.match(name))


@functools.lru_cache(maxsize=1)
def role_variables() -> frozenset[str] | None:
    """Every variable the collection's roles take (their meta/argument_specs.yml); None without the roles."""
    roles = Path(__file__).resolve().parents[2] / "roles"
    specs = sorted(roles.glob("*/meta/argument_specs.yml"))
    if not specs:
        return None
    found: set[str] = set()
    for spec in specs:
        for entry in ((yaml.safe_load(spec.read_text(encoding="utf-8")) or {}).get("argument_specs") or {}).values():
            found.update((entry or {}).get("options") or {})
    return frozenset(name for name in found if name.startswith(ROLE_PREFIXES))


def unknown_variable(key: str) -> str | None:
    """Why an iomesh_* variable is not one of the collection's (with the closest known name), or None."""
    if not key.startswith("iomesh_"):
        return None
    known = set(SETTINGS_DEFAULTS) | set(OTHER_VARIABLES) | set(HOST_KEYS)
    roles = role_variables()
    if key.startswith(ROLE_PREFIXES):
        if roles is None or key in roles:
            return None
        known |= roles
    elif key in known:
        return None
    bare = key[len("iomesh_"):]
    if bare in CLUSTER_KEYS:
        # A key of one cluster written as a variable (e.g. in the group_vars of the cluster's hosts group).
        return (f"is not a variable of iomesh.multicluster and is ignored; {bare} is a key of an item of "
                f"iomesh_clusters: set it there, in the cluster it belongs to.")
    close = difflib.get_close_matches(key, sorted(known | (roles or set())), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"is not a variable of iomesh.multicluster and is ignored{hint}"


def _type_name(value: object) -> str:
    """How YAML calls the type of a value: a string, a number, a list, a dictionary, null, a boolean."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "a dictionary"
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return "a list"
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def _cluster_where(index: int, item: object) -> str:
    name = item.get("name") if isinstance(item, Mapping) else None
    return f"iomesh_clusters[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")


def group_hosts(groups: Mapping, group: str) -> list[str] | None:
    """Sorted, de-duplicated hosts of an inventory group; None when the group does not exist."""
    hosts = groups.get(group)
    if hosts is None:
        return None
    return sorted(dict.fromkeys(hosts))


def _check_storage_address(here: str, where: str, hv: Mapping, network, report: TopologyReport) -> None:
    """The host's storage address must lie in its cluster's data_cidr; SSH may use another network.

    iomesh_data_ip, when set, is the storage address and must be inside. Otherwise gathered facts (every
    address of the host) must include one inside. ansible_host alone proves nothing: it is the SSH address, often on a
    management network, so one outside data_cidr is only a warning.
    """
    data_ip = hv.get("iomesh_data_ip")
    if data_ip is not None:
        try:
            addr = ipaddress.IPv4Address(str(data_ip))
        except ValueError:
            report.error(f"{here}.iomesh_data_ip", f"{data_ip!r} is not an IPv4 address.")
            return
        if addr not in network:
            report.error(f"{here}.iomesh_data_ip", f"{addr} is outside {where}.data_cidr {network}; fix data_cidr or "
                                                   "iomesh_data_ip (the host's address on the storage network).")
        return
    gathered = _known_ipv4({k: hv.get(k) for k in ("ansible_all_ipv4_addresses", "ansible_default_ipv4")})
    inside = [a for a in gathered if a in network]
    if gathered and not inside:
        report.error(
            here,
            f"none of its addresses ({', '.join(map(str, gathered))}) is inside {where}.data_cidr {network}; "
            "fix data_cidr or give the node an address on the storage network.",
        )
    elif len(inside) > 1:
        report.warn(here, f"has several addresses in {network} ({', '.join(map(str, inside))}); set iomesh_data_ip.")
    elif not gathered:
        ssh = _known_ipv4({"ansible_host": hv.get("ansible_host")})
        if ssh and ssh[0] not in network:
            report.warn(here, f"ansible_host {ssh[0]} is outside {where}.data_cidr {network}: taken for its SSH "
                              "address; set iomesh_data_ip to its storage address to have that checked.")


def _known_ipv4(hostvars: Mapping) -> list[ipaddress.IPv4Address]:
    """Addresses the inventory or gathered facts know for a host (empty when nothing is known)."""
    candidates: list[object] = []
    candidates.extend(hostvars.get("ansible_all_ipv4_addresses") or [])
    default = hostvars.get("ansible_default_ipv4") or {}
    if isinstance(default, Mapping):
        candidates.append(default.get("address"))
    candidates.append(hostvars.get("ansible_host"))
    found = []
    for cand in candidates:
        try:
            addr = ipaddress.ip_address(str(cand))
        except ValueError:
            continue
        if isinstance(addr, ipaddress.IPv4Address) and addr not in found:
            found.append(addr)
    return found


def _normalize_storage_class(where: str, name: str, name_ok: bool, raw: object, report: TopologyReport) -> dict:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        report.error(f"{where}.storage_class", f"must be a dictionary, got {raw!r}.")
        raw = {}
    unknown = sorted(set(raw) - set(STORAGE_CLASS_DEFAULTS) - {"name"})
    if unknown:
        report.error(
            f"{where}.storage_class",
            f"unknown key(s) {', '.join(unknown)}; allowed: name, {', '.join(STORAGE_CLASS_DEFAULTS)}.",
        )
    sc = dict(STORAGE_CLASS_DEFAULTS)
    sc.update({k: v for k, v in raw.items() if v is not None})
    sc["name"] = raw.get("name") or name
    derived_from_bad_name = not raw.get("name") and not name_ok
    if derived_from_bad_name:
        pass  # reported as the cluster name's problem
    elif not isinstance(sc["name"], str) or len(sc["name"]) > 253 or not DNS1123_SUBDOMAIN.match(sc["name"]):
        report.error(
            f"{where}.storage_class.name",
            f"{sc['name']!r} is not a valid StorageClass name (lowercase DNS subdomain, at most 253 characters).",
        )
    elif sc["name"] in RESERVED_SC_NAMES or sc["name"].startswith(RESERVED_SC_PREFIX):
        report.error(
            f"{where}.storage_class.name",
            f"{sc['name']!r} is a StorageClass the IOMesh chart creates itself (iomesh-csi-driver, hostpath, "
            "iomesh-localpv-manager-*); a multi-cluster StorageClass needs its own name, e.g. the cluster name.",
        )
    if sc["fstype"] not in FSTYPES:
        report.error(f"{where}.storage_class.fstype", f"{sc['fstype']!r} is not supported; use one of {', '.join(FSTYPES)}.")
    if _is_int(sc["replica_factor"]):
        sc["replica_factor"] = str(sc["replica_factor"])
    if sc["replica_factor"] not in REPLICA_FACTORS:
        report.error(
            f"{where}.storage_class.replica_factor",
            f"{sc['replica_factor']!r} is not supported; use \"2\" or \"3\" (a quoted string).",
        )
    thin = _as_bool(sc["thin_provision"])
    if thin is None:
        report.error(
            f"{where}.storage_class.thin_provision",
            f"{sc['thin_provision']!r} is not a boolean; use \"true\" (thin) or \"false\" (thick).",
        )
    else:
        sc["thin_provision"] = "true" if thin else "false"
    if sc["reclaim_policy"] not in RECLAIM_POLICIES:
        report.error(
            f"{where}.storage_class.reclaim_policy",
            f"{sc['reclaim_policy']!r} is not a reclaim policy; use Delete or Retain.",
        )
    if sc["volume_binding_mode"] not in BINDING_MODES:
        report.error(
            f"{where}.storage_class.volume_binding_mode",
            f"{sc['volume_binding_mode']!r} is not a binding mode; use Immediate or WaitForFirstConsumer.",
        )
    expansion = _as_bool(sc["allow_volume_expansion"])
    if expansion is None:
        report.error(
            f"{where}.storage_class.allow_volume_expansion",
            f"{sc['allow_volume_expansion']!r} is not a boolean; use true or false.",
        )
    else:
        sc["allow_volume_expansion"] = expansion
    return {key: sc[key] for key in ("name", *STORAGE_CLASS_DEFAULTS)}


def _normalize_disk(where: str, index: int, raw: object, report: TopologyReport) -> dict | None:
    here = f"{where}.iomesh_disks[{index}]"
    if not isinstance(raw, Mapping):
        report.error(here, f"must be a dictionary with one of serial, by_id, path and a mount_type; got {raw!r}.")
        return None
    unknown = sorted(set(raw) - set(DISK_ID_KEYS) - {"mount_type"})
    if unknown:
        report.error(here, f"unknown key(s) {', '.join(unknown)}; allowed: serial, by_id, path, mount_type.")
    ids = [k for k in DISK_ID_KEYS if raw.get(k)]
    if len(ids) != 1:
        report.error(
            here,
            "name the disk by exactly one of serial, by_id or path (serial or by_id survive reboots; "
            f"/dev/sdX names do not); got {', '.join(ids) or 'none'}.",
        )
        return None
    id_key = ids[0]
    value = str(raw[id_key])
    if id_key == "by_id" and not value.startswith("/"):
        value = BY_ID_PREFIX + value
    if id_key == "by_id" and not value.startswith(BY_ID_PREFIX):
        report.error(here, f"by_id {value!r} must be a /dev/disk/by-id/ link or its bare name.")
    if id_key == "path":
        if not value.startswith("/dev/"):
            report.error(here, f"path {value!r} must be a device path under /dev/.")
        elif any(value.startswith(p) for p in NDM_EXCLUDED_PATHS):
            report.error(
                here,
                f"path {value!r} is a device node-disk-manager never reports (device-mapper, md RAID, loop, "
                "floppy, CD-ROM, ramdisk); IOMesh can only use whole physical disks.",
            )
    mount_type = raw.get("mount_type")
    if mount_type not in MOUNT_TYPES:
        report.error(here, f"mount_type {mount_type!r} is not an IOMesh mount type; use one of {', '.join(MOUNT_TYPES)}.")
        return None
    return {"id_key": id_key, "id": value, "mount_type": mount_type}


def normalize_topology(clusters: object, groups: Mapping, hostvars: Mapping,
                       settings: Mapping | None = None) -> tuple[list[dict], dict, TopologyReport]:
    """Validate the inventory contract and return (clusters, settings, report).

    The returned clusters are ordered management first, then in inventory order, with sorted node lists
    and every derived name. When report.errors is not empty the returned data must not be used.
    """
    report = TopologyReport()
    conf = normalize_settings(settings, report)
    clusters = plain(clusters)
    groups = {str(k): [str(h) for h in v or []] for k, v in groups.items()}
    if not isinstance(clusters, Sequence) or isinstance(clusters, (str, bytes)) or not clusters:
        report.error(
            "iomesh_clusters",
            "must be a non-empty list of clusters (see the README's inventory contract and "
            "inventories/seed-example).",
        )
        return [], conf, report

    out: list[dict] = []
    host_owner: dict[str, str] = {}
    node_owner: dict[str, tuple[str, str]] = {}
    for index, item in enumerate(clusters):
        where = _cluster_where(index, item)
        if not isinstance(item, Mapping):
            report.error(where, f"must be a dictionary describing one IOMesh cluster, got {_type_name(item)} {item!r}.")
            continue
        cluster = _normalize_cluster(where, item, groups, hostvars, conf, report)
        shared: dict[str, list[str]] = {}
        for host in cluster["hosts"]:
            if host in host_owner:
                shared.setdefault(host_owner[host], []).append(host)
            else:
                host_owner[host] = cluster["name"]
        for other, hosts in shared.items():
            report.error(
                f"host{'s' if len(hosts) > 1 else ''} {', '.join(hosts)}",
                f"in two IOMesh clusters, {other} and {cluster['name']}; a node can serve only one IOMesh "
                f"cluster. Remove {'them' if len(hosts) > 1 else 'it'} from one of the two hosts_group groups.",
            )
        for host, node in cluster["host_nodes"].items():
            owner = node_owner.get(node)
            if owner and owner[0] != host:
                report.error(
                    f"host {host}",
                    f"iomesh_node_name {node!r} is also the node name of host {owner[0]} ({owner[1]}); every "
                    "host must map to its own Kubernetes node.",
                )
            else:
                node_owner[node] = (host, cluster["name"])
        out.append(cluster)

    _check_uniqueness(out, report)
    _check_disks_declared_once(out, report)
    _check_host_variable_names(out, hostvars, settings, report)
    managers = [c for c in out if c["management"]]
    if len(managers) != 1:
        names = ", ".join(c["name"] for c in managers) or "none"
        report.error(
            "iomesh_clusters",
            f"exactly one cluster must have management: true (it is installed first, with Helm, and carries the "
            f"shared operator, CSI driver and disk manager); found {len(managers)}: {names}.",
        )
    mgmt_ns = managers[0]["namespace"] if len(managers) == 1 else MANAGEMENT_NAMESPACE
    for cluster in out:
        cluster["block_device_namespace"] = mgmt_ns
    out.sort(key=lambda c: not c["management"])  # stable: management first, others in inventory order
    return out, conf, report


def _check_host_variable_names(clusters: list[dict], hostvars: Mapping, settings: Mapping | None,
                               report: TopologyReport) -> None:
    """A misspelt iomesh_* variable of a host (host_vars, or a group of its own); the play's own are checked once."""
    global_names = set(settings or {})
    by_key: dict[str, list[str]] = {}
    for cluster in clusters:
        for host in sorted(cluster["host_nodes"]):
            for key in sorted(str(k) for k in hostvars.get(host) or {} if str(k) not in global_names):
                by_key.setdefault(key, []).append(host)
    # One warning per variable, naming every host that has it (a group variable reaches all of a group's hosts).
    for key in sorted(by_key):
        problem = unknown_variable(key)
        if problem:
            hosts = sorted(set(by_key[key]))
            report.warn(f"host{'s' if len(hosts) > 1 else ''} {', '.join(hosts)}", f"{key} {problem}")


# Identifiers that name one disk whatever host declares it; a path (/dev/sdb) is only unique on its own host.
GLOBAL_DISK_IDS = ("serial", "by_id")


def _check_disks_declared_once(clusters: list[dict], report: TopologyReport) -> None:
    """A serial or /dev/disk/by-id link declared on two hosts: at most one of them can be right."""
    seen: dict[tuple[str, str], str] = {}
    for cluster in clusters:
        node_hosts = {node: host for host, node in cluster["host_nodes"].items()}
        for node, disks in sorted(cluster["disks"].items()):
            host = node_hosts[node]  # disks are keyed by the node names of the cluster's hosts
            for disk in disks:
                key = (disk["id_key"], disk["id"])
                if disk["id_key"] not in GLOBAL_DISK_IDS:
                    continue
                if key in seen and seen[key] != host:
                    report.error(
                        f"host {host}",
                        f"iomesh_disks {disk['id_key']} {disk['id']!r} is also declared by host {seen[key]}; a disk "
                        "sits in one node only. Remove it from the host it is not in.",
                    )
                else:
                    seen[key] = host


def _check_uniqueness(clusters: list[dict], report: TopologyReport) -> None:
    for field, label in (("name", "name"), ("namespace", "namespace")):
        seen: dict[str, str] = {}
        for c in clusters:
            value = c[field]
            if value in seen:
                report.error(
                    "iomesh_clusters",
                    f"{label} {value!r} is used by more than one cluster ({seen[value]} and {c['where']}); "
                    f"each IOMesh cluster needs its own {label}.",
                )
            else:
                seen[value] = c["where"]
    seen_sc: dict[str, str] = {}
    for c in clusters:
        sc = c["storage_class"]["name"]
        if sc in seen_sc:
            report.error(
                f"{c['where']}.storage_class.name",
                f"{sc!r} is already the StorageClass of {seen_sc[sc]}; each IOMesh cluster needs its own "
                "StorageClass.",
            )
        else:
            seen_sc[sc] = c["where"]


def _normalize_cluster(where: str, item: Mapping, groups: Mapping, hostvars: Mapping, conf: dict,
                       report: TopologyReport) -> dict:
    unknown = sorted(set(item) - set(CLUSTER_KEYS))
    if unknown:
        report.error(where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(CLUSTER_KEYS)}.")

    management = _as_bool(item.get("management", CLUSTER_DEFAULTS["management"]))
    if management is None:
        report.error(f"{where}.management", f"{item.get('management')!r} is not a boolean; use true or false.")
        management = False

    name = item.get("name")
    name_ok = False
    if name is not None and not isinstance(name, str):
        report.error(f"{where}.name", f"must be a string, got {_type_name(name)} {name!r}; quote it in YAML.")
        name = f"cluster-{where}"
    elif not isinstance(name, str) or not name:
        report.error(where, "name is missing; give every cluster a name (it prefixes all its Kubernetes objects).")
        name = f"cluster-{where}"
    elif len(name) > MAX_CLUSTER_NAME or not DNS1035_LABEL.match(name):
        report.error(
            f"{where}.name",
            f"{name!r} is not a valid IOMesh cluster name: it must be a DNS-1035 label (lowercase letters, digits "
            f"and '-', starting with a letter, ending with a letter or digit) of at most {MAX_CLUSTER_NAME} "
            "characters, because it prefixes Services such as <name>-zookeeper-admin-server. Example: "
            "iomesh-cluster-1.",
        )
    elif management and len(name) > MAX_RELEASE_NAME:
        kind, longest = names.longest_release_object(name)
        report.error(
            f"{where}.name",
            f"{name!r} ({len(name)} characters) is too long for the management cluster: it is also the Helm release "
            f"name, and the chart names objects after it, the longest {kind} {longest} ({len(longest)} characters), "
            f"over Kubernetes' 63-character limit, so helm install fails. Use at most {MAX_RELEASE_NAME} characters "
            "(docs/pitfalls.md P23), e.g. iomesh.",
        )
    else:
        name_ok = True

    # Values derived from a bad name are not reported again: fixing the name fixes them.
    namespace = item.get("namespace") or (MANAGEMENT_NAMESPACE if management else name)
    derived_from_bad_name = not item.get("namespace") and not management and not name_ok
    if derived_from_bad_name:
        pass  # reported as the cluster name's problem
    elif not isinstance(namespace, str) or len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        report.error(
            f"{where}.namespace",
            f"{namespace!r} is not a valid namespace (DNS-1123 label: lowercase letters, digits and '-', at most "
            "63 characters).",
        )
        namespace = str(namespace)
    elif namespace in RESERVED_NAMESPACES or namespace.startswith("kube-"):
        report.error(f"{where}.namespace", f"{namespace!r} is reserved for Kubernetes (kube-*); use a namespace of its own.")

    hosts_group = item.get("hosts_group")
    hosts: list[str] = []
    if hosts_group is not None and not isinstance(hosts_group, str):
        report.error(f"{where}.hosts_group", f"must be the name of one inventory group (a string), got "
                                             f"{_type_name(hosts_group)} {hosts_group!r}.")
    elif not isinstance(hosts_group, str) or not hosts_group:
        report.error(f"{where}.hosts_group", "is missing; name the inventory group whose hosts are this cluster's nodes.")
    else:
        found = group_hosts(groups, hosts_group)
        if found is None:
            report.error(
                f"{where}.hosts_group",
                f"group {hosts_group!r} is not in the inventory; add it with this cluster's nodes or fix the name.",
            )
        elif not found:
            report.error(f"{where}.hosts_group", f"group {hosts_group!r} has no hosts; put this cluster's nodes in it.")
        else:
            hosts = found

    data_cidr = _normalize_cidr(where, item.get("data_cidr"), report)
    mode = item.get("disk_deployment_mode") or CLUSTER_DEFAULTS["disk_deployment_mode"]
    if mode not in DISK_MODES:
        report.error(
            f"{where}.disk_deployment_mode",
            f"{mode!r} is not a disk deployment mode; use hybridFlash (SSD cache + HDD) or allFlash (SSD only).",
        )

    host_nodes, disks = _collect_hosts(where, hosts, hostvars, data_cidr, mode, report)
    nodes = sorted(set(host_nodes.values()))
    # Counted by host: two hosts sharing a node name are reported once, as that, not as too few nodes.
    replicas = _check_replicas(where, item, len(host_nodes), conf["iomesh_edition"], report)
    _check_disk_nodes(where, disks, replicas["chunk_replicas"], conf["iomesh_edition"], report)
    storage_class = _normalize_storage_class(where, name, name_ok, item.get("storage_class"), report)
    license_ = _normalize_license(where, item, report)

    domain = conf["iomesh_cluster_domain"]
    own = names.cluster_names(name)
    return {
        "name": name,
        "namespace": namespace,
        "management": management,
        "hosts_group": hosts_group,
        "hosts": hosts,
        "host_nodes": host_nodes,
        "nodes": nodes,
        "data_cidr": data_cidr,
        "disk_deployment_mode": mode,
        **replicas,
        "storage_class": storage_class,
        "license": license_,
        "disks": disks,
        "mount_types": sorted({d["mount_type"] for ds in disks.values() for d in ds}),
        "zookeeper_name": own["zookeeper_cluster"],
        "meta_client_service": own["meta_client_service"],
        "csi_configmap_name": own["csi_configmap"],
        "meta_addr": f"{own['meta_client_service']}.{namespace}.svc.{domain}:{META_CLIENT_PORT}",
        "cluster_connection": f"{namespace}/{own['csi_configmap']}",
        "iomesh_cluster_ref": f"{namespace}/{own['iomesh_cluster']}",
        "where": where,
    }


def _normalize_license(where: str, item: Mapping, report: TopologyReport) -> dict | None:
    """Where the cluster's licence code comes from (never the code itself: the plan is printed with -v):
    {"source": "code"}, {"source": "file", "file": <path>}, or None without a licence."""
    code, path = item.get("license_code"), item.get("license_file")
    if code not in (None, "") and path not in (None, ""):
        report.error(where, "license_code and license_file are both set; keep one of them.")
        return None
    if code not in (None, ""):
        if not isinstance(code, str) or not code.strip():
            report.error(f"{where}.license_code", "must be the licence code, a non-empty string.")
            return None
        return {"source": "code"}
    if path not in (None, ""):
        if not isinstance(path, str) or not os.path.isfile(os.path.expanduser(path)):
            report.error(f"{where}.license_file", f"{path!r} is not a file on the controller; give the path of the "
                                                  "file holding the cluster's licence code.")
            return None
        return {"source": "file", "file": os.path.expanduser(path)}
    return None


def parse_data_cidr(raw: object) -> tuple[str, str | None, str | None]:
    """(network, problem, warning) of a data_cidr value: the one reader of it, for the inventory and the hosts.

    network is "" when there is a problem; the warning says when host bits were set.
    """
    if not raw:
        return "", "is missing; set the IPv4 storage network in CIDR form, e.g. 10.234.1.0/24.", None
    try:
        network = ipaddress.ip_network(str(raw), strict=False)
    except ValueError:
        return "", (f"{raw!r} is not a valid IPv4 CIDR (four octets 0-255 and a prefix length 0-32, e.g. "
                    "10.234.1.0/24)."), None
    if network.version != 4:
        return "", f"{raw!r} is IPv6; IOMesh's data network must be IPv4.", None
    if "/" not in str(raw):
        example = ipaddress.ip_network(f"{raw}/24", strict=False)
        return "", (f"{raw!r} has no prefix length; write the storage network with its prefix length, e.g. "
                    f"{example} for a 255.255.255.0 network."), None
    warning = f"{raw} has host bits set; using the network {network}." if str(network) != str(raw) else None
    return str(network), None, warning


def _normalize_cidr(where: str, raw: object, report: TopologyReport) -> str:
    network, problem, warning = parse_data_cidr(raw)
    if problem:
        report.error(f"{where}.data_cidr", problem)
    if warning:
        report.warn(f"{where}.data_cidr", warning)
    return network


def _collect_hosts(where: str, hosts: list[str], hostvars: Mapping, data_cidr: str, mode: str,
                   report: TopologyReport) -> tuple[dict, dict]:
    network = ipaddress.ip_network(data_cidr) if data_cidr else None
    host_nodes: dict[str, str] = {}
    disks: dict[str, list[dict]] = {}
    for host in hosts:
        source = hostvars.get(host) or {}
        hv = {k: plain(source.get(k)) for k in HOST_KEYS if k in source}
        here = f"host {host}"
        node = hv.get("iomesh_node_name") or host
        if not isinstance(node, str) or len(node) > 63 or not LABEL_VALUE.match(node):
            report.error(
                f"{here}.iomesh_node_name",
                f"{node!r} is not a valid label value; set it to the value of the node's iomesh_node_label_key label "
                "(kubernetes.io/hostname by default).",
            )
        host_nodes[host] = str(node)
        if network is not None:
            _check_storage_address(here, where, hv, network, report)
        node_disks = _normalize_host_disks(here, hv.get("iomesh_disks"), mode, where, report)
        if node_disks:
            disks[str(node)] = node_disks
    if hosts and not disks:
        report.warn(where, "no host declares iomesh_disks; the disk stage will mount nothing for this cluster.")
    return host_nodes, disks


def _normalize_host_disks(here: str, raw: object, mode: str, where: str, report: TopologyReport) -> list[dict]:
    if raw is None or raw == []:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        report.error(f"{here}.iomesh_disks", f"must be a list of disks, got {raw!r}.")
        return []
    result = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(raw):
        disk = _normalize_disk(here, index, entry, report)
        if disk is None:
            continue
        key = (disk["id_key"], disk["id"])
        if key in seen:
            report.error(f"{here}.iomesh_disks[{index}]", f"{disk['id_key']} {disk['id']!r} is listed twice.")
            continue
        seen.add(key)
        if disk["mount_type"] in MODE_FORBIDDEN_TYPES.get(mode, ()):
            allowed = [t for t in MOUNT_TYPES if t not in MODE_FORBIDDEN_TYPES[mode]]
            report.error(
                f"{here}.iomesh_disks[{index}]",
                f"mount_type {disk['mount_type']} is rejected in {mode} mode ({where}); use "
                f"{' or '.join(allowed)}, or change the cluster's disk_deployment_mode.",
            )
        result.append(disk)
    types = {d["mount_type"] for d in result}
    if mode == "hybridFlash" and result and not ({"cacheWithJournal", "dataStore"} <= types):
        report.error(
            f"{here}.iomesh_disks",
            "hybridFlash needs at least one cacheWithJournal (SSD) and one dataStore (HDD) disk on every node "
            f"that declares disks; this host has {', '.join(sorted(types))}.",
        )
    if mode == "allFlash" and result and "dataStoreWithJournal" not in types:
        report.error(f"{here}.iomesh_disks", "allFlash needs at least one dataStoreWithJournal disk on every node.")
    return sorted(result, key=lambda d: (d["mount_type"], d["id_key"], d["id"]))


def default_chunk_replicas(node_count: int, edition: str) -> int:
    """One chunk pod per node, within the edition's limit and never below IOMesh's minimum of 3.

    A node's disks serve its cluster only while a chunk pod runs on it (docs/pitfalls.md P11).
    """
    limit = COMMUNITY_MAX_REPLICAS if edition == "community" else MAX_CHUNK_REPLICAS
    return max(3, min(node_count, limit))


def _check_disk_nodes(where: str, disks: Mapping, chunk: object, edition: str, report: TopologyReport) -> None:
    """Disks on more nodes than the cluster runs chunk pods are never all claimed (docs/pitfalls.md P11)."""
    if not _is_int(chunk) or chunk < 3 or len(disks) <= chunk:
        return
    nodes = sorted(disks)
    if edition == "community":
        fix = (f"the community edition runs at most {COMMUNITY_MAX_REPLICAS} chunk pods per cluster: declare "
               f"iomesh_disks on at most {chunk} nodes, or set iomesh_edition: enterprise (with a licence for "
               f"{len(nodes)} nodes) and chunk_replicas: {len(nodes)}.")
    else:
        fix = (f"set chunk_replicas: {len(nodes)} (the {edition} edition allows up to {MAX_CHUNK_REPLICAS}, within "
               f"the licence), or declare iomesh_disks on at most {chunk} nodes.")
    report.error(
        where,
        f"iomesh_disks are declared on {len(nodes)} nodes ({', '.join(nodes)}) but the cluster runs {chunk} chunk "
        f"pods, one per node, so the disks of the nodes without one are never mounted; {fix}",
    )


def _check_replicas(where: str, item: Mapping, node_count: int, edition: str, report: TopologyReport) -> dict:
    values = {}
    defaults = {"meta_replicas": CLUSTER_DEFAULTS["meta_replicas"],
                "chunk_replicas": default_chunk_replicas(node_count, edition),
                "zookeeper_replicas": CLUSTER_DEFAULTS["zookeeper_replicas"]}
    for key, default in defaults.items():
        value = item.get(key, default)
        if not _is_int(value):
            report.error(f"{where}.{key}", f"{value!r} is not a whole number.")
            value = default
        values[key] = value
    if node_count and node_count < 3:
        report.error(
            f"{where}.hosts_group",
            f"has {node_count} node(s); an IOMesh cluster needs at least 3 (one meta, chunk and ZooKeeper pod each).",
        )
    meta, chunk, zk = values["meta_replicas"], values["chunk_replicas"], values["zookeeper_replicas"]
    if node_count < 3:
        node_count = 0  # too few nodes is the one problem; comparing replicas with the count adds noise
    if meta not in (3, 5):
        report.error(f"{where}.meta_replicas", f"is {meta}; IOMesh meta runs 3 or 5 replicas.")
    elif node_count and meta > node_count:
        report.error(
            f"{where}.meta_replicas",
            f"is {meta} but the cluster has {node_count} nodes; each node runs at most one meta pod.",
        )
    if chunk < 3:
        report.error(f"{where}.chunk_replicas", f"is {chunk}; IOMesh needs at least 3 chunk pods.")
    elif node_count and chunk > node_count:
        report.error(
            f"{where}.chunk_replicas",
            f"is {chunk} but the cluster has {node_count} nodes; each node runs at most one chunk pod.",
        )
    if zk < 3 or zk % 2 == 0:
        report.error(f"{where}.zookeeper_replicas", f"is {zk}; ZooKeeper needs an odd ensemble of at least 3.")
    elif node_count and zk > node_count:
        report.error(f"{where}.zookeeper_replicas", f"is {zk} but the cluster has {node_count} nodes.")
    if edition == "community":
        for key in ("chunk_replicas", "meta_replicas"):
            if values[key] > COMMUNITY_MAX_REPLICAS and (key != "meta_replicas" or meta in (3, 5)):
                report.error(
                    f"{where}.{key}",
                    f"is {values[key]}; the community edition is limited to 3 nodes per cluster (3 chunk and 3 "
                    "meta pods). Use 3, or set iomesh_edition: enterprise with a licence that allows more.",
                )
    return values
