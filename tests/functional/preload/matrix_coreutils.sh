# Real-program matrix, coreutils and sed: cp (copy_file_range), cp -r, mv
# (renameat2), rm (unlinkat), sed -i (read, write temp, rename over: the
# input digest is of the bytes before), sort -o.
. "$(dirname "$0")/preload_lib.bash"
need b3sum sed sort
new_project
printf 'b\na\nc\n' >in.txt
mkdir -p tree/sub
echo one >tree/one
echo two >tree/sub/two

job cp in.txt copy.txt
assert_io inputs in.txt
assert_io outputs copy.txt

job cp -r tree tree2
assert_io inputs tree/one
assert_io inputs tree/sub/two
assert_io outputs tree2/one
assert_io outputs tree2/sub/two

job mv copy.txt moved.txt
assert_io outputs moved.txt
assert_not_io outputs copy.txt

job rm moved.txt
assert_not_io outputs moved.txt

cp in.txt edit.txt
before=$(b3 edit.txt)
job sed -i 's/a/A/' edit.txt
assert_eq "$(cat edit.txt)" $'b\nA\nc' "sed edited"
assert_input_digest edit.txt "$before"
assert_io outputs edit.txt

job sort -o sorted.txt in.txt
assert_io inputs in.txt
assert_io outputs sorted.txt
cp in.txt self.txt
before=$(b3 self.txt)
job sort -o self.txt self.txt
assert_input_digest self.txt "$before"
assert_io outputs self.txt
echo ok
