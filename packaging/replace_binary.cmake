# CPack pre-build script (see cpack_project_config.cmake.in): the staged
# /usr/bin/cbcs becomes CBCS_PACKAGE_BINARY, stripped as CPACK_STRIP_FILES would.
file(GLOB_RECURSE staged "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/usr/bin/cbcs")
if(NOT staged)
  set(staged "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/bin/cbcs")
endif()
foreach(target ${staged})
  file(COPY_FILE "${CBCS_PACKAGE_BINARY}" "${target}")
  execute_process(COMMAND strip --strip-unneeded "${target}" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "cannot strip ${target}")
  endif()
endforeach()
