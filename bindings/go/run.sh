#!/usr/bin/env bash
# Builds the static library and runs go vet and go test -race for the Go package and the
# example proxy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
profile="${KAUTHN_GO_PROFILE:-debug}"
if [ "$profile" = release ]; then
  cargo build -p kauthn-ffi --release --quiet --manifest-path "$root/Cargo.toml"
else
  cargo build -p kauthn-ffi --quiet --manifest-path "$root/Cargo.toml"
fi
mkdir -p "$here/lib"
cp "$root/target/$profile/libkauthn_ffi.a" "$here/lib/libkauthn_ffi.a"
cd "$here"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off
go vet ./...
go test -race -count=1 ./... "$@"
