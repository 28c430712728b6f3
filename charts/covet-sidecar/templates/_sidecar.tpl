{{/*
The templates to put covet-sidecar in your own pod spec. Each takes the root context (".")
of this chart or of a parent chart that has covet-sidecar as a dependency; with an alias,
pass (index .Subcharts "ALIAS"). Indentation as in a Deployment:

  template:
    metadata:
      annotations:
        {{- include "covet-sidecar.podAnnotations" . | nindent 8 }}
    spec:
      terminationGracePeriodSeconds: {{ include "covet-sidecar.terminationGracePeriodSeconds" . }}
      initContainers:
        {{- include "covet-sidecar.initContainers" . | nindent 8 }}
      containers:
        - name: app
          readinessProbe:
            {{- include "covet-sidecar.appReadinessProbe" . | nindent 12 }}
        {{- include "covet-sidecar.containers" . | nindent 8 }}
      volumes:
        {{- include "covet-sidecar.volumes" . | nindent 8 }}

initContainers renders the sidecar in native mode and nothing in classic mode, containers
the reverse, so the same pod template serves both. A pod with no init container of its own
wraps the first in `with`, so that no empty initContainers key is left:

      {{- with include "covet-sidecar.initContainers" . }}
      initContainers:
        {{- . | nindent 8 }}
      {{- end }}

"covet-sidecar.container" is the sidecar alone, whatever the mode. The values used are the
chart's `sidecar.*`; the ConfigMap they mount is rendered by the chart itself
(templates/configmap.yaml).
*/}}

{{/*
Runs template .impl with the context that holds the sidecar's values: the one given when it
has `sidecar` (this chart, or a subchart context passed explicitly), else the covet-sidecar
dependency's. The subchart context carries its own Chart (appVersion, the image's default
tag), Release and Capabilities.
*/}}
{{- define "covet-sidecar.dispatch" -}}
{{- $root := .root -}}
{{- if and $root.Values (hasKey $root.Values "sidecar") -}}
{{- include .impl $root -}}
{{- else if and $root.Subcharts (hasKey $root.Subcharts "covet-sidecar") -}}
{{- include .impl (index $root.Subcharts "covet-sidecar") -}}
{{- else -}}
{{- fail (printf "%s: no covet-sidecar values in this context: add the chart as a dependency named covet-sidecar, or pass (index .Subcharts \"ALIAS\")" .impl) -}}
{{- end -}}
{{- end -}}

{{/* The sidecar container as one list item, in either mode (restartPolicy: Always when native). */}}
{{- define "covet-sidecar.container" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.containerImpl") -}}
{{- end -}}

{{/* The sidecar as an initContainers item in native mode; nothing in classic mode. */}}
{{- define "covet-sidecar.initContainers" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.initContainersImpl") -}}
{{- end -}}
{{- define "covet-sidecar.initContainersImpl" -}}
{{- include "covet-sidecar.checkMode" . -}}
{{- if eq .Values.sidecar.mode "native" -}}
{{- include "covet-sidecar.containerImpl" . -}}
{{- end -}}
{{- end -}}

{{/* The sidecar as a containers item in classic mode; nothing in native mode. */}}
{{- define "covet-sidecar.containers" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.containersImpl") -}}
{{- end -}}
{{- define "covet-sidecar.containersImpl" -}}
{{- include "covet-sidecar.checkMode" . -}}
{{- if eq .Values.sidecar.mode "classic" -}}
{{- include "covet-sidecar.containerImpl" . -}}
{{- end -}}
{{- end -}}

{{/* The pod's volumes for the sidecar (config, spool, secret files), as list items. */}}
{{- define "covet-sidecar.volumes" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.volumesImpl") -}}
{{- end -}}

{{/* The app container's readinessProbe (the mapping under readinessProbe:). */}}
{{- define "covet-sidecar.appReadinessProbe" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.appReadinessProbeImpl") -}}
{{- end -}}

{{/* The pod's terminationGracePeriodSeconds, from sidecar.shutdown and the mode. */}}
{{- define "covet-sidecar.terminationGracePeriodSeconds" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.terminationGracePeriodSecondsImpl") -}}
{{- end -}}

{{/* Pod annotations: the config's checksum, so that a config change rolls the pods (the sidecar reads its config once). */}}
{{- define "covet-sidecar.podAnnotations" -}}
{{- include "covet-sidecar.dispatch" (dict "root" . "impl" "covet-sidecar.podAnnotationsImpl") -}}
{{- end -}}
{{- define "covet-sidecar.podAnnotationsImpl" -}}
checksum/covet-sidecar-config: {{ include "covet-sidecar.configYaml" . | sha256sum }}
{{- end -}}
