# Writes the Event Log message file (cbcs_events.mc, for windmc) from the one
# table of events, actors/trace/event_table.def, so the two cannot drift:
#   cmake -DTABLE=actors/trace/event_table.def -DOUT=cbcs_events.mc -P event_messages.cmake
# tests/unit/event_log_test.cpp reads the result back against the C++ table.
# Texts hold ';', CMake's list separator: kept out of the way while splitting.
file(READ "${TABLE}" table)
string(REPLACE ";" "<semicolon>" table "${table}")
string(REPLACE "\n" ";" lines "${table}")
set(mc ";// Generated from actors/trace/event_table.def by packaging/windows/event_messages.cmake.
;// Do not edit: change the table.
MessageIdTypedef=DWORD
SeverityNames=(Informational=0x1:STATUS_SEVERITY_INFORMATIONAL
               Warning=0x2:STATUS_SEVERITY_WARNING
               Error=0x3:STATUS_SEVERITY_ERROR)
LanguageNames=(English=0x409:MSG00409)
")
set(count 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^CBCS_EVENT\\(")
    continue()
  endif()
  if(NOT line MATCHES "^CBCS_EVENT\\(([0-9]+), ([a-z_]+), (information|warning|error), \"([^\"\\\\]*)\"\\)$")
    message(FATAL_ERROR "${TABLE}: not an event line: ${line}")
  endif()
  string(REPLACE "<semicolon>" ";" text "${CMAKE_MATCH_4}")
  set(severity Informational)
  if(CMAKE_MATCH_3 STREQUAL "warning")
    set(severity Warning)
  elseif(CMAKE_MATCH_3 STREQUAL "error")
    set(severity Error)
  endif()
  string(APPEND mc "
MessageId=${CMAKE_MATCH_1}
Severity=${severity}
SymbolicName=CBCS_EVENT_${CMAKE_MATCH_2}
Language=English
${text}
.
")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${TABLE}: no events")
endif()
file(WRITE "${OUT}.tmp" "${mc}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
