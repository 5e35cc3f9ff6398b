"""kubeemu: a local Kubernetes API emulator for testing clients (kubectl, helm, Ansible kubernetes.core,
the kubernetes Python client) without a cluster. See ../PLUGIN_CONTRACT.md for plugins."""
