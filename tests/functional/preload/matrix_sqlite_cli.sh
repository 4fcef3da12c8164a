# Real-program matrix, the sqlite3 CLI: a query is an input only (sqlite
# opens O_RDWR but only reads); an insert makes the database an output,
# with the pre-insert input digest.
. "$(dirname "$0")/preload_lib.bash"
need b3sum sqlite3
new_project
sqlite3 db.sqlite 'create table t(x); insert into t values (1);'
before=$(b3 db.sqlite)
job sqlite3 db.sqlite 'select count(*) from t;'
assert_io inputs db.sqlite
assert_not_io outputs db.sqlite
job sqlite3 db.sqlite 'insert into t values (2);'
assert_io outputs db.sqlite
assert_input_digest db.sqlite "$before"
echo ok
