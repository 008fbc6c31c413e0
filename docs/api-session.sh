#!/usr/bin/env bash
# The README's curl session against `incidents serve-api`, runnable as it stands: two tenants, each with its
# own token, create, list, read, move through the lifecycle and read the statistics of their incidents, and
# never see each other's. tests/api/test_curl_session.py runs it on DuckDB and PostgreSQL.
#
#   bash docs/api-session.sh            # on a fresh DuckDB file in a temporary folder
#   INCIDENTS_DATABASE_URL=postgresql://... bash docs/api-session.sh
set -euo pipefail
export INCIDENTS_DATABASE_URL="${INCIDENTS_DATABASE_URL:-duckdb:///$(mktemp -d)/api-session.duckdb}"
PORT="${PORT:-8765}"
API="http://127.0.0.1:$PORT/api/v1/incidents"
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
say() { printf '\n$ %s\n' "$*"; }

incidents init >/dev/null
ACME=$(incidents --tenant acme token add --name acme-soar --role manager 2>/dev/null)
GLOBEX=$(incidents --tenant globex token add --name globex-siem --role analyst 2>/dev/null)
incidents serve-api --port "$PORT" >/tmp/api-session-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/openapi.json" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/openapi.json" || { cat /tmp/api-session-server.log; exit 1; }

say "curl -X POST $API/ -H 'Authorization: Bearer \$ACME' -d '{\"title\": \"Beacon to 203.0.113.9\", ...}'"
BODY='{"title": "Beacon to 203.0.113.9 from ACME-WS-0233", "severity": "high", "mitre_technique": "T1071.001",
       "source_siem": "Splunk ES", "iocs": ["203.0.113[.]9"], "affected_assets": ["ACME-WS-0233"],
       "source_system": "splunk-es", "source_ref": "notable-4711",
       "alerts": [{"source": "Splunk ES", "alert_id": "4711", "title": "Periodic HTTPS beaconing"}]}'
CREATED=$(curl -s -X POST "$API/" -H "Authorization: Bearer $ACME" -H 'Content-Type: application/json' -d "$BODY" \
  -w '\n%{http_code}')
echo "$CREATED" | tail -1
ID=$(echo "$CREATED" | head -1 | field '["id"]')
echo "$CREATED" | head -1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["id"], d["status"], "version", d["version"], d["mitre_tactic"], d["iocs"], len(d["alerts"]), "alert")'

say "curl -X POST $API/ (the same webhook again)"
curl -s -o /dev/null -w '%{http_code} (the alert joined incident ' -X POST "$API/" -H "Authorization: Bearer $ACME" \
  -H 'Content-Type: application/json' -d "$BODY"
echo "$ID)"

say "curl -X POST $API/ -H 'Authorization: Bearer \$GLOBEX' (the other tenant)"
curl -s -X POST "$API/" -H "Authorization: Bearer $GLOBEX" -H 'Content-Type: application/json' \
  -d '{"title": "Impossible travel for r.kowalski", "severity": "medium", "mitre_tactic": "InitialAccess"}' \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tenant_id"], d["title"], d["mitre_tactic"])'

for query in "severity=high" "status=new" "mitre_tactic=command-and-control" "source_siem=Splunk%20ES" "q=203.0.113.9"; do
  say "curl '$API/?$query'"
  curl -s "$API/?$query" -H "Authorization: Bearer $ACME" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("total", d["total"], [i["title"] for i in d["items"]])'
done

say "curl $API/\$ID -H 'Authorization: Bearer \$GLOBEX'   # another tenant's incident"
curl -s -w ' %{http_code}\n' "$API/$ID" -H "Authorization: Bearer $GLOBEX"

say "curl $API/\$ID -i   # read it, with its ETag"
curl -s -D - -o /dev/null "$API/$ID" -H "Authorization: Bearer $ACME" | grep -i '^etag'

patch() {
  say "curl -X PATCH $API/\$ID -H 'If-Match: $1' -d '$2'"
  curl -s -X PATCH "$API/$ID" -H "Authorization: Bearer $ACME" -H 'Content-Type: application/json' \
    -H "If-Match: $1" -d "$2" -w '\n%{http_code}' | python3 -c '
import json, sys
body, status = sys.stdin.read().rsplit("\n", 1)
data = json.loads(body)
keys = ("status", "version", "acknowledged_at", "resolved_at", "closed_at")
print(status, {k: data[k] for k in keys} if status == "200" else data["detail"])'
}
patch '"1"' '{"status": "investigating", "assigned_to": "acme-soar"}'
patch '"2"' '{"status": "resolved"}'
patch '"2"' '{"status": "resolved", "resolution": "Beacon blocked at the proxy; host reimaged"}'
patch '"2"' '{"severity": "critical"}'
patch '"3"' '{"status": "closed", "classification": "true_positive"}'

say "curl $API/stats -H 'Authorization: Bearer \$ACME'"
curl -s "$API/stats" -H "Authorization: Bearer $ACME" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print({k: d[k] for k in ("total", "open", "critical_open")}, "MTTA", d["mtta"], "MTTR", d["mttr"])'
say "curl $API/stats -H 'Authorization: Bearer \$GLOBEX'"
curl -s "$API/stats" -H "Authorization: Bearer $GLOBEX" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("total", "open")})'
