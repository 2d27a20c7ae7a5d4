#!/usr/bin/env bash
# Builds the static library, then the C test suite with AddressSanitizer and
# UndefinedBehaviorSanitizer, runs it, and runs the example and the tests under valgrind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
cd "$root"
cargo build -p kauthn-ffi --quiet
lib="$root/target/debug/libkauthn_ffi.a"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cflags=(-std=c11 -Wall -Wextra -Werror -g -I "$root/include")
libs=("$lib" -lpthread -ldl -lm)

gcc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer \
  "$here/test_kauthn.c" "${libs[@]}" -o "$out/test_asan"
gcc "${cflags[@]}" "$here/test_kauthn.c" "${libs[@]}" -o "$out/test_plain"
gcc "${cflags[@]}" "$here/example.c" "${libs[@]}" -o "$out/example"

cd "$here"
echo "== C tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/test_asan"
echo "== example"
"$out/example" s3cret
echo "== valgrind: example and tests, no leaks"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$out/example" s3cret
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$out/test_plain"
