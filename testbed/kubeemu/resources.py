"""Resource types the emulator serves: a built-in table (Kubernetes 1.25-era group versions) plus the
types registered by CustomResourceDefinitions at run time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

@dataclass
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    subresources: tuple[str, ...] = ()  # "status", "scale"
    # metadata.generation is maintained only by strategies that implement it (workloads, CRs, ...)
    has_generation: bool = False
    # field selectors beyond metadata.name/metadata.namespace, as dotted paths
    field_labels: tuple[str, ...] = ()
    crd: dict | None = None  # the CRD version entry for custom resources
    crd_name: str = ""
    served_versions: tuple[str, ...] = ()  # all served versions of a CR (storage is shared)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """`configmaps` or `deployments.apps` - the form used in Status messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def is_custom(self) -> bool:
        return self.crd is not None


def _rt(gv: str, kind: str, plural: str, namespaced: bool = True, short: str = "", sub: str = "",
        gen: bool = False, fields: str = "", cats: str = "") -> ResourceType:
    group, _, version = gv.rpartition("/")
    return ResourceType(group, version, kind, plural, namespaced, short.split() if short else [],
                        cats.split() if cats else [], tuple(sub.split()), gen, tuple(fields.split()))


BUILTIN: list[ResourceType] = [
    _rt("v1", "Namespace", "namespaces", False, "ns", "status", fields="status.phase"),
    _rt("v1", "Node", "nodes", False, "no", "status", fields="spec.unschedulable"),
    _rt("v1", "Pod", "pods", True, "po", "status", cats="all",
        fields="spec.nodeName spec.restartPolicy spec.schedulerName spec.serviceAccountName status.phase "
               "status.podIP status.nominatedNodeName"),
    _rt("v1", "Service", "services", True, "svc", "status", cats="all"),
    _rt("v1", "Endpoints", "endpoints", True, "ep"),
    _rt("v1", "ConfigMap", "configmaps", True, "cm"),
    _rt("v1", "Secret", "secrets", True, fields="type"),
    _rt("v1", "ServiceAccount", "serviceaccounts", True, "sa"),
    _rt("v1", "PersistentVolume", "persistentvolumes", False, "pv", "status"),
    _rt("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, "pvc", "status"),
    _rt("v1", "Event", "events", True, "ev",
        fields="involvedObject.kind involvedObject.namespace involvedObject.name involvedObject.uid "
               "involvedObject.apiVersion involvedObject.resourceVersion involvedObject.fieldPath reason "
               "reportingComponent source type"),
    _rt("v1", "LimitRange", "limitranges", True, "limits"),
    _rt("v1", "ResourceQuota", "resourcequotas", True, "quota", "status"),
    _rt("v1", "ReplicationController", "replicationcontrollers", True, "rc", "status scale", cats="all"),
    _rt("v1", "PodTemplate", "podtemplates", True),
    _rt("apps/v1", "Deployment", "deployments", True, "deploy", "status scale", True, cats="all"),
    _rt("apps/v1", "ReplicaSet", "replicasets", True, "rs", "status scale", True, cats="all"),
    _rt("apps/v1", "StatefulSet", "statefulsets", True, "sts", "status scale", True, cats="all"),
    _rt("apps/v1", "DaemonSet", "daemonsets", True, "ds", "status", True, cats="all"),
    _rt("apps/v1", "ControllerRevision", "controllerrevisions", True),
    _rt("batch/v1", "Job", "jobs", True, "", "status", True, cats="all"),
    _rt("batch/v1", "CronJob", "cronjobs", True, "cj", "status", True, cats="all"),
    _rt("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, "hpa", "status", True),
    _rt("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True, "pdb", "status", True),
    _rt("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    _rt("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    _rt("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    _rt("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _rt("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False, "crd crds",
        "status", True, cats="api-extensions"),
    _rt("storage.k8s.io/v1", "StorageClass", "storageclasses", False, "sc"),
    _rt("storage.k8s.io/v1", "CSIDriver", "csidrivers", False),
    _rt("storage.k8s.io/v1", "CSINode", "csinodes", False),
    _rt("storage.k8s.io/v1", "VolumeAttachment", "volumeattachments", False, "", "status"),
    _rt("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
        False, "", "", True, cats="api-extensions"),
    _rt("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
        False, "", "", True, cats="api-extensions"),
    # Stored only: the emulator aggregates no API server, so an APIService's group never appears in discovery
    # and its status stays empty (kube-aggregator would report Available).
    _rt("apiregistration.k8s.io/v1", "APIService", "apiservices", False, "", "status", cats="api-extensions"),
    _rt("networking.k8s.io/v1", "Ingress", "ingresses", True, "ing", "status", True),
    _rt("networking.k8s.io/v1", "IngressClass", "ingressclasses", False),
    _rt("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True, "netpol", "", True),
    _rt("coordination.k8s.io/v1", "Lease", "leases", True),
    _rt("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False, "pc"),
    _rt("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", True),
    _rt("certificates.k8s.io/v1", "CertificateSigningRequest", "certificatesigningrequests", False, "csr",
        "status"),
]


class Registry:
    """Thread-safe lookup of resource types by (group, version, plural) and (apiVersion, kind)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._types: list[ResourceType] = list(BUILTIN)
        self._reindex()
        self.generation = 0  # bumped when CRDs change, so discovery/OpenAPI caches can be rebuilt

    def _reindex(self) -> None:
        self._by_path = {(t.group, t.version, t.plural): t for t in self._types}
        self._by_kind = {(t.api_version, t.kind): t for t in self._types}
        self._by_gk = {}
        for t in self._types:
            self._by_gk.setdefault((t.group, t.plural), t)

    def all(self) -> list[ResourceType]:
        return list(self._types)

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def storage_type(self, group: str, plural: str) -> ResourceType | None:
        return self._by_gk.get((group, plural))

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions, preferred first (registration order)."""
        out: dict[str, list[str]] = {}
        for t in self._types:
            versions = out.setdefault(t.group, [])
            if t.version not in versions:
                versions.append(t.version)
        return out

    def types_in(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self._types if t.group == group and t.version == version]

    def set_crd_types(self, crd_name: str, types: list[ResourceType]) -> None:
        with self._lock:
            self._types = [t for t in self._types if t.crd_name != crd_name] + types
            self._reindex()
            self.generation += 1
