#!/usr/bin/env bash
# Cross-compiles of the C core (csrc/ + wasm3, whatever csrc/ holds: CMakeLists.txt globs
# csrc/wasi/*.c) and its C tests (tests/c, EXN_TESTING=ON, -Werror) with Debian's GNU cross
# toolchains and cmake/toolchains/<triple>.cmake, for the platforms this machine cannot build
# natively.  The tests then run where an emulator can: qemu-user for the Linux targets (aarch64,
# armhf, i686, s390x: big-endian, ppc64le), wine64 for Windows x86_64; Windows i686 is built
# only (its tests would need 32-bit wine).  x86_64-linux-musl (musl-gcc, as in musllinux
# wheels) runs natively.  The Python extension is not cross-built here
# (.github/workflows/wheels.yml builds the wheels).
#   CROSS_TARGETS="aarch64-linux-gnu ..." selects targets (default: all below).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
t0=$(date +%s)
step() { echo "-- $1 ($(( $(date +%s) - t0 )) s)"; }

# triple            Debian packages (comma-sep) how its C tests run ("-" = build only)
targets_table="
x86_64-w64-mingw32    gcc-mingw-w64-x86-64        wine
i686-w64-mingw32      gcc-mingw-w64-i686          -
aarch64-linux-gnu     gcc-aarch64-linux-gnu,libc6-dev-arm64-cross qemu-aarch64
arm-linux-gnueabihf   gcc-arm-linux-gnueabihf,libc6-dev-armhf-cross qemu-arm
i686-linux-gnu        gcc-i686-linux-gnu,libc6-dev-i386-cross qemu-i386
s390x-linux-gnu       gcc-s390x-linux-gnu,libc6-dev-s390x-cross qemu-s390x
powerpc64le-linux-gnu gcc-powerpc64le-linux-gnu,libc6-dev-ppc64el-cross qemu-ppc64le
x86_64-linux-musl     musl-tools                  native
"
selected=${CROSS_TARGETS:-$(echo "$targets_table" | awk 'NF {print $1}')}

step "cross toolchains, musl-tools, qemu-user, wine64"
pkgs="qemu-user wine64"
for t in $selected; do
  # column 2: the packages a target needs, comma-separated (the cross libc is only a
  # Recommends of the cross gcc, and --no-install-recommends skips it)
  pkgs="$pkgs $(echo "$targets_table" | awk -v t="$t" '$1 == t {print $2}' | tr , ' ')"
done
$SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null

build_dir="$root/build/cross"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_tests() {  # triple runner exe: prints the test output, fails unless it ends in 0 failures
  local triple=$1 runner=$2 exe=$3 out
  case "$runner" in
    wine)  # Debian's wine64 without the `wine` wrapper (no recommends)
      local wine=/usr/lib/wine/wine64
      [ -x "$wine" ] || wine=$(command -v wine64)
      out=$(WINEPREFIX="$build_dir/wineprefix" WINEDEBUG=-all "$wine" "$exe.exe" 2>&1) || true ;;
    native)
      out=$("$exe" 2>&1) || true ;;
    qemu-*)
      # -R: a fixed guest address space.  Without it qemu-user keeps page tables for every range
      # ever mapped, and each wasm memory reserves 8 GiB of address space on 64-bit targets: the
      # C tests then need ~20 GB of RAM (with -R 64 GiB: ~0.4 GB).  32-bit guests have 4 GiB.
      local reserve=()
      case "$triple" in aarch64-*|s390x-*|powerpc64le-*) reserve=(-R 0x1000000000) ;; esac
      out=$("$runner" "${reserve[@]}" -L "/usr/$triple" "$exe" 2>&1) || true ;;
  esac
  out=$(printf '%s\n' "$out" | tr -d '\r')  # Windows line ends
  printf '%s\n' "$out" | tail -n 5
  printf '%s\n' "$out" | grep -q "^[0-9]* checks, 0 failures$"
}

tested=()
for triple in $selected; do
  runner=$(echo "$targets_table" | awk -v t="$triple" '$1 == t {print $3}')
  [ -n "$runner" ] || { echo "unknown target $triple"; exit 1; }
  step "$triple: configure and build (EXN_TESTING=ON, EXN_WERROR=ON)"
  dir="$build_dir/$triple"
  rm -rf "$dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$triple.cmake" \
      -DEXN_TESTING=ON -DEXN_WERROR=ON -DEXN_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release \
      >"$logs/$triple.configure" 2>&1 || { cat "$logs/$triple.configure"; exit 1; }
  cmake --build "$dir" --parallel 2 >"$logs/$triple.build" 2>&1 ||
    { cat "$logs/$triple.build"; exit 1; }
  case "$triple" in
    *mingw32)
      dll="$dir/libextism_native.dll"
      $triple-objdump -p "$dll" >"$logs/$triple.exports"
      for sym in extism_plugin_new extism_plugin_call exn_plugin_new exn_plugin_call; do
        grep -q "\] $sym$" "$logs/$triple.exports" || { echo "FAIL: $sym not exported"; exit 1; }
      done
      if grep -q "\] m3_" "$logs/$triple.exports"; then
        echo "FAIL: the DLL exports wasm3's m3_* functions"; exit 1
      fi
      deps=$(grep "DLL Name:" "$logs/$triple.exports" | awk '{print $3}' | sort | tr '\n' ' ')
      echo "$(basename "$dll") exports the libextism API; imports: $deps"
      case "$deps" in *libgcc*|*libwinpthread*) echo "FAIL: MinGW runtime DLL needed"; exit 1 ;; esac
      ;;
  esac
  if [ "$runner" = "-" ]; then
    echo "$triple: built (no emulator here for its tests)"
  else
    tested+=("$triple:$runner")
  fi
done

# The emulated runs are independent and mostly single-threaded: two at a time.
step "C tests under emulation: ${tested[*]}"
for entry in "${tested[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
  triple=${entry%%:*} runner=${entry#*:}
  (
    start=$(date +%s)
    if run_tests "$triple" "$runner" "$build_dir/$triple/tests/c/test_core" \
        >"$logs/$triple.test" 2>&1; then
      echo "$triple: C tests passed under $runner in $(( $(date +%s) - start )) s"
      touch "$logs/$triple.passed"
    else
      echo "$triple: C tests FAILED under $runner"; cat "$logs/$triple.test"
    fi
  ) &
done
wait
failed=0
for entry in "${tested[@]}"; do
  [ -e "$logs/${entry%%:*}.passed" ] || failed=1
done
[ "$failed" = 0 ] || { echo "FAIL: C tests failed on a cross target"; exit 1; }
step "done"
