# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes connection options of the collection's plugins: kubernetes.core's own (plugin_utils/connection.py
takes its argument spec), documented here so that the documentation needs no other collection installed (Galaxy's
importer renders it without dependencies)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file (several joined by C(:)), or the configuration as a dictionary. Omitted, and no
        other connection option given, the C(K8S_AUTH_KUBECONFIG) environment variable, then C(KUBECONFIG), then
        C(~/.kube/config) apply.
    type: raw
  context:
    description: The kubeconfig context to use (C(K8S_AUTH_CONTEXT)); omitted, the current context.
    type: str
  host:
    description: URL of the API server (C(K8S_AUTH_HOST)).
    type: str
  api_key:
    description: Bearer token for the API server (C(K8S_AUTH_API_KEY)).
    type: str
  username:
    description: User for HTTP basic authentication, where the API server accepts it (C(K8S_AUTH_USERNAME)).
    type: str
  password:
    description: Password for HTTP basic authentication (C(K8S_AUTH_PASSWORD)).
    type: str
  client_cert:
    description: Path of a client certificate to authenticate with (C(K8S_AUTH_CERT_FILE)).
    type: path
    aliases: [cert_file]
  client_key:
    description: Path of the key of that certificate (C(K8S_AUTH_KEY_FILE)).
    type: path
    aliases: [key_file]
  ca_cert:
    description: Path of the CA certificate chain of the API server (C(K8S_AUTH_SSL_CA_CERT)).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description: Whether the API server's certificate is verified (C(K8S_AUTH_VERIFY_SSL)).
    type: bool
    aliases: [verify_ssl]
  proxy:
    description: URL of an HTTP proxy for the API (C(K8S_AUTH_PROXY)); C(HTTP_PROXY) is not read.
    type: str
  no_proxy:
    description: Comma-separated hosts, domains and CIDRs reached without the proxy (C(K8S_AUTH_NO_PROXY)).
    type: str
  proxy_headers:
    description: Headers for the HTTP proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description: C(user:password) for the proxy's basic authentication.
        type: str
      basic_auth:
        description: C(user:password) for a basic authentication header.
        type: str
      user_agent:
        description: The user agent to send.
        type: str
  persist_config:
    description: Whether refreshed tokens are saved back to the kubeconfig (C(K8S_AUTH_PERSIST_CONFIG)).
    type: bool
  impersonate_user:
    description: User to impersonate (C(K8S_AUTH_IMPERSONATE_USER)).
    type: str
  impersonate_groups:
    description: Groups to impersonate (C(K8S_AUTH_IMPERSONATE_GROUPS)).
    type: list
    elements: str
notes:
  - The same options and environment variables as kubernetes.core's modules (its C(k8s_auth_options)); set them once
    for every Kubernetes task with C(module_defaults) of the action group C(group/iomesh.multicluster.kubernetes).
"""
