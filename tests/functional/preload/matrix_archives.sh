# Real-program matrix, archives: tar cf / czf (gzip writes the archive
# through an inherited fd) / xzf, gzip and gunzip.
. "$(dirname "$0")/preload_lib.bash"
need b3sum tar gzip
new_project
mkdir src
echo one >src/one
echo two >src/two

job tar cf a.tar src
assert_io inputs src/one
assert_io inputs src/two
assert_io outputs a.tar

job tar czf a.tgz src
assert_io inputs src/one
assert_io outputs a.tgz

mkdir x
job tar xzf a.tgz -C x
assert_io inputs a.tgz
assert_io outputs x/src/one
assert_io outputs x/src/two

cp src/one g.txt
job gzip g.txt
assert_io outputs g.txt.gz
assert_not_io outputs g.txt
job gunzip g.txt.gz
assert_io inputs g.txt.gz
assert_io outputs g.txt
echo ok
