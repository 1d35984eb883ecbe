# Boost: Debian's headers; Program_options built into the sysroot.
add_library(Boost::headers INTERFACE IMPORTED)
set_target_properties(Boost::headers PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${CBCS_WINDOWS_SYSROOT}/include")
add_library(Boost::program_options STATIC IMPORTED)
set_target_properties(Boost::program_options PROPERTIES
  IMPORTED_LOCATION "${CBCS_WINDOWS_SYSROOT}/lib/libboost_program_options.a"
  INTERFACE_LINK_LIBRARIES Boost::headers)
set(Boost_program_options_FOUND TRUE)
