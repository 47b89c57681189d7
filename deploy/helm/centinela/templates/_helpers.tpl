{{- define "centinela.labels" -}}
app.kubernetes.io/name: centinela
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "centinela.selector" -}}
app.kubernetes.io/name: centinela
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
