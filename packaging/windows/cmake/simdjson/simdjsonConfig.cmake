# simdjson: Debian's amalgamated header, its .cpp built into the sysroot.
add_library(simdjson::simdjson STATIC IMPORTED)
set_target_properties(simdjson::simdjson PROPERTIES
  IMPORTED_LOCATION "${CBCS_WINDOWS_SYSROOT}/lib/libsimdjson.a"
  INTERFACE_INCLUDE_DIRECTORIES "${CBCS_WINDOWS_SYSROOT}/include")
