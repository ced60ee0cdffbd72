#!/usr/bin/env python3
"""mkoci.py OUT KIND [ROOTFS] - write an OCI image layout for the import tests.

KIND:
  hostile  ROOTFS (the busybox fixture) as the first layer, then layers that
           try to escape and to smuggle privileges: an absolute symlink to /
           and a relative one climbing out, files written through both, a
           hard link through the symlink, a set-uid root file, a device
           node, a fifo, an owner past 65535, a file capability (xattr),
           whiteouts and an opaque directory, a non-ASCII name
  escape   ROOTFS, then a layer with the member ../escaped
  noshell  one layer with a single data file (no shell to probe with)
  corrupt  ROOTFS, then a layer that is not a tar at all
  rootfs   ROOTFS as the only layer (the tool suite's image on an engine)
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(out, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def tar_layer(members):
    """members: (TarInfo, bytes or None) pairs -> gzip'd tar bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def tar_dir(root):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.add(root, arcname=".", recursive=True)
    return gzip.compress(raw.getvalue(), mtime=0)


def entry(name, kind=tarfile.REGTYPE, data=None, mode=0o644, uid=0, gid=0, link="", **pax):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.linkname = link
    ti.mtime = 1700000000
    if data is not None:
        ti.size = len(data)
    if pax:
        ti.pax_headers = pax
    return ti, data


def write(out, layers, env=None):
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    descs, diffs = [], []
    for gz in layers:
        d, n = blob(out, gz)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": d, "size": n})
        try:
            diffs.append("sha256:" + hashlib.sha256(gzip.decompress(gz)).hexdigest())
        except OSError:
            diffs.append("sha256:" + hashlib.sha256(gz).hexdigest())
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": env or ["PATH=/usr/local/bin:/usr/bin:/bin"], "User": "0"},
              "rootfs": {"type": "layers", "diff_ids": diffs}}
    cd, cn = blob(out, json.dumps(config).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": cd, "size": cn},
           "layers": descs}
    md, mn = blob(out, json.dumps(man).encode())
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def main():
    out, kind = sys.argv[1], sys.argv[2]
    rootfs = sys.argv[3] if len(sys.argv) > 3 else None
    D, S, H = tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    if kind == "hostile":
        l1 = tar_layer([
            entry("tmp/lcs-import-host/", D, mode=0o755),
            entry("up", S, link="../../../../../../../../tmp/lcs-import-host", mode=0o777),
            entry("rootlink", S, link="/", mode=0o777),
            entry("gone/", D, mode=0o755),
            entry("gone/x", data=b"x\n"),
            entry("opaque/", D, mode=0o755),
            entry("opaque/old1", data=b"1\n"),
            entry("opaque/old2", data=b"2\n"),
            entry("file-then-dir", data=b"f\n"),
        ])
        l2 = tar_layer([
            entry("up/planted", data=b"through the relative link\n"),
            entry("rootlink/tmp/lcs-import-host/planted2", data=b"through the absolute link\n"),
            entry("rootlink/etc/lcs-planted", data=b"through the absolute link\n"),
            entry("hardlink-hostname", H, link="rootlink/etc/hostname"),
            entry("usr/bin/suid-root", data=b"#!/bin/sh\nid\n", mode=0o4755),
            entry("usr/bin/sgid", data=b"#!/bin/sh\nid\n", mode=0o2755),
            entry("dev/mem-again", tarfile.CHRTYPE, mode=0o666),
            entry("fifo", tarfile.FIFOTYPE, mode=0o666),
            entry("bigowner", data=b"big\n", uid=70000, gid=70000),
            entry("usr/bin/capped", data=b"#!/bin/sh\n", mode=0o755,
                  **{"SCHILY.xattr.security.capability":
                     "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}),
            entry(".wh.gone"),
            entry("opaque/.wh..wh..opq"),
            entry("opaque/new", data=b"new\n"),
            entry("file-then-dir/", D, mode=0o755),
            entry("file-then-dir/inside", data=b"i\n"),
            entry("caf\u00e9-\u00fc.txt", data=b"utf-8 name\n"),
        ])
        write(out, [tar_dir(rootfs), l1, l2])
    elif kind == "escape":
        write(out, [tar_dir(rootfs), tar_layer([entry("../escaped", data=b"out\n")])])
    elif kind == "noshell":
        write(out, [tar_layer([entry("data.txt", data=b"just data\n")])])
    elif kind == "corrupt":
        write(out, [tar_dir(rootfs), b"\x1f\x8b this is not a gzip'd tar at all" * 10])
    elif kind == "rootfs":
        write(out, [tar_dir(rootfs)])
    else:
        sys.exit("mkoci.py: unknown kind " + kind)


if __name__ == "__main__":
    main()
