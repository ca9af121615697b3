#!/usr/bin/env bash
# Runs N `stretch serve` replicas behind nginx (Debian's package) on loopback, puts the load test through
# nginx, and stops everything. The nginx configuration is the one docs/DEPLOY.md shows.
#
#   scripts/deploy-nginx.sh [MODEL] [REPLICAS] [-- load-test.py options]
#
# Only 127.0.0.1 is used. Ends by itself: load-test.py has a deadline; the trap stops nginx and replicas.
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-/work/shared/models/stories260K.gguf}"
replicas="${2:-2}"
shift $(( $# >= 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
command -v nginx >/dev/null || { echo "nginx is not installed (Debian: apt-get install nginx)" >&2; exit 1; }
bin="$(swift build -c release $(scripts/swift-flags.sh) --show-bin-path)/stretch"
[ -x "$bin" ] || { echo "build stretch first: swift build -c release" >&2; exit 1; }
dir="$(mktemp -d)"
pids=()
cleanup() {
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

upstreams=""
ports=()
for i in $(seq 1 "$replicas"); do
  port=$(free_port)
  "$bin" serve -m "$model" --host 127.0.0.1 --port "$port" -np 4 --queue-size 256 --metrics 2>"$dir/replica-$i.log" &
  pids+=($!)
  ports+=("$port")
  upstreams+="        server 127.0.0.1:$port max_fails=0;"$'\n'
done
front=$(free_port)
cat >"$dir/nginx.conf" <<CONF
# docs/DEPLOY.md: stretch replicas behind nginx, a conversation kept on one replica.
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    # Affinity: the same X-Conversation-Id always reaches the same replica (its prompt cache then holds
    # the conversation); requests without one spread over the replicas.
    map \$http_x_conversation_id \$affinity {
        ""      \$request_id;
        default \$http_x_conversation_id;
    }
    upstream stretch {
        hash \$affinity consistent;
$upstreams        keepalive 64;
    }
    server {
        listen 127.0.0.1:$front;
        client_max_body_size 10m;
        location /health {
            # The balancer's own health: a replica's /health says 503 while it loads or drains.
            proxy_pass http://stretch;
        }
        location / {
            proxy_pass http://stretch;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # Server-Sent Events: pass each chunk on at once.
            proxy_buffering off;
            proxy_read_timeout 600s;
            # A replica that is loading, draining or full (503) hands the request to the next one.
            proxy_next_upstream error timeout http_503;
        }
    }
}
CONF
for i in $(seq 1 "$replicas"); do
  for _ in $(seq 1 600); do grep -q "model loaded: ready" "$dir/replica-$i.log" && break; sleep 0.1; done
  grep -q "model loaded: ready" "$dir/replica-$i.log" || { cat "$dir/replica-$i.log" >&2; exit 1; }
done
nginx -c "$dir/nginx.conf" -p "$dir"
echo "nginx on 127.0.0.1:$front in front of $replicas replicas" >&2
status=0
python3 scripts/load-test.py --attach "$front" "$@" || status=$?
served() { curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "stretch_requests_total" { print $2 }'; }
for p in "${ports[@]}"; do echo "replica 127.0.0.1:$p served $(served "$p") requests" >&2; done
# Affinity: six turns of one conversation all reach the same replica.
before=(); for p in "${ports[@]}"; do before+=("$(served "$p")"); done
for _ in 1 2 3 4 5 6; do
  curl -sf "http://127.0.0.1:$front/v1/chat/completions" -H "X-Conversation-Id: affinity-check" \
    -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}' >/dev/null
done
gained=(); k=0
for p in "${ports[@]}"; do gained+=($(( $(served "$p") - ${before[$k]} ))); k=$((k + 1)); done
echo "one conversation, 6 turns: per replica ${gained[*]}" >&2
case " ${gained[*]} " in *" 6 "*) ;; *) echo "affinity broken" >&2; status=1 ;; esac
exit $status
