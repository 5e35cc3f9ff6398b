{{/*
Helpers of the IOMesh fixture chart. One template source serves chart v1.0.1, v1.1.0 and v1.2.0: what
differs between them and is not a value (the inlined sub-charts' identity, which images carry the
registry prefix, which objects exist) is the per-version data below, picked by .Chart.Version.
Naming follows the official chart and its sub-charts (see ../../README.md).
*/}}

{{/*
Per chart version: the inlined sub-charts (chart version, appVersion), the components whose images carry
global.registry, and the features of that chart version.
*/}}
{{- define "iomesh.versionData" -}}
v1.0.1:
  subcharts:
    csi-driver: {version: "2.6.0", appVersion: "v2.6.0"}
    openebs-ndm: {version: "1.8.0", appVersion: "1.8.0"}
    zookeeper-operator: {version: "0.2.15", appVersion: "0.2.15"}
    hostpath-provisioner: {version: "0.5.3", appVersion: "0.5.3"}
    blockdevice-monitor: {version: "0.1.0", appVersion: "v0.1.0"}
    iomesh-localpv-manager: {version: "0.1.0", appVersion: "v0.1.0"}
  registry: [csi-driver, snapshot-controller, zookeeper-operator, blockdevice-monitor]
  deck: false
  apiserver: false
  limitRange: false
  deleteHook: post-delete
  webhookTimeoutSeconds: 0
  prepareCSIUnderCSIDriver: false
  prepareCSITag: ""
  crVersionFields: false
  csiSidecars:
    modern: {provisioner: v3.0.0, snapshotter: v4.2.1, attacher: v3.3.0, resizer: v1.3.0, livenessprobe: v2.8.0, registrar: v2.5.0}
    legacy: {provisioner: v1.6.0, snapshotter: v2.1.1, attacher: v2.2.0, resizer: v0.5.0, livenessprobe: v2.8.0, registrar: v2.5.0}
  snapshotController: v4.2.1
v1.1.0:
  subcharts:
    csi-driver: {version: "2.7.2", appVersion: "v2.7.2"}
    openebs-ndm: {version: "1.8.0-1", appVersion: "1.8.0"}
    zookeeper-operator: {version: "0.2.15-1", appVersion: "0.2.15-1"}
    hostpath-provisioner: {version: "0.5.3-1", appVersion: "0.5.3-1"}
    blockdevice-monitor: {version: "0.1.0", appVersion: "v0.1.0"}
    iomesh-localpv-manager: {version: "0.2.0", appVersion: "v0.2.0"}
    deck: {version: "0.1.0", appVersion: "v0.1.0"}
    deck-plugin-iomesh: {version: "0.1.0", appVersion: "v0.1.0"}
  registry: [operator, post-delete-hook, iomesh-cr, prepare-csi, csi-driver, snapshot-controller, openebs-ndm,
             zookeeper-operator, hostpath-provisioner, blockdevice-monitor, iomesh-localpv-manager, deck,
             deck-plugin-iomesh]
  deck: true
  apiserver: true
  limitRange: false
  deleteHook: pre-delete
  webhookTimeoutSeconds: 30
  prepareCSIUnderCSIDriver: true
  prepareCSITag: v1.0.2
  crVersionFields: true
  csiSidecars:
    modern: {provisioner: v3.5.0, snapshotter: v6.2.2, attacher: v4.3.0, resizer: v1.8.0, livenessprobe: v2.10.0, registrar: v2.8.0}
    legacy: {provisioner: v3.5.0, snapshotter: v6.2.2, attacher: v4.3.0, resizer: v1.8.0, livenessprobe: v2.10.0, registrar: v2.8.0}
  snapshotController: v6.2.2
v1.2.0:
  subcharts:
    csi-driver: {version: "2.8.0", appVersion: "v2.8.0"}
    openebs-ndm: {version: "1.8.0-3", appVersion: "1.8.0-3"}
    zookeeper-operator: {version: "0.2.15-1", appVersion: "0.2.15-1"}
    hostpath-provisioner: {version: "0.5.3-1", appVersion: "0.5.3-1"}
    blockdevice-monitor: {version: "0.2.1", appVersion: "v0.2.1"}
    iomesh-localpv-manager: {version: "0.2.0", appVersion: "v0.2.0"}
    deck: {version: "0.2.0", appVersion: "v0.2.0"}
    deck-plugin-iomesh: {version: "0.2.0", appVersion: "v0.2.0"}
  registry: [operator, post-delete-hook, iomesh-cr, prepare-csi, csi-driver, snapshot-controller, openebs-ndm,
             zookeeper-operator, hostpath-provisioner, blockdevice-monitor, iomesh-localpv-manager, deck,
             deck-plugin-iomesh]
  deck: true
  apiserver: true
  limitRange: true
  deleteHook: pre-delete
  webhookTimeoutSeconds: 30
  prepareCSIUnderCSIDriver: true
  prepareCSITag: v1.0.3-rc0
  crVersionFields: true
  csiSidecars:
    modern: {provisioner: v3.5.0, snapshotter: v6.2.2, attacher: v4.3.0, resizer: v1.8.0, livenessprobe: v2.10.0, registrar: v2.8.0}
    legacy: {provisioner: v3.5.0, snapshotter: v6.2.2, attacher: v4.3.0, resizer: v1.8.0, livenessprobe: v2.10.0, registrar: v2.8.0}
  snapshotController: v6.2.2
{{- end }}

{{/* The data of this chart's version; fails for a version the fixture does not model. */}}
{{- define "iomesh.release" -}}
{{- $all := include "iomesh.versionData" . | fromYaml -}}
{{- if not (hasKey $all .Chart.Version) -}}
{{- fail (printf "the IOMesh fixture chart models versions %s, not %s" (keys $all | sortAlpha | join ", ") .Chart.Version) -}}
{{- end -}}
{{- index $all .Chart.Version | toYaml -}}
{{- end }}

{{/* A feature of this chart version. Call with (dict "root" $ "key" "<key>"). */}}
{{- define "iomesh.feature" -}}
{{- $rel := include "iomesh.release" .root | fromYaml -}}
{{- index $rel .key | toString -}}
{{- end }}

{{/* Registry prefix (global.registry or nothing) of a component. Call with (dict "root" $ "component" "<name>"). */}}
{{- define "iomesh.registry" -}}
{{- $rel := include "iomesh.release" .root | fromYaml -}}
{{- if has .component $rel.registry -}}
{{- .root.Values.global.registry -}}
{{- end -}}
{{- end }}

{{/* Chart version / appVersion of an inlined sub-chart. Call with (dict "root" $ "chart" "<sub-chart name>"). */}}
{{- define "iomesh.subchart.version" -}}
{{- $rel := include "iomesh.release" .root | fromYaml -}}
{{- (index $rel.subcharts .chart).version -}}
{{- end }}

{{- define "iomesh.subchart.appVersion" -}}
{{- $rel := include "iomesh.release" .root | fromYaml -}}
{{- (index $rel.subcharts .chart).appVersion -}}
{{- end }}

{{/*
The usual labels of a sub-chart's objects (helm.sh/chart, name, instance, version, managed-by).
Call with (dict "root" $ "chart" "<sub-chart name>" "name" "<app.kubernetes.io/name>"); "instance" false
leaves app.kubernetes.io/instance out, "version" false app.kubernetes.io/version (as some real templates do).
*/}}
{{- define "iomesh.subchart.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .chart (include "iomesh.subchart.version" .) }}
app.kubernetes.io/name: {{ .name }}
{{- if ne (toString .instance) "false" }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}
{{- if ne (toString .version) "false" }}
app.kubernetes.io/version: {{ include "iomesh.subchart.appVersion" . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/*
Helm's usual fullname rule for a sub-chart: <release>-<chart>, or the release name alone when it
already contains the chart name; cut to 63 characters, trailing "-" trimmed.
Call with (dict "root" $ "chart" "<name>" "values" <sub-chart values>).
*/}}
{{- define "iomesh.subchart.fullname" -}}
{{- $values := .values | default dict -}}
{{- if $values.fullnameOverride -}}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .chart $values.nameOverride -}}
{{- if contains $name .root.Release.Name -}}
{{- .root.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .root.Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* The helm.sh/hook* annotations. Call with (dict "hook" "<events>" "weight" "<n>"). */}}
{{- define "iomesh.hookAnnotations" -}}
helm.sh/hook: {{ .hook }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: hook-succeeded, before-hook-creation, hook-failed
{{- end }}

{{/* Quote a scalar; render nothing (YAML null, like the real chart's bare template) when empty. */}}
{{- define "iomesh.str" -}}
{{- if . }}{{ toString . | quote }}{{ end -}}
{{- end }}

{{/* ---------------------------------------------------------------- parent chart: IOMesh */}}

{{- define "iomesh.name" -}}
{{- default .Chart.Name .Values.iomesh.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "iomesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of the IOMeshCluster and ZookeeperCluster objects. */}}
{{- define "iomesh.labels" -}}
helm.sh/chart: {{ include "iomesh.chart" . }}
{{ include "iomesh.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ .Release.Name }}
{{- end }}

{{- define "iomesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "iomesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Edition part of the zbs image tag: "community" unless set. */}}
{{- define "iomesh.edition" -}}
{{- .Values.iomesh.edition | default "community" -}}
{{- end }}

{{/*
Default tag of the zbs images (meta, chunk, redirector):
<appVersion>-<edition>, plus -hygon on platform hygon_x86_64.
*/}}
{{- define "iomesh.version" -}}
{{- $tag := printf "%s-%s" (.Values.iomesh.appVersion | default .Chart.AppVersion) (include "iomesh.edition" .) -}}
{{- if eq (toString .Values.iomesh.platform) "hygon_x86_64" -}}
{{- $tag = printf "%s-hygon" $tag -}}
{{- end -}}
{{- $tag -}}
{{- end }}

{{/* Default tag of the operator-side images (devicemanager, probe, toolbox): the chart version. */}}
{{- define "iomesh.operatorVersion" -}}
{{- .Values.iomesh.operatorVersion | default .Chart.Version -}}
{{- end }}

{{/*
The image block of an IOMeshCluster component (from v1.1.0 the repository carries global.registry).
Call with (dict "root" $ "image" <values image map> "defaultTag" "<tag>").
*/}}
{{- define "iomesh.cr.image" -}}
{{- $registry := include "iomesh.registry" (dict "root" .root "component" "iomesh-cr") -}}
image:
  repository: {{ include "iomesh.str" (printf "%s%s" $registry (.image.repository | default "")) }}
  tag: {{ .image.tag | default .defaultTag | toString | quote }}
  pullPolicy: {{ include "iomesh.str" .image.pullPolicy }}
{{- end }}

{{/*
podPolicy of an IOMeshCluster component: only nodeSelector, affinity and tolerations are passed on.
Call with a non-empty values podPolicy map.
*/}}
{{- define "iomesh.cr.podPolicy" -}}
podPolicy:
  {{- with .nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- operator, webhook, API server */}}

{{- define "operator.name" -}}
{{- default "operator" .Values.operator.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "operator.fullname" -}}
{{- include "iomesh.subchart.fullname" (dict "root" . "chart" "operator" "values" .Values.operator) }}
{{- end }}

{{- define "operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "operator.labels" -}}
helm.sh/chart: {{ include "iomesh.chart" . }}
{{ include "operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image tag defaults to the chart version, not the zbs appVersion. */}}
{{- define "operator.image" -}}
{{ include "iomesh.registry" (dict "root" . "component" "operator") }}{{ .Values.operator.image.repository | default "iomesh/operator" }}:{{ .Values.operator.image.tag | default .Chart.Version }}
{{- end }}

{{/* prepare-csi's values: top-level `prepareCSI` in v1.0.1, `csi-driver.prepareCSI` from v1.1.0. */}}
{{- define "prepareCSI.values" -}}
{{- if eq (include "iomesh.feature" (dict "root" . "key" "prepareCSIUnderCSIDriver")) "true" -}}
{{- (index .Values "csi-driver").prepareCSI | default dict | toYaml -}}
{{- else -}}
{{- .Values.prepareCSI | default dict | toYaml -}}
{{- end -}}
{{- end }}

{{- define "prepareCSI.image" -}}
{{- $p := include "prepareCSI.values" . | fromYaml -}}
{{- $image := $p.image | default dict -}}
{{- $tag := include "iomesh.feature" (dict "root" . "key" "prepareCSITag") | default .Chart.Version -}}
{{ include "iomesh.registry" (dict "root" . "component" "prepare-csi") }}{{ $image.repository | default "iomesh/prepare-csi" }}:{{ $image.tag | default $tag }}
{{- end }}

{{- define "iomesh.webhook.cert" -}}
iomesh-webhook-cert
{{- end }}

{{- define "iomesh.apiserver.cert" -}}
iomesh-apiserver-cert
{{- end }}

{{/* ---------------------------------------------------------------- csi-driver */}}

{{- define "csi-driver.fullname" -}}
{{- $csi := index .Values "csi-driver" -}}
{{- if $csi.fullnameOverride -}}
{{- $csi.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
smtx-{{ default "csi-driver" $csi.nameOverride }}
{{- end -}}
{{- end }}

{{/* The CSI driver (provisioner) name. */}}
{{- define "csi-driver.driver.name" -}}
{{- $csi := index .Values "csi-driver" -}}
{{- if $csi.driver.nameOverride -}}
{{- $csi.driver.nameOverride -}}
{{- else -}}
com.smartx.{{ default "csi-driver" $csi.nameOverride }}
{{- end -}}
{{- end }}

{{- define "csi-driver.storageClass.name" -}}
{{- $csi := index .Values "csi-driver" -}}
{{- if $csi.storageClass.nameOverride -}}
{{- $csi.storageClass.nameOverride -}}
{{- else -}}
smtx-{{ default "csi-driver" $csi.nameOverride }}
{{- end -}}
{{- end }}

{{- define "csi-driver.labels" -}}
{{- include "iomesh.subchart.labels" (dict "root" . "chart" "csi-driver" "name" "csi-driver") -}}
{{- end }}

{{- define "csi-driver.image" -}}
{{- $csi := index .Values "csi-driver" -}}
{{ include "iomesh.registry" (dict "root" . "component" "csi-driver") }}{{ $csi.driver.image.repository }}:{{ $csi.driver.image.tag | default (include "iomesh.subchart.appVersion" (dict "root" . "chart" "csi-driver")) }}
{{- end }}

{{- define "csi-driver.sidecar.registry" -}}
{{- $csi := index .Values "csi-driver" -}}
{{ include "iomesh.registry" (dict "root" . "component" "csi-driver") }}{{ ($csi.sidecar | default dict).registry | default "iomesh" }}
{{- end }}

{{/* Versions of the CSI sidecars; chart v1.0.1 picks older ones below Kubernetes 1.22. */}}
{{- define "csi-driver.sidecar.versions" -}}
{{- $rel := include "iomesh.release" . | fromYaml -}}
{{- if semverCompare ">=1.22-0" .Capabilities.KubeVersion.Version -}}
{{- toYaml $rel.csiSidecars.modern -}}
{{- else -}}
{{- toYaml $rel.csiSidecars.legacy -}}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- openebs-ndm */}}

{{- define "openebs-ndm.fullname" -}}
{{- include "iomesh.subchart.fullname" (dict "root" . "chart" "openebs-ndm" "values" (index .Values "openebs-ndm")) }}
{{- end }}

{{/* Selector labels of an NDM component. Call with (dict "root" $ "app" "<app>" "component" "<component>"). */}}
{{- define "openebs-ndm.matchLabels" -}}
app: {{ .app }}
release: {{ .root.Release.Name }}
component: {{ .component }}
{{- end }}

{{/* Labels of an NDM component's objects: matchLabels plus chart identity. Same call as matchLabels. */}}
{{- define "openebs-ndm.labels" -}}
{{- $ndm := index .root.Values "openebs-ndm" -}}
{{ include "openebs-ndm.matchLabels" . }}
chart: {{ printf "openebs-ndm-%s" (include "iomesh.subchart.version" (dict "root" .root "chart" "openebs-ndm")) }}
heritage: {{ .root.Release.Service }}
openebs.io/version: {{ $ndm.release.version | toString | quote }}
openebs.io/component-name: {{ .component }}
{{- end }}

{{/*
An NDM image: its own `registry` when the key is there (v1.0.1 values: ""), else global.registry from v1.1.0.
Call with (dict "root" $ "image" <image>).
*/}}
{{- define "openebs-ndm.image" -}}
{{- if hasKey .image "registry" -}}
{{ .image.registry }}
{{- else -}}
{{ include "iomesh.registry" (dict "root" .root "component" "openebs-ndm") }}
{{- end -}}
{{ .image.repository }}:{{ .image.tag }}
{{- end }}

{{- define "openebs-ndm.serviceAccountName" -}}
{{- $ndm := index .Values "openebs-ndm" -}}
{{- if $ndm.serviceAccount.create -}}
{{- default (include "openebs-ndm.fullname" .) $ndm.serviceAccount.name -}}
{{- else -}}
{{- default "default" $ndm.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{/* ---------------------------------------------------------------- iomesh-localpv-manager */}}

{{- define "localpvManager.name" -}}
{{- $lpv := index .Values "iomesh-localpv-manager" -}}
{{- default "iomesh-localpv-manager" $lpv.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "localpvManager.csi.name" -}}
{{- $lpv := index .Values "iomesh-localpv-manager" -}}
{{- if $lpv.localpvManager.csi.nameOverride -}}
{{- $lpv.localpvManager.csi.nameOverride -}}
{{- else -}}
com.iomesh.{{ include "localpvManager.name" . }}
{{- end -}}
{{- end }}
