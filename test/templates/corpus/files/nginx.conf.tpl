{{- define "upstream" -}}
upstream {{ .name }} {
{{- range .servers }}
    server {{ . }};
{{- end }}
}
{{- end -}}
# {{ .Job }} {{ .AllocationIndex }}/{{ get "vars/job/app" "replicas" }}
worker_processes {{ max 1 (div (int (get "maand/worker/10.0.0.1" "cpu")) 1000) }};
{{ $first := true -}}
{{ range .Labels -}}
{{ if $first }}{{ $first = false }}# primary label: {{ . }}{{ else }}# also: {{ . }}{{ end }}
{{ end -}}
server {
    listen {{ get "vars/job/app" "port" }};
    server_name {{ .WorkerIP }};
{{- if and (gt .AllocationIndex 0) (eq (get "vars/bucket" "env") "prod") }}
    # secondary allocation in prod
    access_log off;
{{- else if eq .AllocationIndex 0 }}
    access_log /var/log/{{ .Job }}.log;
{{- end }}
    location / {
        proxy_pass http://{{ .Job }}_{{ .AllocationIndex }};
        proxy_set_header X-Worker {{ printf "%s/%s" .WorkerID .AllocationID | js }};
    }
}
