# pugixml, built into the sysroot from Debian's source.
add_library(pugixml::pugixml STATIC IMPORTED)
set_target_properties(pugixml::pugixml PROPERTIES
  IMPORTED_LOCATION "${CBCS_WINDOWS_SYSROOT}/lib/libpugixml.a"
  INTERFACE_INCLUDE_DIRECTORIES "${CBCS_WINDOWS_SYSROOT}/include")
