# cmake -DWIXL=.. -DMSIBUILD=.. -DWXS=.. -DVERSION=x.y.z -DEXE=cbcs.exe -DDLL=.. -DOUT=x.msi -P build_msi.cmake
# wixl builds the package; msibuild then sets what wixl cannot express.
set(tmp "${OUT}.tmp")
file(REMOVE "${tmp}")
# wixl takes Source= paths relative to its working directory only (an
# absolute one fails): the two files, staged under their packaged names.
set(stage "${OUT}.stage")
file(REMOVE_RECURSE "${stage}")
file(MAKE_DIRECTORY "${stage}")
file(COPY_FILE "${EXE}" "${stage}/cbcs.exe")
file(COPY_FILE "${DLL}" "${stage}/cbcs_msi_register.dll")
execute_process(COMMAND "${WIXL}" -a x64 -D "Version=${VERSION}" -D "CbcsExe=cbcs.exe"
                        -D "RegisterDll=cbcs_msi_register.dll" -o "${tmp}" "${WXS}"
                WORKING_DIRECTORY "${stage}" RESULT_VARIABLE rc ERROR_VARIABLE err)
file(REMOVE_RECURSE "${stage}")
if(NOT rc EQUAL 0 OR err MATCHES "WARNING|warning")
  # A warning is an attribute wixl dropped: treat it as an error.
  file(REMOVE "${tmp}")
  message(FATAL_ERROR "wixl ${WXS}: ${err}")
endif()
# msidbCustomActionTypeHideTarget (8192): wixl drops HideTarget="yes", and the
# register action's CustomActionData carries the token.
execute_process(COMMAND "${MSIBUILD}" "${tmp}" -q
                        "UPDATE `CustomAction` SET `Type` = 11265 WHERE `Action` = 'CbcsRegister'"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${tmp}")
  message(FATAL_ERROR "msibuild ${tmp}: ${err}")
endif()
file(RENAME "${tmp}" "${OUT}")
