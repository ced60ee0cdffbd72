#!/bin/sh
# engine.sh - the engine builder with podman. No registry for base images is
# reachable on the project's machines, so the base comes from the native
# build: its OCI layout is pulled into podman as localhost/lcs-native-base
# and used as BASE_IMAGE. Builds base, python and shell with
# `make ... DOCKER=podman`, runs the generated images, and builds the seed's
# "Custom Images" Dockerfile FROM llmcore-sandbox-python.
#   VERSION=1.0.0 STORE=... tests/images/engine.sh
set -u
. "$(dirname "$0")/lib.sh"
command -v podman >/dev/null 2>&1 || { skip engine "podman not installed (apt-get install podman)"; summary; exit $?; }
built base || { skip engine "llmcore-sandbox-base:$VERSION not built natively"; summary; exit $?; }
P="podman"
BF="--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768"
RF="--health-cmd none $BF"
W=$(mktemp -d /tmp/lcs-engine.XXXXXX)
trap 'rm -rf "$W"' EXIT
EV=${ENGINE_VERSION:-$VERSION-engine}

if $P pull -q "oci:$(image_dir base)/oci:$VERSION" >"$W/pull.log" 2>&1 &&
    $P tag "$($P images -q --filter reference="*/*base*" | head -n 1)" localhost/lcs-native-base:latest 2>>"$W/pull.log"; then
    pass engine.import-native-base
else
    # podman pull of an oci: layout names the image after the directory;
    # fall back to skopeo.
    skopeo copy "oci:$(image_dir base)/oci:$VERSION" containers-storage:localhost/lcs-native-base:latest >>"$W/pull.log" 2>&1 &&
        pass engine.import-native-base || { fail engine.import-native-base "$(tail -n 3 "$W/pull.log")"; summary; exit 1; }
fi

if make -s -C "$TOP/container_images" python shell DOCKER=podman VERSION="$EV" \
    BASE_IMAGE=localhost/lcs-native-base:latest >"$W/build.log" 2>&1; then
    pass engine.make-python-shell
else
    fail engine.make-python-shell "$(tail -n 8 "$W/build.log" | tr '\n' ' ')"
fi
grep -q 'OK cap python' "$W/build.log" && pass engine.probes-ran || fail engine.probes-ran "no probe output in the engine build"
expect engine.python-runs '^Python 3' $P run --rm $RF --network none "llmcore-sandbox-python:$EV" python3 --version
expect engine.runs-as-sandbox '^1000 /home/sandbox/work$' $P run --rm $RF --network none "llmcore-sandbox-shell:$EV" sh -c 'echo "$(id -u) $(pwd)"'
lab=$($P inspect "llmcore-sandbox-python:$EV" --format '{{ index .Config.Labels "org.llmcore.image.version" }} {{ index .Config.Labels "org.llmcore.image.parent" }}' 2>&1)
[ "$lab" = "$EV llmcore-sandbox-base:$EV" ] && pass engine.labels-version || fail engine.labels-version "got '$lab'"
# (podman logs healthcheck timer errors on stderr without systemd: ignored)
v=$($P run --rm $RF --network none "llmcore-sandbox-python:$EV" sh -c 'grep -c "\"version\": \"'"$EV"'\"" /etc/llmcore/capabilities.json' 2>/dev/null)
[ "$v" = 1 ] && pass engine.manifest-version || fail engine.manifest-version "$v"
s=$($P run --rm $RF --network none -u 0 "llmcore-sandbox-python:$EV" sh -c 'find / -xdev -type f -perm /6000' 2>/dev/null)
[ -z "$s" ] && pass engine.no-suid || fail engine.no-suid "$s"
hc=$($P image inspect "llmcore-sandbox-python:$EV" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
print(json.dumps(d.get("Config", {}).get("Healthcheck") or d.get("HealthCheck") or d.get("Healthcheck")))' 2>&1)
echo "$hc" | grep -q llmcore-healthcheck && pass engine.healthcheck-defined || fail engine.healthcheck-defined "$hc"
expect engine.healthcheck-passes '^healthy$' $P run --rm $RF --network none "llmcore-sandbox-python:$EV" /usr/local/bin/llmcore-healthcheck

# The seed's "Custom Images" flow.
mkdir "$W/custom"
cat >"$W/custom/Dockerfile" <<DF
FROM llmcore-sandbox-python:$EV
USER root
RUN apt-get update && apt-get install -y --no-install-recommends sqlite3 && rm -rf /var/lib/apt/lists/*
COPY capabilities.json /etc/llmcore/capabilities.json
USER sandbox
DF
cat >"$W/custom/capabilities.json" <<JSON
{"name": "my-custom-image", "version": "1.0.0", "tier": "task", "parent_image": "llmcore-sandbox-python:$EV",
 "capabilities": ["shell", "python"], "tools": ["python3", "sqlite3"], "default_access_mode": "restricted"}
JSON
if $P build $BF -t my-custom-image:1.0.0 "$W/custom" >"$W/custom.log" 2>&1; then
    pass engine.custom-dockerfile
else
    fail engine.custom-dockerfile "$(tail -n 5 "$W/custom.log" | tr '\n' ' ')"
fi
expect engine.custom-runs '^3\.' $P run --rm $RF --network none my-custom-image:1.0.0 sqlite3 --version
"$CLI" manifest validate "$W/custom/capabilities.json" >/dev/null 2>&1 && pass engine.custom-manifest-valid ||
    fail engine.custom-manifest-valid "$("$CLI" manifest validate "$W/custom/capabilities.json" 2>&1)"
expect engine.custom-selectable 'my-custom-image:1.0.0' "$CLI" select --task custom_task --map custom_task=my-custom-image:1.0.0
$P rmi -f my-custom-image:1.0.0 "llmcore-sandbox-shell:$EV" "llmcore-sandbox-python:$EV" "llmcore-sandbox-base:$EV" >/dev/null 2>&1
summary
