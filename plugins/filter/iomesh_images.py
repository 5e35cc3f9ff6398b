# -*- coding: utf-8 -*-
# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of air-gapped installs: an image's private-registry mirror and the list of images to mirror.

The documentation of each filter is in the YAML file of the same name beside this one (docs/air-gap.md).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.iomesh.multicluster.plugins.plugin_utils import images


def _registry(filter_name, registry):
    problems = images.validate(registry, [])
    if problems:
        raise AnsibleFilterError(f"{filter_name}: {problems[0][0]}: {problems[0][1]}")
    return registry


def iomesh_image_mirror(image, registry=""):
    """The image in the private registry (path kept, registry host replaced); unchanged without a registry."""
    name = "iomesh_image_mirror"
    if not isinstance(image, str) or not image:
        raise AnsibleFilterError(f"{name}: expects an image reference such as 'busybox:1.36.1', got {image!r}")
    return images.mirror(image, _registry(name, registry))


def iomesh_image_list(default_render, mirrored_render, registry="", extra=None):
    """Every image of the chart's two renderings (chart registry, private registry) and of the collection."""
    name = "iomesh_image_list"
    for what, text in (("the input", default_render), ("mirrored_render", mirrored_render)):
        if not isinstance(text, str):
            raise AnsibleFilterError(f"{name}: {what} must be the stdout of helm template, got {type(text).__name__}")
    extra = extra or []
    if not isinstance(extra, list) or not all(isinstance(item, str) for item in extra):
        raise AnsibleFilterError(f"{name}: extra must be a list of image references, got {extra!r}")
    return images.image_list(default_render, mirrored_render, _registry(name, registry), extra)


class FilterModule:
    def filters(self):
        return {
            "iomesh_image_mirror": iomesh_image_mirror,
            "iomesh_image_list": iomesh_image_list,
        }
