#!/usr/bin/env bash
# setup.sh fetches what Giveback needs at run and test time and is not a Go module:
# libchdb.so (the ClickHouse engine, from npm @chdb/lib-linux-x64-gnu), the recorded GitHub
# fixtures used by the tests (@octokit/webhooks-examples, @octokit/fixtures), the real files the
# dependency parsers are tested on (go.mod files of published modules; SBOMs written by
# `npm sbom` and cyclonedx-gomod; the SPDX project's example documents) and the Go tools `make
# lint` runs (staticcheck).
# Each npm package is pinned to a version and its npm sha512 integrity is checked before it is
# unpacked into the cache directory; each Go module or tool is pinned to a version, which the go
# command checks against the Go checksum database, and go.mod files and module sources are also
# held against the h1: sums written here. Nothing is fetched twice.
#
# Usage: scripts/setup.sh [chdb|fixtures|tools|all]   (default: all)
# Prints nothing but progress; the cache directory is $GIVEBACK_CACHE (default ~/.cache/giveback).
set -euo pipefail

cache="${GIVEBACK_CACHE:-$HOME/.cache/giveback}"
what="${1:-all}"

# name version integrity
packages_chdb=(
  "@chdb/lib-linux-x64-gnu 26.5.3 sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ=="
)
packages_fixtures=(
  "@octokit/webhooks-examples 7.6.1 sha512-De6U3XB6O3DtCa7bKgCMzTHdeopqqZ6SNivMYJnK65ierKL1AnNIA0tkRYCRS7lwGT792d+Ps1WbfHlso6MynQ=="
  "@octokit/fixtures 23.1.2 sha512-niG+SVffZ/xzojT3CE6M7DlqX7H9aQ75A6Xxjt4N47CkqssKXpSy2k6+Tj5ntcI5uWW2D9POzKxwJDmBfR+sJw=="
)

# Go tools: package version; installed with go install into $cache/go/bin.
go_tools=(
  "honnef.co/go/tools/cmd/staticcheck v0.8.2"
  "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod v1.10.0"
)
# go.mod files the go.mod parser is tested on: module version h1-of-go.mod. Together they use
# every directive: replace (by a module and by a directory), exclude, retract, toolchain,
# godebug, tool and ignore.
gomod_fixtures=(
  "github.com/grafana/loki/v3 v3.7.8 h1:SubN2HoviBLMmtr/jiMLom/3l3I9CIl8NvWIAEVa2C0="
  "github.com/opentofu/opentofu v1.12.6 h1:smR4N0Md4RqsCUJtJUxQq4DKE3CQP9Z/GU05wE/ooaA="
  "k8s.io/kubernetes v1.37.2 h1:zAK7e3i5feyBL/bhucQnA5VRKuyrS8F+ijHJkZzQaWw="
  "github.com/hashicorp/terraform v1.13.3 h1:+c+njrJKHAJBd3rK/LrrglBT/CEoDLMMLPM4ueY0AqQ="
  "github.com/nats-io/nats-server/v2 v2.15.2 h1:VXHCZgDglV5wO2B8ZE58yG2HzqxQxYUbQqibUh5Xcr8="
  "github.com/klauspost/compress v1.20.3 h1:LUdAzn7YLVvxLpc7y3V1m40wESHTgc1422pwwBSKYuI="
  "github.com/prometheus/common v0.72.0 h1:77NWqAQ2tXT7BIK40qjJdw5Acrsrg1TlHAnsQi3i6mk="
)
# npm, whose own `npm sbom` writes the SPDX and CycloneDX SBOMs of its bundled dependencies.
package_npm="npm 11.6.2 sha512-7iKzNfy8lWYs3zq4oFPa8EXZz5xt9gQNKJZau3B1ErLBb6bF7sBJ00x09485DOvRT2l5Gerbl3VlZNT57MxJVA=="
# The SPDX project's example documents (tag-value and JSON), as shipped in its Go module.
spdx_examples="github.com/spdx/tools-golang v0.5.7 h1:+sWcKGnhwp3vLdMqPcLdA6QK679vd86cK9hQWH3AwCg="

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }; }

fetch() {
  local name=$1 version=$2 integrity=$3
  local dir="$cache/npm/${name#@}@$version"
  if [ -f "$dir/.verified" ]; then return 0; fi
  need npm "install Node.js and npm, e.g. apt-get install -y nodejs npm"
  local tmp; tmp=$(mktemp -d)
  echo "setup: fetching $name@$version" >&2
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>&1) || { echo "setup: npm pack $name@$version failed" >&2; rm -rf "$tmp"; exit 1; }
  local tgz; tgz=$(ls "$tmp"/*.tgz)
  local got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "setup: $name@$version: checksum mismatch: want $integrity, got $got" >&2
    rm -rf "$tmp"; exit 1
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --strip-components=1
  rm -rf "$tmp"
  touch "$dir/.verified"
}

gobin="$cache/go/bin"

# go_tool installs a Go command at a pinned version into $gobin.
go_tool() {
  local pkg=$1 version=$2 name=${1##*/}
  if [ -x "$gobin/$name" ] && [ -f "$gobin/.$name@$version" ]; then return 0; fi
  need go "install Go 1.26"
  echo "setup: installing $name@$version" >&2
  mkdir -p "$gobin"
  rm -f "$gobin/.$name@"*
  (cd "$cache" && GOBIN="$gobin" GOWORK=off GOFLAGS=-mod=mod go install "$pkg@$version") || { echo "setup: go install $pkg@$version failed" >&2; exit 1; }
  touch "$gobin/.$name@$version"
}

# gomod_h1 prints the h1: sum of a go.mod file, as go.sum writes it for "module version/go.mod".
gomod_h1() {
  printf '%s  go.mod\n' "$(sha256sum "$1" | cut -d' ' -f1)" | openssl dgst -sha256 -binary | base64 -w0
}

# fetch_gomod copies the go.mod of module@version from the module cache into $cache/gomod.
fetch_gomod() {
  local module=$1 version=$2 sum=$3
  local dir="$cache/gomod/$module@$version"
  if [ -f "$dir/.verified" ]; then return 0; fi
  need go "install Go 1.26"
  echo "setup: fetching the go.mod of $module@$version" >&2
  local f; f=$(cd "$cache" && GOWORK=off GOFLAGS=-mod=mod go list -m -f '{{.GoMod}}' "$module@$version") || { echo "setup: go list -m $module@$version failed" >&2; exit 1; }
  local got="h1:$(gomod_h1 "$f")"
  if [ "$got" != "$sum" ]; then
    echo "setup: $module@$version/go.mod: checksum mismatch: want $sum, got $got" >&2; exit 1
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$f" "$dir/go.mod"; chmod u+w "$dir/go.mod"
  touch "$dir/.verified"
}

# sbom_npm runs the pinned npm's `npm sbom` over npm's own bundled dependencies. npm's
# package.json names development dependencies and workspaces that the published package does
# not ship, so a copy without them is described (in a directory named npm: the CycloneDX writer
# names the root component after its directory).
sbom_npm() {
  local version; version=$(echo "$package_npm" | cut -d' ' -f2)
  local out="$cache/sbom/npm@$version"
  if [ -f "$out/.verified" ]; then return 0; fi
  fetch $package_npm
  echo "setup: writing the SBOMs of npm@$version with npm sbom" >&2
  local tmp; tmp=$(mktemp -d)
  cp -r "$cache/npm/npm@$version/." "$tmp/npm"
  (cd "$tmp/npm" &&
    node -e 'const fs=require("fs"),p=JSON.parse(fs.readFileSync("package.json"));delete p.devDependencies;delete p.workspaces;fs.writeFileSync("package.json",JSON.stringify(p,null,2))' &&
    npm_config_userconfig=/dev/null npm_config_update_notifier=false node bin/npm-cli.js sbom --offline --sbom-format spdx >"$tmp/npm.spdx.json" &&
    npm_config_userconfig=/dev/null npm_config_update_notifier=false node bin/npm-cli.js sbom --offline --sbom-format cyclonedx >"$tmp/npm.cdx.json") ||
    { echo "setup: npm sbom failed" >&2; rm -rf "$tmp"; exit 1; }
  rm -rf "$out"; mkdir -p "$out"
  mv "$tmp/npm.spdx.json" "$tmp/npm.cdx.json" "$out/"
  rm -rf "$tmp"
  touch "$out/.verified"
}

# sbom_gomod runs the pinned cyclonedx-gomod over its own binary, in JSON and in XML.
sbom_gomod() {
  local version; version=$(echo "${go_tools[1]}" | cut -d' ' -f2)
  local out="$cache/sbom/cyclonedx-gomod@$version"
  if [ -f "$out/.verified" ] && [ -f "$gobin/.cyclonedx-gomod@$version" ]; then return 0; fi
  go_tool ${go_tools[1]}
  echo "setup: writing the SBOMs of cyclonedx-gomod@$version with cyclonedx-gomod bin" >&2
  rm -rf "$out"; mkdir -p "$out"
  "$gobin/cyclonedx-gomod" bin -json -output "$out/cyclonedx-gomod.cdx.json" "$gobin/cyclonedx-gomod" 2>/dev/null &&
    "$gobin/cyclonedx-gomod" bin -output "$out/cyclonedx-gomod.cdx.xml" "$gobin/cyclonedx-gomod" 2>/dev/null ||
    { echo "setup: cyclonedx-gomod bin failed" >&2; rm -rf "$out"; exit 1; }
  touch "$out/.verified"
}

# spdx_examples copies the SPDX example documents out of the pinned SPDX Go module.
spdx_examples() {
  local module version sum; read -r module version sum <<<"$spdx_examples"
  local out="$cache/sbom/spdx-examples"
  if [ -f "$out/.verified-$version" ]; then return 0; fi
  need go "install Go 1.26"
  echo "setup: fetching the SPDX examples of $module@$version" >&2
  local info; info=$(cd "$cache" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$module@$version") || { echo "setup: go mod download $module@$version failed" >&2; exit 1; }
  local dir got
  dir=$(echo "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  got=$(echo "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p')
  if [ "$got" != "$sum" ]; then
    echo "setup: $module@$version: checksum mismatch: want $sum, got $got" >&2; exit 1
  fi
  rm -rf "$out"; mkdir -p "$out"
  for v in v2.2 v2.3; do
    cp "$dir/examples/sample-docs/tv/SPDXTagExample-$v.spdx" "$dir/examples/sample-docs/json/SPDXJSONExample-$v.spdx.json" "$out/"
  done
  chmod u+w "$out"/*
  touch "$out/.verified-$version"
}

case "$what" in
  chdb|fixtures|tools|all) ;;
  *) echo "usage: scripts/setup.sh [chdb|fixtures|tools|all]" >&2; exit 2 ;;
esac
mkdir -p "$cache"
if [ "$what" = chdb ] || [ "$what" = all ]; then
  for p in "${packages_chdb[@]}"; do fetch $p; done
fi
if [ "$what" = fixtures ] || [ "$what" = all ]; then
  for p in "${packages_fixtures[@]}"; do fetch $p; done
  for m in "${gomod_fixtures[@]}"; do fetch_gomod $m; done
  sbom_npm
  sbom_gomod
  spdx_examples
fi
if [ "$what" = tools ] || [ "$what" = all ]; then
  go_tool ${go_tools[0]}
fi
