# A read-only fd the tracer learns late is hashed at that stop (the job may
# replace the file later with an unstopped open); the hash cache spares
# that read when it knows the file. Checked here: the tracer's digest goes
# into the cache, and a file the cache knows is taken from it, unread.
. "$(dirname "$0")/tracer_lib.bash"
need sqlite3
build_static read_modes
new_project
printf 'read through the cache\n' >known.txt
touch -d '1 hour ago' known.txt # the cache keeps only files not modified lately
sleep 0.05                      # and the tracer hashes only inodes changed before the job
inode=$(stat -c %i known.txt)
cached() { sqlite3 "$PROJECT/.roar/roar.db" "SELECT digest FROM hash_cache WHERE inode = $inode"; }

job "$BIN/read_modes" dup known.txt
check "the digest the tracer took of a file it learnt was read goes into the hash cache"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/known.txt" "$(b3 known.txt)"
assert_eq "$(cached)" "$(b3 known.txt)" "hash cache entry"

# A cache entry the file's bytes do not hash to shows where the digest came from.
marker=$(printf 'f%.0s' {1..64})
sqlite3 "$PROJECT/.roar/roar.db" "UPDATE hash_cache SET digest = '$marker' WHERE inode = $inode"
job "$BIN/read_modes" dup known.txt
check "a file the hash cache knows takes the cache's digest, as after a job, and is not read at the stop"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/known.txt" "$marker"

echo ok
