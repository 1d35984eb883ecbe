# doctest from Debian's headers.
add_library(doctest::doctest INTERFACE IMPORTED)
set_target_properties(doctest::doctest PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${CBCS_WINDOWS_SYSROOT}/include")
