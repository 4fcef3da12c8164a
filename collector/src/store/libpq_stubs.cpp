// libpq's functions as the PostgreSQL engine calls them, forwarding to the
// real libpq loaded on first use (see lazy_library.hpp): `roar` does not
// link libpq, so a command that never opens a PostgreSQL store never loads
// it. Each definition has libpq-fe.h's exact signature (the compiler checks
// it against the header's declaration); a function the code starts using
// must be added to the list below, or the link fails. The scaffolding is
// lazy_library_stubs.hpp's.
#include "roar/collector/lazy_library_stubs.hpp"

#include <libpq-fe.h>

// X(return type, name, (parameters), (arguments))
#define ROAR_LIBPQ_FUNCTIONS(X)                                                                                        \
    X(PGconn*, PQconnectdbParams, (const char* const* keys, const char* const* values, int expand),                    \
      (keys, values, expand))                                                                                          \
    X(void, PQfinish, (PGconn * conn), (conn))                                                                         \
    X(void, PQreset, (PGconn * conn), (conn))                                                                          \
    X(ConnStatusType, PQstatus, (const PGconn* conn), (conn))                                                          \
    X(PGTransactionStatusType, PQtransactionStatus, (const PGconn* conn), (conn))                                      \
    X(int, PQserverVersion, (const PGconn* conn), (conn))                                                              \
    X(int, PQsocket, (const PGconn* conn), (conn))                                                                     \
    X(char*, PQerrorMessage, (const PGconn* conn), (conn))                                                             \
    X(PQconninfoOption*, PQconninfo, (PGconn * conn), (conn))                                                          \
    X(void, PQconninfoFree, (PQconninfoOption * options), (options))                                                   \
    X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn * conn, PQnoticeProcessor processor, void* arg),                \
      (conn, processor, arg))                                                                                          \
    X(PGresult*, PQexec, (PGconn * conn, const char* query), (conn, query))                                            \
    X(PGresult*, PQexecParams,                                                                                         \
      (PGconn * conn, const char* command, int n, const Oid* types, const char* const* values, const int* lengths,     \
       const int* formats, int result_format),                                                                         \
      (conn, command, n, types, values, lengths, formats, result_format))                                              \
    X(PGresult*, PQprepare, (PGconn * conn, const char* name, const char* query, int n, const Oid* types),             \
      (conn, name, query, n, types))                                                                                   \
    X(PGresult*, PQexecPrepared,                                                                                       \
      (PGconn * conn, const char* name, int n, const char* const* values, const int* lengths, const int* formats,      \
       int result_format),                                                                                             \
      (conn, name, n, values, lengths, formats, result_format))                                                        \
    X(int, PQsendQuery, (PGconn * conn, const char* query), (conn, query))                                             \
    X(int, PQsendQueryParams,                                                                                          \
      (PGconn * conn, const char* command, int n, const Oid* types, const char* const* values, const int* lengths,     \
       const int* formats, int result_format),                                                                         \
      (conn, command, n, types, values, lengths, formats, result_format))                                              \
    X(int, PQsendPrepare, (PGconn * conn, const char* name, const char* query, int n, const Oid* types),               \
      (conn, name, query, n, types))                                                                                   \
    X(int, PQsendQueryPrepared,                                                                                        \
      (PGconn * conn, const char* name, int n, const char* const* values, const int* lengths, const int* formats,      \
       int result_format),                                                                                             \
      (conn, name, n, values, lengths, formats, result_format))                                                        \
    X(int, PQsetSingleRowMode, (PGconn * conn), (conn))                                                                \
    X(PGresult*, PQgetResult, (PGconn * conn), (conn))                                                                 \
    X(int, PQisBusy, (PGconn * conn), (conn))                                                                          \
    X(int, PQconsumeInput, (PGconn * conn), (conn))                                                                    \
    X(int, PQenterPipelineMode, (PGconn * conn), (conn))                                                               \
    X(int, PQexitPipelineMode, (PGconn * conn), (conn))                                                                \
    X(int, PQpipelineSync, (PGconn * conn), (conn))                                                                    \
    X(int, PQsetnonblocking, (PGconn * conn, int arg), (conn, arg))                                                    \
    X(int, PQflush, (PGconn * conn), (conn))                                                                           \
    X(int, PQputCopyData, (PGconn * conn, const char* buffer, int bytes), (conn, buffer, bytes))                       \
    X(int, PQputCopyEnd, (PGconn * conn, const char* error), (conn, error))                                            \
    X(int, PQgetCopyData, (PGconn * conn, char** buffer, int async), (conn, buffer, async))                            \
    X(ExecStatusType, PQresultStatus, (const PGresult* res), (res))                                                    \
    X(char*, PQresultErrorMessage, (const PGresult* res), (res))                                                       \
    X(char*, PQresultErrorField, (const PGresult* res, int code), (res, code))                                         \
    X(int, PQntuples, (const PGresult* res), (res))                                                                    \
    X(int, PQnfields, (const PGresult* res), (res))                                                                    \
    X(char*, PQfname, (const PGresult* res, int field), (res, field))                                                  \
    X(int, PQfnumber, (const PGresult* res, const char* name), (res, name))                                            \
    X(Oid, PQftype, (const PGresult* res, int field), (res, field))                                                    \
    X(char*, PQcmdTuples, (PGresult * res), (res))                                                                     \
    X(char*, PQgetvalue, (const PGresult* res, int row, int field), (res, row, field))                                 \
    X(int, PQgetlength, (const PGresult* res, int row, int field), (res, row, field))                                  \
    X(int, PQgetisnull, (const PGresult* res, int row, int field), (res, row, field))                                  \
    X(void, PQclear, (PGresult * res), (res))                                                                          \
    X(void, PQfreemem, (void* ptr), (ptr))                                                                             \
    X(char*, PQescapeLiteral, (PGconn * conn, const char* text, size_t length), (conn, text, length))                  \
    X(char*, PQescapeIdentifier, (PGconn * conn, const char* text, size_t length), (conn, text, length))

ROAR_LAZY_LIBRARY(libpq, "libpq.so.5", "libpq5", ROAR_LIBPQ_FUNCTIONS, ROAR_LAZY_NONE)

namespace roar::collector {

Result<void> load_libpq() { return libpq().load(); }

} // namespace roar::collector
