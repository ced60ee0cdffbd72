#!/usr/bin/env python3
"""imagetool.py - the JSON side of the image builders (standard library only).

Subcommands (all paths are host paths):

  manifest SRC VERSION OUT [--keep-parent-tag]
      Write SRC with "version" set to VERSION and the parent reference's tag
      set to VERSION too (unless --keep-parent-tag: custom images name their
      parent's tag themselves). Key order and layout are kept.
  field MANIFEST KEY            print a top-level string field ("" if null)
  list MANIFEST KEY             print a list field, one item a line
  labels MANIFEST               print the image labels as KEY=VALUE lines
  record MANIFEST PROBE_OUT [--base DESC]
      Parse probe output ("OK tool NAME VERSION..." lines) and store the
      versions found in the manifest as "x-tool-versions" (and the base
      distribution as "x-base"); the manifest is rewritten in place.
  oci --out DIR --manifest M --tag T --layer-from DIR [--parent-oci DIR]
      [--whiteouts] [--id-shift N] [--exclude-dev]
      Write an OCI image layout: the parent's layers (hard-linked from
      --parent-oci) plus one new gzip layer made from --layer-from (a whole
      rootfs, or an overlay upper directory with --whiteouts, whose
      whiteouts and opaque directories become OCI .wh. entries), a config
      derived from the manifest (user, env, workdir, labels, healthcheck).
  dockerfile MANIFEST --from REF [--base]
      Print the Dockerfile the engine builder uses for one image.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tarfile

DEFAULT_PATH = "/home/sandbox/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LABEL_NS = "org.llmcore.image."


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump(doc, path):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def set_tag(ref, tag):
    """Replace the tag of name[:tag] (a registry host:port is kept)."""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref = ref[:colon]
    return ref + ":" + tag


def cmd_manifest(a):
    doc = load(a.src)
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?", a.version):
        sys.exit("imagetool: VERSION '%s' is not N.N[.N][-suffix]" % a.version)
    doc["version"] = a.version
    if doc.get("parent_image") and not a.keep_parent_tag:
        doc["parent_image"] = set_tag(doc["parent_image"], a.version)
    dump(doc, a.out)


def cmd_field(a):
    v = load(a.manifest).get(a.key)
    print("" if v is None else v)


def cmd_list(a):
    for v in load(a.manifest).get(a.key) or []:
        print(v)


def labels(doc):
    out = {
        LABEL_NS + "name": doc["name"],
        LABEL_NS + "version": doc["version"],
        LABEL_NS + "tier": doc["tier"],
        LABEL_NS + "description": doc.get("description", ""),
        LABEL_NS + "capabilities": ",".join(doc.get("capabilities", [])),
        LABEL_NS + "tools": ",".join(doc.get("tools", [])),
        LABEL_NS + "access-mode": doc.get("default_access_mode", "restricted"),
        "org.opencontainers.image.title": doc["name"],
        "org.opencontainers.image.version": doc["version"],
        "org.opencontainers.image.description": doc.get("description", ""),
    }
    if doc.get("parent_image"):
        out[LABEL_NS + "parent"] = doc["parent_image"]
    return out


def cmd_labels(a):
    for k, v in labels(load(a.manifest)).items():
        print("%s=%s" % (k, v))


def default_cmd(doc):
    caps = doc.get("capabilities", [])
    if "nodejs" in caps:
        return ["node"]
    if "python" in caps:
        return ["python3"]
    return ["/bin/bash"]


def env_list(doc):
    env = {"PATH": DEFAULT_PATH, "HOME": "/home/sandbox"}
    env.update(doc.get("environment") or {})
    return ["%s=%s" % kv for kv in env.items()]


TOOL_LINE = re.compile(r"^OK tool (\S+) (.*)$")


def cmd_record(a):
    doc = load(a.manifest)
    versions = {}
    with open(a.probe_out, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = TOOL_LINE.match(line.rstrip("\n"))
            if m:
                versions[m.group(1)] = m.group(2).strip()
    missing = [t for t in doc.get("tools", []) if t not in versions]
    if missing:
        sys.exit("imagetool: no version recorded for tool(s): " + ", ".join(missing))
    doc["x-tool-versions"] = {t: versions[t] for t in doc.get("tools", [])}
    if a.base:
        doc["x-base"] = a.base
    dump(doc, a.manifest)


class HashWriter:
    """File-like object that hashes and counts what passes through."""

    def __init__(self, f):
        self.f = f
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        if self.f is not None:
            self.f.write(b)
        return len(b)

    def flush(self):
        if self.f is not None:
            self.f.flush()


def is_whiteout(st):
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path):
    for name in ("user.overlay.opaque", "trusted.overlay.opaque"):
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            pass
    return False


def write_layer(src, blobs, whiteouts, shift, exclude_dev):
    """Tar+gzip src into blobs/sha256/; return (digest, size, diff_id)."""
    tmp = os.path.join(blobs, "layer.tmp")
    with open(tmp, "wb") as raw:
        outer = HashWriter(raw)
        with gzip.GzipFile(fileobj=outer, mode="wb", compresslevel=1, mtime=0) as gz:
            inner = HashWriter(gz)
            with tarfile.open(fileobj=inner, mode="w|", format=tarfile.PAX_FORMAT) as tf:

                def fix(ti):
                    ti.uid = max(ti.uid - shift, 0)
                    ti.gid = max(ti.gid - shift, 0)
                    ti.uname = ti.gname = ""
                    ti.pax_headers = {}
                    return ti

                def walk(rel):
                    path = os.path.join(src, rel) if rel else src
                    names = sorted(os.listdir(path))
                    if rel and whiteouts and is_opaque(path):
                        ti = tarfile.TarInfo(rel + "/.wh..wh..opq")
                        ti.mtime = 0
                        tf.addfile(ti)
                    for n in names:
                        r = rel + "/" + n if rel else n
                        p = os.path.join(src, r)
                        st = os.lstat(p)
                        if exclude_dev and r.startswith("dev/"):
                            continue
                        if whiteouts and is_whiteout(st):
                            d, b = os.path.split(r)
                            ti = tarfile.TarInfo((d + "/" if d else "") + ".wh." + b)
                            ti.mtime = int(st.st_mtime)
                            tf.addfile(ti)
                            continue
                        ti = fix(tf.gettarinfo(p, r))
                        if ti.isreg():
                            with open(p, "rb") as f:
                                tf.addfile(ti, f)
                        else:
                            tf.addfile(ti)
                        if stat.S_ISDIR(st.st_mode):
                            walk(r)

                walk("")
    digest = outer.h.hexdigest()
    os.replace(tmp, os.path.join(blobs, digest))
    return "sha256:" + digest, outer.n, "sha256:" + inner.h.hexdigest()


def put_blob(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def canon(doc):
    return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"


def cmd_oci(a):
    doc = load(a.manifest)
    out = a.out
    if os.path.exists(out):
        shutil.rmtree(out)
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs)
    layers, diff_ids, history = [], [], []
    if a.parent_oci:
        pidx = load(os.path.join(a.parent_oci, "index.json"))
        pdesc = pidx["manifests"][0]
        pdir = os.path.join(a.parent_oci, "blobs", "sha256")
        pman = load(os.path.join(pdir, pdesc["digest"].split(":", 1)[1]))
        pcfg = load(os.path.join(pdir, pman["config"]["digest"].split(":", 1)[1]))
        for layer in pman["layers"]:
            h = layer["digest"].split(":", 1)[1]
            try:
                os.link(os.path.join(pdir, h), os.path.join(blobs, h))
            except OSError:
                shutil.copy2(os.path.join(pdir, h), os.path.join(blobs, h))
            layers.append(layer)
        diff_ids = list(pcfg["rootfs"]["diff_ids"])
        history = list(pcfg.get("history", []))
    digest, size, diff_id = write_layer(a.layer_from, blobs, a.whiteouts, a.id_shift, a.exclude_dev)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": digest, "size": size})
    diff_ids.append(diff_id)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    history.append({"created": now, "created_by": "llmcore-sandbox native builder: %s recipe"
                    % doc["name"], "comment": doc.get("x-base", "")})
    lab = labels(doc)
    lab["org.opencontainers.image.created"] = now
    config = {
        "created": now,
        "architecture": a.arch,
        "os": "linux",
        "config": {
            "User": doc.get("user", "sandbox"),
            "Env": env_list(doc),
            "WorkingDir": doc.get("working_directory", "/home/sandbox/work"),
            "Cmd": default_cmd(doc),
            "Labels": lab,
            "Healthcheck": {"Test": ["CMD", "/usr/local/bin/llmcore-healthcheck"],
                            "Interval": 30 * 10**9, "Timeout": 10 * 10**9,
                            "StartPeriod": 5 * 10**9, "Retries": 2},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    cdig, csize = put_blob(blobs, canon(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdig, "size": csize},
        "layers": layers,
        "annotations": {"org.opencontainers.image.title": doc["name"],
                        "org.opencontainers.image.version": doc["version"]},
    }
    mdig, msize = put_blob(blobs, canon(manifest))
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": mdig, "size": msize,
                       "annotations": {"org.opencontainers.image.ref.name": a.tag}}],
    }
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(canon(index))
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}\n')
    print("oci: %s, %d layer(s), new layer %s (%.1f MiB gzip)"
          % (out, len(layers), digest[:19], size / 1048576.0))


def q(s):
    return json.dumps(s)


def cmd_dockerfile(a):
    doc = load(a.manifest)
    lines = ["# Generated by scripts/build/imagetool.py from %s's recipe and manifest."
             % doc["name"], "# Do not edit: edit the recipe.sh and capabilities.json instead."]
    lines.append("FROM %s" % a.from_ref)
    lines.append("USER root")
    lines.append("LABEL " + " \\\n      ".join("%s=%s" % (k, q(v)) for k, v in labels(doc).items()))
    env = {"PATH": DEFAULT_PATH, "HOME": "/home/sandbox"}
    env.update(doc.get("environment") or {})
    lines.append("ENV " + " \\\n    ".join("%s=%s" % (k, q(v)) for k, v in env.items()))
    lines.append("COPY context/ /tmp/llmcore-build/")
    lines.append("RUN [\"/bin/sh\", \"/tmp/llmcore-build/recipe.sh\"]")
    lines.append("USER %s" % doc.get("user", "sandbox"))
    lines.append("WORKDIR %s" % doc.get("working_directory", "/home/sandbox/work"))
    lines.append("HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=2 "
                 "CMD [\"/usr/local/bin/llmcore-healthcheck\"]")
    lines.append("CMD " + json.dumps(default_cmd(doc)))
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(prog="imagetool.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("manifest")
    s.add_argument("src")
    s.add_argument("version")
    s.add_argument("out")
    s.add_argument("--keep-parent-tag", action="store_true")
    s.set_defaults(fn=cmd_manifest)
    s = sub.add_parser("field")
    s.add_argument("manifest")
    s.add_argument("key")
    s.set_defaults(fn=cmd_field)
    s = sub.add_parser("list")
    s.add_argument("manifest")
    s.add_argument("key")
    s.set_defaults(fn=cmd_list)
    s = sub.add_parser("labels")
    s.add_argument("manifest")
    s.set_defaults(fn=cmd_labels)
    s = sub.add_parser("record")
    s.add_argument("manifest")
    s.add_argument("probe_out")
    s.add_argument("--base", default="")
    s.set_defaults(fn=cmd_record)
    s = sub.add_parser("oci")
    s.add_argument("--out", required=True)
    s.add_argument("--manifest", required=True)
    s.add_argument("--tag", required=True)
    s.add_argument("--layer-from", required=True)
    s.add_argument("--parent-oci")
    s.add_argument("--whiteouts", action="store_true")
    s.add_argument("--id-shift", type=int, default=100000)
    s.add_argument("--exclude-dev", action="store_true")
    s.add_argument("--arch", default="amd64")
    s.set_defaults(fn=cmd_oci)
    s = sub.add_parser("dockerfile")
    s.add_argument("manifest")
    s.add_argument("--from", dest="from_ref", required=True)
    s.set_defaults(fn=cmd_dockerfile)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
