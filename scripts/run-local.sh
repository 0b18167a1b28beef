#!/usr/bin/env bash
# Runs the operator against the local control plane exactly as it runs in a pod: CRD and rbac/
# installed, a token minted for its ServiceAccount and laid out in a ServiceAccount folder
# (renewed every ten minutes, as the kubelet would), in-cluster environment variables set.
# Then applies the example StaticSite and waits for it to turn Ready.
#
# Ctrl-C stops the operator. With RUN_ONCE=1 the script stops it itself once the example is
# Ready, and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

state=${STATE:-.cluster}
kubectl=("$state/bin/kubectl" --kubeconfig "$state/kubeconfig")
namespace=staticsite-system
account=staticsite-operator
sa_dir="$state/serviceaccount"

"${kubectl[@]}" apply -f manifests/00-namespace.yaml -f manifests/10-crd.yaml -f rbac/
"${kubectl[@]}" wait --for=condition=Established crd/staticsites.sites.example.com --timeout=60s

write_token() {
  local token
  token=$("${kubectl[@]}" create token "$account" -n "$namespace" --duration=1h)
  printf '%s' "$token" >"$sa_dir/token.new"
  mv "$sa_dir/token.new" "$sa_dir/token"
}
mkdir -p "$sa_dir"
write_token
cp "$state/pki/ca.crt" "$sa_dir/ca.crt"
printf '%s' "$namespace" >"$sa_dir/namespace"

server=$(sed -n 's/.*"server": "https:\/\/\(.*\)".*/\1/p' "$state/kubeconfig")
export KUBERNETES_SERVICE_HOST=${server%:*} KUBERNETES_SERVICE_PORT=${server##*:}
export SERVICEACCOUNT_DIR=$sa_dir WATCH_NAMESPACES=$namespace
unset KUBECONFIG

.venv/bin/staticsite-operator run &
operator=$!
(while sleep 600; do write_token; done) </dev/null >/dev/null 2>&1 &
renewer=$!
stop() {
  pkill -P "$renewer" 2>/dev/null || true
  kill "$renewer" 2>/dev/null || true
  kill -TERM "$operator" 2>/dev/null || true
  wait "$operator" || true
}
trap stop EXIT

"${kubectl[@]}" apply -f examples/staticsite.yaml
"${kubectl[@]}" wait --for=condition=Ready staticsite/hello -n "$namespace" --timeout=120s
"${kubectl[@]}" get staticsites -n "$namespace"

if [[ ${RUN_ONCE:-0} == 1 ]]; then
  exit 0
fi
wait "$operator"
