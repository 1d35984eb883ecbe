# cmake -DWIXL=.. -DMSIBUILD=.. -DMSIINFO=.. -DWXS=.. -DUI_DIR=.. -DVERSION=x.y.z -DEXE=cbcs.exe
#       -DDLL=.. -DLICENSE=.. -DNOTICES=.. -DOUT=x.msi -P build_msi.cmake
# wixl builds the package; msibuild then sets what wixl cannot express and
# imports the wizard's tables (UI_DIR/*.idt: wixl builds no dialogs).
set(tmp "${OUT}.tmp")
file(REMOVE "${tmp}")
# wixl takes Source= paths relative to its working directory only (an
# absolute one fails): the files, staged under their packaged names.
set(stage "${OUT}.stage")
file(REMOVE_RECURSE "${stage}")
file(MAKE_DIRECTORY "${stage}")
file(COPY_FILE "${EXE}" "${stage}/cbcs.exe")
file(COPY_FILE "${DLL}" "${stage}/cbcs_msi_register.dll")
file(COPY_FILE "${LICENSE}" "${stage}/LICENSE.txt")
file(COPY_FILE "${NOTICES}" "${stage}/THIRD-PARTY-NOTICES.txt")
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
# What the wizard's pages set reaches the elevated installation only when
# listed in SecureCustomProperties (wixl lists its upgrade properties there).
execute_process(COMMAND "${MSIINFO}" export "${tmp}" Property OUTPUT_VARIABLE props RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT props MATCHES "\nSecureCustomProperties\t([^\r\n]*)")
  file(REMOVE "${tmp}")
  message(FATAL_ERROR "msiinfo export Property: no SecureCustomProperties")
endif()
set(secure "${CMAKE_MATCH_1};TOKEN;PROXY_TYPE;PROXY_ADDR;PROXY_PORT;PROXY_USER;PROXY_PASSWORD;FORCE")
execute_process(COMMAND "${MSIBUILD}" "${tmp}" -q
                        "UPDATE `Property` SET `Value` = '${secure}' WHERE `Property` = 'SecureCustomProperties'"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${tmp}")
  message(FATAL_ERROR "msibuild ${tmp}: ${err}")
endif()

# --- The wizard: Windows Installer's UI tables, kept as text in UI_DIR.
set(ui_stage "${OUT}.ui")
file(REMOVE_RECURSE "${ui_stage}")
file(MAKE_DIRECTORY "${ui_stage}")
# The licence page shows LICENSE as RTF on one line (an idt field holds no
# line break): a fixed-width font keeps its layout; brackets are written as
# RTF escapes so that nothing reads them as a [Property].
file(READ "${LICENSE}" text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "{" "\\{" text "${text}")
string(REPLACE "}" "\\}" text "${text}")
string(REPLACE "[" "\\'5b" text "${text}")
string(REPLACE "]" "\\'5d" text "${text}")
string(REPLACE "\t" " " text "${text}")
string(REPLACE "\r" "" text "${text}")
string(REPLACE "\n" "\\par " text "${text}")
set(rtf "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\fmodern Courier New;}}\\f0\\fs14 ${text}}")
file(READ "${UI_DIR}/Control.idt" controls)
string(REPLACE "@LICENSE_RTF@" "${rtf}" controls "${controls}")
file(WRITE "${ui_stage}/Control.idt" "${controls}")
# The UI sequence: wixl's standard actions, then the wizard's dialogs and actions.
execute_process(COMMAND "${MSIINFO}" export "${tmp}" InstallUISequence OUTPUT_VARIABLE standard
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${tmp}")
  message(FATAL_ERROR "msiinfo export InstallUISequence: ${err}")
endif()
file(STRINGS "${UI_DIR}/InstallUISequence.idt" ours)
list(SUBLIST ours 3 -1 ours)
list(TRANSFORM ours REPLACE "\r$" "")
string(REPLACE "\r" "" standard "${standard}")
string(REGEX REPLACE "\n$" "" standard "${standard}")
list(JOIN ours "\r\n" ours)
string(REPLACE "\n" "\r\n" standard "${standard}")
file(WRITE "${ui_stage}/InstallUISequence.idt" "${standard}\r\n${ours}\r\n")
foreach(name Dialog ControlEvent ControlCondition EventMapping TextStyle RadioButton UIText)
  file(COPY_FILE "${UI_DIR}/${name}.idt" "${ui_stage}/${name}.idt")
endforeach()
foreach(name Dialog Control ControlEvent ControlCondition EventMapping TextStyle RadioButton UIText
             InstallUISequence)
  execute_process(COMMAND "${MSIBUILD}" "${tmp}" -i "${name}.idt" WORKING_DIRECTORY "${ui_stage}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR err MATCHES "WARNING|rror")
    file(REMOVE "${tmp}")
    message(FATAL_ERROR "msibuild -i ${name}.idt: ${out}${err}")
  endif()
endforeach()
file(REMOVE_RECURSE "${ui_stage}")
file(RENAME "${tmp}" "${OUT}")
