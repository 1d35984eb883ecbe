# fmt from Debian's headers, header-only in the Windows build.
add_library(fmt::fmt INTERFACE IMPORTED)
set_target_properties(fmt::fmt PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${CBCS_WINDOWS_SYSROOT}/include"
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
