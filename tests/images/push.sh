#!/bin/sh
# push.sh - `make push` against a registry on loopback: Debian's
# docker-registry with a temporary config on 127.0.0.1:$PORT, then every
# pushed image is read back (skopeo inspect: labels carry VERSION).
#   VERSION=1.0.0 STORE=... tests/images/push.sh
set -u
. "$(dirname "$0")/lib.sh"
PORT=${PORT:-5000}
REG=127.0.0.1:$PORT
for c in docker-registry skopeo; do
    command -v $c >/dev/null 2>&1 || { skip push "$c not installed (apt-get install docker-registry skopeo)"; summary; exit $?; }
done
for i in $IMAGES; do
    built "$i" || { skip push "$i not built"; summary; exit $?; }
done
W=$(mktemp -d /tmp/lcs-registry.XXXXXX)
cat >"$W/config.yml" <<CFG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/data
http:
  addr: $REG
CFG
docker-registry serve "$W/config.yml" >"$W/registry.log" 2>&1 &
RPID=$!
trap 'kill $RPID 2>/dev/null; wait $RPID 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 50); do
    curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://$REG/v2/" >/dev/null 2>&1 || { fail push.registry "docker-registry did not start: $(tail -n 3 "$W/registry.log")"; summary; exit 1; }
pass push.registry-on-loopback

out=$(make -s -C "$TOP/container_images" push REGISTRY= STORE="$STORE" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q 'REGISTRY is not set' && pass push.requires-registry ||
    fail push.requires-registry "make push without REGISTRY did not fail clearly: $out"

if make -s -C "$TOP/container_images" push REGISTRY="$REG" TLS_VERIFY=false VERSION="$VERSION" STORE="$STORE" >"$W/push.log" 2>&1; then
    pass push.make-push
else
    fail push.make-push "$(tail -n 5 "$W/push.log" | tr '\n' ' ')"
fi
for i in $IMAGES; do
    v=$(skopeo inspect --tls-verify=false "docker://$REG/$PREFIX-$i:$VERSION" 2>&1 |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Labels"]["org.llmcore.image.version"])' 2>&1)
    [ "$v" = "$VERSION" ] && pass "push.$i-in-registry" || fail "push.$i-in-registry" "$v"
done
summary
