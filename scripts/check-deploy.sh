#!/usr/bin/env bash
# check-deploy.sh validates the deployment files without a Docker engine or a cluster:
#   - docker-compose.yml with `docker-compose config -q` (docker compose v2 works too);
#   - every YAML file under deploy/ parses (python3 with PyYAML), and the XML that the
#     Kubernetes ConfigMaps carry for ClickHouse parses too;
#   - deploy/kubernetes builds with `kubectl kustomize` (offline; `kubectl apply --dry-run=client
#     -k deploy/kubernetes` needs a reachable cluster, so it is left to the reader).
# A missing tool skips its check with a message; a failed check fails the script.
#
# Usage: scripts/check-deploy.sh   (from anywhere; it runs from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
skip() { echo "check-deploy: skip: $*"; }
ok() { echo "check-deploy: ok: $*"; }
fail() { echo "check-deploy: FAIL: $*" >&2; failed=1; }

# The compose file requires the ClickHouse password; a placeholder is enough to validate it.
export GIVEBACK_CLICKHOUSE_PASSWORD="${GIVEBACK_CLICKHOUSE_PASSWORD:-placeholder-for-validation}"
export GIVEBACK_CLICKHOUSE_READER_PASSWORD="${GIVEBACK_CLICKHOUSE_READER_PASSWORD:-placeholder-for-validation}"
for user in INGEST ENRICH REPORT ADMIN; do
  var="GIVEBACK_NATS_${user}_PASSWORD"
  export "$var=${!var:-placeholder-for-validation}"
done
if command -v docker-compose >/dev/null 2>&1; then
  if docker-compose -f docker-compose.yml config -q; then ok "docker-compose config -q"; else fail "docker-compose config -q"; fi
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  if docker compose -f docker-compose.yml config -q; then ok "docker compose config -q"; else fail "docker compose config -q"; fi
else
  skip "docker-compose is not installed"
fi

if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
  if python3 - docker-compose.yml $(find deploy -name '*.yaml' -o -name '*.yml' | sort) <<'PY'
import sys, yaml, xml.etree.ElementTree as ET
bad = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        print(f"{path}: {e}", file=sys.stderr); bad += 1; continue
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "ConfigMap":
            for key, text in (d.get("data") or {}).items():
                if key.endswith(".xml"):
                    try:
                        ET.fromstring(text)
                    except ET.ParseError as e:
                        print(f"{path}: ConfigMap {d['metadata']['name']} {key}: {e}", file=sys.stderr); bad += 1
sys.exit(1 if bad else 0)
PY
  then ok "YAML under deploy/ and docker-compose.yml parses"; else fail "YAML"; fi
else
  skip "python3 with PyYAML is not available: YAML files not parsed"
fi

if command -v kubectl >/dev/null 2>&1; then
  if out=$(kubectl kustomize deploy/kubernetes 2>&1); then
    ok "kubectl kustomize deploy/kubernetes ($(grep -c '^kind:' <<<"$out") objects)"
  else
    echo "$out" >&2; fail "kubectl kustomize deploy/kubernetes"
  fi
else
  skip "kubectl is not installed"
fi

exit $failed
