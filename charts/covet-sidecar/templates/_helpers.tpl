{{/*
Internal helpers. Every template here takes a context dict with Values (this chart's
values, whichever chart renders them), Release and Capabilities: see
"covet-sidecar.context" in _sidecar.tpl. "covet-sidecar" is written out rather than read
from .Chart.Name so that a parent chart including these templates gets the same names as
this chart's own resources (its ConfigMap in particular).
*/}}

{{- define "covet-sidecar.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "covet-sidecar" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-covet-sidecar" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Names with a suffix stay within 63 characters. */}}
{{- define "covet-sidecar.configMapName" -}}
{{- printf "%s-config" (include "covet-sidecar.fullname" . | trunc 56 | trimSuffix "-") -}}
{{- end -}}

{{- define "covet-sidecar.exampleName" -}}
{{- printf "%s-example-app" (include "covet-sidecar.fullname" . | trunc 51 | trimSuffix "-") -}}
{{- end -}}

{{- define "covet-sidecar.labels" -}}
app.kubernetes.io/part-of: covet-sidecar
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | default "Helm" | quote }}
helm.sh/chart: {{ printf "covet-sidecar-%s" (.Chart.Version | default "0") | replace "+" "_" | quote }}
{{- end -}}

{{- define "covet-sidecar.exampleSelectorLabels" -}}
app.kubernetes.io/name: covet-example-app
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* The pods that carry the sidecar: podSelector, else the example app's pods. */}}
{{- define "covet-sidecar.podSelectorLabels" -}}
{{- if .Values.podSelector -}}
{{- toYaml .Values.podSelector -}}
{{- else -}}
{{- include "covet-sidecar.exampleSelectorLabels" . -}}
{{- end -}}
{{- end -}}

{{- define "covet-sidecar.image" -}}
{{- $image := .Values.sidecar.image -}}
{{- printf "%s:%s" $image.repository (toString ($image.tag | default .Chart.AppVersion | default "latest")) -}}
{{- end -}}

{{/*
The hardened part of every container's securityContext, the same for the sidecar and the
app: these are not values, so no values file can turn them off. runAsUser and runAsGroup
come from the caller's values.
*/}}
{{- define "covet-sidecar.hardenedSecurityContext" -}}
{{- with .runAsUser -}}
runAsUser: {{ int . }}
{{ end -}}
{{- with .runAsGroup -}}
runAsGroup: {{ int . }}
{{ end -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Refuses a secret written into sidecar.config, which would end up in a ConfigMap (readable by
anyone who can read ConfigMaps, and in the release history). Walks the whole value; errors
name the path, never the value. Catches a URL with a password (postgresql://u:p@host), a
libpq password= in a DSN or a query string, a credential-like key, and an HTTP header that
carries credentials (headers are written inline; header_files are paths and are fine).
*/}}
{{- define "covet-sidecar.rejectInlineSecrets" -}}
{{- $value := .value -}}
{{- $path := .path -}}
{{- $fix := "would be written into the ConfigMap: put the secret in an existing Secret, list it in sidecar.secretFiles and point a *_file key at it" -}}
{{- if kindIs "map" $value -}}
{{- range $key, $item := $value -}}
{{- $at := printf "%s.%s" $path $key -}}
{{- if regexMatch "(?i)^(password|passwd|pass|secret|token|bearer_token|api_?key|access_?key|secret_?key|private_?key|credentials?|auth)$" $key -}}
{{- fail (printf "%s: a credential %s" $at $fix) -}}
{{- end -}}
{{- if and (eq $key "headers") (kindIs "map" $item) -}}
{{- range $header, $_ := $item -}}
{{- if regexMatch "(?i)(authorization|cookie|token|secret|api-?key|password|auth)" $header -}}
{{- fail (printf "%s.%s: a credential header %s (use header_files)" $at $header $fix) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- include "covet-sidecar.rejectInlineSecrets" (dict "value" $item "path" $at) -}}
{{- end -}}
{{- else if kindIs "slice" $value -}}
{{- range $index, $item := $value -}}
{{- include "covet-sidecar.rejectInlineSecrets" (dict "value" $item "path" (printf "%s[%d]" $path $index)) -}}
{{- end -}}
{{- else if kindIs "string" $value -}}
{{- if regexMatch "^[A-Za-z][A-Za-z0-9+.-]*://[^/@?#]*:[^/@?#]*@" $value -}}
{{- fail (printf "%s: a URL with a password %s" $path $fix) -}}
{{- end -}}
{{- if regexMatch "(?i)(^|[\\s?&])password\\s*=" $value -}}
{{- fail (printf "%s: password= in a connection string %s" $path $fix) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Refuses a literal value for a credential-like environment variable (it would sit in the
pod spec, readable with the Deployment): such a variable takes valueFrom.secretKeyRef.
Called with dict "env" LIST "path" "sidecar.extraEnv".
*/}}
{{- define "covet-sidecar.rejectInlineSecretEnv" -}}
{{- $path := .path -}}
{{- range $index, $var := .env | default list -}}
{{- if and (hasKey $var "value") (regexMatch "(?i)(password|passwd|secret|token|api_?key|credential|private_?key)" (toString $var.name)) -}}
{{- fail (printf "%s[%d] (%s): a credential as a literal value would be written into the pod spec: use valueFrom.secretKeyRef, or sidecar.secretFiles" $path $index $var.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The sidecar's config file: sidecar.config with listen, shutdown and the OTLP receivers'
listen addresses filled in from the values that also make the container's ports, the probes
and terminationGracePeriodSeconds, so those cannot disagree.
*/}}
{{- define "covet-sidecar.configYaml" -}}
{{- $s := .Values.sidecar -}}
{{- $config := deepCopy ($s.config | default dict) -}}
{{- include "covet-sidecar.rejectInlineSecrets" (dict "value" $config "path" "sidecar.config") -}}
{{- range $key := list "listen" "shutdown" -}}
{{- if hasKey $config $key -}}
{{- fail (printf "sidecar.config.%s: set by the chart from sidecar.port and sidecar.shutdown; remove it" $key) -}}
{{- end -}}
{{- end -}}
{{- $shutdown := $s.shutdown -}}
{{- if ge (int $shutdown.drainDelaySeconds) (int $shutdown.gracePeriodSeconds) -}}
{{- fail "sidecar.shutdown: drainDelaySeconds must be less than gracePeriodSeconds (the grace period counts from SIGTERM and includes the drain)" -}}
{{- end -}}
{{- /* Native mode starts the app only once the sidecar's startup checks have passed: a startup
check on the pod's loopback (the app, nothing else runs yet) would hold the pod forever. A
probe without roles has the default [readiness, startup]. */ -}}
{{- if eq $s.mode "native" -}}
{{- range $index, $probe := $config.probes | default list -}}
{{- $startup := or (not (hasKey $probe "roles")) (has "startup" ($probe.roles | default list)) -}}
{{- $target := toString (coalesce $probe.url $probe.address "") -}}
{{- if and $startup (regexMatch "^([a-z]+://)?(127\\.[0-9.]+|localhost|\\[::1\\])([:/]|$)" $target) -}}
{{- fail (printf "sidecar.config.probes[%d] (%s): a startup check on the pod's loopback (%s) never passes in native mode, where the app starts after the startup checks; give it roles: [readiness]" $index (toString $probe.name) $target) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "listen" (printf "0.0.0.0:%d" (int $s.port)) -}}
{{- $_ := set $config "shutdown" (dict "drain_delay" (printf "%ds" (int $shutdown.drainDelaySeconds)) "grace_period" (printf "%ds" (int $shutdown.gracePeriodSeconds))) -}}
{{- if hasKey $config "otlp" -}}
{{- $otlp := $config.otlp | default dict -}}
{{- range $receiver, $port := dict "http" $s.otlp.httpPort "grpc" $s.otlp.grpcPort -}}
{{- $section := get $otlp $receiver | default dict -}}
{{- if hasKey $section "listen" -}}
{{- fail (printf "sidecar.config.otlp.%s.listen: set by the chart from sidecar.otlp; remove it" $receiver) -}}
{{- end -}}
{{- $_ := set $section "listen" (printf "%s:%d" $s.otlp.listenAddress (int $port)) -}}
{{- $_ := set $otlp $receiver $section -}}
{{- end -}}
{{- range $index, $exporter := $otlp.exporters | default list -}}
{{- with $exporter.spool -}}
{{- if not $s.spool.enabled -}}
{{- fail (printf "sidecar.config.otlp.exporters[%d].spool: needs sidecar.spool.enabled (the root filesystem is read-only)" $index) -}}
{{- end -}}
{{- if not (hasPrefix (printf "%s/" (trimSuffix "/" $s.spool.mountPath)) (toString .dir)) -}}
{{- fail (printf "sidecar.config.otlp.exporters[%d].spool.dir: must be under sidecar.spool.mountPath %s (the only writable directory)" $index $s.spool.mountPath) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "otlp" $otlp -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
The kubelet kills what is still running terminationGracePeriodSeconds after it began
stopping the pod. The sidecar exits at the latest grace_period after its SIGTERM (the drain
delay is part of it). Classic: every container is signalled at once, so the longer of the
app's stop and the sidecar's grace period. Native: the sidecar is signalled only once the
app has exited, so the two add up. 5s more for processes to be reaped.
*/}}
{{- define "covet-sidecar.terminationGracePeriodSecondsImpl" -}}
{{- $s := .Values.sidecar -}}
{{- $grace := int $s.shutdown.gracePeriodSeconds -}}
{{- $app := int $s.shutdown.appSeconds -}}
{{- $needed := add (max $app $grace) 5 -}}
{{- if eq $s.mode "native" -}}
{{- $needed = add $app $grace 5 -}}
{{- end -}}
{{- if kindIs "invalid" $s.terminationGracePeriodSeconds -}}
{{- $needed -}}
{{- else if lt (int $s.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "sidecar.terminationGracePeriodSeconds %d is shorter than the %ds shutdown needs in %s mode (see sidecar.shutdown)" (int $s.terminationGracePeriodSeconds) (int $needed) $s.mode) -}}
{{- else -}}
{{- int $s.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{- define "covet-sidecar.checkMode" -}}
{{- $mode := .Values.sidecar.mode -}}
{{- if not (has $mode (list "native" "classic")) -}}
{{- fail (printf "sidecar.mode: %q is neither native nor classic" (toString $mode)) -}}
{{- end -}}
{{- if and (eq $mode "native") .Capabilities (semverCompare "<1.29.0-0" .Capabilities.KubeVersion.Version) -}}
{{- fail (printf "sidecar.mode native needs Kubernetes 1.29 or later (restartPolicy: Always in initContainers); this is %s: use sidecar.mode classic" .Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- end -}}

{{/* The sidecar container, as one list item. */}}
{{- define "covet-sidecar.containerImpl" -}}
{{- include "covet-sidecar.checkMode" . -}}
{{- include "covet-sidecar.rejectInlineSecretEnv" (dict "env" .Values.sidecar.extraEnv "path" "sidecar.extraEnv") -}}
{{- $s := .Values.sidecar -}}
{{- $otlpOn := hasKey ($s.config | default dict) "otlp" -}}
- name: covet-sidecar
  image: {{ include "covet-sidecar.image" . | quote }}
  imagePullPolicy: {{ $s.image.pullPolicy }}
  {{- if eq $s.mode "native" }}
  # A native sidecar: started before the app containers and stopped after them.
  restartPolicy: Always
  {{- end }}
  # The image's entrypoint, spelt out so that the mounted config is used whatever the
  # image's default (a missing file is an error, not a fallback to the built-in config).
  command:
    - covet-sidecar
    - --config
    - /etc/covet-sidecar/config.yaml
  env:
    # For ${POD_NAME} etc. in the config: scrape labels and OTLP resource attributes.
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
    {{- with $s.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: covet-http
      containerPort: {{ int $s.port }}
      protocol: TCP
    {{- if and $otlpOn (not (has $s.otlp.listenAddress (list "127.0.0.1" "localhost" "[::1]"))) }}
    - name: covet-otlp-http
      containerPort: {{ int $s.otlp.httpPort }}
      protocol: TCP
    - name: covet-otlp-grpc
      containerPort: {{ int $s.otlp.grpcPort }}
      protocol: TCP
    {{- end }}
  startupProbe:
    httpGet:
      path: /health/startup
      port: covet-http
    periodSeconds: {{ int $s.probes.startup.periodSeconds }}
    timeoutSeconds: {{ int $s.probes.startup.timeoutSeconds }}
    failureThreshold: {{ int $s.probes.startup.failureThreshold }}
  livenessProbe:
    httpGet:
      path: /health/live
      port: covet-http
    periodSeconds: {{ int $s.probes.liveness.periodSeconds }}
    timeoutSeconds: {{ int $s.probes.liveness.timeoutSeconds }}
    failureThreshold: {{ int $s.probes.liveness.failureThreshold }}
  readinessProbe:
    httpGet:
      path: /health/ready
      port: covet-http
    periodSeconds: {{ int $s.probes.readiness.periodSeconds }}
    timeoutSeconds: {{ int $s.probes.readiness.timeoutSeconds }}
    failureThreshold: {{ int $s.probes.readiness.failureThreshold }}
  resources:
    {{- toYaml $s.resources | nindent 4 }}
  securityContext:
    {{- include "covet-sidecar.hardenedSecurityContext" $s.securityContext | nindent 4 }}
  volumeMounts:
    - name: covet-sidecar-config
      mountPath: /etc/covet-sidecar
      readOnly: true
    {{- if $s.spool.enabled }}
    - name: covet-sidecar-spool
      mountPath: {{ $s.spool.mountPath }}
    {{- end }}
    {{- if $s.secretFiles }}
    - name: covet-sidecar-secrets
      mountPath: {{ $s.secretFilesDir }}
      readOnly: true
    {{- end }}
{{- end -}}

{{- define "covet-sidecar.volumesImpl" -}}
{{- $s := .Values.sidecar -}}
- name: covet-sidecar-config
  configMap:
    name: {{ include "covet-sidecar.configMapName" . }}
{{- if $s.spool.enabled }}
- name: covet-sidecar-spool
  emptyDir:
    sizeLimit: {{ $s.spool.sizeLimit }}
{{- end }}
{{- if $s.secretFiles }}
{{- $seen := dict }}
# One projected volume for every secret file: a single mount, and the kubelet updates the
# files when a Secret is rotated (the sidecar reads them at each use). Mode 0444 because
# the sidecar's user does not own the files; only this container mounts the volume.
- name: covet-sidecar-secrets
  projected:
    defaultMode: 0444
    sources:
      {{- range $index, $file := $s.secretFiles }}
      {{- if not (and $file.name $file.secretName $file.key) }}
      {{- fail (printf "sidecar.secretFiles[%d]: name, secretName and key are all needed" $index) }}
      {{- end }}
      {{- if not (regexMatch "^[A-Za-z0-9][A-Za-z0-9._-]*$" $file.name) }}
      {{- fail (printf "sidecar.secretFiles[%d].name: %q is not a plain file name" $index $file.name) }}
      {{- end }}
      {{- if hasKey $seen $file.name }}
      {{- fail (printf "sidecar.secretFiles[%d].name: %q is used twice" $index $file.name) }}
      {{- end }}
      {{- $_ := set $seen $file.name true }}
      - secret:
          name: {{ $file.secretName | quote }}
          items:
            - key: {{ $file.key | quote }}
              path: {{ $file.name | quote }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "covet-sidecar.appReadinessProbeImpl" -}}
{{- $s := .Values.sidecar -}}
# The sidecar's answer: the app's own check and every dependency it gates on. A port number,
# not a name: a named port is looked up in the app's own container.
httpGet:
  path: /health/ready
  port: {{ int $s.port }}
periodSeconds: {{ int $s.appReadinessProbe.periodSeconds }}
timeoutSeconds: {{ int $s.appReadinessProbe.timeoutSeconds }}
failureThreshold: {{ int $s.appReadinessProbe.failureThreshold }}
{{- end -}}
