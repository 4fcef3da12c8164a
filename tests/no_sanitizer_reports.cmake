# Fails when any sanitized program left a report in DIR during the run
# (cmake/sanitizer_options.cpp writes one file per reporting process).
file(GLOB reports "${DIR}/*.txt")
if(reports)
  set(text "")
  foreach(report ${reports})
    file(READ ${report} body)
    string(APPEND text "--- ${report}\n${body}\n")
  endforeach()
  list(LENGTH reports n)
  message(FATAL_ERROR "${n} sanitized program(s) reported errors:\n${text}")
endif()
message(STATUS "no sanitizer reports in ${DIR}")
