# The release .deb (CPack, packaging/CMakeLists.txt) carries roar,
# roar-proxy, roar-events, the shim and the job guard's program, the man
# pages and the shell completion,
# with stripped binaries; their debug symbols are a separate roar-dbgsym
# package, by build id.
. "$(dirname "$0")/../lib/common.sh"
need cpack dpkg-deb readelf
for bin in roar roar-proxy roar-events; do
  [[ -x $ROAR_BUILD_DIR/bin/$bin ]] || skip "$bin is not built (build every target first)"
done
[[ -f $ROAR_BUILD_DIR/packaging/man/roar.1 ]] || skip "the man pages are not built"
out=$TEST_TMP/pkg
cpack --config "$ROAR_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$out" >"$TEST_TMP/cpack.log" 2>&1 ||
  fail "cpack: $(tail -5 "$TEST_TMP/cpack.log")"
shopt -s nullglob
debs=("$out"/roar_*.deb)
dbgs=("$out"/roar-dbgsym_*)
shopt -u nullglob
[[ ${#debs[@]} -eq 1 ]] || fail "no roar .deb in $out"
deb=${debs[0]}
dbg=${dbgs[0]:-}

check "the .deb carries the programs, the shim, the job guard, the man pages and completion"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/roar ./usr/bin/roar-proxy ./usr/bin/roar-events ./usr/lib/roar/libroar_preload.so \
  ./usr/lib/roar/roar-guard \
  ./usr/share/man/man1/roar.1 ./usr/share/man/man1/roar-run.1 \
  ./usr/share/bash-completion/completions/roar ./usr/share/zsh/vendor-completions/_roar; do
  assert_contains "$contents" "$path" "$path in the .deb"
done

check "it depends on libpq5 and libcurl4, which roar loads only when it needs them"
depends=$(dpkg-deb -f "$deb" Depends)
assert_contains "$depends" "libpq5" "Depends"
assert_contains "$depends" "libcurl4" "Depends"
assert_contains "$depends" "libsqlite3-0" "Depends (from shlibdeps)"

check "its binaries are stripped"
mkdir "$TEST_TMP/root"
dpkg-deb -x "$deb" "$TEST_TMP/root"
for bin in roar roar-proxy roar-events; do
  sections=$(readelf -S "$TEST_TMP/root/usr/bin/$bin")
  assert_not_contains "$sections" ".debug_info" "$bin has no debug info"
  assert_contains "$(readelf -n "$TEST_TMP/root/usr/bin/$bin")" "Build ID" "$bin has a build id"
done

check "their debug symbols are in the separate roar-dbgsym package, by build id"
[[ -n $dbg ]] || fail "no roar-dbgsym package next to $deb: $(ls "$out")"
id=$(readelf -n "$TEST_TMP/root/usr/bin/roar" | awk '/Build ID/ { print $3 }')
assert_contains "$(dpkg-deb -c "$dbg")" "./usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" "roar's symbols by build id"
echo ok
