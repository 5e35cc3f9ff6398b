{{/*
Helpers of the IOMesh fixture chart. Naming follows the official chart v1.0.1 and its sub-charts
(the sub-charts are inlined here, so their chart identity comes from "iomesh.subcharts").
*/}}

{{/* Identity of the inlined sub-charts: chart version and appVersion (image tag default). */}}
{{- define "iomesh.subcharts" -}}
csi-driver: {version: "2.6.0", appVersion: "v2.6.0"}
openebs-ndm: {version: "1.8.0", appVersion: "1.8.0"}
zookeeper-operator: {version: "0.2.15", appVersion: "0.2.15"}
hostpath-provisioner: {version: "0.5.3", appVersion: "0.5.3"}
blockdevice-monitor: {version: "0.1.0", appVersion: "v0.1.0"}
iomesh-localpv-manager: {version: "0.1.0", appVersion: "v0.1.0"}
{{- end }}

{{/* appVersion of a sub-chart. Call with (dict "root" $ "chart" "<sub-chart name>"). */}}
{{- define "iomesh.subchart.appVersion" -}}
{{- (index (include "iomesh.subcharts" .root | fromYaml) .chart).appVersion -}}
{{- end }}

{{/*
Common metadata labels of objects that came from a sub-chart.
Call with (dict "root" $ "chart" "<sub-chart name>" "name" "<app.kubernetes.io/name>").
*/}}
{{- define "iomesh.subchart.labels" -}}
{{- $meta := index (include "iomesh.subcharts" .root | fromYaml) .chart -}}
helm.sh/chart: {{ printf "%s-%s" .chart $meta.version }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ $meta.appVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/*
Helm's usual fullname rule for a sub-chart: <release>-<chart>, or the release name alone when it
already contains the chart name. Call with (dict "root" $ "chart" "<name>" "values" <sub-chart values>).
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

{{/*
Labels every pod template of this chart carries, so that (fake) controllers and tests can find
pods the same way for every workload: app, app.kubernetes.io/name, app.kubernetes.io/instance.
Where the real chart has its own value for one of these keys, callers pass that value.
Call with (dict "root" $ "app" "<app>" "name" "<app.kubernetes.io/name>").
*/}}
{{- define "iomesh.podLabels" -}}
app: {{ .app }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
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
The image block of an IOMeshCluster component.
Call with (dict "image" <values image map> "defaultTag" "<tag>").
*/}}
{{- define "iomesh.cr.image" -}}
image:
  repository: {{ include "iomesh.str" .image.repository }}
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

{{/* ---------------------------------------------------------------- operator and webhook */}}

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
{{ .Values.operator.image.repository | default "iomesh/operator" }}:{{ .Values.operator.image.tag | default .Chart.Version }}
{{- end }}

{{- define "prepareCSI.image" -}}
{{ .Values.prepareCSI.image.repository | default "iomesh/prepare-csi" }}:{{ .Values.prepareCSI.image.tag | default .Chart.Version }}
{{- end }}

{{- define "iomesh.webhook.cert" -}}
iomesh-webhook-cert
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

{{- define "csi-driver.image" -}}
{{- $csi := index .Values "csi-driver" -}}
{{ .Values.global.registry }}{{ $csi.driver.image.repository }}:{{ $csi.driver.image.tag | default (include "iomesh.subchart.appVersion" (dict "root" . "chart" "csi-driver")) }}
{{- end }}

{{- define "csi-driver.sidecar.registry" -}}
{{- $csi := index .Values "csi-driver" -}}
{{ .Values.global.registry }}{{ ($csi.sidecar | default dict).registry | default "iomesh" }}
{{- end }}

{{/* Versions of the CSI sidecars by Kubernetes minor version (1.22+ and 1.17-1.21). */}}
{{- define "csi-driver.sidecar.versions" -}}
{{- if semverCompare ">=1.22-0" .Capabilities.KubeVersion.Version -}}
provisioner: v3.0.0
snapshotter: v4.2.1
attacher: v3.3.0
resizer: v1.3.0
{{- else -}}
provisioner: v1.6.0
snapshotter: v2.1.1
attacher: v2.2.0
resizer: v0.5.0
{{- end }}
livenessprobe: v2.8.0
registrar: v2.5.0
{{- end }}

{{/* ---------------------------------------------------------------- openebs-ndm */}}

{{- define "openebs-ndm.fullname" -}}
{{- include "iomesh.subchart.fullname" (dict "root" . "chart" "openebs-ndm" "values" (index .Values "openebs-ndm")) }}
{{- end }}

{{/* Selector labels of an NDM component. Call with (dict "root" $ "component" "<component>"). */}}
{{- define "openebs-ndm.matchLabels" -}}
app: openebs-ndm
release: {{ .root.Release.Name }}
component: {{ .component }}
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
