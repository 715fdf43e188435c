{{- /* Rendered by maand deploy for each allocation (Go text/template); serve.conf is what reaches the worker. */ -}}
# {{ .Job }} {{ .NewVersion }} on {{ .WorkerIP }} (allocation {{ .AllocationIndex }}, labels {{ join .Labels "," }})
bind={{ .WorkerIP }}
port={{ get "vars/job/web" "port" }}
environment={{ get "vars/bucket" "environment" }}
