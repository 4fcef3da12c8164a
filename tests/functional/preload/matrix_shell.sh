# Real-program matrix, the shell: > >> < redirections and pipes; the files
# are attributed to the job through the shell's opens and the inherited
# fds of the commands it runs.
. "$(dirname "$0")/preload_lib.bash"
need b3sum
new_project
printf 'b\na\n' >in.txt
echo old >log.txt

job sh -c 'cat in.txt > out.txt'
assert_io inputs in.txt
assert_io outputs out.txt

before=$(b3 log.txt)
job sh -c 'grep -q old log.txt; echo more >> log.txt; sort < in.txt >> log.txt'
assert_io outputs log.txt
assert_input_digest log.txt "$before" # read, then appended to
assert_io inputs in.txt
echo old >append-only.txt
job sh -c 'echo more >> append-only.txt'
assert_io outputs append-only.txt
assert_not_io inputs append-only.txt # never read by the job

job sh -c 'cat in.txt | sort | tr a-z A-Z > piped.txt'
assert_io inputs in.txt
assert_io outputs piped.txt
assert_eq "$(cat piped.txt)" $'A\nB' "pipeline output"
echo ok
