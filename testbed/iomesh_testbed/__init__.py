"""The testbed of iomesh.multicluster: the launcher of the API emulator (kubeemu), the IOMesh twin and the
fixture chart repository. Not part of the collection artifact."""

from iomesh_testbed.launcher import ChartRepo, Emulator, Process, inventory, seed_node_config

__all__ = ["ChartRepo", "Emulator", "Process", "inventory", "seed_node_config"]
