#!/bin/sh
# Build tests/probe_user.c against the staged installation (make install
# DESTDIR=tests/stage) through pkg-config, as a user would, run it, and
# check the kind p_mem printed for each pointer.
set -eu
stage=$MW_STAGE
pcdir=$stage$MW_LIBDIR/pkgconfig
[ -f "$pcdir/memwalk.pc" ] || { echo "no staged memwalk.pc in $pcdir"; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage"
cflags=$($PKG_CONFIG --cflags memwalk)
libs=$($PKG_CONFIG --libs memwalk)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
$CC $MW_SAN_CFLAGS $cflags -o "$tmp/probe_user" "$top_srcdir/tests/probe_user.c" \
    $libs $MW_SAN_CFLAGS
rc=0
LD_LIBRARY_PATH="$stage$MW_LIBDIR" "$tmp/probe_user" > "$tmp/out" \
    2> "$tmp/maps" || rc=$?
cat "$tmp/out"
if [ $rc -ne 0 ]; then
	echo "FAIL: probe_user exited with status $rc"
	cat "$tmp/maps"
	exit 1
fi

# Under AddressSanitizer, malloc is ASan's and lives in anonymous maps.
heap=heap
[ -n "$MW_SAN_CFLAGS" ] && heap=anon
fail=0
expect() {
	got=$(awk -F '\t' -v l="$1:" '$1 == l {print $4}' "$tmp/out")
	if [ "$got" != "$2" ]; then
		echo "FAIL: $1 is '$got', expected '$2'"
		fail=1
	fi
}
expect local stack
expect global data
expect static bss
expect malloc "$heap"
expect big_malloc anon
expect function text
expect mmap anon
expect literal rodata
# The probe's fields: label, hex, decimal of the same address, kind.
python3 -c '
import sys
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) == 4 and int(f[1], 16) != int(f[2]):
        sys.exit("FAIL: hex and decimal differ: " + line)
' "$tmp/out" || fail=1
grep -q "^local-global:	p1:0x[0-9a-f]*	p2:0x[0-9a-f]*	diff:	-\?[0-9]*	data	stack$" \
    "$tmp/out" || { echo "FAIL: p_diff line"; fail=1; }
if [ $fail -ne 0 ]; then
	echo "-- its maps:"
	cat "$tmp/maps"
fi
exit $fail
